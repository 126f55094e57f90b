package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

func TestTreeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		fields []normalize.Field
		want   string
	}{
		{"unknown type", []normalize.Field{{Path: "a", Type: "int"}}, `type "int"`},
		{"parent not declared", []normalize.Field{{Path: "a.b", Type: "string"}}, "a is not declared"},
		{"declared twice", []normalize.Field{{Path: "a", Type: "string"}, {Path: "a", Type: "integer"}}, "declared twice"},
		{"member of a string", []normalize.Field{{Path: "a", Type: "string"}, {Path: "a.b", Type: "string"}}, "a is not an object"},
		{"items of an object", []normalize.Field{{Path: "a", Type: "object"}, {Path: "a[].b", Type: "string"}}, "a is not an array"},
		{"BigID a boolean", []normalize.Field{{Path: "a", Type: "boolean", BigID: true}}, "BigID"},
		{"empty step", []normalize.Field{{Path: ".a", Type: "string"}}, "names joined by dots"},
	}
	for _, tt := range tests {
		if _, err := tree(tt.fields); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestEventSchema(t *testing.T) {
	p := &normalize.Provider{ID: "x", TypePrefix: "io.x.", Data: []normalize.Field{
		{Path: "id", Type: "integer", BigID: true, Required: true},
		{Path: "at", Type: "integer", Unit: "ms"},
		{Path: "files", Type: "array"},
		{Path: "files[].name", Type: "string"},
		{Path: "opts", Type: "object", Desc: "echoed"},
		{Path: "either", Type: "string|integer"},
		{Path: "maybe", Type: "string|null"},
	}}
	b, err := EventSchema(p, normalize.EventDef{Code: "1", Name: "a.b", Meaning: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Schema     string `json:"$schema"`
		Title      string
		Required   []string
		Additional *bool `json:"additionalProperties"`
		Properties map[string]struct {
			Type        any
			Description string
			Unit        string `json:"x-unit"`
			Items       struct {
				Properties map[string]any
				Additional *bool `json:"additionalProperties"`
			}
			Additional *bool `json:"additionalProperties"`
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	switch {
	case s.Schema != draft07 || s.Title != "io.x.a.b":
		t.Errorf("$schema %q title %q", s.Schema, s.Title)
	case s.Additional == nil || *s.Additional || len(s.Required) != 1 || s.Required[0] != "id":
		t.Errorf("data is not closed with id required: %s", b)
	case s.Properties["id"].Type != "integer" || !strings.Contains(s.Properties["id"].Description, "2^53"):
		t.Errorf("a 64-bit id does not say so: %+v", s.Properties["id"])
	case s.Properties["at"].Unit != "ms":
		t.Errorf("unit lost: %+v", s.Properties["at"])
	case s.Properties["files"].Items.Properties["name"] == nil || s.Properties["files"].Items.Additional == nil:
		t.Errorf("array items not declared and closed: %s", b)
	case s.Properties["opts"].Additional != nil:
		t.Errorf("an object without declared members is not open: %s", b)
	case strings.Join(toStrings(s.Properties["either"].Type), "|") != "string|integer":
		t.Errorf("two types: %v", s.Properties["either"].Type)
	case strings.Join(toStrings(s.Properties["maybe"].Type), "|") != "string|null":
		t.Errorf("a member that may be null: %v", s.Properties["maybe"].Type)
	}
	undeclared := &normalize.Provider{ID: "y", TypePrefix: "io.y."}
	if b, _ := EventSchema(undeclared, normalize.EventDef{Name: "a"}); string(b) != string(Permissive()) {
		t.Errorf("an undeclared provider's schema is not the permissive one: %s", b)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestBuildRefusesDataOfNoEvent(t *testing.T) {
	p := &normalize.Provider{ID: "x", TypePrefix: "io.x.", Events: []normalize.EventDef{{Code: "1", Name: "a"}},
		EventData: map[string][]normalize.Field{"b": {{Path: "k", Type: "string"}}}}
	reg, err := normalize.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(reg, Sink{Kind: "nats", Mode: "structured", Topic: "t"}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Build: %v, want the undocumented event named", err)
	}
}

func TestLookup(t *testing.T) {
	files, err := Build(normalize.BuiltinRegistry(), Sink{Kind: "nats", Mode: "structured", Topic: "callbacks.{provider}.{eventtype}"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, ctype string
		permissive  bool
	}{
		{"/asyncapi.yaml", "application/yaml", false},
		{"/schemas/com.netease.nertc.room.started/v1.json", "application/schema+json", false},
		{"/schemas/com.netease.nertc.unknown.42/v1.json", "application/schema+json", true},
		{"/schemas/io.callbridge.webhook.shop.order/v1.json", "", false}, // no such source in the registry
		{"/schemas/com.netease.nertc.room.started/v2.json", "", false},
		{"/schemas/org.example.a/v1.json", "", false},
		{"/schemas/com.netease.nertc./v1.json", "", false},
		{"/schemas/com.netease.nertc.unknown.a/b/v1.json", "application/schema+json", true}, // unknown.a%2Fb decoded
		{"schemas/com.netease.nertc.room.started/v1.json", "", false},
		{"/schemas/undeclared.json", "application/schema+json", true},
	}
	for _, tt := range tests {
		body, ctype, ok := files.Lookup([]byte(tt.path))
		if ok != (tt.ctype != "") || ctype != tt.ctype {
			t.Errorf("%s: ok %v type %q, want %q", tt.path, ok, ctype, tt.ctype)
		}
		if ok && (string(body) == string(Permissive())) != tt.permissive {
			t.Errorf("%s: permissive %v, want %v", tt.path, !tt.permissive, tt.permissive)
		}
	}
}

func TestAsyncAPIPerSink(t *testing.T) {
	reg := normalize.BuiltinRegistry()
	tests := []struct {
		name      string
		sink      Sink
		want, not []string
	}{
		{"nats structured", Sink{Kind: "nats", Host: "n:4222", Mode: "structured", Topic: "callbacks.{provider}.{eventtype}"},
			[]string{`address: "callbacks.agora.{eventtype}"`, `address: "callbacks.deadletter.agora"`, "Callbridge-Deadletter-Reason", "Nats-Msg-Id", `"#/components/schemas/CloudEvent"`, `protocol: "nats"`, "\n      eventtype:\n"},
			[]string{"ce-id", "ce_id", "bindings:"}},
		{"nats binary", Sink{Kind: "nats", Host: "n:4222", Mode: "binary", Topic: "callbacks.{provider}.{eventtype}"},
			[]string{"ce-id:", "ce-dataschema:", "ce-datacontenttype:", `"$ref": "schemas/io.agora.rtc.user.left/v1.json"`},
			[]string{"ce_id", "CloudEvent\"\n"}},
		{"kafka binary, one topic per provider", Sink{Kind: "kafka", Host: "k:9092", Mode: "binary", Topic: "rtc-{provider}", Key: "{subject}"},
			[]string{`address: "rtc-livekit"`, "ce_id:", "ce_dataschema:", "kafka:", "{subject}; no key when it renders empty", `protocol: "kafka"`},
			[]string{"Nats-Msg-Id", "ce-id", "parameters:"}},
		{"subject in the template", Sink{Kind: "kafka", Host: "k:9092", Mode: "structured", Topic: "{provider}.{subject}", Key: ""},
			[]string{"\n      subject:\n", `address: "zoom.{subject}"`}, []string{"\n      eventtype:\n"}},
		{"kafka, schema id header", Sink{Kind: "kafka", Host: "k:9092", Mode: "structured", Topic: "callbacks.{provider}.{eventtype}", SchemaID: "header"},
			[]string{`"__value_schema_id":`, "Confluent's SchemaId"}, []string{"wire format"}},
		{"kafka, schema id prefix", Sink{Kind: "kafka", Host: "k:9092", Mode: "binary", Topic: "callbacks.{provider}.{eventtype}", SchemaID: "prefix"},
			[]string{"Confluent wire format's 5 bytes"}, []string{"__value_schema_id"}},
	}
	for _, tt := range tests {
		b, err := AsyncAPI(reg, tt.sink)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: lacks %q", tt.name, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(string(b), n) {
				t.Errorf("%s: has %q", tt.name, n)
			}
		}
	}
	if _, err := AsyncAPI(reg, Sink{Kind: "nats", Mode: "structured", Topic: "{nope}"}); err == nil {
		t.Error("a bad template makes a document")
	}
}

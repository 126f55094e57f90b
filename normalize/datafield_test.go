package normalize

import (
	"strings"
	"testing"
)

func TestDataSchemasSet(t *testing.T) {
	reg := BuiltinRegistry()
	tests := []struct {
		name, base, typ, want string
	}{
		{"documented", "https://x.example/s", "com.netease.nertc.room.started", "https://x.example/s/com.netease.nertc.room.started/v1.json"},
		{"trailing slash dropped", "https://x.example/s/", "io.agora.rtc.user.left", "https://x.example/s/io.agora.rtc.user.left/v1.json"},
		{"undocumented", "http://h:8080/schemas", "io.livekit.unknown.agent_job_pending", "http://h:8080/schemas/io.livekit.unknown.agent_job_pending/v1.json"},
		{"undocumented, percent-encoded", "http://h/s", "com.netease.nertc.unknown.a/b?c#d%e", "http://h/s/com.netease.nertc.unknown.a%2Fb%3Fc%23d%25e/v1.json"},
		{"generic source", "http://h/s", "io.callbridge.webhook.shop.order-created", "http://h/s/io.callbridge.webhook.shop.order-created/v1.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			ev.Type = []byte(tt.typ)
			NewDataSchemas(tt.base, reg).Set(&ev)
			if string(ev.DataSchema) != tt.want {
				t.Errorf("dataschema %q, want %q", ev.DataSchema, tt.want)
			}
			if b := ev.AppendStructured(nil); !strings.Contains(string(b), `"dataschema":"`+tt.want+`"`) {
				t.Errorf("structured event lacks it: %s", b)
			}
			seen := ""
			ev.EachAttribute(func(name string, v []byte) {
				if name == "dataschema" {
					seen = string(v)
				}
			})
			if seen != tt.want {
				t.Errorf("binary attribute %q, want %q", seen, tt.want)
			}
		})
	}
	var ev Event
	(*DataSchemas)(nil).Set(&ev)
	if ev.DataSchema != nil || strings.Contains(string(ev.AppendStructured(nil)), "dataschema") {
		t.Errorf("a nil DataSchemas set %q", ev.DataSchema)
	}
}

// Set allocates nothing per event, for documented types and others alike, once the event's
// buffers have grown.
func TestDataSchemasSetAllocs(t *testing.T) {
	d := NewDataSchemas("http://localhost:8080/schemas", BuiltinRegistry())
	for _, typ := range []string{"com.netease.nertc.room.started", "com.netease.nertc.unknown.42"} {
		var ev Event
		typeBytes := []byte(typ)
		if n := testing.AllocsPerRun(100, func() {
			ev.Reset()
			ev.Type = typeBytes
			d.Set(&ev)
		}); n != 0 {
			t.Errorf("%s: %v allocations per event", typ, n)
		}
	}
}

// A type past its first major is named at its current one; the provider's other types and its
// undocumented codes stay at v1.
func TestDataSchemasMajor(t *testing.T) {
	p := &Provider{ID: "x", TypePrefix: "io.x.", Events: []EventDef{{"1", "a", "bumped"}, {"2", "b", "not"}},
		Majors: map[string]int{"a": 2}}
	reg, err := NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDataSchemas("http://h/s", reg)
	for typ, want := range map[string]string{
		"io.x.a":         "http://h/s/io.x.a/v2.json",
		"io.x.b":         "http://h/s/io.x.b/v1.json",
		"io.x.unknown.3": "http://h/s/io.x.unknown.3/v1.json",
	} {
		var ev Event
		ev.Type = []byte(typ)
		d.Set(&ev)
		if string(ev.DataSchema) != want {
			t.Errorf("%s: dataschema %q, want %q", typ, ev.DataSchema, want)
		}
	}
	if p.Major("a") != 2 || p.Major("b") != FirstMajor || p.Major("nope") != FirstMajor {
		t.Errorf("Major: a %d b %d nope %d", p.Major("a"), p.Major("b"), p.Major("nope"))
	}
}

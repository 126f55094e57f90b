package interop

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/callbridge/callbridge/contract"
	"github.com/callbridge/callbridge/normalize"
)

// The event contract (SPEC §9) checked with a JSON Schema library of its own
// (santhosh-tekuri/jsonschema, which passes the JSON-Schema-Test-Suite for draft-07): every
// schema `callbridge contract` writes is a draft-07 schema by the meta-schema, every golden
// event's data validates against the schema its dataschema names, and a member the declarations
// lack fails it.

// goldenSchemaBase is the dataschema base the goldens are written with (normalize's golden test).
const goldenSchemaBase = "http://localhost:8080"

func contractFiles(t *testing.T) *contract.Files {
	t.Helper()
	files, err := contract.Build(normalize.BuiltinRegistry(), contract.Sink{Kind: "nats", Host: "127.0.0.1:4222", Mode: "structured", Topic: "callbacks.{provider}.{eventtype}", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// compile compiles the schema at path of files; the compiler checks it against its meta-schema.
func compile(t *testing.T, files *contract.Files, path string) *jsonschema.Schema {
	t.Helper()
	body, _, ok := files.Lookup([]byte("/" + path))
	if !ok {
		t.Fatalf("%s: not served", path)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource("file:///"+path, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, err := c.Compile("file:///" + path)
	if err != nil {
		t.Fatalf("%s: not a valid schema: %v", path, err)
	}
	return s
}

func TestContractSchemasAreDraft07(t *testing.T) {
	files := contractFiles(t)
	meta, err := jsonschema.NewCompiler().Compile("http://json-schema.org/draft-07/schema#")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files.Paths() {
		if path == contract.AsyncAPIFile {
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(files.File(path)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m, _ := doc.(map[string]any); m["$schema"] != "http://json-schema.org/draft-07/schema#" {
			t.Errorf("%s: $schema %v, want draft-07's", path, m["$schema"])
		}
		if err := meta.Validate(doc); err != nil {
			t.Errorf("%s: fails the draft-07 meta-schema: %v", path, err)
		}
		compile(t, files, path)
		n++
	}
	if n < 300 {
		t.Errorf("%d schemas, want one per documented event type (over 300)", n)
	}
}

// golden is one golden event: its data, and the schema path its dataschema names.
type golden struct {
	file, provider, schema string
	data                   any
}

func goldens(t *testing.T) []golden {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "*", "golden", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no goldens")
	}
	var out []golden
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw)) // numbers as json.Number: 64-bit ids stay exact
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		m := ev.(map[string]any)
		ds, _ := m["dataschema"].(string)
		rel, ok := strings.CutPrefix(ds, goldenSchemaBase+"/")
		if !ok {
			t.Fatalf("%s: dataschema %q is not below %s", p, ds, goldenSchemaBase)
		}
		out = append(out, golden{file: p, provider: m["provider"].(string), schema: rel, data: m["data"]})
	}
	return out
}

func TestGoldenDataValidates(t *testing.T) {
	files := contractFiles(t)
	declared := 0
	for _, g := range goldens(t) {
		s := compile(t, files, g.schema)
		if err := s.Validate(g.data); err != nil {
			t.Errorf("%s: data fails %s: %v", g.file, g.schema, err)
		}
		if p := normalize.BuiltinRegistry().Lookup([]byte(g.provider)); p != nil && p.Declared() && !strings.Contains(g.schema, ".unknown.") {
			declared++
		}
	}
	if declared < 70 {
		t.Errorf("%d goldens of declared providers' documented events, want the three providers' (over 70)", declared)
	}
}

// A member the declarations lack fails the schema, at the top of data and inside a declared
// object, so a golden that gains a field fails TestGoldenDataValidates until it is declared.
func TestUndeclaredMemberFails(t *testing.T) {
	files := contractFiles(t)
	tests := []struct {
		golden string
		path   []string // the object the member is added to
	}{
		{"netease-nertc/golden/4-user-joined.json", nil},
		{"netease-nertc/golden/503-play-started.json", nil},
		{"agora/golden/1-103-broadcaster-join.json", []string{"payload"}},
		{"agora/golden/3-31-uploaded.json", []string{"payload", "details"}},
		{"agora/golden/5-1-converter-created.json", []string{"payload", "converter"}},
		{"livekit/golden/track_published.json", []string{"track"}},
		{"livekit/golden/participant_joined.json", []string{"participant", "permission"}},
	}
	all := goldens(t)
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var g *golden
			for i := range all {
				if filepath.ToSlash(all[i].file) == "../testdata/"+tt.golden {
					g = &all[i]
				}
			}
			if g == nil {
				t.Fatalf("no golden %s", tt.golden)
			}
			s := compile(t, files, g.schema)
			data := clone(t, g.data)
			obj := data.(map[string]any)
			for _, k := range tt.path {
				obj = obj[k].(map[string]any)
			}
			if err := s.Validate(data); err != nil {
				t.Fatalf("unchanged data fails: %v", err)
			}
			obj["undeclaredMember"] = "x"
			if err := s.Validate(data); err == nil {
				t.Errorf("data with an undeclared member at %v validates against %s", tt.path, g.schema)
			}
		})
	}
}

func clone(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

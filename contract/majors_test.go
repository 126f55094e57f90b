package contract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

// A fake provider's type goes through a major's life with the history in a temporary folder:
// published at v1, changed within v1's promise, broken (refused until bumped), bumped to v2, and
// then v1 still served beside v2, which dataschema and the AsyncAPI document name.
func TestMajorBump(t *testing.T) {
	p := &normalize.Provider{ID: "x", TypePrefix: "io.x.", Events: []normalize.EventDef{{Code: "1", Name: "a", Meaning: "m"}, {Code: "2", Name: "b", Meaning: "n"}},
		EventData: map[string][]normalize.Field{
			"a": {{Path: "id", Type: "string", Required: true}},
			"b": {{Path: "id", Type: "string", Required: true}},
		}}
	reg, err := normalize.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "io.x.a", "v1.json"), filepath.Join(dir, "io.x.a", "v2.json")
	sync := func(update bool, want string) {
		t.Helper()
		got := strings.Join(syncHistory(reg, dir, update, false), "\n")
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Fatalf("update %v: %q, want %q", update, got, want)
		}
	}
	sync(false, "io.x.a v1 is not in contract/history: run")
	sync(true, "")
	sync(false, "")

	p.EventData["a"] = append(p.EventData["a"], normalize.Field{Path: "note", Type: "string"})
	sync(false, "io.x.a v1 changed within its promise: run")
	sync(true, "")
	published := read(t, v1)

	p.EventData["a"] = []normalize.Field{{Path: "id", Type: "integer", Required: true}}
	sync(true, "io.x.a v1: id: type integer, was string; note: member removed; bump Major of io.x.a and keep v1")
	if string(read(t, v1)) != string(published) {
		t.Fatal("-update rewrote a major across a break")
	}

	p.Majors = map[string]int{"a": 2}
	sync(false, "io.x.a v2 is not in contract/history")
	sync(true, "")
	sync(false, "")
	if string(read(t, v1)) != string(published) {
		t.Fatal("the bump changed v1")
	}
	current, _ := EventSchema(p, p.Events[0])
	if string(read(t, v2)) != string(current) {
		t.Fatal("v2 is not the current schema")
	}
	checkServed(t, reg, dir, published, current)

	p.Majors = nil
	sync(true, "io.x.a/v2.json: not a major up to io.x.a's current v1 (a major is never taken back)")
	p.Majors = map[string]int{"a": 2}
	if err := os.Remove(v1); err != nil {
		t.Fatal(err)
	}
	sync(true, "io.x.a is at v2: v1 must stay")
	if _, err := build(reg, Sink{Kind: "nats", Mode: "structured", Topic: "t"}, os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "v1, which consumers may still read, is not in contract/history") {
		t.Errorf("built without v1: %v", err)
	}
}

// checkServed: after the bump, v1 is the published file and v2 the current schema, both served
// and written by callbridge contract; dataschema and the AsyncAPI document name v2.
func checkServed(t *testing.T, reg *normalize.Registry, dir string, published, current []byte) {
	t.Helper()
	files, err := build(reg, Sink{Kind: "nats", Mode: "binary", Topic: "c.{provider}"}, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{"/schemas/io.x.a/v1.json": published, "/schemas/io.x.a/v2.json": current} {
		if body, _, ok := files.Lookup([]byte(path)); !ok || string(body) != string(want) {
			t.Errorf("%s: served %v %.80s", path, ok, body)
		}
	}
	if _, _, ok := files.Lookup([]byte("/schemas/io.x.b/v2.json")); ok {
		t.Error("a type not bumped has a v2")
	}
	out := t.TempDir()
	if err := files.Write(out); err != nil {
		t.Fatal(err)
	}
	if b := read(t, filepath.Join(out, "schemas", "io.x.a", "v1.json")); string(b) != string(published) {
		t.Error("callbridge contract does not write v1 beside v2")
	}
	if doc := string(files.File(AsyncAPIFile)); !strings.Contains(doc, `"$ref": "schemas/io.x.a/v2.json"`) || strings.Contains(doc, "io.x.a/v1.json") {
		t.Error("the AsyncAPI document does not name v2 alone")
	}
	var ev normalize.Event
	ev.Type = []byte("io.x.a")
	normalize.NewDataSchemas("http://h/schemas", reg).Set(&ev)
	if string(ev.DataSchema) != "http://h/schemas/io.x.a/v2.json" {
		t.Errorf("dataschema %s", ev.DataSchema)
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildRefusesMajorOfNoEvent(t *testing.T) {
	for want, majors := range map[string]map[string]int{`major declared for "b"`: {"b": 2}, "major -1": {"a": -1}} {
		p := &normalize.Provider{ID: "x", TypePrefix: "io.x.", Events: []normalize.EventDef{{Code: "1", Name: "a"}}, Majors: majors}
		reg, err := normalize.NewRegistry(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Build(reg, Sink{Kind: "nats", Mode: "structured", Topic: "t"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build: %v, want %s", err, want)
		}
	}
}

package normalize

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected CloudEvents under testdata/<provider>/golden")

// HeaderMap is a case-insensitive Headers for tests.
type HeaderMap map[string]string

func (h HeaderMap) Peek(key string) []byte {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return []byte(v)
		}
	}
	return nil
}

var received = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// goldenOutput gives the goldens their dataschema, below CALLBRIDGE_SCHEMA_BASE_URL's default,
// and makes their canonical counterparts.
var goldenOutput = NewOutput("http://localhost:8080/schemas", BuiltinRegistry())

// TestGolden normalises every fixture under testdata/<provider>/ and compares the structured
// CloudEvent with testdata/<provider>/golden/<fixture>. Run with -update to rewrite them, then
// read the diff.
func TestGolden(t *testing.T) {
	for _, p := range Builtins() {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", p.ID, "*.json"))
		if len(files) == 0 {
			t.Errorf("%s: no fixtures", p.ID)
		}
		for _, file := range files {
			name := filepath.Base(file)
			t.Run(p.ID+"/"+name, func(t *testing.T) {
				body, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				h := headerMap(p, []Header{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
				c := &Callback{Body: body, Header: h, Received: received}
				if p.IsProbe(c) {
					if !strings.HasPrefix(name, "probe") {
						t.Fatalf("treated as a URL check")
					}
					return
				}
				var ev Event
				if err := p.Envelope(c, &ev); err != nil {
					t.Fatalf("normalize: %v", err)
				}
				var canon Event
				evs := goldenOutput.Events(p, &ev, &canon, nil)
				golden := filepath.Join("..", "testdata", p.ID, "golden", name)
				compareGolden(t, golden, &ev)
				canonical := strings.TrimSuffix(golden, ".json") + ".rtc.json"
				if len(evs) == 2 {
					compareGolden(t, canonical, &canon)
				} else if _, err := os.Stat(canonical); err == nil {
					if *update {
						os.Remove(canonical)
					} else {
						t.Errorf("%s: no canonical event is made any more (-update removes it)", canonical)
					}
				}
			})
		}
	}
}

// compareGolden compares ev, as an indented structured CloudEvent, with the file golden; with
// -update it writes it.
func compareGolden(t *testing.T, golden string, ev *Event) {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, ev.AppendStructured(nil), "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, ev.AppendStructured(nil))
	}
	got.WriteByte('\n')
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./normalize -run TestGolden -update)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("CloudEvent differs from %s\n got: %s\nwant: %s", golden, got.Bytes(), want)
	}
}

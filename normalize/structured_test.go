package normalize

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// Every fixture's event, written structured and read back, is the same event: what the buffer
// stores is what the sink publishes.
func TestParseStructuredRoundTrip(t *testing.T) {
	h := HeaderMap{"AppKey": "app", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "k=v"}
	var back Event
	for _, f := range allFixtures(t) {
		if f.p.IsProbe(&Callback{Body: f.body}) {
			continue
		}
		for _, unverified := range []bool{false, true} {
			native := mustEnvelope(t, f.p, f.body, h)
			if unverified {
				native.MarkUnverified()
			}
			var canon Event
			// the buffer keeps dataschema too, and the canonical counterpart's attributes
			for _, ev := range goldenOutput.Events(f.p, native, &canon, nil) {
				want := ev.AppendStructured(nil)
				back.Reset()
				if err := ParseStructured(want, &back, BuiltinRegistry()); err != nil {
					t.Fatalf("%s/%s: %v\n%s", f.p.ID, f.name, err, want)
				}
				if got := back.AppendStructured(nil); !bytes.Equal(got, want) {
					t.Errorf("%s/%s: round trip differs\n got: %s\nwant: %s", f.p.ID, f.name, got, want)
				}
				if string(back.EventType) != string(ev.EventType) || back.Provider != ev.Provider || back.Unverified != unverified {
					t.Errorf("%s/%s: eventtype %q provider %q unverified %v", f.p.ID, f.name, back.EventType, back.Provider, back.Unverified)
				}
			}
		}
	}
}

func TestParseStructuredRefuses(t *testing.T) {
	ok := `{"specversion":"1.0","id":"i","source":"/callbridge/anyrtc","type":"io.anyrtc.rtc.channel.created","time":"2024-04-12T05:33:33.002Z","provider":"anyrtc","providereventtype":"101","data":{}}`
	tests := []struct{ name, body, want string }{
		{"not JSON", `{`, "not a JSON object"},
		{"no id", strings.Replace(ok, `"id":"i",`, ``, 1), "no id"},
		{"unknown provider", strings.Replace(ok, `"provider":"anyrtc"`, `"provider":"nope"`, 1), "unknown"},
		{"foreign type", strings.Replace(ok, `io.anyrtc.rtc`, `com.x.rtc`, 1), "prefix"},
		{"bad time", strings.Replace(ok, `2024-04-12T05:33:33.002Z`, `yesterday`, 1), "time"},
		{"no data", strings.Replace(ok, `,"data":{}`, ``, 1), "no data"},
		{"verified true", strings.Replace(ok, `"data"`, `"verified":"true","data"`, 1), "verified"},
		{"id a number", strings.Replace(ok, `"id":"i"`, `"id":1`, 1), "not a string"},
	}
	for _, tt := range tests {
		var ev Event
		if err := ParseStructured([]byte(tt.body), &ev, BuiltinRegistry()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	var ev Event
	if err := ParseStructured([]byte(ok), &ev, BuiltinRegistry()); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseStructured: any input is refused or read into an event that writes back to something
// that reads back to the same event; and that event, written back without any one of its
// required members (id, source, type, time, provider, providereventtype, data), is refused.
func FuzzParseStructured(f *testing.F) {
	for _, fx := range allFixtures(f) {
		if ev, err := envelope(fx.p, fx.body, nil); err == nil {
			f.Add(ev.AppendStructured(nil))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		if ParseStructured(b, &ev, BuiltinRegistry()) != nil {
			return
		}
		once := ev.AppendStructured(nil)
		var again Event
		if err := ParseStructured(once, &again, BuiltinRegistry()); err != nil {
			t.Fatalf("written back, not read again: %v\n%s", err, once)
		}
		if twice := again.AppendStructured(nil); !bytes.Equal(once, twice) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(once, &members); err != nil {
			t.Fatalf("written back, not a JSON object: %v\n%s", err, once)
		}
		for _, name := range []string{"id", "source", "type", "time", "provider", "providereventtype", "data"} {
			without := maps.Clone(members)
			delete(without, name)
			b, err := json.Marshal(without)
			if err != nil {
				t.Fatal(err)
			}
			var ev Event
			if ParseStructured(b, &ev, BuiltinRegistry()) == nil {
				t.Fatalf("an event without %s accepted:\n%s", name, b)
			}
		}
	})
}

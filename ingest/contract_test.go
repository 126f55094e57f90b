package ingest

import (
	"strings"
	"testing"
)

// The contract's files (SPEC §9) are served as Config.Contract finds them; anything else, or
// no Contract at all, is 404 as before.
func TestContractRoutes(t *testing.T) {
	files := func(path []byte) ([]byte, string, bool) {
		switch string(path) {
		case "/asyncapi.yaml":
			return []byte("asyncapi: 3.0.0\n"), "application/yaml", true
		case "/schemas/com.netease.nertc.room.started/v1.json":
			return []byte(`{"type":"object"}`), "application/schema+json", true
		}
		return nil, "", false
	}
	tests := []struct {
		name, method, path string
		contract           bool
		status             int
		ctype, body        string
	}{
		{"AsyncAPI", "GET", "/asyncapi.yaml", true, 200, "application/yaml", "asyncapi: 3.0.0\n"},
		{"a schema", "GET", "/schemas/com.netease.nertc.room.started/v1.json", true, 200, "application/schema+json", `{"type":"object"}`},
		{"HEAD", "HEAD", "/asyncapi.yaml", true, 200, "application/yaml", ""},
		{"POST", "POST", "/asyncapi.yaml", true, 404, "application/json", `{"error":"not found"}`},
		{"not a file", "GET", "/schemas/x/v1.json", true, 404, "application/json", `{"error":"not found"}`},
		{"no contract", "GET", "/asyncapi.yaml", false, 404, "application/json", `{"error":"not found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if tt.contract {
					c.Contract = files
				}
			}, nil)
			resp := viaHandle(t, f, newRequest(tt.method, tt.path, nil, nil))
			if resp.StatusCode() != tt.status || string(resp.Header.ContentType()) != tt.ctype {
				t.Errorf("%d %q, want %d %q", resp.StatusCode(), resp.Header.ContentType(), tt.status, tt.ctype)
			}
			if tt.method != "HEAD" && string(resp.Body()) != tt.body {
				t.Errorf("body %q, want %q", resp.Body(), tt.body)
			}
		})
	}
}

// Every published event names its data's schema.
func TestPublishedEventHasDataschema(t *testing.T) {
	f := newFixture(t, nil, nil)
	play := testdata(t, "netease-nertc/503-play-started.json")
	if resp := viaHandle(t, f, newRequest("POST", neteasePath, play, signedNetEase(play))); resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	want := `"dataschema":"http://localhost:8080/schemas/com.netease.nertc.cloudplayer.play.started/v1.json"`
	if len(f.sink.events) != 1 || !strings.Contains(string(f.sink.events[0].JSON), want) {
		t.Errorf("published %d events; want one with %s: %s", len(f.sink.events), want, f.sink.events)
	}
}

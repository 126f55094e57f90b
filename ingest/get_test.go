package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/normalize"
)

// A provider that AcceptsGET (Alibaba Live publish callbacks) is served GET, its query string
// read as the body; every other provider, and every other method, gets 405 with its Allow.
func TestGETCallbacks(t *testing.T) {
	const key = "alibaba-key"
	opts, err := normalize.AlibabaLive.Options(nil)
	if err != nil {
		t.Fatal(err)
	}
	signedQuery := func(body string) (string, map[string]string) {
		q, headers, err := normalize.AlibabaLive.Sign([]byte(body), &normalize.Auth{Secret: []byte(key), Options: opts}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]string{}
		for _, kv := range headers {
			h[kv.Key] = kv.Value
		}
		return string(q), h
	}
	publish, publishHeaders := signedQuery(string(normalize.AlibabaLive.Sample))
	noAction, noActionHeaders := signedQuery(`ip=203.0.113.7&app=push.example.com&id=world`)
	const path = "/v1/callbacks/alibaba-live"
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		allow              string
		events, dead       int
	}{
		{name: "GET publish callback", method: "GET", path: path + "?" + publish, header: publishHeaders, status: 200, events: 1},
		{name: "GET without a signature", method: "GET", path: path + "?" + publish, status: 401},
		{name: "GET, authentic, no action: dead-lettered as the query", method: "GET", path: path + "?" + noAction, header: noActionHeaders, status: 400, dead: 1},
		{name: "PUT", method: "PUT", path: path + "?" + publish, header: publishHeaders, status: 405, allow: "GET, POST"},
		{name: "GET on a provider that only POSTs", method: "GET", path: neteasePath, status: 405, allow: "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { routeOf(t, c, "alibaba-live").Auth.Secret = []byte(key) }, nil)
			resp := viaListener(t, f, newRequest(tt.method, tt.path, nil, tt.header))
			if resp.StatusCode() != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tt.status, resp.Body())
			}
			if got := string(resp.Header.Peek("Allow")); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			f.sink.mu.Lock()
			defer f.sink.mu.Unlock()
			if len(f.sink.events) != tt.events || len(f.sink.dead) != tt.dead {
				t.Fatalf("%d events, %d dead letters; want %d, %d", len(f.sink.events), len(f.sink.dead), tt.events, tt.dead)
			}
			if tt.events == 1 && f.sink.events[0].Type != "com.aliyun.live.stream.published" {
				t.Errorf("type %s", f.sink.events[0].Type)
			}
			if tt.dead == 1 && string(f.sink.dead[0].Body) != noAction {
				t.Errorf("dead letter %q, want the query %q", f.sink.dead[0].Body, noAction)
			}
		})
	}
	if !strings.Contains(publish, "action=publish") {
		t.Fatalf("Sign did not make a query: %s", publish)
	}
}

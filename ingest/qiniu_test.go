package ingest

import (
	"testing"
	"time"

	"github.com/callbridge/callbridge/normalize"
)

// Qiniu signs the request line, the Host and the X-Qiniu-* headers: ingest hands Verify the
// method, the URI as received and headers it can list (fasthttp's), so a callback signed for
// this URL verifies and one whose X-Qiniu-* header changed does not.
func TestQiniuRequestSignature(t *testing.T) {
	p := &normalize.QiniuPili
	opts, err := p.Options(map[string]string{"ACCESS_KEY": "ak"})
	if err != nil {
		t.Fatal(err)
	}
	auth := normalize.Auth{Secret: []byte("sk"), MaxSkew: time.Minute, Options: opts}
	const path = "/v1/callbacks/qiniu-pili?event=connected"
	body := []byte("title=stream1&domain=pili.example.com&startTime=1700000000")
	headers := []normalize.Header{{Key: "Content-Type", Value: "application/x-www-form-urlencoded"}, {Key: "X-Qiniu-Date", Value: "20261206T120000Z"}}
	headers, err = p.SignRequest("POST", path, "callbridge.test", body, headers, &auth)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{}
	for _, kv := range headers {
		h[kv.Key] = kv.Value
	}
	for _, tt := range []struct {
		name   string
		date   string
		status int
	}{
		{"as signed", "20261206T120000Z", 200},
		{"X-Qiniu-Date changed", "20261206T120001Z", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { routeOf(t, c, p.ID).Auth = auth }, nil)
			h["X-Qiniu-Date"] = tt.date
			resp := viaListener(t, f, newRequest("POST", path, body, h))
			if resp.StatusCode() != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tt.status, resp.Body())
			}
			f.sink.mu.Lock()
			defer f.sink.mu.Unlock()
			if tt.status == 200 && (len(f.sink.events) != 1 || f.sink.events[0].Type != "com.qiniu.pili.stream.connected") {
				t.Fatalf("events %+v", f.sink.events)
			}
		})
	}
}

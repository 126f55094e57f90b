package ingest

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A gzip body is inflated as it is read and verified and published as the plain body would be;
// its inflated size is held to the body limit; anything else that is not identity is refused
// with a permanent status (never 503), over both transports.
func TestContentEncoding(t *testing.T) {
	play := testdata(t, "netease-nertc/503-play-started.json")
	bomb := gzipped(t, append(append([]byte(`{"x":"`), bytes.Repeat([]byte{'a'}, 4<<20)...), `"}`...))
	corrupt := gzipped(t, play)
	corrupt[len(corrupt)-5] ^= 0xff // the CRC: caught only at the end of the stream
	for _, tr := range transports {
		for _, tt := range []struct {
			name, enc string
			body      []byte
			status    int
			reply     string
		}{
			{"gzip", "gzip", gzipped(t, play), fasthttp.StatusOK, ""},
			{"GZIP", "GZIP", gzipped(t, play), fasthttp.StatusOK, ""},
			{"x-gzip", "x-gzip", gzipped(t, play), fasthttp.StatusOK, ""},
			{"identity", "identity", play, fasthttp.StatusOK, ""},
			{"bomb past the limit", "gzip", bomb, fasthttp.StatusRequestEntityTooLarge, "CALLBRIDGE_MAX_BODY_BYTES"},
			{"corrupt", "gzip", corrupt, fasthttp.StatusBadRequest, "not valid gzip"},
			{"not gzip at all", "gzip", play, fasthttp.StatusBadRequest, "not valid gzip"},
			{"brotli", "br", play, fasthttp.StatusUnsupportedMediaType, "gzip or identity"},
		} {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t, nil, nil)
				h := signedNetEase(play)
				h["Content-Encoding"] = tt.enc
				resp := tr.do(t, f, newRequest("POST", "/v1/callbacks/netease-nertc", tt.body, h))
				if resp.StatusCode() != tt.status || !strings.Contains(string(resp.Body()), tt.reply) {
					t.Fatalf("status %d %s, want %d %q", resp.StatusCode(), resp.Body(), tt.status, tt.reply)
				}
				events, dead, _ := f.sink.snapshot()
				if len(dead) != 0 || (len(events) == 1) != (tt.status == fasthttp.StatusOK) {
					t.Fatalf("%d events, %d dead letters", len(events), len(dead))
				}
				if len(events) == 1 && !strings.Contains(string(events[0].JSON), `"subject":"9aad689e-ba91-4764-bed1-b2e09bc21f5d"`) {
					t.Errorf("event %s", events[0].JSON)
				}
			})
		}
	}
}

package ingest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/normalize"
)

// nopSink acknowledges every event at once, without copying it: the benchmark measures the
// server, not a broker.
type nopSink struct{}

func (nopSink) Publish(*normalize.Event) error          { return nil }
func (nopSink) DeadLetter(string, []byte, string) error { return nil }
func (nopSink) Ready() error                            { return nil }
func (nopSink) Live() error                             { return nil }
func (nopSink) MessageLimit() int                       { return 1 << 20 }
func (nopSink) Close(context.Context) error             { return nil }

// BenchmarkHandle is one signed NetEase callback carrying a traceparent through Server.Handle:
// routing, body, verification, normalisation and the reply, on a RequestCtx reused as fasthttp
// reuses it per connection.
func BenchmarkHandle(b *testing.B) {
	benchmarkHandle(b, testConfig(io.Discard))
}

func benchmarkHandle(b *testing.B, cfg Config) {
	s := New(cfg, nopSink{})
	body, err := os.ReadFile(filepath.Join("..", "testdata", "netease-nertc", "503-play-started.json"))
	if err != nil {
		b.Fatal(err)
	}
	h := signedNetEase(body)
	h["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := newRequest(fasthttp.MethodPost, neteasePath, body, h)
	var ctx fasthttp.RequestCtx
	req.CopyTo(&ctx.Request)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		s.Handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

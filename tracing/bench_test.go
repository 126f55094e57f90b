package tracing

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
)

// BenchmarkHandleTraced is ingest's BenchmarkHandle with tracing on: the same signed callback
// through Server.Handle, its three spans batched to an exporter that drops them. The difference
// is what tracing costs a callback (ingest's benchmark, with no Tracer, shows it costs nothing
// when off).
func BenchmarkHandleTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	srv := ingest.New(ingest.Config{
		Routes: []ingest.Route{{
			Provider: &normalize.NetEaseNERTC,
			Auth:     normalize.Auth{Secret: []byte(secret), MaxSkew: 5 * time.Minute},
			Enforce:  true,
		}},
		MaxBodyBytes: 1 << 20,
		MaxInflight:  64,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tracer:       newProvider(tp, "nats", "bench").Tracer(),
	}, sink{})
	body := fixture(b)
	sum := md5.Sum(body)
	md5hex := hex.EncodeToString(sum[:])
	cur := strconv.FormatInt(time.Now().UnixMilli(), 10)
	check := sha1.Sum([]byte(secret + md5hex + cur))
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("http://callbridge.test/v1/callbacks/netease-nertc")
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.Set("MD5", md5hex)
	ctx.Request.Header.Set("CurTime", cur)
	ctx.Request.Header.Set("CheckSum", hex.EncodeToString(check[:]))
	ctx.Request.Header.Set("traceparent", traceParent)
	ctx.Request.SetBody(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		srv.Handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

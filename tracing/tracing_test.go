package tracing

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

const (
	secret      = "nertc-app-secret"
	traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentID    = "00f067aa0ba902b7"
)

// clearOTEL unsets every OTEL_* variable for the test, so the environment the tests run in does
// not decide what they see.
func clearOTEL(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestFromEnvOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"unset", nil},
		{"only headers", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=x", "OTEL_SERVICE_NAME": "x"}},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces", "OTEL_TRACES_EXPORTER": "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTEL(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			p, err := FromEnv(context.Background(), "nats", "test", slog.Default())
			if err != nil || p != nil {
				t.Fatalf("FromEnv = %v, %v; want nil, nil: no exporter, no SDK", p, err)
			}
			// A nil interface, not a typed nil: the server tests Config.Tracer against nil.
			if tr := p.Tracer(); tr != nil {
				t.Fatalf("Tracer() = %#v, want nil", tr)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFromEnvOn(t *testing.T) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Run(name, func(t *testing.T) {
			clearOTEL(t)
			t.Setenv(name, "http://127.0.0.1:1")
			p, err := FromEnv(context.Background(), "nats", "test", slog.Default())
			if err != nil || p == nil || p.Tracer() == nil {
				t.Fatalf("FromEnv = %v, %v; want a provider", p, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil { // nothing queued: nothing to send
				t.Fatal(err)
			}
		})
	}
}

// sink is a publish.Sink whose Publish does what the test says.
type sink struct {
	publish func() error
}

func (s sink) Publish(*normalize.Event) error {
	if s.publish != nil {
		return s.publish()
	}
	return nil
}
func (sink) DeadLetter(string, []byte, string) error { return nil }
func (sink) Ready() error                            { return nil }
func (sink) Live() error                             { return nil }
func (sink) MessageLimit() int                       { return 1 << 20 }
func (sink) Close(context.Context) error             { return nil }

// traced is a server for NetEase callbacks whose spans go to a recorder.
func traced(t *testing.T, s publish.Sink) (*ingest.Server, *tracetest.SpanRecorder, *testenv.Log) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	logs := new(testenv.Log)
	srv := ingest.New(ingest.Config{
		Routes: []ingest.Route{{
			Provider: &normalize.NetEaseNERTC,
			Auth:     normalize.Auth{Secret: []byte(secret), MaxSkew: 5 * time.Minute},
			Enforce:  true,
		}},
		MaxBodyBytes: 4096,
		MaxInflight:  8,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
		Tracer:       newProvider(tp, "nats", "test").Tracer(),
	}, s)
	return srv, rec, logs
}

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "netease-nertc", "503-play-started.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handle posts body to the NetEase route, signed unless checksum is given, through Handle.
func handle(srv *ingest.Server, body []byte, header map[string]string) *fasthttp.RequestCtx {
	sum := md5.Sum(body)
	md5hex := hex.EncodeToString(sum[:])
	cur := strconv.FormatInt(time.Now().UnixMilli(), 10)
	check := sha1.Sum([]byte(secret + md5hex + cur))
	ctx := new(fasthttp.RequestCtx)
	ctx.Request.SetRequestURI("http://callbridge.test/v1/callbacks/netease-nertc")
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.Set("MD5", md5hex)
	ctx.Request.Header.Set("CurTime", cur)
	ctx.Request.Header.Set("CheckSum", hex.EncodeToString(check[:]))
	for k, v := range header {
		ctx.Request.Header.Set(k, v)
	}
	ctx.Request.SetBody(body)
	srv.Handle(ctx)
	return ctx
}

func byName(t *testing.T, rec *tracetest.SpanRecorder) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	m := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		if _, dup := m[s.Name()]; dup {
			t.Fatalf("two spans named %q", s.Name())
		}
		m[s.Name()] = s
	}
	if n := len(rec.Started()); n != len(rec.Ended()) {
		t.Errorf("%d spans started, %d ended", n, len(rec.Ended()))
	}
	return m
}

func names(m map[string]sdktrace.ReadOnlySpan) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// noSecrets fails when anything recorded holds the body, a piece of it longer than an id, or a
// signature header's value.
func noSecrets(t *testing.T, rec *tracetest.SpanRecorder, ctx *fasthttp.RequestCtx) {
	t.Helper()
	forbidden := []string{
		string(ctx.Request.Header.Peek("CheckSum")),
		string(ctx.Request.Header.Peek("MD5")),
		string(ctx.Request.Header.Peek("CurTime")),
		"jdvodvk8hs8ih", // from the body's streamUrl
	}
	for _, s := range rec.Ended() {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
		}
		for _, e := range s.Events() {
			for _, kv := range e.Attributes {
				texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
			}
		}
		for _, text := range texts {
			for _, f := range forbidden {
				if f != "" && strings.Contains(text, f) {
					t.Errorf("span %q records %q, which holds %q from the request", s.Name(), text, f)
				}
			}
		}
	}
}

func TestSpansPublished(t *testing.T) {
	srv, rec, _ := traced(t, sink{})
	ctx := handle(srv, fixture(t), map[string]string{"traceparent": traceParent, "tracestate": "vendor=x"})
	if got := ctx.Response.StatusCode(); got != 200 {
		t.Fatalf("status %d: %s", got, ctx.Response.Body())
	}
	spans := byName(t, rec)
	server, verify, pub := spans["callback netease-nertc"], spans["verify"], spans["publish"]
	if server == nil || verify == nil || pub == nil || len(spans) != 3 {
		t.Fatalf("spans %v, want callback netease-nertc, verify, publish", names(spans))
	}
	if server.SpanKind() != trace.SpanKindServer || pub.SpanKind() != trace.SpanKindProducer {
		t.Errorf("kinds %v, %v", server.SpanKind(), pub.SpanKind())
	}
	if got := server.SpanContext().TraceID().String(); got != traceID {
		t.Errorf("trace %s, want the traceparent's %s", got, traceID)
	}
	if got := server.Parent(); got.SpanID().String() != parentID || !got.IsRemote() {
		t.Errorf("server span's parent %v, want the remote %s", got, parentID)
	}
	if got := server.SpanContext().TraceState().Get("vendor"); got != "x" {
		t.Errorf("tracestate vendor=%q, want x", got)
	}
	for _, child := range []sdktrace.ReadOnlySpan{verify, pub} {
		if child.Parent().SpanID() != server.SpanContext().SpanID() || child.SpanContext().TraceID() != server.SpanContext().TraceID() {
			t.Errorf("%s's parent %v, want the server span", child.Name(), child.Parent())
		}
		if child.Status().Code != codes.Unset {
			t.Errorf("%s status %v", child.Name(), child.Status())
		}
	}
	if !verify.EndTime().After(verify.StartTime()) || pub.StartTime().Before(verify.EndTime()) {
		t.Errorf("verify %v–%v, publish from %v", verify.StartTime(), verify.EndTime(), pub.StartTime())
	}
	for key, want := range map[string]string{
		"callbridge.provider":       "netease-nertc",
		"http.request.method":       "POST",
		"http.route":                "/v1/callbacks/netease-nertc",
		"http.response.status_code": "200",
		"cloudevents.event_type":    "com.netease.nertc.cloudplayer.play.started",
		"callbridge.verified":       "true",
	} {
		if v, ok := attr(server, key); !ok || v.Emit() != want {
			t.Errorf("server span %s=%q, want %q", key, v.Emit(), want)
		}
	}
	if v, ok := attr(server, "cloudevents.event_id"); !ok || v.AsString() == "" {
		t.Errorf("server span has no cloudevents.event_id")
	}
	for key, want := range map[string]string{"messaging.system": "nats", "messaging.operation.type": "send", "callbridge.dead_letter": "false"} {
		if v, ok := attr(pub, key); !ok || v.Emit() != want {
			t.Errorf("publish span %s=%q, want %q", key, v.Emit(), want)
		}
	}
	noSecrets(t, rec, ctx)
}

func TestSpansWithoutTraceparent(t *testing.T) {
	srv, rec, _ := traced(t, sink{})
	handle(srv, fixture(t), nil)
	server := byName(t, rec)["callback netease-nertc"]
	if server == nil || server.Parent().IsValid() {
		t.Fatalf("want a root server span, got %v", server)
	}
}

// A caller that did not sample its trace is followed: nothing is recorded.
func TestSpansUnsampledParent(t *testing.T) {
	srv, rec, _ := traced(t, sink{})
	ctx := handle(srv, fixture(t), map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"})
	if ctx.Response.StatusCode() != 200 || len(rec.Ended()) != 0 {
		t.Fatalf("status %d, %d spans recorded", ctx.Response.StatusCode(), len(rec.Ended()))
	}
}

func TestSpansFailures(t *testing.T) {
	tests := []struct {
		name       string
		sink       sink
		body       func([]byte) []byte
		header     map[string]string
		status     int
		spans      []string
		serverErr  bool
		verifyErr  string // status description, when an error
		publishErr string
	}{
		{name: "bad signature", header: map[string]string{"CheckSum": strings.Repeat("0", 40)}, status: 401,
			spans: []string{"callback netease-nertc", "verify"}, verifyErr: "unauthorized: CheckSum does not match"},
		{name: "broker down", sink: sink{publish: func() error { return errors.New("nats: timeout") }}, status: 503,
			spans: []string{"callback netease-nertc", "verify", "publish"}, serverErr: true, publishErr: "nats: timeout"},
		{name: "too large for the broker", sink: sink{publish: func() error { return publish.ErrTooLarge }}, status: 413,
			spans: []string{"callback netease-nertc", "verify", "publish"}, serverErr: true, publishErr: publish.ErrTooLarge.Error()},
		{name: "body over the limit", body: func(b []byte) []byte { return bytes.Repeat(b, 20) }, status: 413,
			spans: []string{"callback netease-nertc"}, serverErr: true},
		{name: "malformed payload, dead-lettered", body: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"eventType":503`), []byte(`"eventType":"jdvodvk8hs8ih"`), 1)
		},
			status: 400, spans: []string{"callback netease-nertc", "verify", "publish"}, verifyErr: "malformed payload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec, logs := traced(t, tc.sink)
			body := fixture(t)
			if tc.body != nil {
				body = tc.body(body)
			}
			h := map[string]string{"traceparent": traceParent}
			for k, v := range tc.header {
				h[k] = v
			}
			ctx := handle(srv, body, h)
			if got := ctx.Response.StatusCode(); got != tc.status {
				t.Fatalf("status %d (%s), want %d; log:\n%s", got, ctx.Response.Body(), tc.status, logs)
			}
			spans := byName(t, rec)
			if len(spans) != len(tc.spans) {
				t.Fatalf("spans %v, want %v", names(spans), tc.spans)
			}
			for _, n := range tc.spans {
				if spans[n] == nil {
					t.Fatalf("spans %v, want %v", names(spans), tc.spans)
				}
			}
			server := spans["callback netease-nertc"]
			if v, _ := attr(server, "http.response.status_code"); v.AsInt64() != int64(tc.status) {
				t.Errorf("http.response.status_code %v, want %d", v.Emit(), tc.status)
			}
			if got := server.Status().Code == codes.Error; got != tc.serverErr {
				t.Errorf("server span status %v, want error %v", server.Status(), tc.serverErr)
			}
			if s := spans["verify"]; s != nil {
				if got := s.Status(); (tc.verifyErr == "") != (got.Code == codes.Unset) || got.Description != tc.verifyErr {
					t.Errorf("verify status %v, want %q", got, tc.verifyErr)
				}
			}
			if s := spans["publish"]; s != nil {
				if got := s.Status(); (tc.publishErr == "") != (got.Code == codes.Unset) || got.Description != tc.publishErr {
					t.Errorf("publish status %v, want %q", got, tc.publishErr)
				}
				if tc.publishErr != "" && len(s.Events()) == 0 {
					t.Errorf("publish span recorded no exception event")
				}
			}
			noSecrets(t, rec, ctx)
		})
	}
}

// panicSink's Publish panics; Handle answers 500.
type panicSink struct{ sink }

func (panicSink) Publish(*normalize.Event) error { panic("broker client exploded") }

// A panic ends the open spans as errors, and Handle still logs the stack of where it happened.
func TestSpansPanic(t *testing.T) {
	srv, rec, logs := traced(t, panicSink{})
	ctx := handle(srv, fixture(t), map[string]string{"traceparent": traceParent})
	if got := ctx.Response.StatusCode(); got != 500 {
		t.Fatalf("status %d, want 500", got)
	}
	spans := byName(t, rec)
	server, pub := spans["callback netease-nertc"], spans["publish"]
	if server == nil || pub == nil {
		t.Fatalf("spans %v", names(spans))
	}
	if server.Status().Code != codes.Error || pub.Status().Code != codes.Error {
		t.Errorf("statuses %v, %v, want errors", server.Status(), pub.Status())
	}
	if v, _ := attr(server, "http.response.status_code"); v.AsInt64() != 500 {
		t.Errorf("http.response.status_code %s", v.Emit())
	}
	if !strings.Contains(logs.String(), "panicSink.Publish") {
		t.Errorf("the logged stack lost the panicking frame:\n%s", logs)
	}
}

func TestHeaderCarrier(t *testing.T) {
	var h fasthttp.RequestHeader
	h.Set("Traceparent", traceParent)
	c := headerCarrier{&h}
	if got := c.Get("traceparent"); got != traceParent {
		t.Errorf("Get = %q", got)
	}
	if keys := c.Keys(); len(keys) != 1 || !strings.EqualFold(keys[0], "traceparent") {
		t.Errorf("Keys = %q", keys)
	}
}

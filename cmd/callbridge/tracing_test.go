package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP collector on loopback: it accepts POST /v1/traces, decodes the
// protobuf ExportTraceServiceRequest and keeps it.
type otlpReceiver struct {
	url string
	mu  sync.Mutex
	got []*coltracepb.ExportTraceServiceRequest
	hdr []http.Header
	bad []string // requests that were not a valid export
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
				body, err = io.ReadAll(zr)
			}
		}
		req := new(coltracepb.ExportTraceServiceRequest)
		if err == nil {
			err = proto.Unmarshal(body, req)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
			rcv.bad = append(rcv.bad, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+errString(err))
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		rcv.got = append(rcv.got, req)
		rcv.hdr = append(rcv.hdr, r.Header.Clone())
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	rcv.url = srv.URL
	return rcv
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// exported is one received span with the resource it came with.
type exported struct {
	span     *tracepb.Span
	resource []*commonpb.KeyValue
}

func (rcv *otlpReceiver) spans() []exported {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var out []exported
	for _, req := range rcv.got {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, exported{s, rs.GetResource().GetAttributes()})
				}
			}
		}
	}
	return out
}

func otlpAttr(kvs []*commonpb.KeyValue, key string) (*commonpb.AnyValue, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// With an OTLP endpoint set, each callback's receive → verify → publish spans reach the
// collector, continuing the request's traceparent, by the time the bridge has stopped; nothing
// the request carried to authenticate it, and not its body, is among them.
func TestTracingExportsSpans(t *testing.T) {
	for _, tc := range []struct{ variable, path string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces"}, // the signal's own URL, used as is
	} {
		t.Run(tc.variable, func(t *testing.T) {
			rcv := newOTLPReceiver(t)
			env := signedEnv()
			env[tc.variable] = rcv.url + tc.path
			env["OTEL_SERVICE_NAME"] = "callbridge-trace-test"
			env["OTEL_EXPORTER_OTLP_HEADERS"] = "x-collector-key=k123"
			env["OTEL_BSP_SCHEDULE_DELAY"] = "600000" // nothing is sent before stop flushes
			cfg, ln := testConfig(t, env)
			b, err := start(context.Background(), cfg, ln, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					b.stop()
				}
			})
			if b.traces == nil {
				t.Fatal("no tracer provider with " + tc.variable + " set")
			}

			neteaseBody, err := os.ReadFile(filepath.Join("..", "..", "testdata", "netease-nertc", "503-play-started.json"))
			if err != nil {
				t.Fatal(err)
			}
			ne := signed("netease-nertc", neteaseBody, time.Now())
			ne.header.Set("traceparent", testTraceParent)
			if status, _, reply := b.post(t, ne); status != 200 {
				t.Fatalf("netease: %d %s", status, reply)
			}
			tencentBody, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tencent-css", "1-push.json"))
			if err != nil {
				t.Fatal(err)
			}
			tx := signed("tencent-css", tencentBody, time.Now()) // on its URL-token route
			if status, _, reply := b.post(t, tx); status != 200 {
				t.Fatalf("tencent: %d %s", status, reply)
			}
			bad := signed("netease-nertc", neteaseBody, time.Now())
			bad.header.Set("CheckSum", strings.Repeat("0", 40))
			bad.header.Set("traceparent", testTraceParent)
			if status, _, reply := b.post(t, bad); status != 401 {
				t.Fatalf("bad signature: %d %s", status, reply)
			}

			if n := len(rcv.spans()); n != 0 {
				t.Errorf("%d spans exported before stop; the batch delay should have held them", n)
			}
			stopped = true
			if err := b.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			rcv.mu.Lock()
			if len(rcv.bad) > 0 {
				t.Errorf("malformed exports: %q", rcv.bad)
			}
			for _, h := range rcv.hdr {
				if h.Get("X-Collector-Key") != "k123" {
					t.Errorf("export without OTEL_EXPORTER_OTLP_HEADERS' header: %v", h)
				}
			}
			rcv.mu.Unlock()

			spans := rcv.spans()
			if len(spans) != 8 { // netease 3, tencent 3, refused 2
				for _, s := range spans {
					t.Logf("span %q", s.span.Name)
				}
				t.Fatalf("%d spans exported, want 8", len(spans))
			}
			wantTrace, _ := hex.DecodeString("4bf92f3577b34da6a3ce929d0e0e4736")
			wantParent, _ := hex.DecodeString("00f067aa0ba902b7")
			servers := map[string][]*tracepb.Span{}
			children := map[string][]*tracepb.Span{} // by parent span id
			for _, e := range spans {
				if v, ok := otlpAttr(e.resource, "service.name"); !ok || v.GetStringValue() != "callbridge-trace-test" {
					t.Errorf("resource service.name %v, want OTEL_SERVICE_NAME's", v)
				}
				if e.span.Kind == tracepb.Span_SPAN_KIND_SERVER {
					servers[e.span.Name] = append(servers[e.span.Name], e.span)
				} else {
					children[string(e.span.ParentSpanId)] = append(children[string(e.span.ParentSpanId)], e.span)
				}
			}
			if len(servers["callback netease-nertc"]) != 2 || len(servers["callback tencent-css"]) != 1 {
				t.Fatalf("server spans %v", servers)
			}
			for _, s := range servers["callback netease-nertc"] {
				if !bytes.Equal(s.TraceId, wantTrace) || !bytes.Equal(s.ParentSpanId, wantParent) {
					t.Errorf("netease server span trace %x parent %x, want the traceparent's %x %x", s.TraceId, s.ParentSpanId, wantTrace, wantParent)
				}
			}
			if s := servers["callback tencent-css"][0]; len(s.ParentSpanId) != 0 {
				t.Errorf("tencent server span has parent %x without a traceparent", s.ParentSpanId)
			}
			for _, s := range append(servers["callback netease-nertc"], servers["callback tencent-css"]...) {
				status, _ := otlpAttr(s.Attributes, "http.response.status_code")
				want := []string{"verify", "publish"}
				if status.GetIntValue() == 401 {
					want = want[:1]
				}
				kids := children[string(s.SpanId)]
				if len(kids) != len(want) {
					t.Errorf("%s (%d) has %d children, want %v", s.Name, status.GetIntValue(), len(kids), want)
					continue
				}
				for i, k := range kids {
					if k.Name != want[i] || !bytes.Equal(k.TraceId, s.TraceId) {
						t.Errorf("%s child %d: %q in trace %x, want %q in %x", s.Name, i, k.Name, k.TraceId, want[i], s.TraceId)
					}
				}
				if status.GetIntValue() == 401 && kids[0].GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
					t.Errorf("refused callback's verify span status %v", kids[0].GetStatus())
				}
				if status.GetIntValue() == 200 {
					if v, _ := otlpAttr(s.Attributes, "cloudevents.event_type"); v.GetStringValue() == "" {
						t.Errorf("%s lacks cloudevents.event_type", s.Name)
					}
				}
			}

			// Nothing from the request but the trace context: no body, signature, token, in any
			// name, status message or attribute (of spans, their events, the resource). CurTime
			// is left out: a send time in ms, it is a prefix of the spans' own timestamps.
			var recorded strings.Builder
			for _, e := range spans {
				recorded.WriteString(e.span.Name + "\n" + e.span.GetStatus().GetMessage() + "\n")
				kvs := append(append([]*commonpb.KeyValue{}, e.span.Attributes...), e.resource...)
				for _, ev := range e.span.Events {
					recorded.WriteString(ev.Name + "\n")
					kvs = append(kvs, ev.Attributes...)
				}
				for _, kv := range kvs {
					recorded.WriteString(kv.Key + "=" + protojson.Format(kv.Value) + "\n")
				}
			}
			forbidden := []string{
				ne.header.Get("CheckSum"), ne.header.Get("MD5"),
				tencentToken, "jdvodvk8hs8ih", "livepush.example.com", `"sign"`,
			}
			if m := signRe.Find(tx.body); m != nil {
				forbidden = append(forbidden, strings.Trim(strings.TrimPrefix(string(m), `"sign":`), `"`))
			}
			for _, f := range forbidden {
				if f != "" && strings.Contains(recorded.String(), f) {
					t.Errorf("the export holds %q from a request:\n%s", f, recorded.String())
				}
			}
		})
	}
}

// Without OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT there is no tracer provider, so no exporter, and
// the server gets no Tracer.
func TestTracingOffByDefault(t *testing.T) {
	env := signedEnv()
	env["OTEL_SERVICE_NAME"] = "set, but no endpoint"
	b := startBridge(t, env)
	if b.traces != nil || b.traces.Tracer() != nil {
		t.Fatalf("tracing on without an endpoint: %v", b.traces)
	}
}

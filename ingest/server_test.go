package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

const (
	neteaseSecret = "nertc-app-secret"
	tencentKey    = "testkey"
	tencentToken  = "relay-token-0123456789"
	retryAfter    = 7 * time.Second
	neteasePath   = "/v1/callbacks/netease-nertc"
	anyrtcPath    = "/v1/callbacks/anyrtc"
	tencentPath   = "/v1/callbacks/tencent-css"
)

// ---------------------------------------------------------------------------------------------
// fixtures

type fixture struct {
	s    *Server
	sink *testSink
	reg  *prometheus.Registry
	logs *testenv.Log
}

// testConfig routes every built-in provider (normalize.Builtins): NetEase with a secret, anyRTC with no
// secret (unsigned refused), Tencent with a key and a URL token. All enforce.
func testConfig(logs io.Writer) Config {
	var routes []Route
	for _, p := range normalize.Builtins() {
		r := Route{
			Provider: p,
			Enforce:  true,
			Auth:     normalize.Auth{MaxSkew: 5 * time.Minute}, // each provider's own settings: their defaults
		}
		switch p.ID {
		case "netease-nertc":
			r.Auth.Secret = []byte(neteaseSecret)
		case "anyrtc":
		case "tencent-css":
			r.Auth.Secret = []byte(tencentKey)
			r.URLToken = []byte(tencentToken)
		}
		routes = append(routes, r)
	}
	return Config{
		Routes:       routes,
		MaxBodyBytes: 1 << 20,
		ReadTimeout:  5 * time.Second,
		WriteTimeout: 5 * time.Second,
		IdleTimeout:  5 * time.Second,
		MaxInflight:  64,
		RetryAfter:   retryAfter,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry:     prometheus.NewRegistry(),
		// One event per callback: the server's own tests count them. A callback's canonical
		// counterpart is tested by canonical_test.go here and by cmd/callbridge's contract tests.
		Output: normalize.NewOutput("http://localhost:8080/schemas", normalize.BuiltinRegistry().WithCanonical(false)),
	}
}

func routeOf(t *testing.T, cfg *Config, id string) *Route {
	t.Helper()
	for i := range cfg.Routes {
		if cfg.Routes[i].Provider.ID == id {
			return &cfg.Routes[i]
		}
	}
	t.Fatalf("no route %q", id)
	return nil
}

func newFixture(t *testing.T, tweak func(*Config), sink *testSink) *fixture {
	t.Helper()
	logs := new(testenv.Log)
	cfg := testConfig(logs)
	if tweak != nil {
		tweak(&cfg)
	}
	if sink == nil {
		sink = new(testSink)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return &fixture{s: New(cfg, sink), sink: sink, reg: cfg.Registry, logs: logs}
}

// serve runs the server on an in-memory listener and returns a client for it.
func (f *fixture) serve(t *testing.T) (*fasthttp.HostClient, *fasthttputil.InmemoryListener) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	return f.serveOn(t, ln), ln
}

func (f *fixture) serveOn(t *testing.T, ln net.Listener) *fasthttp.HostClient {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f.s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	dial := func(string) (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }
	if mem, ok := ln.(*fasthttputil.InmemoryListener); ok {
		dial = func(string) (net.Conn, error) { return mem.Dial() }
	}
	c := &fasthttp.HostClient{Addr: "callbridge.test", Dial: dial, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections) // runs before Shutdown, which would otherwise wait for them
	return c
}

// transport sends one request to the server and returns its response.
type transport func(t *testing.T, f *fixture, req *fasthttp.Request) *fasthttp.Response

// viaHandle calls Server.Handle on a RequestCtx built by hand: no connection at all.
func viaHandle(t *testing.T, f *fixture, req *fasthttp.Request) *fasthttp.Response {
	t.Helper()
	var ctx fasthttp.RequestCtx
	req.CopyTo(&ctx.Request)
	f.s.Handle(&ctx)
	resp := new(fasthttp.Response)
	ctx.Response.CopyTo(resp)
	return resp
}

// viaListener sends the request through fasthttp's server on an in-memory listener.
func viaListener(t *testing.T, f *fixture, req *fasthttp.Request) *fasthttp.Response {
	t.Helper()
	c, _ := f.serve(t)
	resp := new(fasthttp.Response)
	if err := c.Do(req, resp); err != nil {
		t.Fatalf("request: %v", err)
	}
	return resp
}

var transports = []struct {
	name string
	do   transport
}{
	{"handle", viaHandle},
	{"listener", viaListener},
}

func newRequest(method, path string, body []byte, header map[string]string) *fasthttp.Request {
	req := new(fasthttp.Request)
	req.SetRequestURI("http://callbridge.test" + path)
	req.Header.SetMethod(method)
	req.Header.SetContentType("application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.SetBody(body)
	}
	return req
}

// neteaseHeaders signs body the way NetEase does: MD5 = md5hex(body),
// CheckSum = sha1hex(secret + MD5 + CurTime), CurTime in milliseconds.
func neteaseHeaders(secret string, body []byte, at time.Time) map[string]string {
	sum := md5.Sum(body)
	md5hex := hex.EncodeToString(sum[:])
	cur := strconv.FormatInt(at.UnixMilli(), 10)
	check := sha1.Sum([]byte(secret + md5hex + cur))
	return map[string]string{
		"MD5":      md5hex,
		"CurTime":  cur,
		"CheckSum": hex.EncodeToString(check[:]),
		"AppKey":   "test-app-key",
	}
}

func signedNetEase(body []byte) map[string]string {
	return neteaseHeaders(neteaseSecret, body, time.Now())
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorJSON decodes {"error":"...","field":"..."}; it fails the test for anything else.
func errorJSON(t *testing.T, body []byte) (msg, field string) {
	t.Helper()
	var e struct {
		Error *string `json:"error"`
		Field string  `json:"field"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Fatalf("body %q is not a JSON error (%v)", body, err)
	}
	return *e.Error, e.Field
}

// structured decodes a recorded event's CloudEvents JSON.
func structured(t *testing.T, p published) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(p.JSON, &m); err != nil {
		t.Fatalf("event JSON %q: %v", p.JSON, err)
	}
	return m
}

// metric returns the value of the counter or gauge name with exactly the given labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if want[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			t.Fatalf("%s%v is neither a counter nor a gauge", name, labels)
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func outcome(t *testing.T, reg *prometheus.Registry, provider, outcome string) float64 {
	t.Helper()
	return metric(t, reg, "callbridge_callbacks_total", "provider", provider, "outcome", outcome)
}

// ---------------------------------------------------------------------------------------------
// the status table (SPEC §2)

type row struct {
	name   string
	tweak  func(*Config)
	sink   func(*testSink)
	method string // default POST
	path   string
	body   []byte
	header map[string]string

	status     int
	body200    string            // exact body expected with a 200
	errHas     []string          // substrings of the JSON "error"
	field      string            // expected JSON "field"
	header200  map[string]string // expected response headers (any status)
	events     int               // acknowledged events expected in the sink
	eventType  string            // type of the single event
	unverified bool              // the single event carries "verified":false
	dead       int               // dead letters expected
	check      func(t *testing.T, f *fixture, resp *fasthttp.Response)
}

func statusRows(t *testing.T) []row {
	play := testdata(t, "netease-nertc/503-play-started.json")
	unknown42 := testdata(t, "netease-nertc/unknown-42.json")
	anyJoin := testdata(t, "anyrtc/1-103-broadcaster-join.json")
	relay := testdata(t, "tencent-css/314-task-start.json")

	wrongSum := signedNetEase(play)
	wrongSum["CheckSum"] = strings.Repeat("0", 40)
	staleSig := neteaseHeaders(neteaseSecret, play, time.Now().Add(-10*time.Minute))

	notJSON := []byte(`this is not json`)
	badEventType := []byte(`{"eventType":"x","data":{}}`)
	noTaskID := []byte(`{"eventType":503,"data":{}}`)
	hugeEventType := []byte(`{"eventType":"` + strings.Repeat(`\u0000\"x`, 20000) + `","data":{}}`)

	jsonCT := map[string]string{"Content-Type": "application/json"}
	retry := map[string]string{"Retry-After": "7", "Content-Type": "application/json"}
	allow := map[string]string{"Allow": "POST", "Content-Type": "application/json"}

	report := func(id string) func(*Config) {
		return func(c *Config) { routeOf(t, c, id).Enforce = false }
	}

	return []row{
		{
			name: "netease signed 503 published", path: neteasePath, body: play, header: signedNetEase(play),
			status: 200, body200: `{"code":200}`, header200: jsonCT,
			events: 1, eventType: "com.netease.nertc.cloudplayer.play.started",
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				events, _, _ := f.sink.snapshot()
				ev := structured(t, events[0])
				if ev["subject"] != "9aad689e-ba91-4764-bed1-b2e09bc21f5d" || ev["source"] != "/callbridge/netease-nertc/test-app-key" {
					t.Errorf("event %s", events[0].JSON)
				}
				if _, ok := ev["verified"]; ok {
					t.Errorf("a signed event carries verified: %s", events[0].JSON)
				}
				if n := outcome(t, f.reg, "netease-nertc", "published"); n != 1 {
					t.Errorf("published counter = %v, want 1", n)
				}
			},
		},
		{
			name: "netease URL check empty body", path: neteasePath, body: []byte{},
			status: 200, body200: `{"code":200}`, header200: jsonCT,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := outcome(t, f.reg, "netease-nertc", "url_check"); n != 1 {
					t.Errorf("url_check counter = %v, want 1", n)
				}
				if !strings.Contains(f.logs.String(), "probe answered, not published") {
					t.Errorf("no log line for the probe:\n%s", f.logs)
				}
			},
		},
		{name: "netease URL check {}", path: neteasePath, body: []byte(`{}`), status: 200, body200: `{"code":200}`},
		{name: "netease URL check { } with spaces", path: neteasePath, body: []byte(" { }\n"), status: 200, body200: `{"code":200}`},

		{name: "unknown provider", path: "/v1/callbacks/nope", body: play, status: 404, errHas: []string{"not found"}},
		{name: "empty provider", path: "/v1/callbacks/", body: play, status: 404},
		{name: "extra path segments", path: neteasePath + "/extra/segment", body: play, header: signedNetEase(play), status: 404},
		{name: "trailing slash on a provider without token", path: neteasePath + "/", body: play, header: signedNetEase(play), status: 404},
		{name: "unknown path", path: "/nope", status: 404, errHas: []string{"not found"}},
		{name: "GET unknown provider is 404 not 405", method: "GET", path: "/v1/callbacks/nope", status: 404},

		{name: "GET callback", method: "GET", path: neteasePath, status: 405, header200: allow, errHas: []string{"POST"}},
		{name: "PUT callback", method: "PUT", path: neteasePath, body: play, header: signedNetEase(play), status: 405, header200: allow},
		{name: "DELETE token route", method: "DELETE", path: tencentPath + "/" + tencentToken, status: 405, header200: allow},

		{
			name: "netease wrong CheckSum", path: neteasePath, body: play, header: wrongSum,
			status: 401, errHas: []string{"CheckSum"}, header200: jsonCT,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := outcome(t, f.reg, "netease-nertc", "unauthorized"); n != 1 {
					t.Errorf("unauthorized counter = %v, want 1", n)
				}
				if n := metric(t, f.reg, "callbridge_verification_failures_total", "provider", "netease-nertc"); n != 1 {
					t.Errorf("verification failures = %v, want 1", n)
				}
			},
		},
		{
			name: "netease MD5 of another body", path: neteasePath, body: play, header: signedNetEase(unknown42),
			status: 401, errHas: []string{"MD5"},
		},
		{name: "netease unsigned", path: neteasePath, body: play, status: 401, errHas: []string{"CheckSum header missing"}},
		{name: "netease stale CurTime", path: neteasePath, body: play, header: staleSig, status: 401, errHas: []string{"CurTime", "signature window"}},
		{
			name: "netease CurTime in the future", path: neteasePath, body: play,
			header: neteaseHeaders(neteaseSecret, play, time.Now().Add(10*time.Minute)),
			status: 401, errHas: []string{"CurTime", "future"},
		},

		{name: "anyrtc unsigned refused", path: anyrtcPath, body: anyJoin, status: 401, errHas: []string{"no secret", "unsigned"}},
		{
			name: "anyrtc unsigned allowed", path: anyrtcPath, body: anyJoin,
			tweak:  func(c *Config) { routeOf(t, c, "anyrtc").Auth.AllowUnsigned = true },
			status: 200, body200: `{"code":0}`, events: 1, eventType: "io.anyrtc.rtc.broadcaster.joined", unverified: true,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				events, _, _ := f.sink.snapshot()
				if events[0].ID == "2000001428:4331:103" {
					t.Errorf("id = %q: an unsigned callback must not choose its id", events[0].ID)
				}
			},
		},

		{
			name: "report mode wrong CheckSum accepted", path: neteasePath, body: play, header: wrongSum, tweak: report("netease-nertc"),
			status: 200, body200: `{"code":200}`, events: 1, eventType: "com.netease.nertc.cloudplayer.play.started", unverified: true,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := metric(t, f.reg, "callbridge_verification_failures_total", "provider", "netease-nertc"); n != 1 {
					t.Errorf("verification failures = %v, want 1", n)
				}
				if n := outcome(t, f.reg, "netease-nertc", "unauthorized"); n != 0 {
					t.Errorf("unauthorized counter = %v, want 0", n)
				}
				if !strings.Contains(f.logs.String(), "accepted in report mode") {
					t.Errorf("report-mode acceptance not logged")
				}
			},
		},
		{
			name: "report mode stale CurTime accepted", path: neteasePath, body: play, header: staleSig, tweak: report("netease-nertc"),
			status: 200, events: 1, unverified: true,
		},

		{
			name: "netease body not JSON dead-lettered", path: neteasePath, body: notJSON, header: signedNetEase(notJSON),
			status: 400, errHas: []string{"not a JSON object"}, dead: 1,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := outcome(t, f.reg, "netease-nertc", "dead_lettered"); n != 1 {
					t.Errorf("dead_lettered counter = %v, want 1", n)
				}
			},
		},
		{
			name: "netease eventType string dead-lettered", path: neteasePath, body: badEventType, header: signedNetEase(badEventType),
			status: 400, errHas: []string{"eventType", "not an integer"}, field: "eventType", dead: 1,
		},
		{
			name: "netease 503 without taskId dead-lettered", path: neteasePath, body: noTaskID, header: signedNetEase(noTaskID),
			status: 400, errHas: []string{"data.taskId"}, field: "data.taskId", dead: 1,
		},
		{
			name: "dead letter publish fails", path: neteasePath, body: noTaskID, header: signedNetEase(noTaskID),
			sink:   func(k *testSink) { k.deadErr = errors.New("broker down") },
			status: 503, header200: retry,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := outcome(t, f.reg, "netease-nertc", "publish_failed"); n != 1 {
					t.Errorf("publish_failed counter = %v, want 1", n)
				}
			},
		},
		{
			name: "unauthenticated bad body is 401 not dead-lettered", path: neteasePath, body: noTaskID, header: wrongSum,
			status: 401,
		},

		{
			name: "report mode: unverified bad body is 400, not dead-lettered", path: neteasePath, body: noTaskID, header: wrongSum,
			tweak: report("netease-nertc"), status: 400, field: "data.taskId", dead: 0,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if n := outcome(t, f.reg, "netease-nertc", "invalid"); n != 1 {
					t.Errorf("invalid counter = %v, want 1", n)
				}
			},
		},
		{
			name: "unsigned allowed: bad body is 400, not dead-lettered", path: anyrtcPath, body: []byte(`{"noticeId":"n","productId":1}`),
			tweak:  func(c *Config) { routeOf(t, c, "anyrtc").Auth.AllowUnsigned = true },
			status: 400, field: "eventType", dead: 0,
		},
		{
			name: "400 error is JSON and bounded", path: neteasePath, header: signedNetEase(hugeEventType), body: hugeEventType,
			status: 400, field: "eventType", dead: 1,
			check: func(t *testing.T, f *fixture, resp *fasthttp.Response) {
				if !json.Valid(resp.Body()) || len(resp.Body()) > 2*maxReplyText {
					t.Errorf("reply of %d bytes, valid JSON %v: %.200s", len(resp.Body()), json.Valid(resp.Body()), resp.Body())
				}
				_, dead, _ := f.sink.snapshot()
				if len(dead[0].Reason) > 4096 {
					t.Errorf("dead-letter reason of %d bytes", len(dead[0].Reason))
				}
			},
		},
		{
			name: "event over the broker's limit is 413, not 503", path: neteasePath, body: play, header: signedNetEase(play),
			sink:   func(k *testSink) { k.publishErr = fmt.Errorf("%w: 2000000 bytes", publish.ErrTooLarge) },
			status: 413, errHas: []string{"larger than the broker accepts"},
			check: func(t *testing.T, f *fixture, resp *fasthttp.Response) {
				if len(resp.Header.Peek("Retry-After")) != 0 {
					t.Error("a permanent failure carries Retry-After")
				}
				if n := outcome(t, f.reg, "netease-nertc", "too_large"); n != 1 {
					t.Errorf("too_large counter = %v, want 1", n)
				}
			},
		},
		{
			name: "dead letter over the broker's limit is 413", path: neteasePath, body: noTaskID, header: signedNetEase(noTaskID),
			sink:   func(k *testSink) { k.deadErr = fmt.Errorf("%w: big", publish.ErrTooLarge) },
			status: 413,
		},

		{
			name: "netease unknown eventType 42", path: neteasePath, body: unknown42, header: signedNetEase(unknown42),
			status: 200, body200: `{"code":200}`, events: 1, eventType: "com.netease.nertc.unknown.42",
		},

		{
			name: "publish fails", path: neteasePath, body: play, header: signedNetEase(play),
			sink:   func(k *testSink) { k.publishErr = publish.ErrNotReady },
			status: 503, header200: retry, errHas: []string{"retry later"},
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				if _, _, attempts := f.sink.snapshot(); attempts != 1 {
					t.Errorf("Publish called %d times, want 1", attempts)
				}
				if n := outcome(t, f.reg, "netease-nertc", "publish_failed"); n != 1 {
					t.Errorf("publish_failed counter = %v, want 1", n)
				}
				if n := outcome(t, f.reg, "netease-nertc", "published"); n != 0 {
					t.Errorf("published counter = %v, want 0", n)
				}
			},
		},

		{
			name: "tencent relay on the token route", path: tencentPath + "/" + tencentToken, body: relay,
			status: 200, body200: `{"code":0}`, events: 1, eventType: "com.tencent.css.relay.task.started",
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				events, _, _ := f.sink.snapshot()
				if ev := structured(t, events[0]); ev["subject"] != "118148" {
					t.Errorf("event %s", events[0].JSON)
				}
			},
		},
		{name: "tencent wrong token", path: tencentPath + "/wrong-token", body: relay, status: 404, errHas: []string{"not found"}},
		{name: "tencent token prefix", path: tencentPath + "/" + tencentToken[:len(tencentToken)-1], body: relay, status: 404},
		{name: "tencent token with suffix", path: tencentPath + "/" + tencentToken + "x", body: relay, status: 404},
		{name: "tencent empty token", path: tencentPath + "/", body: relay, status: 404},
		{name: "tencent no token", path: tencentPath, body: relay, status: 404},
		{name: "tencent token plus segment", path: tencentPath + "/" + tencentToken + "/x", body: relay, status: 404},
		{name: "token on a provider without one", path: neteasePath + "/" + tencentToken, body: play, header: signedNetEase(play), status: 404},
		{
			name: "tencent without t/sign off the token route, token not configured", path: tencentPath, body: relay,
			tweak:  func(c *Config) { routeOf(t, c, "tencent-css").URLToken = nil },
			status: 401, errHas: []string{"t/sign"},
		},

		{
			name: "traceparent carried", path: neteasePath, body: play,
			header: func() map[string]string {
				h := signedNetEase(play)
				h["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
				h["tracestate"] = "vendor=value"
				return h
			}(),
			status: 200, events: 1,
			check: func(t *testing.T, f *fixture, _ *fasthttp.Response) {
				events, _, _ := f.sink.snapshot()
				ev := structured(t, events[0])
				if ev["traceparent"] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" || ev["tracestate"] != "vendor=value" {
					t.Errorf("trace context not carried: %s", events[0].JSON)
				}
			},
		},
	}
}

func TestCallbackStatus(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, r := range statusRows(t) {
				t.Run(r.name, func(t *testing.T) {
					t.Parallel()
					sink := new(testSink)
					if r.sink != nil {
						r.sink(sink)
					}
					f := newFixture(t, r.tweak, sink)
					method := r.method
					if method == "" {
						method = "POST"
					}
					resp := tr.do(t, f, newRequest(method, r.path, r.body, r.header))
					checkRow(t, f, r, resp)
				})
			}
		})
	}
}

func checkRow(t *testing.T, f *fixture, r row, resp *fasthttp.Response) {
	t.Helper()
	body := resp.Body()
	if got := resp.StatusCode(); got != r.status {
		t.Fatalf("status %d, want %d; body %s", got, r.status, body)
	}
	for k, v := range r.header200 {
		if got := string(resp.Header.Peek(k)); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if r.status != 503 {
		if ra := resp.Header.Peek("Retry-After"); len(ra) > 0 {
			t.Errorf("Retry-After %q on a %d", ra, r.status)
		}
	}
	if r.status == 200 {
		if r.body200 != "" && string(body) != r.body200 {
			t.Errorf("body %q, want %q", body, r.body200)
		}
		if ct := string(resp.Header.ContentType()); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
	} else {
		msg, field := errorJSON(t, body)
		for _, s := range r.errHas {
			if !strings.Contains(msg, s) {
				t.Errorf("error %q does not mention %q", msg, s)
			}
		}
		if field != r.field {
			t.Errorf("field %q, want %q", field, r.field)
		}
		if strings.Contains(string(body), "goroutine") {
			t.Errorf("body leaks a stack: %s", body)
		}
	}

	events, dead, _ := f.sink.snapshot()
	if len(events) != r.events {
		t.Fatalf("%d events published, want %d: %q", len(events), r.events, events)
	}
	if r.events > 0 && r.status != 200 {
		t.Fatalf("row expects events with status %d", r.status)
	}
	if r.events == 1 {
		if r.eventType != "" && events[0].Type != r.eventType {
			t.Errorf("type %q, want %q", events[0].Type, r.eventType)
		}
		ev := structured(t, events[0])
		if ev["type"] != events[0].Type || ev["id"] != events[0].ID {
			t.Errorf("structured JSON disagrees with the event: %s", events[0].JSON)
		}
		v, has := ev["verified"]
		if r.unverified && v != "false" {
			t.Errorf("verified = %v, want the string false: %s", v, events[0].JSON)
		}
		if !r.unverified && has {
			t.Errorf("verified present on a verified event: %s", events[0].JSON)
		}
	}
	if len(dead) != r.dead {
		t.Fatalf("%d dead letters, want %d", len(dead), r.dead)
	}
	if r.dead == 1 {
		if dead[0].Provider != "netease-nertc" || !bytes.Equal(dead[0].Body, r.body) {
			t.Errorf("dead letter %q %q, want the raw body %q", dead[0].Provider, dead[0].Body, r.body)
		}
		msg, _ := errorJSON(t, body)
		if !strings.Contains(msg, dead[0].Reason) && !strings.Contains(dead[0].Reason, msg) {
			t.Errorf("dead-letter reason %q does not match the answer %q", dead[0].Reason, msg)
		}
		for _, s := range r.errHas {
			if !strings.Contains(dead[0].Reason, s) {
				t.Errorf("dead-letter reason %q does not mention %q", dead[0].Reason, s)
			}
		}
	}
	if r.check != nil {
		r.check(t, f, resp)
	}
}

// ---------------------------------------------------------------------------------------------
// behaviour that needs a real connection or a sink under control

func TestRetryAfterWholeSeconds(t *testing.T) {
	for _, c := range []struct {
		cfg  time.Duration
		want string
	}{{7 * time.Second, "7"}, {time.Second, "1"}, {0, "1"}, {90 * time.Second, "90"}} {
		t.Run(c.want, func(t *testing.T) {
			f := newFixture(t, func(cfg *Config) { cfg.RetryAfter = c.cfg }, &testSink{publishErr: errors.New("timeout")})
			play := testdata(t, "netease-nertc/503-play-started.json")
			resp := viaHandle(t, f, newRequest("POST", neteasePath, play, signedNetEase(play)))
			if resp.StatusCode() != 503 || string(resp.Header.Peek("Retry-After")) != c.want {
				t.Fatalf("status %d Retry-After %q, want 503 %q", resp.StatusCode(), resp.Header.Peek("Retry-After"), c.want)
			}
		})
	}
}

func TestMaxInflight(t *testing.T) {
	sink := &testSink{block: make(chan struct{}), received: make(chan published, 1)}
	f := newFixture(t, func(c *Config) { c.MaxInflight = 1 }, sink)
	c, _ := f.serve(t)
	play := testdata(t, "netease-nertc/503-play-started.json")

	type result struct {
		status int
		body   string
		err    error
	}
	first := make(chan result, 1)
	go func() {
		resp := new(fasthttp.Response)
		err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp)
		first <- result{resp.StatusCode(), string(resp.Body()), err}
	}()
	select {
	case <-sink.received:
	case r := <-first:
		t.Fatalf("first request answered before reaching the sink: %+v", r)
	case <-time.After(5 * time.Second):
		t.Fatal("first request never reached the sink")
	}
	if n := metric(t, f.reg, "callbridge_inflight_callbacks"); n != 1 {
		t.Errorf("inflight gauge = %v while one callback is blocked, want 1", n)
	}

	// The second callback is refused before it is verified or published.
	resp := new(fasthttp.Response)
	if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 503 || string(resp.Header.Peek("Retry-After")) != "7" {
		t.Fatalf("second: status %d Retry-After %q, want 503 7; body %s", resp.StatusCode(), resp.Header.Peek("Retry-After"), resp.Body())
	}
	if msg, _ := errorJSON(t, resp.Body()); !strings.Contains(msg, "in flight") {
		t.Errorf("second: error %q", msg)
	}
	// Probes and health are not callbacks in flight.
	resp.Reset()
	if err := c.Do(newRequest("GET", "/healthz", nil, nil), resp); err != nil || resp.StatusCode() != 200 {
		t.Errorf("healthz while saturated: %d %v", resp.StatusCode(), err)
	}

	select {
	case r := <-first:
		t.Fatalf("first request answered while the sink still blocks: %+v", r)
	default:
	}
	close(sink.block)
	select {
	case r := <-first:
		if r.err != nil || r.status != 200 || r.body != `{"code":200}` {
			t.Fatalf("first: %+v, want 200", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first request not answered after unblocking")
	}
	if n := outcome(t, f.reg, "netease-nertc", "overloaded"); n != 1 {
		t.Errorf("overloaded counter = %v, want 1", n)
	}
	if n := metric(t, f.reg, "callbridge_inflight_callbacks"); n != 0 {
		t.Errorf("inflight gauge = %v after all answered, want 0", n)
	}

	// The slot is free again.
	go func() { <-sink.received }()
	resp.Reset()
	if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("third: %d %v %s", resp.StatusCode(), err, resp.Body())
	}
	if events, _, attempts := sink.snapshot(); len(events) != 2 || attempts != 2 {
		t.Errorf("%d events / %d attempts, want 2 / 2", len(events), attempts)
	}
}

func TestPanicAnswers500AndKeepsServing(t *testing.T) {
	sink := &testSink{panicNext: 1}
	// MaxInflight 1: if the panic leaked the in-flight slot, the next callback would get 503.
	f := newFixture(t, func(c *Config) { c.MaxInflight = 1 }, sink)
	c, _ := f.serve(t)
	play := testdata(t, "netease-nertc/503-play-started.json")

	resp := new(fasthttp.Response)
	if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 500 {
		t.Fatalf("status %d, want 500; body %s", resp.StatusCode(), resp.Body())
	}
	if string(resp.Body()) != `{"error":"internal error"}` {
		t.Errorf("body %q, want {\"error\":\"internal error\"} only", resp.Body())
	}
	if ct := string(resp.Header.ContentType()); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if n := metric(t, f.reg, "callbridge_panics_total"); n != 1 {
		t.Errorf("panics counter = %v, want 1", n)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "publish exploded") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic and stack not logged:\n%s", logs)
	}
	if n := metric(t, f.reg, "callbridge_inflight_callbacks"); n != 0 {
		t.Errorf("inflight gauge = %v after the panic, want 0", n)
	}

	for i := range 3 {
		resp.Reset()
		if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil {
			t.Fatalf("request %d after the panic: %v", i, err)
		}
		if resp.StatusCode() != 200 || string(resp.Body()) != `{"code":200}` {
			t.Fatalf("request %d after the panic: %d %s", i, resp.StatusCode(), resp.Body())
		}
	}
	if events, _, _ := sink.snapshot(); len(events) != 3 {
		t.Errorf("%d events, want 3", len(events))
	}
}

// rawExchange writes head and then part of a body on conn, and reads the answer without writing
// the rest.
func rawExchange(t *testing.T, conn net.Conn, head, partial string) (*http.Response, []byte) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, head+partial); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer (the server waited for the body?): %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

func TestBodyTooLarge(t *testing.T) {
	listeners := []struct {
		name string
		ln   func(t *testing.T) (net.Listener, func() (net.Conn, error))
	}{
		{"inmemory", func(*testing.T) (net.Listener, func() (net.Conn, error)) {
			ln := fasthttputil.NewInmemoryListener()
			return ln, ln.Dial
		}},
		{"tcp", func(t *testing.T) (net.Listener, func() (net.Conn, error)) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Skipf("no loopback: %v", err)
			}
			return ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }
		}},
	}
	for _, l := range listeners {
		t.Run(l.name+"/content-length 10MB, few bytes sent", func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, nil)
			ln, dial := l.ln(t)
			f.serveOn(t, ln)
			conn, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			resp, body := rawExchange(t, conn,
				"POST "+neteasePath+" HTTP/1.1\r\nHost: callbridge.test\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n",
				`{"eventType":503,"data":{`)
			if resp.StatusCode != 413 {
				t.Fatalf("status %d, want 413; body %s", resp.StatusCode, body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("413 took %s", d)
			}
			if msg, _ := errorJSON(t, body); !strings.Contains(msg, "CALLBRIDGE_MAX_BODY_BYTES") {
				t.Errorf("error %q", msg)
			}
			if !resp.Close {
				t.Errorf("connection not closed after a 413")
			}
			if n := metric(t, f.reg, "callbridge_http_rejections_total", "reason", "body_too_large"); n != 1 {
				t.Errorf("too-large counter = %v, want 1", n)
			}
			if _, _, attempts := f.sink.snapshot(); attempts != 0 {
				t.Errorf("%d publishes", attempts)
			}
		})
	}

	t.Run("expect 100-continue still ends in 413", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, nil)
		_, ln := f.serve(t)
		conn, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "POST "+neteasePath+" HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10485760\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err == nil && resp.StatusCode == 100 {
			resp, err = http.ReadResponse(br, nil) // see TestBodyTooLargeExpectContinueNotInvited
		}
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp.StatusCode != 413 {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
		if _, _, attempts := f.sink.snapshot(); attempts != 0 {
			t.Errorf("%d publishes", attempts)
		}
	})

	t.Run("boundary", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, nil)
		c, _ := f.serve(t)
		for _, n := range []int{1024, 1025} {
			// a signed NetEase event padded to exactly n bytes
			body := []byte(`{"eventType":503,"data":{"taskId":"t1","pad":"`)
			body = append(body, bytes.Repeat([]byte{'x'}, n-len(body)-3)...)
			body = append(body, `"}}`...)
			if len(body) != n {
				t.Fatalf("built %d bytes", len(body))
			}
			resp := new(fasthttp.Response)
			if err := c.Do(newRequest("POST", neteasePath, body, signedNetEase(body)), resp); err != nil {
				t.Fatal(err)
			}
			want := 200
			if n > 1024 {
				want = 413
			}
			if resp.StatusCode() != want {
				t.Errorf("%d-byte body: status %d, want %d (%s)", n, resp.StatusCode(), want, resp.Body())
			}
		}
	})

	t.Run("chunked", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, nil)
		ln := fasthttputil.NewInmemoryListener()
		f.serveOn(t, ln)
		conn, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		chunk := strings.Repeat("x", 2048)
		resp, body := rawExchange(t, conn,
			"POST "+neteasePath+" HTTP/1.1\r\nHost: callbridge.test\r\nTransfer-Encoding: chunked\r\n\r\n",
			fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk))
		if resp.StatusCode != 413 {
			t.Fatalf("status %d, want 413; body %s", resp.StatusCode, body)
		}
	})
}

// TestBodyTooLargeExpectContinueNotInvited: a client that announces an oversized body with
// "Expect: 100-continue" (curl does for large uploads) should get the 413 instead of a 100.
func TestBodyTooLargeExpectContinueNotInvited(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 1024 }, nil)
	_, ln := f.serve(t)
	conn, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, body := rawExchange(t, conn, "POST "+neteasePath+" HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10485760\r\n\r\n", "")
	if resp.StatusCode != 413 {
		t.Fatalf("first answer %d, want 413 (the body should not be invited); body %q", resp.StatusCode, body)
	}
}

func TestUnreadableRequests(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		_, ln := f.serve(t)
		conn, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		resp, body := rawExchange(t, conn, "POST "+neteasePath+" HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", "")
		if resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400; body %s", resp.StatusCode, body)
		}
		if msg, _ := errorJSON(t, body); msg != "malformed request" {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("read timeout", func(t *testing.T) {
		// Over TCP: fasthttputil's pipe timeout error lacks Temporary(), so it is no net.Error
		// and an in-memory connection would be answered 400.
		f := newFixture(t, func(c *Config) { c.ReadTimeout = 200 * time.Millisecond }, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no loopback: %v", err)
		}
		f.serveOn(t, ln)
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		resp, body := rawExchange(t, conn, "POST "+neteasePath+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", `{"eventType"`)
		if resp.StatusCode != 408 {
			t.Fatalf("status %d, want 408; body %s", resp.StatusCode, body)
		}
		if msg, _ := errorJSON(t, body); !strings.Contains(msg, "timed out") {
			t.Errorf("error %q", msg)
		}
	})
}

func TestProbes(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			get := func(t *testing.T, f *fixture, path string) *fasthttp.Response {
				return tr.do(t, f, newRequest("GET", path, nil, nil))
			}
			t.Run("healthz", func(t *testing.T) {
				f := newFixture(t, nil, nil)
				f.sink.setReady(publish.ErrNotReady) // health does not depend on the broker
				if r := get(t, f, "/healthz"); r.StatusCode() != 200 {
					t.Errorf("status %d", r.StatusCode())
				}
			})
			t.Run("readyz ready", func(t *testing.T) {
				f := newFixture(t, nil, nil)
				if r := get(t, f, "/readyz"); r.StatusCode() != 200 {
					t.Errorf("status %d %s", r.StatusCode(), r.Body())
				}
			})
			t.Run("readyz sink not ready", func(t *testing.T) {
				f := newFixture(t, nil, nil)
				f.sink.setReady(publish.ErrNotReady)
				r := get(t, f, "/readyz")
				if r.StatusCode() != 503 || !strings.Contains(string(r.Body()), "broker not connected") {
					t.Errorf("status %d %q, want 503 naming the broker", r.StatusCode(), r.Body())
				}
			})
			t.Run("readyz draining", func(t *testing.T) {
				f := newFixture(t, nil, nil)
				f.s.Drain()
				if r := get(t, f, "/readyz"); r.StatusCode() != 503 {
					t.Errorf("status %d after Drain, want 503", r.StatusCode())
				}
				// Draining only changes readiness: callbacks are still served.
				play := testdata(t, "netease-nertc/503-play-started.json")
				if r := tr.do(t, f, newRequest("POST", neteasePath, play, signedNetEase(play))); r.StatusCode() != 200 {
					t.Errorf("callback while draining: %d %s", r.StatusCode(), r.Body())
				}
			})
			t.Run("metrics", func(t *testing.T) {
				f := newFixture(t, nil, nil)
				r := get(t, f, "/metrics")
				body := string(r.Body())
				if r.StatusCode() != 200 {
					t.Fatalf("status %d", r.StatusCode())
				}
				for _, s := range []string{
					"callbridge_callbacks_total",
					`callbridge_callbacks_total{outcome="published",provider="netease-nertc"} 0`,
					"callbridge_verification_failures_total",
					"callbridge_inflight_callbacks",
					"callbridge_panics_total",
					"callbridge_http_rejections_total",
				} {
					if !strings.Contains(body, s) {
						t.Errorf("/metrics lacks %q", s)
					}
				}
			})
		})
	}
}

// TestMetricsEndpointCounts reads the verification-failure counter through /metrics after a
// report-mode acceptance.
func TestMetricsEndpointCounts(t *testing.T) {
	f := newFixture(t, func(c *Config) { routeOf(t, c, "netease-nertc").Enforce = false }, nil)
	c, _ := f.serve(t)
	play := testdata(t, "netease-nertc/503-play-started.json")
	h := signedNetEase(play)
	h["CheckSum"] = strings.Repeat("f", 40)
	resp := new(fasthttp.Response)
	if err := c.Do(newRequest("POST", neteasePath, play, h), resp); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("%d %v", resp.StatusCode(), err)
	}
	resp.Reset()
	if err := c.Do(newRequest("GET", "/metrics", nil, nil), resp); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`callbridge_verification_failures_total{provider="netease-nertc"} 1`,
		`callbridge_callbacks_total{outcome="published",provider="netease-nertc"} 1`,
		`callbridge_publish_seconds_count 1`,
	} {
		if !strings.Contains(string(resp.Body()), s) {
			t.Errorf("/metrics lacks %q:\n%s", s, resp.Body())
		}
	}
}

// TestConcurrentCallbacks checks that pooled per-request state does not bleed between
// concurrent callbacks (run with -race).
func TestConcurrentCallbacks(t *testing.T) {
	f := newFixture(t, nil, nil)
	c, _ := f.serve(t)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			body := fmt.Appendf(nil, `{"eventType":50%d,"data":{"taskId":"task-%d","timestamp":17129000%05d}}`, i%8, i, i)
			h := signedNetEase(body)
			h["traceparent"] = fmt.Sprintf("00-%032x-%016x-01", i+1, i+1)
			req := newRequest("POST", neteasePath, body, h)
			resp := new(fasthttp.Response)
			if err := c.Do(req, resp); err != nil {
				errs <- err
				return
			}
			if resp.StatusCode() != 200 || string(resp.Body()) != `{"code":200}` {
				errs <- fmt.Errorf("request %d: %d %s", i, resp.StatusCode(), resp.Body())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	events, _, _ := f.sink.snapshot()
	if len(events) != n {
		t.Fatalf("%d events, want %d", len(events), n)
	}
	seen := map[string]bool{}
	for _, p := range events {
		ev := structured(t, p)
		subject, _ := ev["subject"].(string)
		var i int
		if _, err := fmt.Sscanf(subject, "task-%d", &i); err != nil {
			t.Fatalf("subject %q", subject)
		}
		if ev["traceparent"] != fmt.Sprintf("00-%032x-%016x-01", i+1, i+1) {
			t.Errorf("event for %s carries traceparent %v", subject, ev["traceparent"])
		}
		if ev["providereventtype"] != fmt.Sprintf("50%d", i%8) {
			t.Errorf("event for %s carries code %v", subject, ev["providereventtype"])
		}
		if data, _ := ev["data"].(map[string]any); data["taskId"] != subject {
			t.Errorf("event for %s carries data %v", subject, ev["data"])
		}
		if seen[p.ID] {
			t.Errorf("duplicate id %s", p.ID)
		}
		seen[p.ID] = true
	}
}

// TestUnavailableAnswers503: a check or a handshake that could not be made for a reason that may
// pass (normalize.UnavailableError: a certificate or a confirmation endpoint unreachable) is
// answered 503 with Retry-After, so that the sender sends it again; a handshake its Answer
// refused, 400. None publishes or dead-letters.
func TestUnavailableAnswers503(t *testing.T) {
	errs := map[string]error{
		"unavailable": &normalize.UnavailableError{Reason: "endpoint unreachable"},
		"refused":     &normalize.PayloadError{Field: "SubscribeURL", Reason: "answered 404"},
	}
	handshake := &normalize.Provider{
		ID:      "handshake-test",
		Reply:   []byte(`{}`),
		IsProbe: func(*normalize.Callback) bool { return true },
		Verify:  func(*normalize.Callback, *normalize.Auth) (normalize.Verified, error) { return normalize.Signed, nil },
		Answer: func(c *normalize.Callback, _ *normalize.Auth, dst []byte) ([]byte, error) {
			return nil, errs[string(c.Body)]
		},
	}
	check := &normalize.Provider{
		ID:      "check-test",
		Reply:   []byte(`{}`),
		IsProbe: func(*normalize.Callback) bool { return false },
		Verify: func(*normalize.Callback, *normalize.Auth) (normalize.Verified, error) {
			return normalize.Signed, errs["unavailable"]
		},
		Normalize: func(*normalize.Callback, *normalize.Event) error { return nil },
	}
	f := newFixture(t, func(cfg *Config) {
		cfg.Routes = append(cfg.Routes, Route{Provider: handshake, Enforce: true}, Route{Provider: check, Enforce: true})
	}, nil)
	for _, tt := range []struct {
		path, body string
		want       int
	}{
		{"/v1/callbacks/handshake-test", "unavailable", 503},
		{"/v1/callbacks/handshake-test", "refused", 400},
		{"/v1/callbacks/check-test", "{}", 503},
	} {
		resp := viaHandle(t, f, newRequest("POST", tt.path, []byte(tt.body), nil))
		retry := string(resp.Header.Peek("Retry-After"))
		if resp.StatusCode() != tt.want || (tt.want == 503) != (retry == "7") {
			t.Errorf("%s %s: %d, Retry-After %q; want %d", tt.path, tt.body, resp.StatusCode(), retry, tt.want)
		}
	}
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	if f.sink.attempts != 0 || len(f.sink.dead) != 0 {
		t.Errorf("%d published, %d dead letters", f.sink.attempts, len(f.sink.dead))
	}
}

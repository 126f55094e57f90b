package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// tencentToken is the URL token signedEnv gives tencent-css, whose relay callbacks carry no
// signature: the tests of the token route use it.
const tencentToken = "relay-token-0123456789"

// signRe finds a Tencent CSS body's sign member, for tests that check it never leaves the bridge.
var signRe = regexp.MustCompile(`"sign":"[0-9a-fA-F]*"`)

// occurredAtRe is a canonical event's occurred_at, in compact JSON.
var occurredAtRe = regexp.MustCompile(`"occurred_at":"[^"]*"`)

// testSecret is the secret signedEnv configures for provider, and signed signs with.
func testSecret(provider string) string { return provider + "-test-secret" }

// testRequired gives the settings a provider requires with its secret (Setting.WithSecret), by
// name, for the tests that configure every provider.
func testRequired(p *normalize.Provider) map[string]string {
	values := map[string]string{}
	for _, s := range p.Settings {
		if s.WithSecret {
			values[s.Name] = p.ID + "-test-" + strings.ToLower(s.Name)
		}
	}
	return values
}

// specOf returns provider's variable names.
func specOf(t testing.TB, provider string) config.ProviderSpec {
	for _, s := range providerSpecs() {
		if s.ID == provider {
			return s
		}
	}
	t.Fatalf("no provider %q", provider)
	return config.ProviderSpec{}
}

// startBridge runs the whole bridge in-process on a random port with its JetStream in a temp
// dir (or at natsURL), configured through the environment exactly as in production.
func startBridge(t *testing.T, env map[string]string) *runningBridge {
	t.Helper()
	cfg, ln := testConfig(t, env)
	b, err := start(context.Background(), cfg, ln, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return b
}

// testConfig loads the configuration from env on top of test defaults, and a listener on a
// random loopback port.
func testConfig(t *testing.T, env map[string]string) (*config.Config, net.Listener) {
	t.Helper()
	clearEnv(t)
	t.Setenv("CALLBRIDGE_DATA_DIR", t.TempDir())
	t.Setenv("CALLBRIDGE_EMBEDDED_NATS_LISTEN", "127.0.0.1:0")
	t.Setenv("CALLBRIDGE_SHUTDOWN_DELAY", "0s")
	t.Setenv("CALLBRIDGE_PUBLISH_TIMEOUT", "2s")
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, ln
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// signedEnv configures a secret for every provider in the registry (testSecret), a URL token for
// tencent-css, and refuses unsigned callbacks.
func signedEnv() map[string]string {
	env := map[string]string{
		"CALLBRIDGE_TENCENT_CSS_URL_TOKEN": tencentToken,
		"CALLBRIDGE_ALLOW_UNSIGNED":        "false",
		"CALLBRIDGE_MAX_BODY_BYTES":        "65536",
	}
	for _, s := range providerSpecs() {
		env[s.VarName(s.SecretVar)] = testSecret(s.ID)
		if p := normalize.BuiltinRegistry().Lookup([]byte(s.ID)); p != nil {
			for name, v := range testRequired(p) {
				env[s.VarName(name)] = v
			}
		}
	}
	return env
}

type request struct {
	path   string // with the query string of a GET callback
	body   []byte
	header http.Header // a Host header sets the request's Host
	method string      // "": POST
	gzip   bool        // the body is sent gzipped, with Content-Encoding: gzip
}

// httpRequest makes r an *http.Request to the bridge at addr.
func (r request) httpRequest(t *testing.T, addr string) *http.Request {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	if r.body != nil && r.gzip {
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		zw.Write(r.body)
		zw.Close()
		body = &zipped
	}
	req, err := http.NewRequest(method, "http://"+addr+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != nil && r.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if host := r.header.Get("Host"); host != "" {
		req.Host = host
	}
	return req
}

// callback returns the provider r is for and the body the bridge hands it: the query string of a
// GET callback.
func (r request) callback(t *testing.T) (*normalize.Provider, []byte) {
	t.Helper()
	path, query, isQuery := strings.Cut(r.path, "?")
	p := normalize.BuiltinRegistry().Lookup([]byte(strings.Split(strings.TrimPrefix(path, "/v1/callbacks/"), "/")[0]))
	if p == nil {
		t.Fatalf("no provider for %s", r.path)
	}
	if isQuery && r.method == http.MethodGet {
		return p, []byte(query)
	}
	return p, r.body
}

// testBridgeURL is where the tests' callbacks say they go: their Host header, which the bridge
// reads in place of the address it listens on (Qiniu signs the Host).
const testBridgeURL = "http://bridge.test"

// signed builds the request provider would send now for body: signed by the provider's own Sign
// with testSecret and the default options, with its sample headers, on the token route when
// signedEnv gives it a token.
func signed(provider string, body []byte, now time.Time) request {
	return signedWith(provider, body, now, testSecret(provider))
}

// signedWith is signed with another secret; "" sends the body unsigned.
func signedWith(provider string, body []byte, now time.Time, secret string) request {
	p := normalize.BuiltinRegistry().Lookup([]byte(provider))
	if p == nil {
		panic("no provider " + provider)
	}
	opts, err := p.Options(testRequired(p))
	if err != nil {
		panic(err)
	}
	path := "/v1/callbacks/" + provider
	if provider == "tencent-css" {
		path += "/" + tencentToken
	}
	if p.RouteAuthenticated() && secret != "" {
		path += "/" + secret // its secret is its URL token (signedEnv sets it)
	}
	c, err := testenv.Sign(p, &normalize.Auth{Secret: []byte(secret), Options: opts}, testBridgeURL+path, body, now)
	if err != nil {
		panic(fmt.Sprintf("%s: Sign: %v", provider, err))
	}
	if c.Method == http.MethodGet {
		return request{path: path + "?" + string(c.Body), header: c.Header, method: http.MethodGet}
	}
	return request{path: path, body: c.Body, header: c.Header}
}

// postFixture posts body signed at now with a traceparent, and expects the provider's 200 and
// the reply it documents.
func (b *runningBridge) postFixture(t *testing.T, provider, name string, body []byte, now time.Time) request {
	t.Helper()
	r := signed(provider, body, now)
	r.header.Set("traceparent", testTraceParent)
	status, _, reply := b.post(t, r)
	if status != 200 {
		t.Fatalf("%s/%s: %d %s", provider, name, status, reply)
	}
	p := normalize.BuiltinRegistry().Lookup([]byte(provider))
	c := &normalize.Callback{Body: r.body, Header: peekHeader(r.header), Received: now}
	wantReply := string(p.ReplyFor(c))
	if p.Answer != nil && strings.HasPrefix(name, "probe") {
		// A handshake with an answer (Zoom's URL validation) is answered from the callback.
		answer, err := p.Answer(c, &normalize.Auth{Secret: []byte(testSecret(provider))}, nil)
		if err != nil {
			t.Fatalf("%s/%s: Answer: %v", provider, name, err)
		}
		wantReply = string(answer)
	}
	if reply != wantReply {
		t.Errorf("%s/%s: reply %s, want %s", provider, name, reply, wantReply)
	}
	return r
}

// startAsync starts the bridge in the background, for brokers that are not there yet: the
// listener serves at once; the channel yields the bridge once start-up completes (nil if it
// failed).
func startAsync(t *testing.T, env map[string]string) (net.Addr, <-chan *runningBridge) {
	t.Helper()
	cfg, ln := testConfig(t, env)
	started := make(chan *runningBridge, 1)
	go func() {
		b, err := start(context.Background(), cfg, ln, testLogger())
		if err != nil {
			t.Error(err)
		}
		started <- b
	}()
	return ln.Addr(), started
}

func (b *runningBridge) post(t *testing.T, r request) (int, http.Header, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r.httpRequest(t, b.addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

const testTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// jetStreamClient connects a test client; the connection closes when the test ends.
func jetStreamClient(t *testing.T, url string, opts ...nats.Option) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// streamMessages reads every message on the stream, keyed by subject.
func streamMessages(t *testing.T, url, stream string) []jetstream.Msg {
	t.Helper()
	js := jetStreamClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for uint64(len(out)) < info.State.Msgs {
		batch, err := c.Fetch(int(info.State.Msgs)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
		}
		if batch.Error() != nil {
			t.Fatal(batch.Error())
		}
	}
	return out
}

func fixtures(t *testing.T, provider string) map[string][]byte {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", provider, "*.json"))
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures for %s", provider)
	}
	return out
}

// TestEndToEnd posts every fixture of every provider, signed, to a running bridge, retries each
// once, and reads the stream back: one CloudEvent per event, valid per the CloudEvents SDK,
// equal to the golden file but for time-dependent attributes.
func TestEndToEnd(t *testing.T) {
	b := startBridge(t, signedEnv())
	now := time.Now()
	want := map[string]request{} // golden file → the request posted first, which JetStream keeps
	for _, p := range normalize.Builtins() {
		for name, body := range fixtures(t, p.ID) {
			r := b.postFixture(t, p.ID, name, body, now)
			// The provider retries: re-signed a second later. JetStream must keep one copy.
			b.postFixture(t, p.ID, name, body, now.Add(time.Second))
			if !strings.HasPrefix(name, "probe") {
				for _, g := range goldensOf(p, name) {
					want[g] = r
				}
			}
		}
	}

	// Fixtures that are one event (314-task-start-signed.json is 314-task-start.json signed)
	// share a golden id, and JetStream keeps one copy.
	goldens := map[string]string{}
	for golden := range want {
		goldens[golden] = golden
	}
	events := len(goldenIDs(t, goldens))
	msgs := streamMessages(t, b.natsURL(t), "CALLBACKS")
	if len(msgs) != events {
		t.Fatalf("stream holds %d messages, want one per event: %d", len(msgs), events)
	}
	byID := map[string]cloudevents.Event{}
	for _, m := range msgs {
		if ct := m.Headers().Get("content-type"); ct != "application/cloudevents+json; charset=UTF-8" {
			t.Errorf("%s: content-type %q", m.Subject(), ct)
		}
		var ev cloudevents.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatalf("%s: not a CloudEvent: %v\n%s", m.Subject(), err, m.Data())
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("%s: invalid CloudEvent: %v", m.Subject(), err)
		}
		if got, want := m.Headers().Get(jetstream.MsgIDHeader), ev.Extensions()["provider"].(string)+"/"+ev.ID(); got != want {
			t.Errorf("%s: Nats-Msg-Id %q, want <provider>/<CloudEvent id> %q", m.Subject(), got, want)
		}
		wantSubject := "callbacks." + ev.Extensions()["provider"].(string) + "." + strings.TrimPrefix(ev.Type(), typePrefix(ev.Type()))
		if m.Subject() != wantSubject {
			t.Errorf("subject %s, want %s", m.Subject(), wantSubject)
		}
		if ev.Extensions()["traceparent"] != testTraceParent {
			t.Errorf("%s: traceparent not carried: %v", m.Subject(), ev.Extensions())
		}
		if _, ok := ev.Extensions()["verified"]; ok {
			t.Errorf("%s: signed callback marked unverified", m.Subject())
		}
		byID[ev.ID()] = ev
	}
	for golden, r := range want {
		compareGolden(t, byID, golden, r)
	}
	// The bridge serves what every dataschema names, and the AsyncAPI document.
	for _, ev := range byID {
		u, err := url.Parse(ev.DataSchema())
		if err != nil || u.Path == "" {
			t.Fatalf("%s: dataschema %q", ev.Type(), ev.DataSchema())
		}
		b.mustGet(t, u.Path, "application/schema+json")
	}
	b.mustGet(t, "/asyncapi.yaml", "application/yaml")
}

// mustGet GETs path from the bridge and wants 200 with contentType.
func (b *runningBridge) mustGet(t *testing.T, path, contentType string) {
	t.Helper()
	resp, err := http.Get("http://" + b.addr.String() + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentType {
		t.Errorf("GET %s: %d %s, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), contentType)
	}
}

// compareGolden checks the event with the golden file's id: every attribute and extension but
// the time, and data byte for byte. The time is the receipt time when the golden file has it;
// else it must be the one posted: the signing of a provider whose time falls back to its send
// time (Agora notifyMs for a product without a timestamp of its own) changed it.
func compareGolden(t *testing.T, events map[string]cloudevents.Event, golden string, posted request) {
	t.Helper()
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want cloudevents.Event
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	got, ok := events[want.ID()]
	if !ok {
		t.Errorf("%s: no event with id %s", golden, want.ID())
		return
	}
	// Receipt time stands in for events without a timestamp of their own.
	receiptTime := strings.Contains(string(raw), `"time": "2026-11-23T12:00:00.000Z"`)
	if !receiptTime {
		if wantTime := postedTime(t, posted); !got.Time().Equal(wantTime) {
			t.Errorf("%s: time %s, the request posted says %s", golden, got.Time(), wantTime)
		}
	}
	gotData := got.Data()
	if got.Extensions()["provider"] == normalize.CanonicalID {
		// A canonical event's occurred_at is its time, which the receipt or the signer's clock
		// may have set: it must equal the event's time, and is then compared as the golden's.
		at := `"occurred_at":"` + got.Time().UTC().Format("2006-01-02T15:04:05.000Z") + `"`
		if g := occurredAtRe.Find(gotData); string(g) != at {
			t.Errorf("%s: %s, want the event's time %s", golden, g, at)
		}
		gotData = occurredAtRe.ReplaceAll(gotData, occurredAtRe.Find(compact(t, want.Data())))
	}
	if got.Type() != want.Type() || got.Subject() != want.Subject() || got.Source() != want.Source() ||
		got.DataContentType() != want.DataContentType() || got.DataSchema() != want.DataSchema() ||
		!bytes.Equal(gotData, compact(t, want.Data())) {
		t.Errorf("%s: event differs\n got %s\nwant %s", golden, got, want)
	}
	for _, ext := range []string{"provider", "providereventtype", "traceparent"} {
		if g, w := fmt.Sprint(got.Extensions()[ext]), fmt.Sprint(want.Extensions()[ext]); g != w {
			t.Errorf("%s: extension %s %q, want %q", golden, ext, g, w)
		}
	}
	if _, ok := got.Extensions()["verified"]; ok {
		t.Errorf("%s: signed callback marked unverified", golden)
	}
}

// postedTime is the time of the event in r, normalised here as the bridge does.
func postedTime(t *testing.T, r request) time.Time {
	t.Helper()
	p, body := r.callback(t)
	var ev normalize.Event
	if err := p.Envelope(&normalize.Callback{Body: body, Header: peekHeader(r.header), Received: time.Now()}, &ev); err != nil {
		t.Fatalf("%s: %v", r.path, err)
	}
	return ev.Time
}

// goldenIDs returns the distinct event ids of the golden files.
func goldenIDs(t *testing.T, golden map[string]string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, file := range golden {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct{ ID string }
		if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == "" {
			t.Fatalf("%s: no id (%v)", file, err)
		}
		ids[ev.ID] = true
	}
	return ids
}

// canonicalPrefix starts the subject or topic of every canonical event (default template).
const canonicalPrefix = "callbacks." + normalize.CanonicalID + "."

// nativeMsgs are the messages of msgs that are not canonical events: for the tests of a broker's
// behaviour, which count a provider's events (the canonical ones are counted by the contract
// tests: TestProperty, TestEndToEnd).
func nativeMsgs(msgs []jetstream.Msg) []jetstream.Msg {
	var out []jetstream.Msg
	for _, m := range msgs {
		if !strings.HasPrefix(m.Subject(), canonicalPrefix) {
			out = append(out, m)
		}
	}
	return out
}

// goldensOf are the golden files of fixture name of p: its event's, and its canonical
// counterpart's when it has one (<name>.rtc.json).
func goldensOf(p *normalize.Provider, name string) []string {
	g := filepath.Join("..", "..", "testdata", p.ID, "golden", name)
	out := []string{g}
	if c := strings.TrimSuffix(g, ".json") + ".rtc.json"; fileExists(c) {
		out = append(out, c)
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func typePrefix(typ string) string {
	for _, p := range normalize.BuiltinRegistry().Publishers() {
		if strings.HasPrefix(typ, p.TypePrefix) {
			return p.TypePrefix
		}
	}
	return ""
}

func compact(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBrokerDown stops the broker under a running bridge: callbacks get 503 with Retry-After
// and /readyz 503; when the broker is back, both recover without a restart.
func TestBrokerDown(t *testing.T) {
	dir := t.TempDir()
	ns := testenv.JetStream(t, testenv.StoreDir(dir))
	port := ns.Addr().(*net.TCPAddr).Port
	env := signedEnv()
	env["CALLBRIDGE_NATS_URL"] = ns.ClientURL()
	b := startBridge(t, env)
	body := fixtures(t, "netease-nertc")["503-play-started.json"]

	if status, _, _ := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("broker up: %d", status)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	waitReady(t, b, 503)
	status, h, reply := b.post(t, signed("netease-nertc", body, time.Now()))
	if status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("broker down: %d Retry-After=%q %s", status, h.Get("Retry-After"), reply)
	}

	ns = testenv.JetStream(t, testenv.StoreDir(dir), testenv.Port(port))
	defer ns.Shutdown()
	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("broker back: %d %s", status, reply)
	}
	if n := len(nativeMsgs(streamMessages(t, ns.ClientURL(), "CALLBACKS"))); n != 1 {
		t.Errorf("stream holds %d messages, want 1 (one event, retried)", n)
	}
}

func waitReady(t *testing.T, b *runningBridge, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + b.addr.String() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered %d", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusRow is one request of SPEC §2's status table and what it must get.
type statusRow struct {
	name      string
	method    string // "": the request's
	req       request
	status    int
	errSubstr string
	published bool // a 200 that publishes an event (not a URL check)
}

// TestStatusCodes walks SPEC §2's status table against a running bridge and a real stream: for
// every provider in the registry, its sample signed by its own Sign (accepted, retried, signed
// with another secret, unsigned, signed an hour ago); then the cases that are the same for every
// provider, on NetEase.
func TestStatusCodes(t *testing.T) {
	env := signedEnv()
	delete(env, "CALLBRIDGE_TENCENT_CSS_URL_TOKEN") // every provider on its plain route
	b := startBridge(t, env)
	now := time.Now()
	var rows []statusRow
	for _, p := range normalize.Builtins() {
		plain := func(r request) request { r.path = strings.Replace(r.path, "/"+tencentToken, "", 1); return r }
		if p.RouteAuthenticated() { // signs nothing (SRS): its URL token is its secret; no window
			rows = append(rows,
				statusRow{name: p.ID + ": accepted", req: signed(p.ID, p.Sample, now), status: 200, published: true},
				statusRow{name: p.ID + ": retry of an acknowledged event", req: signed(p.ID, p.Sample, now.Add(time.Second)), status: 200, published: true},
				statusRow{name: p.ID + ": wrong URL token", req: signedWith(p.ID, p.Sample, now, "not-the-secret"), status: 404, errSubstr: "not found"},
				statusRow{name: p.ID + ": URL token missing", req: signedWith(p.ID, p.Sample, now, ""), status: 404, errSubstr: "not found"},
				statusRow{name: p.ID + ": neither POST nor GET", method: "PUT", req: signed(p.ID, p.Sample, now), status: 405, errSubstr: "method not allowed"},
			)
			continue
		}
		rows = append(rows,
			statusRow{name: p.ID + ": accepted", req: plain(signed(p.ID, p.Sample, now)), status: 200, published: true},
			statusRow{name: p.ID + ": retry of an acknowledged event", req: plain(signed(p.ID, p.Sample, now.Add(time.Second))), status: 200, published: true},
			statusRow{name: p.ID + ": wrong signature", req: plain(signedWith(p.ID, p.Sample, now, "not-the-secret")), status: 401},
			statusRow{name: p.ID + ": signature missing", req: plain(signedWith(p.ID, p.Sample, now, "")), status: 401},
			statusRow{name: p.ID + ": neither POST nor GET", method: "PUT", req: plain(signed(p.ID, p.Sample, now)), status: 405, errSubstr: "method not allowed"},
		)
		// A provider whose scheme signs no time (GetStream) has no window to exceed: its Window
		// doc says "none", and a callback signed long ago is a retry, caught by its id. Two
		// hours: aws-ivs holds SNS's Timestamp to 1 h plus the clock skew, the longest SNS
		// retries; every other provider's window is the clock skew.
		if !strings.HasPrefix(p.Window, "none") {
			rows = append(rows, statusRow{name: p.ID + ": signature window exceeded", req: plain(signed(p.ID, p.Sample, now.Add(-2*time.Hour))), status: 401})
		}
	}
	play := fixtures(t, "netease-nertc")["503-play-started.json"]
	stale := signed("netease-nertc", play, now.Add(-10*time.Minute))
	wrongSig := signed("netease-nertc", play, now)
	wrongSig.header.Set("CheckSum", strings.Repeat("0", 40))
	noSig := signed("netease-nertc", play, now)
	noSig.header.Del("CheckSum")
	notJSON := signed("netease-nertc", []byte(`{"eventType":503,"data":`), now)
	noTask := signed("netease-nertc", []byte(`{"eventType":503,"data":{"channelId":1}}`), now)
	unknown := signed("netease-nertc", []byte(`{"eventType":42,"data":{"channelId":7,"timestamp":1712900000000}}`), now)
	big := signed("netease-nertc", []byte(`{"eventType":503,"data":{"pad":"`+strings.Repeat("x", 70000)+`"}}`), now)
	rows = append(rows, []statusRow{
		{name: "accepted", method: "POST", req: signed("netease-nertc", play, now), status: 200, published: true},
		{name: "retry of an acknowledged event", method: "POST", req: signed("netease-nertc", play, now.Add(time.Second)), status: 200, published: true},
		{name: "URL check, empty body", method: "POST", req: signed("netease-nertc", nil, now), status: 200},
		{name: "URL check, {}", method: "POST", req: signed("netease-nertc", []byte("{}"), now), status: 200},
		{name: "unknown provider", method: "POST", req: request{path: "/v1/callbacks/no-such-provider", body: play}, status: 404, errSubstr: "not found"},
		{name: "wrong signature", method: "POST", req: wrongSig, status: 401, errSubstr: "CheckSum does not match"},
		{name: "signature missing", method: "POST", req: noSig, status: 401, errSubstr: "CheckSum header missing"},
		{name: "signature window exceeded", method: "POST", req: stale, status: 401, errSubstr: "signature window"},
		{name: "body over the limit", method: "POST", req: big, status: 413, errSubstr: "MAX_BODY_BYTES"},
		{name: "authenticated, not JSON", method: "POST", req: notJSON, status: 400, errSubstr: "not a JSON object"},
		{name: "authenticated, wrong shape", method: "POST", req: noTask, status: 400, errSubstr: "data.taskId"},
		{name: "unknown event type", method: "POST", req: unknown, status: 200, published: true},
	}...)
	want := runStatusRows(t, b, rows)
	// Dead letters: the two bad bodies, raw, with their reasons.
	want["callbacks.deadletter.netease-nertc"] = 2
	checkStream(t, b, want)
	for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
		if m.Subject() != "callbacks.deadletter.netease-nertc" {
			continue
		}
		reason := m.Headers().Get("Callbridge-Deadletter-Reason")
		if !bytes.Equal(m.Data(), notJSON.body) && !bytes.Equal(m.Data(), noTask.body) {
			t.Errorf("dead letter is not the raw body: %s", m.Data())
		}
		if reason == "" {
			t.Errorf("dead letter without a reason header")
		}
	}
}

// TestStatusCodesNoSecret: with no secrets configured and unsigned callbacks refused, every
// provider answers 401 to a signed callback; the URL-token route is 404 unless the token is right,
// and with it Tencent's unsigned relay callbacks are accepted.
func TestStatusCodesNoSecret(t *testing.T) {
	b := startBridge(t, map[string]string{
		"CALLBRIDGE_ALLOW_UNSIGNED":        "false",
		"CALLBRIDGE_TENCENT_CSS_URL_TOKEN": tencentToken,
	})
	now := time.Now()
	var rows []statusRow
	for _, p := range normalize.Builtins() {
		req := signed(p.ID, p.Sample, now)
		if p.RouteAuthenticated() {
			req = signedWith(p.ID, p.Sample, now, "") // no URL token is set: its plain route
		}
		rows = append(rows, statusRow{name: p.ID + ": no secret, unsigned not allowed", req: req, status: 401, errSubstr: "no secret"})
	}
	relay := fixtures(t, "tencent-css")["314-task-start.json"]
	tokenRoute := request{path: "/v1/callbacks/tencent-css/" + tencentToken, body: relay}
	wrongToken, noToken := tokenRoute, tokenRoute
	wrongToken.path = "/v1/callbacks/tencent-css/not-the-token"
	noToken.path = "/v1/callbacks/tencent-css"
	rows = append(rows,
		statusRow{name: "wrong URL token", method: "POST", req: wrongToken, status: 404, errSubstr: "not found"},
		statusRow{name: "URL token missing", method: "POST", req: noToken, status: 404, errSubstr: "not found"},
		statusRow{name: "token route, unsigned relay", method: "POST", req: tokenRoute, status: 200, published: true},
	)
	checkStream(t, b, runStatusRows(t, b, rows))
}

// runStatusRows sends every row and checks its answer. It returns the messages the stream must
// then hold, by subject: one per distinct event published.
func runStatusRows(t *testing.T, b *runningBridge, rows []statusRow) map[string]int {
	t.Helper()
	events := map[string]map[string]bool{} // subject → ids
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req
			if tt.method != "" {
				r.method = tt.method
			}
			resp, err := http.DefaultClient.Do(r.httpRequest(t, b.addr.String()))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || !strings.Contains(e.Error, tt.errSubstr) {
					t.Errorf("body %s, want JSON error containing %q", body, tt.errSubstr)
				}
			}
			if tt.published {
				for subject, id := range expectedEvents(t, tt.req) {
					if events[subject] == nil {
						events[subject] = map[string]bool{}
					}
					events[subject][id] = true
				}
			}
		})
	}
	want := map[string]int{}
	for subject, ids := range events {
		want[subject] = len(ids)
	}
	return want
}

// expectedEvents normalises r as the bridge would (signed, so with the provider's own id) and
// returns the id of each event it publishes (the native one, its canonical counterpart) by the
// subject it is published on.
func expectedEvents(t *testing.T, r request) map[string]string {
	t.Helper()
	p, body := r.callback(t)
	var ev, canon normalize.Event
	if err := p.Envelope(&normalize.Callback{Body: body, Header: peekHeader(r.header), Received: time.Now()}, &ev); err != nil {
		t.Fatalf("%s: %v", r.path, err)
	}
	out := map[string]string{}
	for _, e := range testOutput.Events(p, &ev, &canon, nil) {
		out["callbacks."+e.Provider+"."+string(e.EventType)] = string(e.ID)
	}
	return out
}

// testOutput makes the events the bridge publishes for a callback, as the default
// configuration does (canonical events on).
var testOutput = normalize.NewOutput("http://localhost:8080/schemas", normalize.BuiltinRegistry())

// eventCount is how many events the bridge publishes for p's callback body (1 or 2).
func eventCount(t *testing.T, p *normalize.Provider, body []byte) int {
	t.Helper()
	var ev, canon normalize.Event
	if err := p.Envelope(&normalize.Callback{Body: body, Header: peekHeader(nil), Received: time.Now()}, &ev); err != nil {
		t.Fatalf("%s: %v", p.ID, err)
	}
	return len(testOutput.Events(p, &ev, &canon, nil))
}

// peekHeader is normalize.Headers over an http.Header.
type peekHeader http.Header

func (h peekHeader) Peek(key string) []byte { return []byte(http.Header(h).Get(key)) }

// checkStream checks that the stream holds want messages on each subject, and none elsewhere.
func checkStream(t *testing.T, b *runningBridge, want map[string]int) {
	t.Helper()
	bySubject := map[string]int{}
	for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
		bySubject[m.Subject()]++
	}
	for subject, n := range want {
		if got := bySubject[subject]; got != n {
			t.Errorf("%s: %d messages, want %d", subject, got, n)
		}
		delete(bySubject, subject)
	}
	for subject, n := range bySubject {
		t.Errorf("unexpected %d messages on %s", n, subject)
	}
}

// TestStartBeforeBroker starts the bridge while its external broker is still down: probes are
// served from the start, /readyz says 503 and callbacks get 503 until the broker appears.
func TestStartBeforeBroker(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsPort := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	env := signedEnv()
	env["CALLBRIDGE_NATS_URL"] = fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	addr, started := startAsync(t, env)
	early := &runningBridge{addr: addr}
	waitReady(t, early, 503)
	status, h, _ := early.post(t, signed("netease-nertc", fixtures(t, "netease-nertc")["503-play-started.json"], time.Now()))
	if status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("callback before the broker is up: %d, Retry-After %q", status, h.Get("Retry-After"))
	}

	ns := testenv.JetStream(t, testenv.Port(natsPort))
	defer ns.Shutdown()
	b := <-started
	if b == nil {
		t.FailNow()
	}
	defer b.stop()
	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", fixtures(t, "netease-nertc")["503-play-started.json"], time.Now())); status != 200 {
		t.Fatalf("after the broker came up: %d %s", status, reply)
	}
}

// TestSIGTERM runs the command as a process would and sends it SIGTERM: /readyz turns 503 while
// callbacks are still answered during the shutdown delay, then it exits 0.
func TestSIGTERM(t *testing.T) {
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	env := signedEnv()
	env["CALLBRIDGE_LISTEN"] = addr
	env["CALLBRIDGE_SHUTDOWN_DELAY"] = "700ms"
	env["CALLBRIDGE_DATA_DIR"] = t.TempDir()
	env["CALLBRIDGE_EMBEDDED_NATS_LISTEN"] = "127.0.0.1:0"
	for k, v := range env {
		t.Setenv(k, v)
	}
	code := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { code <- run([]string{"serve"}, io.Discard, &stderr) }()
	b := &runningBridge{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: mustPort(t, addr)}}
	waitReady(t, b, 200)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitReady(t, b, 503)
	if status, _, reply := b.post(t, signed("netease-nertc", fixtures(t, "netease-nertc")["503-play-started.json"], time.Now())); status != 200 {
		t.Errorf("callback during the shutdown delay: %d %s", status, reply)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d, want 0; log:\n%s", c, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Errorf("log does not say it stopped cleanly:\n%s", stderr.String())
	}
}

func mustPort(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *runningBridge) natsURL(t *testing.T) string {
	n, ok := b.sink.(*publish.NATS)
	if !ok {
		t.Fatalf("sink is %T, not NATS", b.sink)
	}
	return n.ClientURL()
}

// TestStartBeforeJetStream: the broker answers but has no JetStream yet (a server still starting
// or electing): start-up keeps trying with /readyz 503 instead of exiting.
func TestStartBeforeJetStream(t *testing.T) {
	plain := testenv.JetStream(t, testenv.NoJetStream())
	port := plain.Addr().(*net.TCPAddr).Port
	env := signedEnv()
	env["CALLBRIDGE_NATS_URL"] = plain.ClientURL()
	addr, started := startAsync(t, env)
	waitReady(t, &runningBridge{addr: addr}, 503)
	plain.Shutdown()
	plain.WaitForShutdown()
	js := testenv.JetStream(t, testenv.Port(port))
	defer js.Shutdown()
	var b *runningBridge
	select {
	case b = <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("start-up did not complete once JetStream was there")
	}
	if b == nil {
		t.FailNow()
	}
	defer b.stop()
	waitReady(t, b, 200)
}

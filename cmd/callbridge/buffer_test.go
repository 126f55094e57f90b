package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// Buffer mode: with the broker not there at all, callbacks are answered 200 from the buffer and
// /readyz stays 200 saying forwarding has stopped; once the broker is up, every event is
// forwarded and stored once, with the same ids.
func TestBufferModeBrokerDownThenUp(t *testing.T) {
	port := testenv.FreePort(t)
	env := signedEnv()
	env["CALLBRIDGE_ACK_MODE"] = "buffer"
	env["CALLBRIDGE_NATS_URL"] = "nats://127.0.0.1:" + strconv.Itoa(port)
	b := startBridge(t, env)

	var posted int
	for name, body := range fixtures(t, "anyrtc") {
		if status, _, reply := b.post(t, signed("anyrtc", body, time.Now())); status != 200 {
			t.Fatalf("%s with the broker down: %d %s", name, status, reply)
		}
		posted += eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("anyrtc")), body) // its canonical counterpart too
	}
	var status int
	var detail []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + b.addr.String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		status = resp.StatusCode
		detail, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if status != 200 || strings.Contains(string(detail), "forwarding stopped") && !strings.Contains(string(detail), " 0 events") {
			break
		}
	}
	if status != 200 || !strings.Contains(string(detail), "forwarding stopped") {
		t.Errorf("/readyz with the broker down: %d %s", status, detail)
	}
	// A provider retry while buffered is stored once.
	retry := fixtures(t, "anyrtc")["1-103-broadcaster-join.json"]
	if status, _, _ := b.post(t, signed("anyrtc", retry, time.Now())); status != 200 {
		t.Fatalf("retry: %d", status)
	}

	ns := testenv.JetStream(t, testenv.Port(port))
	defer ns.Shutdown()
	js := jetStreamClient(t, ns.ClientURL())
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var n uint64
		if s, err := js.Stream(context.Background(), "CALLBACKS"); err == nil {
			n = s.CachedInfo().State.Msgs
		}
		if n == uint64(posted) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events forwarded", n, posted)
		}
	}
	ids := map[string]bool{}
	for _, m := range streamMessages(t, ns.ClientURL(), "CALLBACKS") {
		ids[m.Headers().Get("Nats-Msg-Id")] = true
	}
	if !ids["anyrtc/2000001428:4331:103"] || len(ids) != posted {
		t.Errorf("forwarded ids %v", ids)
	}
}

// Buffer mode with the broker that cannot ever be used (the embedded one) is refused.
func TestBufferModeNeedsAnExternalBroker(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBRIDGE_ACK_MODE", "buffer")
	var stderr strings.Builder
	if code := run([]string{"serve"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "external broker") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

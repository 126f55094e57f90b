package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// Buffer mode in front of a broker whose message limit is small: once the broker is reached, the
// body limit is fitted to it, and a body it could never take gets 413 at the door. It used to be
// answered 200, buffered, and dropped by the forwarder when the broker refused it.
func TestBufferModeFitsTheBrokersLimit(t *testing.T) {
	ns := testenv.JetStream(t, testenv.Options(func(o *server.Options) { o.MaxPayload = 32 << 10 }))
	defer ns.Shutdown()
	env := signedEnv() // CALLBRIDGE_MAX_BODY_BYTES=65536: above what the broker takes
	env["CALLBRIDGE_ACK_MODE"] = "buffer"
	env["CALLBRIDGE_NATS_URL"] = ns.ClientURL()
	b := startBridge(t, env)

	join := fixtures(t, "anyrtc")["1-103-broadcaster-join.json"]
	if status, _, reply := b.post(t, signed("anyrtc", join, time.Now())); status != 200 {
		t.Fatalf("a small callback: %d %s", status, reply)
	}
	js := jetStreamClient(t, ns.ClientURL())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		want := uint64(eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("anyrtc")), join)) // and its canonical counterpart
		if s, err := js.Stream(t.Context(), "CALLBACKS"); err == nil && s.CachedInfo().State.Msgs == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the small callback was not forwarded")
		}
	}
	// 40 KiB: under CALLBRIDGE_MAX_BODY_BYTES, over the broker's 32 KiB.
	big := append([]byte(`{"pad":"`+strings.Repeat("p", 40<<10)+`",`), bytes.TrimPrefix(bytes.TrimSpace(join), []byte("{"))...)
	// Refused by the body limit, fitted to the broker's, before the body is read whole.
	if status, _, reply := b.post(t, signed("anyrtc", big, time.Now())); status != 413 || !strings.Contains(reply, "CALLBRIDGE_MAX_BODY_BYTES") {
		t.Fatalf("a body the broker cannot take: %d %s, want 413 by the body limit", status, reply)
	}
}

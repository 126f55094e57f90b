package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/publish"
)

const livekitPath = "/v1/callbacks/livekit"

// livekitEvent is an unsigned LiveKit webhook whose event code is code.
func livekitEvent(code string) []byte {
	return []byte(`{"event":"` + code + `","room":{"sid":"RM_1","name":"room1"},"id":"EV_1","createdAt":"1692985549"}`)
}

func allowUnsignedLiveKit(t *testing.T) func(*Config) {
	return func(c *Config) { routeOf(t, c, "livekit").Auth.AllowUnsigned = true }
}

// An event whose subject or topic the broker cannot take (publish.ErrNameTooLong) is a permanent
// failure of that callback (SPEC §4): 400, never 503, and its body is dead-lettered. It used to be
// answered 503, so the provider retried it for ever.
func TestNameTooLongIs400AndDeadLettered(t *testing.T) {
	play := testdata(t, "netease-nertc/503-play-started.json")
	sink := &testSink{publishErr: fmt.Errorf("%w: a 5000-byte subject", publish.ErrNameTooLong)}
	f := newFixture(t, nil, sink)
	resp := viaHandle(t, f, newRequest(fasthttp.MethodPost, neteasePath, play, signedNetEase(play)))
	if resp.StatusCode() != 400 || len(resp.Header.Peek("Retry-After")) != 0 {
		t.Fatalf("status %d, Retry-After %q: %s", resp.StatusCode(), resp.Header.Peek("Retry-After"), resp.Body())
	}
	if msg, _ := errorJSON(t, resp.Body()); !strings.Contains(msg, "longer than the broker accepts") {
		t.Errorf("reply %s", resp.Body())
	}
	_, dead, _ := sink.snapshot()
	if len(dead) != 1 || dead[0].Provider != "netease-nertc" || !bytes.Equal(dead[0].Body, play) {
		t.Fatalf("dead letters %+v", dead)
	}
	if n := outcome(t, f.reg, "netease-nertc", "dead_lettered"); n != 1 {
		t.Errorf("dead_lettered counter = %v, want 1", n)
	}

	// The dead letter failing is what decides: the provider retries.
	sink.deadErr = publish.ErrNotReady
	if resp := viaHandle(t, f, newRequest(fasthttp.MethodPost, neteasePath, play, signedNetEase(play))); resp.StatusCode() != 503 {
		t.Errorf("dead letter failing: %d, want 503", resp.StatusCode())
	}
}

// Unverified, the body is refused the same way but not dead-lettered (SPEC §6: only
// authenticated bodies are).
func TestNameTooLongUnverifiedNotDeadLettered(t *testing.T) {
	sink := &testSink{publishErr: publish.ErrNameTooLong}
	f := newFixture(t, allowUnsignedLiveKit(t), sink)
	body := livekitEvent("room_started")
	if resp := viaHandle(t, f, newRequest(fasthttp.MethodPost, livekitPath, body, nil)); resp.StatusCode() != 400 {
		t.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	if _, dead, _ := sink.snapshot(); len(dead) != 0 {
		t.Errorf("an unverified body dead-lettered: %+v", dead)
	}
	if n := outcome(t, f.reg, "livekit", "invalid"); n != 1 {
		t.Errorf("invalid counter = %v, want 1", n)
	}
}

// A failed publish logs the event's type and id as short excerpts: a 5 000-byte code used to be
// logged whole (SPEC §6: a payload value appears only as an excerpt of at most 64 bytes).
func TestPublishFailureLogsExcerpts(t *testing.T) {
	sink := &testSink{publishErr: publish.ErrNotReady}
	f := newFixture(t, allowUnsignedLiveKit(t), sink)
	code := strings.Repeat("x", 5000)
	if resp := viaHandle(t, f, newRequest(fasthttp.MethodPost, livekitPath, livekitEvent(code), nil)); resp.StatusCode() != 503 {
		t.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "publish failed") || strings.Contains(logs, strings.Repeat("x", 65)) || !strings.Contains(logs, "bytes)") {
		t.Errorf("log:\n%.2000s", logs)
	}
	for _, v := range []string{"io.livekit.rtc.x", "EV_1", "a\"b", strings.Repeat("é", 40)} {
		got := logValue([]byte(v))
		if len(got) > 6*maxLogValue+40 || strings.ContainsAny(got, "\n\r") { // 64 bytes, escaped
			t.Errorf("logValue(%q) = %q", v, got)
		}
	}
	if got := logValue([]byte("EV_1")); got != "EV_1" {
		t.Errorf("a plain id is logged as %q", got)
	}
}

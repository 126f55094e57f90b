package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// canonicalOn publishes canonical counterparts, as the bridge does by default.
func canonicalOn(cfg *Config) {
	cfg.Output = normalize.NewOutput("http://localhost:8080/schemas", normalize.BuiltinRegistry())
}

// failNth fails the n-th Publish (from 1) with err, and passes the others to its testSink.
type failNth struct {
	*testSink
	n, calls int
	err      error
}

func (s *failNth) Publish(ev *normalize.Event) error {
	s.calls++
	if s.calls == s.n {
		return s.err
	}
	return s.testSink.Publish(ev)
}

func (s *failNth) PublishWithin(ev *normalize.Event, _ time.Duration) error { return s.Publish(ev) }

// TestCanonicalPair: a callback whose event has a canonical counterpart is answered 200 only
// once both are stored, the native first; when the second fails the provider gets that
// failure's answer (503 for a transient one, so that it retries), never a 200.
func TestCanonicalPair(t *testing.T) {
	play := testdata(t, "netease-nertc/503-play-started.json")
	tests := []struct {
		name   string
		failAt int // 0: none
		status int
		stored []string // types stored, in order
	}{
		{"both stored", 0, 200, []string{"com.netease.nertc.cloudplayer.play.started", "io.callbridge.rtc.relay.state_changed"}},
		{"native refused", 1, 503, nil},
		{"canonical refused", 2, 503, []string{"com.netease.nertc.cloudplayer.play.started"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &failNth{testSink: new(testSink), n: tt.failAt, err: publish.ErrNotReady}
			logs := new(testenv.Log)
			cfg := testConfig(logs)
			canonicalOn(&cfg)
			f := &fixture{s: New(cfg, sink), sink: sink.testSink, reg: cfg.Registry, logs: logs}
			resp := viaHandle(t, f, newRequest("POST", neteasePath, play, signedNetEase(play)))
			if resp.StatusCode() != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tt.status, resp.Body())
			}
			if tt.status == 503 && len(resp.Header.Peek("Retry-After")) == 0 {
				t.Error("503 without Retry-After")
			}
			var got []string
			for _, ev := range sink.events {
				got = append(got, ev.Type)
			}
			if strings.Join(got, " ") != strings.Join(tt.stored, " ") {
				t.Errorf("stored %v, want %v", got, tt.stored)
			}
			if tt.status == 200 && !strings.Contains(string(sink.events[1].JSON), `"causationid":"`+sink.events[0].ID+`"`) {
				t.Errorf("the canonical event names another cause: %s", sink.events[1].JSON)
			}
		})
	}
}

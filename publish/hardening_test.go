package publish

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// A payload value of any length makes a subject the server accepts: one 5 000-character
// stream id used to make nats-server refuse the line and close the connection for good.
func TestNATSLongSubjectKeepsTheConnection(t *testing.T) {
	s := newEmbedded(t, NATSConfig{Template: mustTemplate(t, "callbacks.{provider}.{subject}")})
	if err := s.Publish(event("long", strings.Repeat("s", 5000))); err != nil {
		t.Fatalf("long subject: %v", err)
	}
	if err := s.Publish(event("short", "room1")); err != nil {
		t.Fatalf("the next publish: %v", err)
	}
	if err := s.Live(); err != nil {
		t.Errorf("Live: %v", err)
	}
}

// A connection closed for good (not by us) fails Live, so /healthz fails and the pod restarts.
func TestNATSClosedForGood(t *testing.T) {
	s := newEmbedded(t, NATSConfig{})
	s.nc.Close() // as the client does after a protocol error
	deadline := time.Now().Add(5 * time.Second)
	for s.Live() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(s.Live(), ErrClosed) || s.Ready() == nil {
		t.Errorf("Live %v, Ready %v after the connection closed", s.Live(), s.Ready())
	}
	if err := s.Publish(event("x", "room1")); err == nil {
		t.Error("publish on a closed connection succeeded")
	}
}

// An event or dead letter over the server's max_payload is a permanent failure (ErrTooLarge),
// never one to retry.
func TestNATSTooLarge(t *testing.T) {
	s := newEmbedded(t, NATSConfig{EmbeddedMaxPayload: 16 << 10})
	if got := s.MessageLimit(); got != 16<<10 {
		t.Errorf("MessageLimit %d, want the server's %d", got, 16<<10)
	}
	ev := event("big", "room1")
	ev.Data = []byte(`{"pad":"` + strings.Repeat("p", 20<<10) + `"}`)
	if err := s.Publish(ev); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Publish of 20 KiB: %v, want ErrTooLarge", err)
	}
	if err := s.DeadLetter("anyrtc", []byte(strings.Repeat("d", 20<<10)), "r"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DeadLetter of 20 KiB: %v, want ErrTooLarge", err)
	}
	if err := s.Publish(event("small", "room1")); err != nil || s.Ready() != nil {
		t.Errorf("after a refused one: publish %v, ready %v", err, s.Ready())
	}
}

// The stream we create has retention limits; dead letters record that they were verified.
func TestNATSStreamRetention(t *testing.T) {
	s := newEmbedded(t, NATSConfig{MaxAge: 48 * time.Hour, MaxBytes: 1 << 30})
	info, err := s.js.Stream(context.Background(), "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	if c := info.CachedInfo().Config; c.MaxAge != 48*time.Hour || c.MaxBytes != 1<<30 {
		t.Errorf("stream MaxAge %s MaxBytes %d", c.MaxAge, c.MaxBytes)
	}
	if err := s.DeadLetter("anyrtc", []byte("x"), "line one\r\nline two"); err != nil {
		t.Fatal(err)
	}
	m := storedMsg(t, s, 1)
	if m.Header.Get(VerifiedHeader) != "true" || strings.ContainsAny(m.Header.Get(ReasonHeader), "\r\n") {
		t.Errorf("dead-letter headers %v", m.Header)
	}
}

// One data directory, one bridge: a second is refused at once, saying why.
func TestNATSDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	newEmbedded(t, NATSConfig{DataDir: dir})
	cfg := NATSConfig{DataDir: dir, EmbeddedListen: "127.0.0.1:0", Stream: "CALLBACKS", Template: mustTemplate(t, "callbacks.{provider}"), Timeout: time.Second}
	_, err := NewNATS(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second bridge on one data directory: %v", err)
	}
}

// A busy embedded port is said at once, as the address in use.
func TestNATSEmbeddedPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	cfg := NATSConfig{DataDir: t.TempDir(), EmbeddedListen: ln.Addr().String(), Stream: "CALLBACKS", Template: mustTemplate(t, "callbacks.{provider}"), Timeout: time.Second}
	start := time.Now()
	_, err = NewNATS(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "address already in use") || time.Since(start) > 2*time.Second {
		t.Fatalf("busy port: %v after %s", err, time.Since(start))
	}
}

// freezer forwards TCP to a server until frozen: then it keeps every connection open and moves
// no byte, as a SIGSTOPped server does.
type freezer struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	f := &freezer{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, up)
			f.mu.Unlock()
			go f.pipe(c, up)
			go f.pipe(up, c)
		}
	}()
	return f
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for f.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

// A server that stops answering but keeps its connection (hung, SIGSTOP) turns Ready to an
// error within seconds, without Ready waiting on the client, and Ready recovers by itself.
func TestNATSHungServer(t *testing.T) {
	for _, traffic := range []bool{true, false} {
		name := map[bool]string{true: "publishing", false: "idle"}[traffic]
		t.Run(name, func(t *testing.T) { testNATSHungServer(t, traffic) })
	}
}

func testNATSHungServer(t *testing.T, traffic bool) {
	srv := startAuthServer(t, server.Options{})
	fr := newFreezer(t, srv.Addr().String())
	cfg := externalConfig("nats://" + fr.ln.Addr().String())
	cfg.Timeout = time.Second
	s, err := NewNATS(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	if err := s.Publish(event("before", "room1")); err != nil {
		t.Fatal(err)
	}

	fr.frozen.Store(true)
	frozenAt := time.Now()
	if traffic {
		go s.Publish(event("during", "room1")) // times out: readiness must follow at once
	} // else the probe's pings find it
	for s.Ready() == nil && time.Since(frozenAt) < 15*time.Second {
		start := time.Now()
		_ = s.Ready()
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Ready took %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	notReadyAfter := time.Since(frozenAt)
	if s.Ready() == nil || notReadyAfter > 5*time.Second {
		t.Fatalf("Ready %v %s after the server hung, want an error within 5s", s.Ready(), notReadyAfter)
	}
	t.Logf("not ready %s after the server hung: %v", notReadyAfter.Round(time.Millisecond), s.Ready())

	fr.frozen.Store(false)
	thawedAt := time.Now()
	for s.Ready() != nil && time.Since(thawedAt) < 20*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("still not ready %s after the server answered again: %v", time.Since(thawedAt), err)
	}
	t.Logf("ready again %s after the server answered", time.Since(thawedAt).Round(time.Millisecond))
	if err := s.Publish(event("after", "room1")); err != nil {
		t.Errorf("publish after recovery: %v", err)
	}
}

// Acknowledgement timeouts flip readiness only when they are newer than every ack: publishes
// sent before a reconnect time out after it, while new ones are acknowledged. (state is what
// Ready reports once it has held for readyGrace: TestNATSReadyGrace.)
func TestNATSHealthAckOrdering(t *testing.T) {
	tests := []struct {
		name  string
		steps []func(h *natsHealth)
		ready bool
	}{
		{"a timeout", []func(*natsHealth){func(h *natsHealth) { h.ackTimedOut(10) }}, false},
		{"a timeout, then a newer ack", []func(*natsHealth){func(h *natsHealth) { h.ackTimedOut(10) }, func(h *natsHealth) { h.acked(11) }}, true},
		{"an ack, then an older timeout", []func(*natsHealth){func(h *natsHealth) { h.acked(11) }, func(h *natsHealth) { h.ackTimedOut(10) }}, true},
		{"a timeout, then an older ack", []func(*natsHealth){func(h *natsHealth) { h.ackTimedOut(10) }, func(h *natsHealth) { h.acked(9) }}, false},
		{"an ack, then a newer timeout", []func(*natsHealth){func(h *natsHealth) { h.acked(9) }, func(h *natsHealth) { h.ackTimedOut(10) }}, false},
	}
	for _, tt := range tests {
		h := &natsHealth{wake: make(chan struct{}, 1)}
		h.connected.Store(true)
		for _, step := range tt.steps {
			step(h)
		}
		if got := h.state() == nil; got != tt.ready {
			t.Errorf("%s: ready %v, want %v", tt.name, got, tt.ready)
		}
	}
}

// Ready turns not-ready only once publishing has looked impossible for readyGrace: a
// sub-second blip (a reconnect to another server, an election's first moments) keeps the pod
// in its Service; a blip that clears starts the count again; a connection closed for good is
// reported at once.
func TestNATSReadyGrace(t *testing.T) {
	const s = int64(time.Second)
	grace := int64(readyGrace)
	type step struct {
		at    int64 // ns since the test's start
		bad   bool  // disconnected at that time
		ready bool  // what Ready says then
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"healthy", []step{{0, false, true}, {10 * s, false, true}}},
		{"a blip", []step{{0, true, true}, {grace / 2, true, true}, {grace - 1, false, true}, {2 * grace, false, true}}},
		{"held past the grace", []step{{0, true, true}, {grace - 1, true, true}, {grace, true, false}, {3 * grace, true, false}}},
		{"back", []step{{0, true, true}, {2 * grace, true, false}, {2*grace + 1, false, true}}},
		{"a blip, then another", []step{{0, true, true}, {grace / 2, false, true}, {grace, true, true}, {grace + grace/2, true, true}, {2 * grace, true, false}}},
	}
	for _, tt := range tests {
		h := &natsHealth{wake: make(chan struct{}, 1)}
		for i, st := range tt.steps {
			h.connected.Store(!st.bad)
			if got := h.readyAt(1e18+st.at) == nil; got != st.ready {
				t.Errorf("%s, step %d (%v in, disconnected %v): ready %v, want %v", tt.name, i, time.Duration(st.at), st.bad, got, st.ready)
			}
		}
	}
	h := &natsHealth{}
	h.dead.Store(true)
	if err := h.readyAt(1); !errors.Is(err, ErrClosed) {
		t.Errorf("closed for good: %v, want ErrClosed at once", err)
	}
}

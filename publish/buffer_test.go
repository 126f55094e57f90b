package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbridge/callbridge/normalize"
)

// recordingSink is a target that fails while down and records what it took, in order.
type recordingSink struct {
	mu    sync.Mutex
	down  bool
	got   []string // event ids in the order acknowledged
	dead  []string // dead-letter bodies
	calls int
}

func (r *recordingSink) Publish(ev *normalize.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.down {
		return fmt.Errorf("%w: target down", ErrNotReady)
	}
	r.got = append(r.got, string(ev.ID))
	return nil
}

func (r *recordingSink) DeadLetter(provider string, body []byte, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return ErrNotReady
	}
	r.dead = append(r.dead, provider+":"+string(body))
	return nil
}

func (r *recordingSink) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *recordingSink) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *recordingSink) Ready() error                    { return nil }
func (r *recordingSink) Live() error                     { return nil }
func (r *recordingSink) MessageLimit() int               { return 1 << 20 }
func (r *recordingSink) Close(ctx context.Context) error { return nil }

func anyrtcEvent(id, subject string) *normalize.Event {
	ev := event(id, subject)
	ev.Time = time.Unix(1712900000, 0).UTC()
	return ev
}

func openBuffer(t *testing.T, dir string, target Sink, tweak func(*BufferConfig)) *Buffer {
	t.Helper()
	cfg := BufferConfig{
		DataDir: dir, MaxBytes: 64 << 20, MaxAge: time.Hour, DuplicateWindow: time.Hour, Timeout: 5 * time.Second,
		OrderKey:  func(dst []byte, ev *normalize.Event) []byte { return append(dst, ev.Subject...) },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry:  prometheus.NewRegistry(),
		Providers: normalize.BuiltinRegistry(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := NewBuffer(context.Background(), cfg, target)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func closeBuffer(t *testing.T, b *Buffer, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While the target is down every event is acknowledged by the buffer; once it is back every one
// is forwarded, in order for each subject, and the buffer empties.
func TestBufferForwardsInOrderAfterTheTargetReturns(t *testing.T) {
	target := &recordingSink{down: true}
	b := openBuffer(t, t.TempDir(), target, nil)
	defer closeBuffer(t, b, 5*time.Second)
	var want []string
	for i := range 300 {
		id := fmt.Sprintf("ev-%03d", i)
		if err := b.Publish(anyrtcEvent(id, fmt.Sprintf("room%d", i%7))); err != nil {
			t.Fatalf("publish %d with the target down: %v", i, err)
		}
		want = append(want, id)
	}
	if err := b.DeadLetter("anyrtc", []byte("not json"), "bad"); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(); err != nil {
		t.Errorf("Ready with the target down: %v (the buffer accepts)", err)
	}
	waitFor(t, "forwarding stopped is reported", 5*time.Second, func() bool { return strings.Contains(b.Detail(), "forwarding stopped") })
	target.setDown(false)
	waitFor(t, "all forwarded", 20*time.Second, func() bool { return len(target.ids()) == len(want) })
	got := target.ids()
	// In order within each subject.
	last := map[string]int{}
	for _, id := range got {
		var i int
		fmt.Sscanf(id, "ev-%d", &i)
		room := i % 7
		if prev, ok := last[fmt.Sprint(room)]; ok && prev > i {
			t.Errorf("room%d: %d forwarded after %d", room, i, prev)
		}
		last[fmt.Sprint(room)] = i
	}
	waitFor(t, "buffer empty", 10*time.Second, func() bool {
		b.poll(context.Background())
		return b.stats.Load().messages == 0
	})
	if len(target.dead) != 1 || target.dead[0] != "anyrtc:not json" {
		t.Errorf("dead letters %q", target.dead)
	}
	if d := b.Detail(); !strings.Contains(d, "forwarding;") {
		t.Errorf("Detail after recovery: %s", d)
	}
}

// What was buffered and not forwarded survives a restart (a closed buffer, or a killed process:
// the data directory is all there is) and is forwarded after it.
func TestBufferSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	target := &recordingSink{down: true}
	b := openBuffer(t, dir, target, nil)
	for i := range 50 {
		if err := b.Publish(anyrtcEvent(fmt.Sprintf("r-%d", i), "room1")); err != nil {
			t.Fatal(err)
		}
	}
	closeBuffer(t, b, 300*time.Millisecond) // target down: everything stays
	if n := len(target.ids()); n != 0 {
		t.Fatalf("%d forwarded with the target down", n)
	}
	target.setDown(false)
	b = openBuffer(t, dir, target, nil)
	defer closeBuffer(t, b, 5*time.Second)
	waitFor(t, "forwarded after restart", 10*time.Second, func() bool { return len(target.ids()) == 50 })
	for i, id := range target.ids() {
		if id != fmt.Sprintf("r-%d", i) {
			t.Fatalf("forwarded out of order: %v", target.ids())
		}
	}
}

// Close forwards what it can before it returns.
func TestBufferCloseFlushes(t *testing.T) {
	target := &recordingSink{}
	b := openBuffer(t, t.TempDir(), target, nil)
	for i := range 100 {
		if err := b.Publish(anyrtcEvent(fmt.Sprintf("c-%d", i), "room1")); err != nil {
			t.Fatal(err)
		}
	}
	closeBuffer(t, b, 10*time.Second)
	if n := len(target.ids()); n != 100 {
		t.Errorf("%d of 100 forwarded by Close", n)
	}
}

// Over CALLBRIDGE_BUFFER_MAX_BYTES, or with the oldest event older than
// CALLBRIDGE_BUFFER_MAX_AGE, the buffer refuses new events (ErrBufferFull: 503) and keeps every
// one it took.
func TestBufferBounds(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		target := &recordingSink{down: true}
		b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) { c.MaxBytes = 64 << 10 })
		defer closeBuffer(t, b, 300*time.Millisecond)
		var took int
		var err error
		for i := range 10000 {
			if err = b.Publish(anyrtcEvent(fmt.Sprintf("b-%d", i), "room1")); err != nil {
				break
			}
			took++
		}
		if !errors.Is(err, ErrBufferFull) || took == 0 {
			t.Fatalf("after %d events: %v, want ErrBufferFull", took, err)
		}
		b.poll(context.Background())
		if b.Ready() == nil {
			t.Error("Ready while full")
		}
		target.setDown(false)
		waitFor(t, "everything taken is forwarded", 20*time.Second, func() bool { return len(target.ids()) == took })
		waitFor(t, "accepting again", 5*time.Second, func() bool { b.poll(context.Background()); return b.Ready() == nil })
	})
	t.Run("age", func(t *testing.T) {
		target := &recordingSink{down: true}
		b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) { c.MaxAge = 300 * time.Millisecond })
		defer closeBuffer(t, b, 300*time.Millisecond)
		if err := b.Publish(anyrtcEvent("old", "room1")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		b.poll(context.Background())
		if err := b.Publish(anyrtcEvent("new", "room1")); !errors.Is(err, ErrBufferFull) || b.Ready() == nil {
			t.Fatalf("oldest event past the age bound: publish %v, ready %v", err, b.Ready())
		}
	})
}

// Forwarding to a real JetStream: provider retries buffered twice are stored once (the buffer's
// own dedup), and events forwarded twice (after a restart before the purge) are stored once (the
// target's).
func TestBufferToJetStream(t *testing.T) {
	target := newEmbedded(t, NATSConfig{})
	b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) { c.OrderKey = target.cfg.Template.Append })
	for i := range 20 {
		for range 2 { // a provider retry
			if err := b.Publish(anyrtcEvent(fmt.Sprintf("js-%d", i), "room1")); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "forwarded", 10*time.Second, func() bool {
		info, err := target.js.Stream(context.Background(), "CALLBACKS")
		return err == nil && info.CachedInfo().State.Msgs == 20
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.closing.Store(true) // leave the target open for the check below
	b.fwd.drain(ctx)
	close(b.stop)
	b.fwd.halt()
	b.workers.Wait()
	b.shutdown()
	info, _ := target.js.Stream(context.Background(), "CALLBACKS")
	if n := info.CachedInfo().State.Msgs; n != 20 {
		t.Errorf("%d messages at the target, want 20", n)
	}
}

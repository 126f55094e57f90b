package publish

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbridge/callbridge/normalize"
)

// deadEntries reads the buffer's dead stream.
func deadEntries(t *testing.T, b *Buffer) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	info, err := b.deadStream.Info(ctx)
	if err != nil {
		return nil
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := b.deadStream.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func bufferedCount(b *Buffer) uint64 {
	info, err := b.stream.Info(context.Background())
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// refuseID makes a recordingSink refuse the event with id as a broker refuses one too large.
func refuseID(id string) func(m *Message) error {
	return func(m *Message) error {
		if strings.HasSuffix(string(m.ID), "/"+id) {
			return fmt.Errorf("%w: as the broker says", ErrTooLarge)
		}
		return nil
	}
}

// An entry the target can never take used to be answered 200 and then dropped. Now it is moved
// to the buffer's dead stream, with the reason, counted, and kept there when the buffer is purged;
// the entries behind it are forwarded.
func TestBufferKeepsWhatTheTargetCannotTake(t *testing.T) {
	target := &recordingSink{refuse: refuseID("too-big")}
	reg := prometheus.NewRegistry()
	b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) { c.Registry = reg })
	defer closeBuffer(t, b, 5*time.Second)
	for _, id := range []string{"before", "too-big", "after"} {
		if err := b.Publish(anyrtcEvent(id, "room1")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the others forwarded", 10*time.Second, func() bool { return slices.Equal(target.ids(), []string{"before", "after"}) })
	waitFor(t, "the buffer purged", 10*time.Second, func() bool { return bufferedCount(b) == 0 })
	dead := deadEntries(t, b)
	if len(dead) != 1 {
		t.Fatalf("%d entries in the dead stream, want 1", len(dead))
	}
	h := dead[0].Header
	var m Message
	if err := readFrame(dead[0].Data, &m); err != nil || string(m.ID) != "anyrtc/too-big" {
		t.Errorf("dead entry: %v %q", err, m.ID)
	}
	if !strings.Contains(h.Get(BufferDeadReasonHeader), "larger than the broker accepts") || h.Get(BufferDeadFromHeader) != bufferMsgSubject ||
		h.Get(BufferDeadSubjectHeader) != "callbacks.anyrtc.rtc.channel.created.room1" {
		t.Errorf("dead entry headers %v", h)
	}
	b.poll(context.Background())
	for _, name := range []string{"callbridge_buffer_dead_total", "callbridge_buffer_dead_messages"} {
		if n := gathered(t, reg, name); n != 1 {
			t.Errorf("%s %v, want 1", name, n)
		}
	}
	if !strings.Contains(b.Detail(), "1 kept in "+BufferDeadStream) {
		t.Errorf("Detail: %s", b.Detail())
	}
}

// A move to the dead stream that fails is retried like a transient failure: the entry stays in
// the buffer (and the ones behind it wait) until the move succeeds.
func TestBufferRetriesAFailedMove(t *testing.T) {
	target := &recordingSink{down: true, refuse: refuseID("too-big")}
	b := openBuffer(t, t.TempDir(), target, nil)
	defer closeBuffer(t, b, 5*time.Second)
	for _, id := range []string{"before", "too-big", "after"} {
		if err := b.Publish(anyrtcEvent(id, "room1")); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := b.js.DeleteStream(ctx, BufferDeadStream); err != nil {
		t.Fatal(err)
	}
	target.setDown(false)
	waitFor(t, "the first forwarded", 10*time.Second, func() bool { return len(target.ids()) == 1 })
	time.Sleep(500 * time.Millisecond)
	if got := target.ids(); len(got) != 1 || bufferedCount(b) < 2 {
		t.Fatalf("with the move failing: forwarded %v, %d still buffered; want the refused one and the one behind it kept", got, bufferedCount(b))
	}
	if _, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: BufferDeadStream, Subjects: []string{BufferDeadSubject}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "moved, and the one behind it forwarded", 15*time.Second, func() bool {
		return slices.Equal(target.ids(), []string{"before", "after"}) && len(deadEntries(t, b)) == 1
	})
}

// Entries the previous version stored (a structured event on buffer.event, a dead letter on
// buffer.deadletter) are forwarded after an upgrade, read by BufferConfig.Legacy; one it cannot
// read goes to the dead stream, never dropped.
func TestBufferForwardsWhatThePreviousVersionStored(t *testing.T) {
	target := &recordingSink{down: true}
	b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) {
		c.Legacy = func(d []byte, ev *normalize.Event) error {
			return normalize.ParseStructured(d, ev, normalize.BuiltinRegistry())
		}
	})
	defer closeBuffer(t, b, 5*time.Second)
	generic := &normalize.Event{ID: []byte("g-1"), Source: []byte("/callbridge/my-source"), Type: []byte("io.callbridge.webhook.my-source.x"),
		EventType: []byte("x"), Provider: "my-source", ProviderEventType: []byte("x"), Time: time.Unix(1712900000, 0), Data: []byte(`{}`)}
	for _, m := range []*nats.Msg{
		{Subject: bufferEventSubject, Data: anyrtcEvent("legacy-1", "room1").AppendStructured(nil), Header: nats.Header{jetstream.MsgIDHeader: {"legacy-1"}}},
		{Subject: bufferLetterSubj, Data: []byte("not json"), Header: nats.Header{jetstream.MsgIDHeader: {"deadletter-x"}, bufferProviderHeader: {"anyrtc"}, ReasonHeader: {"bad"}}},
		{Subject: bufferEventSubject, Data: []byte("not an event"), Header: nats.Header{jetstream.MsgIDHeader: {"broken"}}},
		{Subject: bufferEventSubject, Data: generic.AppendStructured(nil), Header: nats.Header{jetstream.MsgIDHeader: {"g-1"}}},
	} {
		if _, err := b.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	target.setDown(false)
	waitFor(t, "the legacy event and letter forwarded", 10*time.Second, func() bool {
		target.mu.Lock()
		defer target.mu.Unlock()
		return len(target.got) == 1 && len(target.dead) == 1
	})
	if target.got[0] != "legacy-1" || target.dead[0] != "anyrtc:not json" {
		t.Errorf("forwarded %v and %v", target.got, target.dead)
	}
	waitFor(t, "the unreadable ones kept", 10*time.Second, func() bool { return len(deadEntries(t, b)) == 2 })
	for _, m := range deadEntries(t, b) {
		if m.Header.Get(BufferDeadFromHeader) != bufferEventSubject || !strings.Contains(m.Header.Get(BufferDeadReasonHeader), "previous version") {
			t.Errorf("dead entry %q: headers %v", m.Data, m.Header)
		}
	}
}

// Live fails when the target's does: /healthz must fail when the connection the buffer forwards
// on is closed for good (it used to stay 200).
func TestBufferLiveFollowsTheTarget(t *testing.T) {
	target := &recordingSink{}
	b := openBuffer(t, t.TempDir(), target, nil)
	defer closeBuffer(t, b, 5*time.Second)
	if err := b.Live(); err != nil {
		t.Fatal(err)
	}
	target.mu.Lock()
	target.live = ErrClosed
	target.mu.Unlock()
	if err := b.Live(); err == nil || !strings.Contains(err.Error(), ErrClosed.Error()) {
		t.Errorf("Live with the target closed for good: %v", err)
	}
}

// gathered is the value of the metric name (a counter or gauge without labels) in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name || len(f.GetMetric()) != 1 {
			continue
		}
		if m := f.GetMetric()[0]; m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		} else if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

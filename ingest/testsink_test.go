package ingest

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

var (
	_ publish.Sink   = (*testSink)(nil)
	_ publish.Within = (*testSink)(nil)
)

// published is an event as the sink saw it at Publish time. The Event handed to Publish is
// pooled and reused once Publish returns, so everything is copied.
type published struct {
	ID   string
	Type string
	JSON []byte // ev.AppendStructured(nil)
}

type deadLetter struct {
	Provider string
	Body     []byte
	Reason   string
}

// testSink is an in-memory publish.Sink whose failures the test controls.
type testSink struct {
	mu         sync.Mutex
	events     []published     // acknowledged events only
	attempts   int             // Publish calls, acknowledged or not
	given      []time.Duration // per Publish call: 0, or PublishWithin's d
	dead       []deadLetter    // acknowledged dead letters only
	publishErr error
	deadErr    error
	readyErr   error
	liveErr    error
	panicNext  int // Publish panics this many more times
	// block, when set, makes Publish wait until it is closed (after the event was copied and
	// received was signalled).
	block chan struct{}
	// received, when set, gets one value per Publish call as soon as the event is copied.
	received chan published
}

func (k *testSink) Publish(ev *normalize.Event) error { return k.publish(ev, 0) }

// PublishWithin is Publish, recording d (publish.Within).
func (k *testSink) PublishWithin(ev *normalize.Event, d time.Duration) error {
	return k.publish(ev, d)
}

func (k *testSink) publish(ev *normalize.Event, d time.Duration) error {
	p := published{ID: string(ev.ID), Type: string(ev.Type), JSON: ev.AppendStructured(nil)}
	k.mu.Lock()
	k.attempts++
	k.given = append(k.given, d)
	block, received, err := k.block, k.received, k.publishErr
	doPanic := k.panicNext > 0
	if doPanic {
		k.panicNext--
	}
	k.mu.Unlock()
	if received != nil {
		received <- p
	}
	if block != nil {
		<-block
	}
	if doPanic {
		panic("test sink: publish exploded")
	}
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.events = append(k.events, p)
	k.mu.Unlock()
	return nil
}

func (k *testSink) DeadLetter(provider string, body []byte, reason string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.deadErr != nil {
		return k.deadErr
	}
	k.dead = append(k.dead, deadLetter{Provider: provider, Body: bytes.Clone(body), Reason: reason})
	return nil
}

func (k *testSink) Ready() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.readyErr
}

func (k *testSink) Live() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.liveErr
}

func (k *testSink) MessageLimit() int { return 1 << 20 }

func (k *testSink) Close(context.Context) error { return nil }

func (k *testSink) setReady(err error) {
	k.mu.Lock()
	k.readyErr = err
	k.mu.Unlock()
}

func (k *testSink) snapshot() (events []published, dead []deadLetter, attempts int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]published(nil), k.events...), append([]deadLetter(nil), k.dead...), k.attempts
}

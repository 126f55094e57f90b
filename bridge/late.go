package bridge

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// lateSink stands in for the broker connection until it exists, so the HTTP side can answer
// probes during start-up, and the buffer can take callbacks (and render them with the broker's
// Encoder: bufferEncoder) before the broker is reached.
type lateSink struct {
	sink atomic.Pointer[publish.Target]
}

var _ publish.Within = (*lateSink)(nil)

var errConnecting = errors.New("connecting to the broker")

func (l *lateSink) set(s publish.Target) { l.sink.Store(&s) }

func (l *lateSink) get() publish.Target {
	if s := l.sink.Load(); s != nil {
		return *s
	}
	return nil
}

func (l *lateSink) Publish(ev *normalize.Event) error {
	if s := l.get(); s != nil {
		return s.Publish(ev)
	}
	return errConnecting
}

// PublishWithin forwards to the sink's PublishWithin (publish.Within), else its Publish.
func (l *lateSink) PublishWithin(ev *normalize.Event, d time.Duration) error {
	switch s := l.get().(type) {
	case nil:
		return errConnecting
	case publish.Within:
		return s.PublishWithin(ev, d)
	default:
		return s.Publish(ev)
	}
}

func (l *lateSink) DeadLetter(provider string, body []byte, reason string) error {
	if s := l.get(); s != nil {
		return s.DeadLetter(provider, body, reason)
	}
	return errConnecting
}

func (l *lateSink) Send(m *publish.Message) error {
	if s := l.get(); s != nil {
		return s.Send(m)
	}
	return errConnecting
}

func (l *lateSink) Ready() error {
	if s := l.get(); s != nil {
		return s.Ready()
	}
	return errConnecting
}

func (l *lateSink) Live() error {
	if s := l.get(); s != nil {
		return s.Live()
	}
	return nil
}

func (l *lateSink) MessageLimit() int {
	if s := l.get(); s != nil {
		return s.MessageLimit()
	}
	return 0
}

func (l *lateSink) Close(ctx context.Context) error {
	if s := l.get(); s != nil {
		return s.Close(ctx)
	}
	return nil
}

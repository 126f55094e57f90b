package publish

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

// decode turns a stored entry into the Message to send: a frame as it was stored, or an entry of
// the previous version rendered now with the target's Encoder (an event read by cfg.Legacy, a
// dead letter from its headers). An error means the entry can never be forwarded.
func (b *Buffer) decode(raw jetstream.Msg, legacy *normalize.Event) (*Message, error) {
	m := &Message{}
	switch raw.Subject() {
	case bufferMsgSubject:
		if err := readFrame(raw.Data(), m); err != nil {
			return nil, err
		}
		return m, nil
	case bufferEventSubject:
		if b.cfg.Legacy == nil {
			return nil, fmt.Errorf("%w: an event stored by the previous version, and no reader for it", errUnreadable)
		}
		legacy.Reset()
		if err := b.cfg.Legacy(raw.Data(), legacy); err != nil {
			// The reader's words may quote the stored event: an excerpt of them.
			return nil, fmt.Errorf("%w: an event stored by the previous version: %s", errUnreadable, excerpt(err.Error()))
		}
		if err := b.cfg.Encoder.Event(m, legacy); err != nil {
			return nil, err
		}
		return m, nil
	case bufferLetterSubj:
		h := raw.Headers()
		if err := b.cfg.Encoder.DeadLetter(m, h.Get(bufferProviderHeader), raw.Data(), h.Get(ReasonHeader)); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: stored on %s", errUnreadable, excerpt(raw.Subject()))
}

// bury moves e, which the target can never take (why), to the dead stream: the entry as it was
// stored, its headers, and why, where it was stored and what it was for in headers of ours.
// Moved twice (a crash before the purge), it is kept once. An error leaves e in the buffer,
// to be moved again.
func (b *Buffer) bury(e bufferEntry, why error) error {
	h := nats.Header{}
	for k, v := range e.raw.Headers() {
		if k != jetstream.MsgIDHeader {
			h[k] = v
		}
	}
	h.Set(jetstream.MsgIDHeader, "buffer-"+strconv.FormatUint(e.seq, 10))
	h.Set(BufferDeadReasonHeader, headerValue(why.Error()))
	h.Set(BufferDeadFromHeader, e.raw.Subject())
	target := ""
	if e.msg != nil {
		target = nameExcerpt(e.msg.Subject, len(e.msg.Subject))
		h.Set(BufferDeadSubjectHeader, headerValue(string(e.msg.Subject)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	defer cancel()
	if _, err := b.js.PublishMsg(ctx, &nats.Msg{Subject: BufferDeadSubject, Header: h, Data: e.raw.Data()}); err != nil {
		return fmt.Errorf("moving buffered entry %d to %s: %w", e.seq, BufferDeadStream, err)
	}
	b.metrics.dead.Inc()
	b.cfg.Logger.Error("buffered entry can never be forwarded: kept in the buffer's dead stream (docs/delivery.md, buffer mode)",
		"seq", e.seq, "stream", BufferDeadStream, "for", target, "reason", why)
	return nil
}

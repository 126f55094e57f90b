package ingest

import (
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// publishFailed answers a failed publish: 413 when the event can never fit the broker (a
// permanent failure: the provider must not retry it), else 503 with Retry-After.
func (s *Server) publishFailed(ctx *fasthttp.RequestCtx, m *providerMetrics, provider, msg string, err error, attrs ...any) {
	attrs = append([]any{"provider", provider, "error", err}, attrs...)
	if errors.Is(err, publish.ErrTooLarge) {
		m.tooLarge.Inc()
		s.cfg.Logger.Warn(msg+": larger than the broker accepts", attrs...)
		s.reply(ctx, fasthttp.StatusRequestEntityTooLarge, errTooBig)
		return
	}
	m.publishFailed.Inc()
	s.cfg.Logger.Error(msg, attrs...)
	s.unavailable(ctx, errPublish)
}

// errNameReason is the 400's reason, and the dead letter's, for publish.ErrNameTooLong.
const errNameReason = "the event's subject or topic would be longer than the broker accepts"

// refuseName answers an event whose subject or topic the broker could never take
// (publish.ErrNameTooLong, SPEC §4): a permanent failure, so 400, never 503, and the body is
// dead-lettered first when it was authenticated (the dead-letter subject is built from the
// provider id only, so it always fits).
func (s *Server) refuseName(ctx *fasthttp.RequestCtx, m *providerMetrics, tr spans, p *normalize.Provider, cb *normalize.Callback, unverified bool, err error) {
	provider := p.ID
	if unverified {
		m.invalid.Inc()
		s.cfg.Logger.Warn("unverified callback refused, not dead-lettered", "provider", provider, "reason", errNameReason, "error", err)
		s.replyError(ctx, fasthttp.StatusBadRequest, errNameReason, "")
		return
	}
	tr.startPublish(nil)
	derr := s.storeDeadLetter(p, cb.Body, errNameReason)
	tr.endPublish(derr)
	if derr != nil {
		s.publishFailed(ctx, m, provider, "dead letter not published", derr)
		return
	}
	m.deadLettered.Inc()
	s.cfg.Logger.Warn("callback dead-lettered", "provider", provider, "reason", errNameReason, "error", err)
	s.replyError(ctx, fasthttp.StatusBadRequest, errNameReason, "")
}

// storeDeadLetter sends an authenticated body that will not become an event to the dead
// letters, its credentials replaced (Provider.Redact): the one way a body reaches the bus.
func (s *Server) storeDeadLetter(p *normalize.Provider, body []byte, reason string) error {
	return s.sink.DeadLetter(p.ID, p.Redact(body), reason)
}

// maxLogValue bounds what of a value from the payload (an event's type or id) a log line holds.
const maxLogValue = 64

// logValue is v for a log line: as it is when it is short printable ASCII, else quoted and cut
// to maxLogValue bytes with its length (SPEC §6: a payload value appears only as a short
// excerpt).
func logValue(v []byte) string {
	plain := len(v) <= maxLogValue
	for _, c := range v {
		plain = plain && c > ' ' && c < 0x7f && c != '"'
	}
	if plain {
		return string(v)
	}
	if len(v) <= maxLogValue {
		return strconv.QuoteToASCII(string(v))
	}
	return strconv.QuoteToASCII(string(v[:maxLogValue])) + "… (" + strconv.Itoa(len(v)) + " bytes)"
}

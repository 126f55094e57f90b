package ingest

import (
	"errors"

	"github.com/valyala/fasthttp"

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

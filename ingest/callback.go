package ingest

import (
	"bytes"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// callback answers POST /v1/callbacks/{provider}[/{token}] in four steps: authorise (route,
// method, URL token), read (the body, within the memory budget), process (probe, verify,
// normalise) and answer (dead-letter or publish, then reply). A step that answered the request
// itself says so, and callback stops there.
func (s *Server) callback(ctx *fasthttp.RequestCtx, rest []byte) {
	r, get, hasToken, ok := s.authorise(ctx, rest)
	if !ok {
		return
	}
	m := s.metrics.forProvider(r.Provider.ID)
	tr := s.startSpans(ctx, r.Provider.ID)
	if tr.on() {
		defer tr.end(ctx)
	}

	w := s.getWork()
	defer s.putWork(w)
	if !s.read(ctx, w, m) {
		return
	}
	// In flight from here, once the body is in: a client slow to send it holds no slot.
	if n := s.inflight.Add(1); n > int64(s.cfg.MaxInflight) {
		s.inflight.Add(-1)
		m.overloaded.Inc()
		s.unavailable(ctx, errOverload)
		return
	}
	defer s.inflight.Add(-1)

	s.prepare(ctx, w, get, hasToken)
	answered, err := s.process(ctx, r, w, m, tr)
	if answered {
		return
	}
	s.answer(ctx, r, w, m, tr, err)
}

// authorise finds the route for rest ({provider}[/{token}]) and checks the method and the URL
// token. get says the callback came as a GET (its fields in the query).
func (s *Server) authorise(ctx *fasthttp.RequestCtx, rest []byte) (r *Route, get, hasToken, ok bool) {
	id, token, hasToken := bytes.Cut(rest, []byte{'/'})
	r = s.route(id)
	if r == nil || (hasToken && bytes.IndexByte(token, '/') >= 0) {
		s.reject(ctx, rejectNotFound, fasthttp.StatusNotFound, errNotFound)
		return nil, false, false, false
	}
	// GET only for a provider that sends it (Alibaba Live publish callbacks: fields in the query).
	get = r.Provider.AcceptsGET && ctx.IsGet()
	if !ctx.IsPost() && !get {
		if r.Provider.AcceptsGET {
			ctx.Response.Header.Set("Allow", "GET, POST")
		} else {
			ctx.Response.Header.Set("Allow", "POST")
		}
		s.reject(ctx, rejectMethod, fasthttp.StatusMethodNotAllowed, errMethod)
		return nil, false, false, false
	}
	// A wrong token answers exactly like an unknown path, so the path does not leak.
	if len(r.URLToken) > 0 {
		if !hasToken || !s.tokenMatches(r, token) {
			s.reject(ctx, rejectNotFound, fasthttp.StatusNotFound, errNotFound)
			return nil, false, false, false
		}
	} else if hasToken {
		s.reject(ctx, rejectNotFound, fasthttp.StatusNotFound, errNotFound)
		return nil, false, false, false
	}
	return r, get, hasToken, true
}

func (s *Server) getWork() *work {
	w, _ := s.work.Get().(*work)
	if w == nil {
		w = new(work)
	}
	return w
}

func (s *Server) putWork(w *work) {
	s.releaseBody(w)
	w.cb.Reset()
	w.ev.Reset()
	s.work.Put(w)
}

// read reads the body into w within the body limit and the shared body budget.
func (s *Server) read(ctx *fasthttp.RequestCtx, w *work, m *providerMetrics) bool {
	switch err := s.readBody(ctx, w, int(s.maxBody.Load())); {
	case err == nil:
		return true
	case errors.Is(err, errBodyTooLarge):
		s.reject(ctx, rejectBodyTooLarge, fasthttp.StatusRequestEntityTooLarge, errTooLarge)
		s.closeAfterReply(ctx)
	case errors.Is(err, errEncoding):
		s.reject(ctx, rejectMalformed, fasthttp.StatusUnsupportedMediaType, errEncodingReply)
		s.closeAfterReply(ctx)
	case errors.Is(err, errBadGzip):
		s.reject(ctx, rejectMalformed, fasthttp.StatusBadRequest, errBadGzipReply)
		s.closeAfterReply(ctx)
	case errors.Is(err, errBodyMemory):
		s.metrics.rejections.WithLabelValues(rejectBodyMemory).Inc()
		m.overloaded.Inc()
		s.unavailable(ctx, errBodyBusy)
		s.closeAfterReply(ctx)
	default: // the client went away or stalled past the read timeout
		s.reject(ctx, rejectTimeout, fasthttp.StatusRequestTimeout, errTimeout)
		ctx.SetConnectionClose()
	}
	return false
}

// prepare fills w's Callback from the request.
func (s *Server) prepare(ctx *fasthttp.RequestCtx, w *work, get, hasToken bool) {
	w.cb.Body = w.body
	if get {
		// The callback is its query string: Verify and Normalize read it as the body, and a dead
		// letter keeps it. It is bounded by the header limit.
		w.cb.Body = ctx.URI().QueryString()
	}
	w.cb.Header = &ctx.Request.Header
	w.cb.Received = time.Now()
	w.cb.TokenRoute = hasToken
	w.cb.Method = ctx.Method()
	w.cb.URI = ctx.RequestURI()
}

// process answers a probe itself (answered), else verifies and normalises the callback into
// w.ev and returns Run's error for answer.
func (s *Server) process(ctx *fasthttp.RequestCtx, r *Route, w *work, m *providerMetrics, tr spans) (answered bool, err error) {
	p := r.Provider
	reply, probe, err := p.Probe(&w.cb, &r.Auth, ctx.Response.Body()[:0])
	if probe {
		s.answerProbe(ctx, p, m, reply, err)
		return true, nil
	}
	tr.startVerify()
	reportErr, err := p.Run(&w.cb, &r.Auth, r.Enforce, &w.ev)
	if err == nil {
		w.out = s.cfg.Output.Events(p, &w.ev, &w.canon, w.out[:0])
	}
	tr.endVerify(err, reportErr)
	if reportErr != nil {
		m.verifyFailures.Inc()
		s.cfg.Logger.Warn("verification failed, accepted in report mode", "provider", p.ID, "reason", reportErr.Error(), "remote", ctx.RemoteIP().String())
	}
	return false, err
}

// answerProbe answers a URL check or handshake: its reply, or the error that kept it from one
// (401 unsigned or badly signed, 400 malformed, 503 for the sender to retry). Nothing is
// published or dead-lettered.
func (s *Server) answerProbe(ctx *fasthttp.RequestCtx, p *normalize.Provider, m *providerMetrics, reply []byte, err error) {
	switch e := err.(type) {
	case nil:
		m.probes.Inc()
		// Rare (a console check, Zoom every 72 h, an SNS subscription): worth a line, and
		// the only trace of an SNS subscription confirmed or ended.
		s.cfg.Logger.Info("probe answered, not published", "provider", p.ID, "remote", ctx.RemoteIP().String())
		s.reply(ctx, fasthttp.StatusOK, reply)
	case *normalize.AuthError:
		m.verifyFailures.Inc()
		m.unauthorized.Inc()
		s.cfg.Logger.Warn("handshake rejected", "provider", p.ID, "reason", e.Reason, "remote", ctx.RemoteIP().String())
		s.replyError(ctx, fasthttp.StatusUnauthorized, e.Reason, "")
	case *normalize.PayloadError:
		m.invalid.Inc()
		s.replyError(ctx, fasthttp.StatusBadRequest, e.Error(), e.Field)
	case *normalize.UnavailableError:
		s.retryLater(ctx, p, "handshake not completed, for the sender to retry", e)
	default:
		panic(err) // Probe returns only the three error types above
	}
}

// answer replies to a processed callback: 401 for a failed check, 503 for a check that could not
// be made (the sender retries), a dead letter and 400 for a body of the wrong shape, else the
// event published and the provider's reply.
func (s *Server) answer(ctx *fasthttp.RequestCtx, r *Route, w *work, m *providerMetrics, tr spans, err error) {
	p := r.Provider
	// A type switch, not errors.As: Run returns these types unwrapped, and As's targets would
	// escape to the heap, two allocations on every callback.
	switch e := err.(type) {
	case nil:
		s.publishEvent(ctx, r, w, m, tr)
	case *normalize.AuthError:
		m.verifyFailures.Inc()
		m.unauthorized.Inc()
		s.cfg.Logger.Warn("callback rejected", "provider", p.ID, "reason", e.Reason, "remote", ctx.RemoteIP().String())
		s.replyError(ctx, fasthttp.StatusUnauthorized, e.Reason, "")
	case *normalize.PayloadError:
		s.deadLetter(ctx, p, w, m, tr, e)
	case *normalize.UnavailableError:
		s.retryLater(ctx, p, "callback not checked, for the sender to retry", e)
	default:
		panic(err) // Run returns only the three error types above
	}
}

// retryLater answers a check or handshake that could not be made for a reason that may pass:
// 503 with Retry-After, so that the sender sends it again.
func (s *Server) retryLater(ctx *fasthttp.RequestCtx, p *normalize.Provider, msg string, e *normalize.UnavailableError) {
	s.cfg.Logger.Warn(msg, "provider", p.ID, "reason", e.Reason, "remote", ctx.RemoteIP().String())
	ctx.Response.Header.SetBytesV("Retry-After", s.retryAfter)
	s.replyError(ctx, fasthttp.StatusServiceUnavailable, e.Reason, "")
}

// deadLetter answers a body of the wrong shape: dead-lettered when it was authenticated, and 400.
func (s *Server) deadLetter(ctx *fasthttp.RequestCtx, p *normalize.Provider, w *work, m *providerMetrics, tr spans, e *normalize.PayloadError) {
	if w.ev.Unverified {
		// Not authenticated: anyone could fill the dead letters with it, and replay would
		// publish it as if it were genuine.
		m.invalid.Inc()
		s.cfg.Logger.Warn("unverified callback refused, not dead-lettered", "provider", p.ID, "reason", e.Error())
		s.replyError(ctx, fasthttp.StatusBadRequest, e.Error(), e.Field)
		return
	}
	tr.startPublish(nil)
	err := s.storeDeadLetter(p, w.cb.Body, e.Error())
	tr.endPublish(err)
	if err != nil {
		s.publishFailed(ctx, m, p.ID, "dead letter not published", err)
		return
	}
	m.deadLettered.Inc()
	s.cfg.Logger.Warn("callback dead-lettered", "provider", p.ID, "reason", e.Error())
	s.replyError(ctx, fasthttp.StatusBadRequest, e.Error(), e.Field)
}

// publishEvent hands the callback's events (the native one, then its canonical counterpart) to
// the sink, each within the route's PublishTimeout when it has one, and answers the provider
// once every one is acknowledged: a failure of either is answered as its error says, and the
// provider's retry publishes both again under the same ids.
func (s *Server) publishEvent(ctx *fasthttp.RequestCtx, r *Route, w *work, m *providerMetrics, tr spans) {
	p := r.Provider
	start := time.Now()
	tr.startPublish(&w.ev)
	var err error
	ev := &w.ev
	for _, ev = range w.out {
		if s.within != nil && r.PublishTimeout > 0 {
			err = s.within.PublishWithin(ev, r.PublishTimeout)
		} else {
			err = s.sink.Publish(ev)
		}
		if err != nil {
			break
		}
	}
	tr.endPublish(err)
	if errors.Is(err, publish.ErrNameTooLong) {
		s.refuseName(ctx, m, tr, p, &w.cb, w.ev.Unverified, err)
		return
	}
	if err != nil {
		s.publishFailed(ctx, m, p.ID, "publish failed", err, "type", logValue(ev.Type), "id", logValue(ev.ID))
		return
	}
	s.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	m.published.Inc()
	s.reply(ctx, fasthttp.StatusOK, p.ReplyFor(&w.cb))
}

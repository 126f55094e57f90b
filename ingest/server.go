// Package ingest is the HTTP front door: it accepts provider callbacks on fasthttp, verifies and
// normalises them with the provider's entry in normalize.Providers, hands the envelope to a
// publish.Sink and answers the way the provider expects.
//
// The contract (SPEC §2): 200 with the provider's body only after the sink acknowledged the
// event (or for a URL check, which publishes nothing); 401 for a failed check; 400, after the raw
// body is dead-lettered, for an authenticated body of the wrong shape; 413 over the body limit;
// 503 with Retry-After when the sink fails, times out or too many callbacks are in flight; 404
// for an unknown provider or a wrong URL token; 405 for anything but POST. A panic answers 500.
package ingest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// Route is one enabled provider with its settings.
type Route struct {
	Provider *normalize.Provider
	Auth     normalize.Auth
	Enforce  bool   // false: report mode, failed checks are logged and the event marked verified=false
	URLToken []byte // when set, the provider is served only on /v1/callbacks/{provider}/{token}
}

// Config is the server's part of the configuration.
type Config struct {
	Routes       []Route
	MaxBodyBytes int
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	MaxInflight  int
	RetryAfter   time.Duration
	Logger       *slog.Logger
	Registry     *prometheus.Registry // metrics are registered here and served on /metrics
}

// Server serves callbacks, probes and metrics.
type Server struct {
	cfg        Config
	sink       publish.Sink
	http       *fasthttp.Server
	retryAfter []byte
	draining   atomic.Bool
	inflight   atomic.Int64
	work       sync.Pool
	metrics    *metrics
	metricsH   fasthttp.RequestHandler
}

// work is the per-request state, pooled so a callback allocates as little as possible.
type work struct {
	cb normalize.Callback
	ev normalize.Event
}

// New builds a server publishing to sink.
func New(cfg Config, sink publish.Sink) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		cfg:        cfg,
		sink:       sink,
		retryAfter: strconv.AppendInt(nil, int64(max(time.Second, cfg.RetryAfter)/time.Second), 10),
		metrics:    newMetrics(cfg.Registry),
	}
	s.metrics.inflightFunc(func() float64 { return float64(s.inflight.Load()) })
	for _, r := range cfg.Routes {
		s.metrics.register(r.Provider.ID)
	}
	s.metricsH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.http = &fasthttp.Server{
		Handler:               s.Handle,
		ErrorHandler:          s.handleError,
		ExpectHandler:         s.expect,
		Name:                  "callbridge",
		MaxRequestBodySize:    cfg.MaxBodyBytes,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		Logger:                slogPrinter{cfg.Logger},
	}
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Drain turns /readyz to 503 so load balancers stop sending; requests are still served.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown closes the listener and waits for in-flight requests to finish, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.ShutdownWithContext(ctx) }

var (
	prefix       = []byte("/v1/callbacks/")
	jsonType     = []byte("application/json")
	replyOK      = []byte("ok\n")
	errInternal  = []byte(`{"error":"internal error"}`)
	errTooLarge  = []byte(`{"error":"body larger than CALLBRIDGE_MAX_BODY_BYTES"}`)
	errNotFound  = []byte(`{"error":"not found"}`)
	errMethod    = []byte(`{"error":"method not allowed: callbacks are POSTed"}`)
	errOverload  = []byte(`{"error":"too many callbacks in flight, retry later"}`)
	errPublish   = []byte(`{"error":"the event could not be published, retry later"}`)
	errNotReady  = []byte(`{"error":"not ready"}`)
	errBadSyntax = []byte(`{"error":"malformed request"}`)
)

// Handle routes one request.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("panic while handling a request", "panic", v, "path", string(ctx.Path()), "stack", string(debug.Stack()))
			s.metrics.panics.Inc()
			ctx.ResetBody()
			s.reply(ctx, fasthttp.StatusInternalServerError, errInternal)
		}
	}()
	path := ctx.Path()
	if bytes.HasPrefix(path, prefix) {
		s.callback(ctx, path[len(prefix):])
		return
	}
	switch string(path) {
	case "/healthz":
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBody(replyOK)
	case "/readyz":
		if err := s.ready(); err != nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(err.Error() + "\n")
			return
		}
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBody(replyOK)
	case "/metrics":
		s.metricsH(ctx)
	default:
		s.reply(ctx, fasthttp.StatusNotFound, errNotFound)
	}
}

var errDraining = errors.New("draining")

func (s *Server) ready() error {
	if s.draining.Load() {
		return errDraining
	}
	return s.sink.Ready()
}

func (s *Server) route(id []byte) *Route {
	for i := range s.cfg.Routes {
		if s.cfg.Routes[i].Provider.ID == string(id) {
			return &s.cfg.Routes[i]
		}
	}
	return nil
}

func (s *Server) callback(ctx *fasthttp.RequestCtx, rest []byte) {
	id, token, hasToken := bytes.Cut(rest, []byte{'/'})
	r := s.route(id)
	if r == nil || (hasToken && bytes.IndexByte(token, '/') >= 0) {
		s.reply(ctx, fasthttp.StatusNotFound, errNotFound)
		return
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		s.reply(ctx, fasthttp.StatusMethodNotAllowed, errMethod)
		return
	}
	// A wrong token answers exactly like an unknown path, so the path does not leak.
	if len(r.URLToken) > 0 {
		if !hasToken || subtle.ConstantTimeCompare(token, r.URLToken) != 1 {
			s.reply(ctx, fasthttp.StatusNotFound, errNotFound)
			return
		}
	} else if hasToken {
		s.reply(ctx, fasthttp.StatusNotFound, errNotFound)
		return
	}
	m := s.metrics.forProvider(r.Provider.ID)

	if n := s.inflight.Add(1); n > int64(s.cfg.MaxInflight) {
		s.inflight.Add(-1)
		m.overloaded.Inc()
		s.unavailable(ctx, errOverload)
		return
	}
	defer s.inflight.Add(-1)

	w, _ := s.work.Get().(*work)
	if w == nil {
		w = new(work)
	}
	defer func() {
		w.cb.Reset()
		w.ev.Reset()
		s.work.Put(w)
	}()
	w.cb.Body = ctx.PostBody()
	w.cb.Header = &ctx.Request.Header
	w.cb.Received = time.Now()
	w.cb.TokenRoute = hasToken

	p := r.Provider
	if p.IsProbe(&w.cb) {
		m.probes.Inc()
		s.reply(ctx, fasthttp.StatusOK, p.Reply)
		return
	}
	reportErr, err := p.Run(&w.cb, &r.Auth, r.Enforce, &w.ev)
	if reportErr != nil {
		m.verifyFailures.Inc()
		s.cfg.Logger.Warn("verification failed, accepted in report mode", "provider", p.ID, "reason", reportErr.Error(), "remote", ctx.RemoteIP().String())
	}
	var authErr *normalize.AuthError
	var payloadErr *normalize.PayloadError
	switch {
	case errors.As(err, &authErr):
		m.verifyFailures.Inc()
		m.unauthorized.Inc()
		s.cfg.Logger.Warn("callback rejected", "provider", p.ID, "reason", authErr.Reason, "remote", ctx.RemoteIP().String())
		s.replyError(ctx, fasthttp.StatusUnauthorized, authErr.Reason, "")
		return
	case errors.As(err, &payloadErr):
		if err := s.sink.DeadLetter(p.ID, w.cb.Body, payloadErr.Error()); err != nil {
			m.publishFailed.Inc()
			s.cfg.Logger.Error("dead letter not published", "provider", p.ID, "error", err)
			s.unavailable(ctx, errPublish)
			return
		}
		m.deadLettered.Inc()
		s.cfg.Logger.Warn("callback dead-lettered", "provider", p.ID, "reason", payloadErr.Error())
		s.replyError(ctx, fasthttp.StatusBadRequest, payloadErr.Error(), payloadErr.Field)
		return
	case err != nil:
		panic(err) // Run returns only the two error types above
	}
	start := time.Now()
	if err := s.sink.Publish(&w.ev); err != nil {
		m.publishFailed.Inc()
		s.cfg.Logger.Error("publish failed", "provider", p.ID, "type", string(w.ev.Type), "id", string(w.ev.ID), "error", err)
		s.unavailable(ctx, errPublish)
		return
	}
	s.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	m.published.Inc()
	s.reply(ctx, fasthttp.StatusOK, p.Reply)
}

func (s *Server) reply(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(jsonType)
	ctx.SetBody(body)
}

func (s *Server) unavailable(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.Response.Header.SetBytesV("Retry-After", s.retryAfter)
	s.reply(ctx, fasthttp.StatusServiceUnavailable, body)
}

// replyError answers {"error":"...","field":"..."}.
func (s *Server) replyError(ctx *fasthttp.RequestCtx, status int, reason, field string) {
	b := append(ctx.Response.Body()[:0], `{"error":`...)
	b = strconv.AppendQuote(b, reason)
	if field != "" {
		b = append(b, `,"field":`...)
		b = strconv.AppendQuote(b, field)
	}
	b = append(b, '}')
	s.reply(ctx, status, b)
}

// handleError answers requests fasthttp could not read: over the body limit (413, without
// reading the rest), timed out or malformed.
func (s *Server) handleError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.metrics.tooLarge.Inc()
		s.reply(ctx, fasthttp.StatusRequestEntityTooLarge, errTooLarge)
	default:
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			s.reply(ctx, fasthttp.StatusRequestTimeout, []byte(`{"error":"request timed out"}`))
			return
		}
		s.reply(ctx, fasthttp.StatusBadRequest, errBadSyntax)
	}
}

// expect answers "Expect: 100-continue": a body announced over the limit gets 413 before the
// client is invited to send it.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	if n := ctx.Request.Header.ContentLength(); n > s.cfg.MaxBodyBytes {
		s.metrics.tooLarge.Inc()
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusContinue
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.l.Debug("fasthttp", "message", fmt.Sprintf(format, args...))
}

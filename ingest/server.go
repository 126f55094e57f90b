// Package ingest is the HTTP front door: it accepts provider callbacks on fasthttp, verifies and
// normalises them with the provider's entry in the bridge's normalize.Registry (Config.Routes: one
// route per entry), hands the envelope to a publish.Sink and answers the way the provider
// expects.
//
// The contract (SPEC §2): 200 with the provider's body only after the sink acknowledged the
// event (or for a URL check, which publishes nothing); 401 for a failed check; 400 for a body of
// the wrong shape, or for an event whose subject or topic the broker could not take
// (publish.ErrNameTooLong), dead-lettered first when it was authenticated; 413 over the body limit or
// the broker's message size (permanent: never 503); 431 over the header limit; 503 with
// Retry-After when the sink fails, times out, or too many callbacks or too many body bytes are
// in flight; 404 for an unknown provider or a wrong URL token; 405 for anything but POST. A panic
// answers 500. While draining every answer carries Connection: close.
//
// Memory is bounded whatever clients do: connections by Config.MaxConns, headers by
// Config.MaxHeaderBytes, bodies by the shared Config.BodyMemoryBytes (body.go). Nothing a request
// carries (body, signature, URL token) is logged.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	// PublishTimeout, when set, is the provider's own deadline, shorter than the sink's timeout
	// (CALLBRIDGE_<ID>_PUBLISH_TIMEOUT): its events are published with the sink's PublishWithin,
	// when it has one (publish.Within), so that it is answered 503 before it stops waiting.
	PublishTimeout time.Duration
}

// Config is the server's part of the configuration.
type Config struct {
	Routes          []Route
	MaxBodyBytes    int   // largest body accepted; SetMaxBodyBytes lowers it once the broker is known
	MaxHeaderBytes  int   // request line and headers; more gets 431
	MaxConns        int   // connections served at once; more are refused
	BodyMemoryBytes int64 // body bytes held by all requests together; past it 503
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	MaxInflight     int
	RetryAfter      time.Duration
	Logger          *slog.Logger
	Registry        *prometheus.Registry // metrics are registered here and served on /metrics
	Tracer          Tracer               // nil: no spans (tracing.go)
	// Output completes every event (its dataschema) and makes its canonical counterpart; nil:
	// the native event alone, without a dataschema.
	Output *normalize.Output
	// Contract answers GET /schemas/... and /asyncapi.yaml (SPEC §9): the file at path, made at
	// start-up, and its media type; ok false: 404. Nil: both 404.
	Contract func(path []byte) (body []byte, contentType string, ok bool)
}

// Server serves callbacks, probes and metrics.
type Server struct {
	cfg          Config
	sink         publish.Sink
	within       publish.Within // sink, when it can publish within a route's PublishTimeout
	http         *fasthttp.Server
	retryAfter   []byte
	draining     atomic.Bool
	inflight     atomic.Int64
	maxBody      atomic.Int64
	bodyMemory   atomic.Int64 // bytes reserved by body buffers, held or pooled (body.go)
	bodies       bodyPool     // spare body buffers, reserved
	drains       atomic.Int64 // refused bodies being drained
	work         sync.Pool
	metrics      *metrics
	metricsH     fasthttp.RequestHandler
	tokenDigests map[string][32]byte // by provider: SHA-256 of the URL token
}

// work is the per-request state, pooled so a callback allocates as little as possible.
type work struct {
	cb       normalize.Callback
	ev       normalize.Event
	canon    normalize.Event    // ev's canonical counterpart, when it has one
	out      []*normalize.Event // what the callback publishes, in order: ev, then canon
	body     []byte
	own      []byte // the first minBodyBuf bytes of body buffer, w's own (body.go)
	reserved int64  // of the body budget: body's capacity when it is not own
}

// New builds a server publishing to sink.
func New(cfg Config, sink publish.Sink) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.BodyMemoryBytes <= 0 {
		cfg.BodyMemoryBytes = max(64<<20, 4*int64(cfg.MaxBodyBytes))
	}
	s := &Server{
		cfg:          cfg,
		sink:         sink,
		retryAfter:   strconv.AppendInt(nil, int64(max(time.Second, cfg.RetryAfter)/time.Second), 10),
		metrics:      newMetrics(cfg.Registry),
		tokenDigests: map[string][32]byte{},
	}
	s.within, _ = sink.(publish.Within)
	s.maxBody.Store(int64(cfg.MaxBodyBytes))
	s.metrics.inflightFunc(func() float64 { return float64(s.inflight.Load()) })
	for _, r := range cfg.Routes {
		s.metrics.register(r.Provider.ID)
		if len(r.URLToken) > 0 {
			s.tokenDigests[r.Provider.ID] = sha256.Sum256(r.URLToken)
		}
	}
	s.metricsH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.http = &fasthttp.Server{
		Handler:       s.Handle,
		ErrorHandler:  s.handleError,
		ExpectHandler: s.expect,
		Name:          "callbridge",
		// Bodies are read by the handler as they arrive (body.go). With streaming, fasthttp
		// reads min(this, Content-Length, 8 KiB) bytes before it calls the handler: 1, so that
		// a body announced over the limit is answered 413 at once, not after the client sent
		// 8 KiB of it. Multipart bodies are not parsed ahead either.
		StreamRequestBody:            true,
		MaxRequestBodySize:           1,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               cfg.MaxHeaderBytes,
		Concurrency:                  cfg.MaxConns,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		CloseOnShutdown:              true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		// fasthttp's own messages may quote the request (headers, a signature, the body);
		// these settings keep them out, and the printer logs only the message's template.
		SecureErrorLogMessage: true,
		Logger:                slogPrinter{cfg.Logger},
	}
	return s
}

// SetMaxBodyBytes lowers the body limit, once the broker's message size is known.
func (s *Server) SetMaxBodyBytes(n int) { s.maxBody.Store(int64(n)) }

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
	errTooBig    = []byte(`{"error":"event larger than the broker accepts"}`)
	errHeaders   = []byte(`{"error":"request headers larger than CALLBRIDGE_MAX_HEADER_BYTES"}`)
	errTimeout   = []byte(`{"error":"request timed out"}`)
	errBodyBusy  = []byte(`{"error":"too many request bodies in flight, retry later"}`)
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
			// The route, not the path: a path may hold a URL token.
			s.cfg.Logger.Error("panic while handling a request", "panic", v, "route", loggedRoute(ctx.Path()), "stack", string(debug.Stack()))
			s.metrics.panics.Inc()
			ctx.ResetBody()
			s.reply(ctx, fasthttp.StatusInternalServerError, errInternal)
		}
	}()
	if s.draining.Load() {
		ctx.SetConnectionClose() // clients reconnect elsewhere, not into a closing listener
	}
	path := ctx.Path()
	if bytes.HasPrefix(path, prefix) {
		s.callback(ctx, path[len(prefix):])
		return
	}
	switch string(path) {
	case "/healthz":
		if err := s.sink.Live(); err != nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(err.Error() + "\n")
			return
		}
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBody(replyOK)
	case "/readyz":
		if err := s.ready(); err != nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(err.Error() + "\n")
			return
		}
		ctx.SetStatusCode(fasthttp.StatusOK)
		if d, ok := s.sink.(interface{ Detail() string }); ok {
			ctx.SetBodyString("ok: " + d.Detail() + "\n") // buffer mode: how forwarding goes
			return
		}
		ctx.SetBody(replyOK)
	case "/metrics":
		s.metricsH(ctx)
	default:
		s.contract(ctx, path)
	}
}

// contract answers a GET of the event contract's files (schemas, AsyncAPI document), else 404.
func (s *Server) contract(ctx *fasthttp.RequestCtx, path []byte) {
	if s.cfg.Contract != nil && (ctx.IsGet() || ctx.IsHead()) {
		if body, ctype, ok := s.cfg.Contract(path); ok {
			ctx.SetStatusCode(fasthttp.StatusOK)
			ctx.Response.Header.SetContentType(ctype)
			ctx.SetBody(body)
			return
		}
	}
	s.reject(ctx, rejectNotFound, fasthttp.StatusNotFound, errNotFound)
}

// loggedRoute is what of a path may be logged: /v1/callbacks/{provider}, never a token after it.
func loggedRoute(path []byte) string {
	if rest, ok := bytes.CutPrefix(path, prefix); ok {
		id, _, _ := bytes.Cut(rest, []byte{'/'})
		return string(prefix) + string(id[:min(len(id), 64)])
	}
	return string(path[:min(len(path), 64)])
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

// tokenMatches compares digests, which have one length, so the time taken says nothing of the
// token's length either.
func (s *Server) tokenMatches(r *Route, token []byte) bool {
	want := s.tokenDigests[r.Provider.ID]
	got := sha256.Sum256(token)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// reject answers a request refused at the HTTP layer, counts it by reason and logs it at info:
// the reason, the method and the route, never a body, header value or token.
func (s *Server) reject(ctx *fasthttp.RequestCtx, reason string, status int, body []byte) {
	s.metrics.rejections.WithLabelValues(reason).Inc()
	s.cfg.Logger.Info("request refused", "reason", reason, "status", status, "method", string(ctx.Method()[:min(len(ctx.Method()), 16)]), "route", loggedRoute(ctx.Path()), "remote", ctx.RemoteIP().String())
	s.reply(ctx, status, body)
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

// replyError answers {"error":"...","field":"..."}, both JSON strings cut to maxReplyText.
func (s *Server) replyError(ctx *fasthttp.RequestCtx, status int, reason, field string) {
	b := append(ctx.Response.Body()[:0], `{"error":`...)
	b = appendJSONString(b, reason)
	if field != "" {
		b = append(b, `,"field":`...)
		b = appendJSONString(b, field)
	}
	b = append(b, '}')
	s.reply(ctx, status, b)
}

// maxReplyText bounds each string of an error reply.
const maxReplyText = 512

// appendJSONString appends s, cut to maxReplyText bytes on a rune boundary, as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	if len(s) > maxReplyText {
		cut := maxReplyText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	quoted, _ := json.Marshal(s) // a string always marshals
	return append(dst, quoted...)
}

// handleError answers requests fasthttp could not read: headers over the limit (431), a
// timeout (408), anything else malformed (400). Each is counted and logged with its reason,
// never with what the request held.
func (s *Server) handleError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.As(err, &small):
		s.reject(ctx, rejectHeadersTooLarge, fasthttp.StatusRequestHeaderFieldsTooLarge, errHeaders)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.reject(ctx, rejectBodyTooLarge, fasthttp.StatusRequestEntityTooLarge, errTooLarge)
	case errors.As(err, &netErr) && netErr.Timeout():
		s.reject(ctx, rejectTimeout, fasthttp.StatusRequestTimeout, errTimeout)
	default:
		s.reject(ctx, rejectMalformed, fasthttp.StatusBadRequest, errBadSyntax)
	}
}

// expect answers "Expect: 100-continue": a body announced over the limit gets 413 before the
// client is invited to send it.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	if n := ctx.Request.Header.ContentLength(); n > int(s.maxBody.Load()) {
		s.metrics.rejections.WithLabelValues(rejectBodyTooLarge).Inc()
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusContinue
}

type slogPrinter struct{ l *slog.Logger }

// Printf logs the message's template only: fasthttp's arguments may quote the request.
func (p slogPrinter) Printf(format string, _ ...any) {
	p.l.Debug("fasthttp", "message", format)
}

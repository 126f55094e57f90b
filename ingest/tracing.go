package ingest

import (
	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/normalize"
)

// Tracer records the spans of callbacks (SPEC §8). Config.Tracer nil, the default, records
// nothing: the request path then makes no call and no allocation for tracing. The
// OpenTelemetry implementation is package tracing, built by cmd/callbridge from OTEL_*.
//
// Nothing a request carries that could authenticate it or that it chose freely (body,
// signature headers, URL token) may be recorded: the server hands a Tracer the request's
// headers only to read the trace context, and otherwise only the provider id, the HTTP status,
// the event's id and type, and errors of its own wording.
type Tracer interface {
	// Callback starts the server span of one callback to provider, continuing the trace context
	// of the request's traceparent and tracestate headers.
	Callback(h *fasthttp.RequestHeader, provider string) Span
}

// Span is one callback's server span, with the verify and publish spans under it.
type Span interface {
	StartVerify()
	// EndVerify ends the verify span: err is Run's error (the callback is refused), reportErr a
	// check that failed in report mode (the callback is accepted unverified).
	EndVerify(err, reportErr error)
	// StartPublish starts the publish span of ev, or of the callback's dead letter when ev is nil.
	StartPublish(ev *normalize.Event)
	EndPublish(err error)
	// End ends the server span, and a child span still open, with the HTTP status answered.
	End(status int)
}

// spans is a callback's Span, or none when the server has no Tracer: every method is then a
// nil check, inlined, so an untraced request pays nothing else.
type spans struct{ s Span }

func (s *Server) startSpans(ctx *fasthttp.RequestCtx, provider string) spans {
	if s.cfg.Tracer == nil {
		return spans{}
	}
	return spans{s.cfg.Tracer.Callback(&ctx.Request.Header, provider)}
}

func (t spans) on() bool { return t.s != nil }

func (t spans) startVerify() {
	if t.s != nil {
		t.s.StartVerify()
	}
}

func (t spans) endVerify(err, reportErr error) {
	if t.s != nil {
		t.s.EndVerify(err, reportErr)
	}
}

func (t spans) startPublish(ev *normalize.Event) {
	if t.s != nil {
		t.s.StartPublish(ev)
	}
}

func (t spans) endPublish(err error) {
	if t.s != nil {
		t.s.EndPublish(err)
	}
}

// end is deferred by callback when traced. A panic (answered 500 by Handle) ends the spans as a
// 500 and goes on: the re-panic keeps the original frames on the stack Handle logs.
func (t spans) end(ctx *fasthttp.RequestCtx) {
	if v := recover(); v != nil {
		t.s.End(fasthttp.StatusInternalServerError)
		panic(v)
	}
	t.s.End(ctx.Response.StatusCode())
}

// Package tracing exports the spans of callbacks (SPEC §8) with the OpenTelemetry SDK over
// OTLP/HTTP, when the environment names a collector: OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. Otherwise FromEnv builds nothing at all: no exporter, no
// SDK tracer provider, and the server gets a nil ingest.Tracer, which costs the request path
// nothing.
//
// Each callback is a server span "callback <provider>" continuing the request's traceparent
// (W3C trace context), with the child spans "verify" (signature check and normalisation) and
// "publish" (the broker's acknowledgement, or a dead letter's). Recorded: the provider id, the
// HTTP method, route and status, the CloudEvent's id and type, the messaging system, why
// verification failed in the bridge's own words, and the broker client's error. Never the
// body, a signature header, the URL (its token) or a payload error's detail (which may quote
// the body).
//
// The exporter and the SDK read the standard variables themselves: OTEL_EXPORTER_OTLP_HEADERS,
// _TIMEOUT, _INSECURE, _CERTIFICATE, _COMPRESSION, _PROTOCOL (http/protobuf, the default, or
// http/json; not grpc) and their _TRACES_ forms; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// (service name callbridge unless set); OTEL_TRACES_SAMPLER; OTEL_BSP_*. OTEL_SDK_DISABLED=true
// or OTEL_TRACES_EXPORTER=none turn tracing off.
package tracing

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES set one.
const DefaultServiceName = "callbridge"

const instrumentation = "github.com/callbridge/callbridge/ingest"

// Attributes of the bridge's own.
var (
	attrProvider   = attribute.Key("callbridge.provider")
	attrVerified   = attribute.Key("callbridge.verified")
	attrReportMode = attribute.Key("callbridge.report_mode")
	attrDeadLetter = attribute.Key("callbridge.dead_letter")
)

// Provider is the SDK tracer provider and its exporter. A nil *Provider is tracing off.
type Provider struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	system attribute.KeyValue // messaging.system: the sink
}

// Enabled reports whether the environment asks for traces.
func Enabled() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv builds the tracer provider when Enabled, else returns nil and builds nothing. sink
// ("nats" or "kafka") becomes messaging.system on publish spans, version service.version.
// Nothing is dialled here: the exporter connects when it first exports, and failures to export
// are logged by logger, never fatal.
func FromEnv(ctx context.Context, sink, version string, logger *slog.Logger) (*Provider, error) {
	if !Enabled() {
		return nil, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if v := os.Getenv(name); v != "" && v != "http/protobuf" && v != "http/json" {
			logger.Warn("only OTLP over HTTP is supported (http/protobuf, http/json): exporting http/protobuf", "variable", name, "value", v)
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, errors.New("tracing: OTLP exporter: " + err.Error())
	}
	// Later detectors win: the default name, then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(),
	)
	if err != nil {
		// A malformed OTEL_RESOURCE_ATTRIBUTES: what could be read is kept.
		logger.Warn("tracing: resource attributes partly ignored", "error", err)
	}
	// The SDK reports export failures through the global handler and logger, which print to
	// stderr in their own format by default; send them to the bridge's log instead.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { logger.Warn("tracing: export failed", "error", err) }))
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))
	return newProvider(sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), sink, version), nil
}

func newProvider(tp *sdktrace.TracerProvider, sink, version string) *Provider {
	return &Provider{
		tp:     tp,
		tracer: tp.Tracer(instrumentation, trace.WithInstrumentationVersion(version)),
		system: semconv.MessagingSystemKey.String(sink),
	}
}

// Tracer is what the server calls; nil when p is nil, so the server records nothing.
func (p *Provider) Tracer() ingest.Tracer {
	if p == nil {
		return nil
	}
	return tracer{p}
}

// Shutdown ends the spans still queued to the collector and stops the exporter, within ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.tp.Shutdown(ctx)
}

type tracer struct{ p *Provider }

func (t tracer) Callback(h *fasthttp.RequestHeader, provider string) ingest.Span {
	ctx := propagation.TraceContext{}.Extract(context.Background(), headerCarrier{h})
	ctx, server := t.p.tracer.Start(ctx, "callback "+provider,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attrProvider.String(provider),
			semconv.HTTPRequestMethodPost,
			// The route, never the path: the path may hold a URL token.
			semconv.HTTPRoute("/v1/callbacks/"+provider),
		))
	return &span{p: t.p, ctx: ctx, server: server}
}

// span is one callback's server span and its open child, if any.
type span struct {
	p      *Provider
	ctx    context.Context // carries the server span
	server trace.Span
	child  trace.Span // verify or publish, until it ends
}

func (s *span) StartVerify() {
	_, s.child = s.p.tracer.Start(s.ctx, "verify", trace.WithSpanKind(trace.SpanKindInternal))
}

func (s *span) EndVerify(err, reportErr error) {
	if s.child == nil {
		return
	}
	switch {
	case err != nil:
		s.child.SetStatus(codes.Error, failure(err))
	case reportErr != nil:
		s.child.SetAttributes(attrReportMode.Bool(true))
		s.child.SetStatus(codes.Error, failure(reportErr))
	}
	s.endChild()
}

// failure describes a verify error without what the request carried: an authentication
// failure's reason is the bridge's own sentence; a payload error may quote the body, so only
// its kind is kept.
func failure(err error) string {
	var authErr *normalize.AuthError
	var payloadErr *normalize.PayloadError
	switch {
	case errors.As(err, &authErr):
		return "unauthorized: " + authErr.Reason
	case errors.As(err, &payloadErr):
		return "malformed payload"
	}
	return "verification failed"
}

func (s *span) StartPublish(ev *normalize.Event) {
	attrs := []attribute.KeyValue{s.p.system, semconv.MessagingOperationTypeSend, attrDeadLetter.Bool(ev == nil)}
	if ev != nil {
		// Copies: ev is pooled and reused once the callback is answered.
		ce := []attribute.KeyValue{
			semconv.CloudEventsEventID(string(ev.ID)),
			semconv.CloudEventsEventType(string(ev.Type)),
			attrVerified.Bool(!ev.Unverified),
		}
		s.server.SetAttributes(ce...)
		attrs = append(attrs, ce[:2]...)
	}
	_, s.child = s.p.tracer.Start(s.ctx, "publish", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
}

func (s *span) EndPublish(err error) {
	if s.child == nil {
		return
	}
	if err != nil {
		s.child.RecordError(err)
		s.child.SetStatus(codes.Error, err.Error())
	}
	s.endChild()
}

func (s *span) endChild() {
	s.child.End()
	s.child = nil
}

// End ends the server span with the answer's status: 5xx, and 413 (the event will never be
// delivered: the provider must not retry it), are errors; other 4xx are the client's and leave
// the status unset, as OpenTelemetry's HTTP conventions say for a server.
func (s *span) End(status int) {
	if s.child != nil { // a panic left it open
		s.child.SetStatus(codes.Error, "interrupted")
		s.endChild()
	}
	s.server.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 || status == fasthttp.StatusRequestEntityTooLarge {
		s.server.SetStatus(codes.Error, fasthttp.StatusMessage(status))
	}
	s.server.End()
}

// headerCarrier reads the trace context from fasthttp's request headers.
type headerCarrier struct{ h *fasthttp.RequestHeader }

func (c headerCarrier) Get(key string) string { return string(c.h.Peek(key)) }

func (c headerCarrier) Set(key, value string) { c.h.Set(key, value) }

func (c headerCarrier) Keys() []string {
	var keys []string
	for k := range c.h.All() {
		keys = append(keys, string(k))
	}
	return keys
}

package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/contract"
	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
	"github.com/callbridge/callbridge/tracing"
)

// Version is the version the bridge logs and reports in its traces; the command sets it.
var Version = "dev"

// ErrStoppedWhileConnecting: ctx ended (SIGTERM) before the broker was reached. Nothing was
// accepted, so there is nothing to drain: a clean stop.
var ErrStoppedWhileConnecting = errors.New("stopped while connecting to the broker")

// Bridge is a running callbridge: the sink and the HTTP server in front of it.
type Bridge struct {
	cfg      *config.Config
	registry *normalize.Registry // every provider and generic source served, built once
	sink     publish.Sink
	server   *ingest.Server
	addr     net.Addr
	served   chan error
	fatal    chan error // buffer mode: the broker refused us for good while the buffer ran
	logger   *slog.Logger
	traces   *tracing.Provider // nil unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set
	metrics  prometheus.Registerer
}

// Addr is the address the bridge serves on.
func (b *Bridge) Addr() net.Addr { return b.addr }

// Sink is what callbacks are published to: the broker's connection, or the buffer in front of it.
func (b *Bridge) Sink() publish.Sink { return b.sink }

// Registry is every provider and generic source served.
func (b *Bridge) Registry() *normalize.Registry { return b.registry }

// Traces is the trace exporter, nil unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set.
func (b *Bridge) Traces() *tracing.Provider { return b.traces }

// Serve runs the bridge until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger) error {
	b, err := Start(ctx, cfg, ln, logger)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-b.served:
		b.sink.Close(context.Background())
		b.traces.Shutdown(context.Background())
		return fmt.Errorf("HTTP server: %w", err)
	case err := <-b.fatal:
		b.logger.Error("the broker cannot be used; stopping (what is buffered stays on disk)", "error", err)
		if serr := b.Stop(); serr != nil {
			b.logger.Error("stop", "error", serr)
		}
		return err
	}
	return b.Stop()
}

// undo is what start-up has set up so far, torn down in reverse order when a later step fails.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }

func (u undo) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// Start connects the sink and starts serving on ln (or on cfg.Listen when ln is nil).
func Start(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger) (_ *Bridge, err error) {
	registry, tmpl, routes, err := prepare(cfg, logger)
	if err != nil {
		return nil, err
	}
	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	traces, err := tracing.FromEnv(ctx, cfg.Sink, Version, logger)
	if err != nil {
		return nil, err
	}
	u.push(func() { traces.Shutdown(ctx) })
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	late := &lateSink{}
	var front publish.Sink = late // what callbacks are published to
	var buffer *publish.Buffer
	if cfg.BufferMode() {
		if buffer, err = openBuffer(ctx, cfg, registry, tmpl, late, reg, logger); err != nil {
			return nil, err
		}
		u.push(func() { buffer.Close(context.Background()) })
		front = buffer
	}
	files, err := contract.Build(registry, contract.SinkOf(cfg, Version))
	if err != nil {
		return nil, err
	}
	scfg := serverConfig(cfg, routes, reg, traces, logger)
	scfg.Output, scfg.Contract = normalize.NewOutput(cfg.SchemaBaseURL, registry), files.Lookup
	server := ingest.New(scfg, front)
	b := &Bridge{cfg: cfg, registry: registry, server: server, addr: ln.Addr(), served: make(chan error, 1), fatal: make(chan error, 1), logger: logger, traces: traces, metrics: reg}
	// Probes are served while the broker connects: /readyz says 503 until it has (in buffer
	// mode it says 200: the buffer accepts).
	go func() { b.served <- server.Serve(ln) }()
	u.push(func() { server.Shutdown(context.Background()) })
	if buffer != nil {
		err = b.startBuffered(ctx, tmpl, late, buffer)
	} else {
		err = b.startDirect(ctx, tmpl, late, &u)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// prepare is start-up's checks before anything runs: the registry, the topic template, ingest's
// routes, and the warnings the configuration deserves.
func prepare(cfg *config.Config, logger *slog.Logger) (*normalize.Registry, *publish.Template, []ingest.Route, error) {
	registry, err := NewRegistry(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl, err := checkedTopicTemplate(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, name := range config.Unknown(os.Environ(), ProviderSpecs()) {
		logger.Warn("unknown variable ignored: " + name)
	}
	if cfg.AllowUnsignedAuto() && cfg.AllowUnsigned() {
		logger.Warn("no broker configured: embedded NATS JetStream in " + cfg.DataDir + ", and providers without a secret accept UNSIGNED callbacks (development mode; set CALLBRIDGE_ALLOW_UNSIGNED=false or configure secrets)")
	}
	routes, err := routes(cfg, registry, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	return registry, tmpl, routes, nil
}

func serverConfig(cfg *config.Config, routes []ingest.Route, reg *prometheus.Registry, traces *tracing.Provider, logger *slog.Logger) ingest.Config {
	return ingest.Config{
		Routes:          routes,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		MaxHeaderBytes:  cfg.MaxHeaderBytes,
		MaxConns:        cfg.MaxConns,
		BodyMemoryBytes: cfg.BodyMemoryBytes,
		ReadTimeout:     cfg.ReadTimeout,
		WriteTimeout:    cfg.WriteTimeout,
		IdleTimeout:     cfg.IdleTimeout,
		MaxInflight:     cfg.MaxInflight,
		RetryAfter:      cfg.RetryAfter,
		Logger:          logger,
		Registry:        reg,
		Tracer:          traces.Tracer(),
	}
}

// startBuffered serves from the buffer at once and connects the broker behind it.
func (b *Bridge) startBuffered(ctx context.Context, tmpl *publish.Template, late *lateSink, buffer *publish.Buffer) error {
	if err := fitBodyLimit(b.cfg, buffer.MessageLimit(), b.server, b.logger); err != nil {
		return err
	}
	b.sink = buffer
	go b.connectBehindBuffer(ctx, tmpl, late, buffer)
	b.logger.Info("callbridge listening", "addr", b.addr.String(), "ack_mode", "buffer", "buffer", b.cfg.DataDir, "mode", b.cfg.CEMode, "version", Version)
	return nil
}

// startDirect connects the broker, and serves callbacks once it has.
func (b *Bridge) startDirect(ctx context.Context, tmpl *publish.Template, late *lateSink, u *undo) error {
	sink, where, err := connect(ctx, b.cfg, b.registry, tmpl, b.metrics, b.logger)
	if err != nil {
		if ctx.Err() != nil {
			return ErrStoppedWhileConnecting
		}
		return err
	}
	u.push(func() { sink.Close(context.Background()) })
	if err := fitBodyLimit(b.cfg, sink.MessageLimit(), b.server, b.logger); err != nil {
		return err
	}
	late.set(sink)
	b.sink = sink
	b.logger.Info("callbridge listening", "addr", b.addr.String(), "broker", where, "mode", b.cfg.CEMode, "version", Version)
	return nil
}

// Stop drains: /readyz turns 503, the listener closes after the shutdown delay, in-flight
// requests finish, outstanding acknowledgements are awaited, all within the shutdown timeout.
func (b *Bridge) Stop() error {
	b.logger.Info("shutting down", "delay", b.cfg.ShutdownDelay.String())
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ShutdownTimeout)
	defer cancel()
	b.server.Drain()
	select {
	case <-time.After(b.cfg.ShutdownDelay):
	case <-ctx.Done():
	}
	err := b.server.Shutdown(ctx)
	if cerr := b.sink.Close(ctx); err == nil {
		err = cerr
	}
	// After the server: every span has ended. A collector that is down costs spans, not the exit code.
	if terr := b.traces.Shutdown(ctx); terr != nil {
		b.logger.Warn("tracing: spans not exported before shutdown", "error", terr)
	}
	if err == nil {
		b.logger.Info("stopped cleanly")
	}
	return err
}

// IsConfigError reports whether err is a configuration that cannot work (a *config.Error or a
// *publish.SettingError): the command exits 2 with its one line, rather than 1.
func IsConfigError(err error) bool {
	var cerr *config.Error
	var serr *publish.SettingError
	return errors.As(err, &cerr) || errors.As(err, &serr)
}

// Command callbridge receives RTC and live-streaming provider callbacks over HTTP, verifies them,
// normalises them into CloudEvents and publishes them to NATS JetStream, answering 200 only after
// the broker acknowledged. Configuration is the environment only: `callbridge env` lists it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
	"github.com/callbridge/callbridge/tracing"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage: callbridge [command]

commands:
  serve     run the bridge (default)
  env       print every CALLBRIDGE_* variable: type, default, current value, meaning (env -h)
  send      sign a callback as a provider does and POST it to a running bridge (send -h)
  tail      print the CloudEvents published, one JSON per line; -all, -since, filters (tail -h)
  replay    normalise and publish the stored dead letters again, after a fix
  bench     load-test a running bridge with signed, distinct callbacks (bench -h)
  version   print version, commit and Go version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	specs := providerSpecs()
	switch cmd {
	case "serve":
		if len(args) > 1 {
			if a := args[1]; a == "-h" || a == "--help" || a == "help" {
				fmt.Fprint(stdout, usage)
				return 0
			}
			fmt.Fprintf(stderr, "callbridge serve takes no arguments (got %q): it is configured by CALLBRIDGE_* variables; see callbridge env\n", args[1])
			return 2
		}
		cfg, err := config.Load(specs)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		logger := newLogger(stderr, cfg)
		setMemoryLimit(logger, cgroupMemoryFiles())
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		defer servePprof(cfg.PprofListen, logger)()
		if err := serve(ctx, cfg, nil, logger); errors.Is(err, errStoppedWhileConnecting) {
			logger.Info("stopped before the broker was reached; nothing was accepted")
			return 0
		} else if err != nil {
			var cerr *config.Error
			var serr *publish.SettingError
			if errors.As(err, &cerr) || errors.As(err, &serr) {
				fmt.Fprintln(stderr, err)
				return 2
			}
			logger.Error("callbridge stopped", "error", err)
			return 1
		}
		return 0
	case "env":
		return envCommand(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "callbridge %s commit %s %s\n", version, commit(), runtime.Version())
		return 0
	case "send":
		return send(args[1:], stdout, stderr)
	case "tail":
		return tail(args[1:], stdout, stderr)
	case "replay":
		return replay(args[1:], stdout, stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "callbridge: unknown command %q\n%s", cmd, usage)
	return 2
}

// providerSpecs hands config every provider's variables, its own settings included, so that
// config reads, checks and lists them without knowing the registry.
func providerSpecs() []config.ProviderSpec {
	builtins := normalize.Builtins()
	sources := sourceDefaults()
	specs := make([]config.ProviderSpec, 0, len(builtins)+len(sources))
	for i, p := range append(builtins, sources...) {
		spec := config.ProviderSpec{ID: p.ID, SecretVar: p.SecretVar}
		if i >= len(builtins) {
			spec.Env = config.SourceEnv(p.ID)
		}
		for _, s := range p.Settings {
			spec.Own = append(spec.Own, config.ProviderVar{
				Name: s.Name, Type: s.TypeName(), Default: s.Default, Description: s.Description, Secret: s.Secret, WithSecret: s.WithSecret,
				Check: func(v string) (string, bool) { _, want, ok := s.Parse(v); return want, ok },
			})
		}
		specs = append(specs, spec)
	}
	return specs
}

// sourceDefaults are the generic sources named in CALLBRIDGE_WEBHOOK_SOURCES (SPEC §6a) with
// default settings, for their variables. A list config.Load refuses gives none here.
func sourceDefaults() []*normalize.Provider {
	names, _ := config.SourceNames(os.Getenv("CALLBRIDGE_WEBHOOK_SOURCES"))
	builtins := normalize.BuiltinRegistry()
	var ps []*normalize.Provider
	for _, name := range names {
		if builtins.Lookup([]byte(name)) != nil {
			continue // config.Load names the collision
		}
		if p, err := normalize.NewWebhook(name, nil, nil); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// newRegistry builds the bridge's one registry: the built-in providers and the generic sources
// as cfg configures them. Every stage that needs a provider (ingest's routes, the buffer,
// replay, send, bench) is handed this value; a setting that cannot work is a *config.Error.
func newRegistry(cfg *config.Config) (*normalize.Registry, error) {
	sources, err := webhookSources(cfg)
	if err != nil {
		return nil, err
	}
	return normalize.NewRegistry(append(normalize.Builtins(), sources...)...)
}

// loadConfig reads the configuration and builds the registry from it: what every subcommand
// starts from. Either error is a one-line message for exit 2.
func loadConfig() (*config.Config, *normalize.Registry, error) {
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		return nil, nil, err
	}
	registry, err := newRegistry(cfg)
	return cfg, registry, err
}

// webhookSources builds the generic sources as configured; a setting that cannot work is a
// *config.Error naming its variable.
func webhookSources(cfg *config.Config) ([]*normalize.Provider, error) {
	var ps []*normalize.Provider
	for _, name := range cfg.Sources() {
		settings := cfg.Providers[name]
		p, err := normalize.NewWebhook(name, settings.Own, []byte(settings.Secret))
		var serr *normalize.SettingError
		switch {
		case errors.As(err, &serr) && serr.Setting == "SECRET":
			return nil, &config.Error{Line: config.ProviderSpec{ID: name, Env: config.SourceEnv(name)}.VarName(serr.Setting) + "=<redacted>: " + serr.Want}
		case errors.As(err, &serr):
			return nil, &config.Error{Line: config.ProviderSpec{ID: name, Env: config.SourceEnv(name)}.VarName(serr.Setting) + "=" + strconv.Quote(serr.Value) + ": " + serr.Want}
		case err != nil:
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// providerAuth is what p's Verify and Sign read from cfg; the provider's own settings are parsed
// here, once, at start-up.
func providerAuth(cfg *config.Config, p *normalize.Provider) (normalize.Auth, error) {
	ps := cfg.Providers[p.ID]
	opts, err := p.Options(ps.Own)
	if err != nil {
		return normalize.Auth{}, err // config checked every value: a registry bug
	}
	return normalize.Auth{Secret: []byte(ps.Secret), AllowUnsigned: cfg.AllowUnsigned(), MaxSkew: cfg.MaxClockSkew, Options: opts}, nil
}

func commit() string {
	if revision != "" {
		return revision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// bridge is a running callbridge: the sink and the HTTP server in front of it.
type bridge struct {
	cfg      *config.Config
	registry *normalize.Registry // every provider and generic source served, built once
	sink     publish.Sink
	server   *ingest.Server
	addr     net.Addr
	served   chan error
	fatal    chan error // buffer mode: the broker refused us for good while the buffer ran
	logger   *slog.Logger
	traces   *tracing.Provider // nil unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set
}

// serve runs the bridge until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger) error {
	b, err := start(ctx, cfg, ln, logger)
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
		if serr := b.stop(); serr != nil {
			b.logger.Error("stop", "error", serr)
		}
		return err
	}
	return b.stop()
}

// start connects the sink and starts serving on ln (or on cfg.Listen when ln is nil).
func start(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger) (*bridge, error) {
	registry, err := newRegistry(cfg)
	if err != nil {
		return nil, err
	}
	tmpl, err := publish.ParseTemplate(cfg.TopicTemplate)
	if err == nil {
		if cfg.Sink == "kafka" {
			err = tmpl.CheckTopic()
		} else {
			err = tmpl.CheckSubject()
		}
	}
	if err != nil {
		return nil, &config.Error{Line: fmt.Sprintf("CALLBRIDGE_TOPIC_TEMPLATE=%q: %v", cfg.TopicTemplate, err)}
	}
	for _, name := range config.Unknown(os.Environ(), providerSpecs()) {
		logger.Warn("unknown variable ignored: " + name)
	}
	if cfg.AllowUnsignedAuto() && cfg.AllowUnsigned() {
		logger.Warn("no broker configured: embedded NATS JetStream in " + cfg.DataDir + ", and providers without a secret accept UNSIGNED callbacks (development mode; set CALLBRIDGE_ALLOW_UNSIGNED=false or configure secrets)")
	}
	routes := make([]ingest.Route, 0, len(registry.All()))
	for _, p := range registry.All() {
		ps := cfg.Providers[p.ID]
		auth, err := providerAuth(cfg, p)
		if err != nil {
			return nil, err
		}
		routes = append(routes, ingest.Route{
			Provider: p,
			Auth:     auth,
			Enforce:  ps.Verify != "report",
			URLToken: []byte(ps.URLToken),
		})
		if ps.Secret == "" && !cfg.AllowUnsigned() {
			logger.Warn("provider has no secret and unsigned callbacks are not allowed: all its callbacks get 401", "provider", p.ID)
		}
		if ps.Verify == "report" {
			logger.Warn("provider in report mode: failed checks are accepted with verified=false", "provider", p.ID)
		}
	}

	traces, err := tracing.FromEnv(ctx, cfg.Sink, version, logger)
	if err != nil {
		return nil, err
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			traces.Shutdown(ctx)
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
			traces.Shutdown(ctx)
			return nil, err
		}
		front = buffer
	}
	server := ingest.New(ingest.Config{
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
	}, front)
	b := &bridge{cfg: cfg, registry: registry, server: server, addr: ln.Addr(), served: make(chan error, 1), fatal: make(chan error, 1), logger: logger, traces: traces}
	// Probes are served while the broker connects: /readyz says 503 until it has (in buffer
	// mode it says 200: the buffer accepts).
	go func() { b.served <- server.Serve(ln) }()

	if buffer != nil {
		if err := fitBodyLimit(cfg, buffer.MessageLimit(), server, logger); err != nil {
			buffer.Close(context.Background())
			server.Shutdown(context.Background())
			traces.Shutdown(ctx)
			return nil, err
		}
		b.sink = buffer
		go b.connectBehindBuffer(ctx, tmpl, late, buffer)
		logger.Info("callbridge listening", "addr", ln.Addr().String(), "ack_mode", "buffer", "buffer", cfg.DataDir, "mode", cfg.CEMode, "version", version)
		return b, nil
	}

	sink, where, err := connect(ctx, cfg, registry, tmpl, logger)
	if err != nil {
		server.Shutdown(context.Background())
		traces.Shutdown(ctx)
		if ctx.Err() != nil {
			return nil, errStoppedWhileConnecting
		}
		return nil, err
	}
	if err := fitBodyLimit(cfg, sink.MessageLimit(), server, logger); err != nil {
		sink.Close(context.Background())
		server.Shutdown(context.Background())
		traces.Shutdown(ctx)
		return nil, err
	}
	late.set(sink)
	b.sink = sink
	logger.Info("callbridge listening", "addr", ln.Addr().String(), "broker", where, "mode", cfg.CEMode, "version", version)
	return b, nil
}

// openBuffer opens the buffer of CALLBRIDGE_ACK_MODE=buffer in front of late, the broker to be.
// Entries the previous version stored (structured events) are read with the registry.
func openBuffer(ctx context.Context, cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, late *lateSink, reg *prometheus.Registry, logger *slog.Logger) (*publish.Buffer, error) {
	enc, err := bufferEncoder(cfg, tmpl)
	if err != nil {
		return nil, err
	}
	return publish.NewBuffer(ctx, publish.BufferConfig{
		DataDir:         cfg.DataDir,
		MaxBytes:        cfg.BufferMaxBytes,
		MaxAge:          cfg.BufferMaxAge,
		DuplicateWindow: cfg.NATSDuplicateWindow,
		Timeout:         cfg.PublishTimeout,
		MaxPayload:      embeddedMaxPayload(cfg),
		Encoder:         enc,
		Legacy: func(data []byte, ev *normalize.Event) error {
			return normalize.ParseStructured(data, ev, registry) // the registry reads its provider
		},
		Logger:   logger,
		Registry: reg,
	}, late)
}

// embeddedMaxPayload is the message limit of the servers callbridge runs itself: room for the
// largest body with its envelope, within what nats-server allows.
func embeddedMaxPayload(cfg *config.Config) int32 {
	return int32(min(max(1<<20, cfg.MaxBodyBytes+envelopeOverhead(cfg)), 64<<20))
}

// errStoppedWhileConnecting: SIGTERM arrived before the broker was reached. Nothing was
// accepted, so there is nothing to drain: a clean stop.
var errStoppedWhileConnecting = errors.New("stopped while connecting to the broker")

// envelopeOverhead is what an event may add to its body: the attributes, and the trace context
// copied from request headers (bounded by the header limit).
func envelopeOverhead(cfg *config.Config) int { return 4096 + cfg.MaxHeaderBytes }

// fitBodyLimit checks the body limit against the broker's message limit: a body that could never
// be published must be refused with 413 when it arrives, not retried by its provider for ever.
// A limit that was set and does not fit stops start-up; the default is lowered to fit.
func fitBodyLimit(cfg *config.Config, brokerLimit int, server *ingest.Server, logger *slog.Logger) error {
	fits := brokerLimit - envelopeOverhead(cfg)
	if brokerLimit <= 0 || cfg.MaxBodyBytes <= fits {
		return nil
	}
	if cfg.MaxBodyBytesSet {
		return &config.Error{Line: fmt.Sprintf("CALLBRIDGE_MAX_BODY_BYTES=%q: the broker accepts messages of at most %d bytes; want at most %d, leaving room for the envelope", strconv.Itoa(cfg.MaxBodyBytes), brokerLimit, fits)}
	}
	logger.Warn("body limit lowered to fit the broker's message limit", "max_body_bytes", fits, "broker_limit", brokerLimit)
	server.SetMaxBodyBytes(fits)
	return nil
}

// knownTopics renders the topic template for every documented event of every registry entry, and
// the dead-letter topics: the topics a deployment needs before its first callback. A template
// with {subject} has no fixed set of event topics; they are checked as they are first used.
func knownTopics(tmpl *publish.Template, registry *normalize.Registry) []string {
	perEvent := !strings.Contains(tmpl.String(), "{subject}")
	seen := map[string]bool{}
	var topics []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			topics = append(topics, t)
		}
	}
	for _, p := range registry.All() {
		for _, e := range p.Events {
			if !perEvent {
				break
			}
			ev := normalize.Event{Provider: p.ID, EventType: []byte(e.Name), Type: []byte(p.TypePrefix + e.Name)}
			add(string(tmpl.Append(nil, &ev)))
		}
		add(publish.DeadLetterSubject(p.ID))
	}
	return topics
}

// stop drains: /readyz turns 503, the listener closes after the shutdown delay, in-flight
// requests finish, outstanding acknowledgements are awaited, all within the shutdown timeout.
func (b *bridge) stop() error {
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

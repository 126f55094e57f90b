package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// connectBehindBuffer reaches the broker while the buffer already accepts callbacks, and hands
// it to the forwarder. A broker that refuses us for good (credentials, a stream that does not
// fit) stops the bridge: buffering for ever in front of it would only fill the disk. Once the
// broker's message limit is known, the body limit is fitted to it.
func (b *bridge) connectBehindBuffer(ctx context.Context, tmpl *publish.Template, late *lateSink, buffer *publish.Buffer) {
	sink, where, err := connect(ctx, b.cfg, b.registry, tmpl, b.logger)
	if err != nil {
		if ctx.Err() == nil {
			b.fatal <- err
		}
		return
	}
	late.set(sink)
	fitBehindBuffer(b.cfg, buffer.MessageLimit(), b.server, b.logger)
	b.logger.Info("forwarding buffered callbacks to the broker", "broker", where)
}

// fitBehindBuffer lowers the body limit to what limit (the buffer's, now with the broker's
// behind it) takes with the envelope: a body the broker could never take is refused at the door
// with 413, like an event the buffer's Encoder finds too large. Unlike fitBodyLimit at start-up it
// never stops the bridge, which may hold buffered callbacks: a CALLBRIDGE_MAX_BODY_BYTES set
// above it is lowered as well, and the log says so.
func fitBehindBuffer(cfg *config.Config, limit int, server *ingest.Server, logger *slog.Logger) {
	fits := limit - envelopeOverhead(cfg)
	if limit <= 0 || fits <= 0 || cfg.MaxBodyBytes <= fits {
		return
	}
	logger.Warn("CALLBRIDGE_MAX_BODY_BYTES lowered to fit the broker's message limit behind the buffer: larger bodies get 413",
		"max_body_bytes", fits, "configured", cfg.MaxBodyBytes, "broker_limit", limit)
	server.SetMaxBodyBytes(fits)
}

// bufferEncoder renders what the buffer stores as the broker will take it: the same kind,
// templates and content mode connect gives the sink.
func bufferEncoder(cfg *config.Config, tmpl *publish.Template) (*publish.Encoder, error) {
	mode, err := publish.ParseMode(cfg.CEMode)
	if err != nil {
		return nil, err
	}
	if cfg.Sink != "kafka" {
		return publish.NATSEncoder(tmpl, mode), nil
	}
	key, err := publish.ParseTemplate(cfg.KafkaKeyTemplate)
	if err != nil {
		return nil, &config.Error{Line: fmt.Sprintf("CALLBRIDGE_KAFKA_KEY_TEMPLATE=%q: %v", cfg.KafkaKeyTemplate, err)}
	}
	return publish.KafkaEncoder(tmpl, key, mode), nil
}

// connect opens the sink. An external broker that cannot be reached yet is retried with
// backoff until ctx ends; anything else (the embedded server failing, refused credentials, a
// stream or topic that does not fit) stops start-up.
func connect(ctx context.Context, cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, logger *slog.Logger) (publish.Target, string, error) {
	mode, err := publish.ParseMode(cfg.CEMode)
	if err != nil {
		return nil, "", err
	}
	open, retryable := func() (publish.Target, string, error) { return connectNATS(ctx, cfg, tmpl, mode, logger) },
		func(err error) bool {
			return cfg.NATSURL != "" && (errors.Is(err, nats.ErrNoServers) || errors.Is(err, publish.ErrNotReady))
		}
	if cfg.Sink == "kafka" {
		open, retryable = func() (publish.Target, string, error) { return connectKafka(ctx, cfg, registry, tmpl, mode, logger) },
			func(err error) bool { return errors.Is(err, publish.ErrNotReady) }
	}
	wait := 500 * time.Millisecond
	for {
		sink, where, err := open()
		if err == nil || !retryable(err) {
			return sink, where, err
		}
		logger.Warn("broker not reachable yet, retrying", "sink", cfg.Sink, "error", err, "in", wait.String())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
		wait = min(2*wait, 15*time.Second)
	}
}

func connectNATS(ctx context.Context, cfg *config.Config, tmpl *publish.Template, mode publish.Mode, logger *slog.Logger) (publish.Target, string, error) {
	var tlsFiles *publish.TLSFiles
	if cfg.NATSTLSCAFile != "" || cfg.NATSTLSCertFile != "" || cfg.NATSTLSInsecureSkipVerify {
		tlsFiles = &publish.TLSFiles{CAFile: cfg.NATSTLSCAFile, CertFile: cfg.NATSTLSCertFile, KeyFile: cfg.NATSTLSKeyFile, InsecureSkipVerify: cfg.NATSTLSInsecureSkipVerify}
	}
	nc, err := publish.NewNATS(ctx, publish.NATSConfig{
		URL:                cfg.NATSURL,
		EmbeddedListen:     cfg.EmbeddedNATSListen,
		DataDir:            cfg.DataDir,
		Stream:             cfg.NATSStream,
		DuplicateWindow:    cfg.NATSDuplicateWindow,
		Template:           tmpl,
		Mode:               mode,
		Timeout:            cfg.PublishTimeout,
		MaxPending:         2 * cfg.MaxInflight,
		MaxAge:             cfg.NATSMaxAge,
		MaxBytes:           cfg.NATSMaxBytes,
		EmbeddedMaxPayload: embeddedMaxPayload(cfg),
		EmbeddedSync:       cfg.NATSSync,
		Logger:             logger,
		User:               cfg.NATSUser,
		Password:           cfg.NATSPassword,
		Token:              cfg.NATSToken,
		NKeySeedFile:       cfg.NATSNKeySeedFile,
		CredsFile:          cfg.NATSCredsFile,
		TLS:                tlsFiles,
	})
	if err != nil {
		return nil, "", err
	}
	return nc, nc.ClientURL(), nil
}

func connectKafka(ctx context.Context, cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, mode publish.Mode, logger *slog.Logger) (publish.Target, string, error) {
	key, err := publish.ParseTemplate(cfg.KafkaKeyTemplate)
	if err != nil {
		return nil, "", &config.Error{Line: fmt.Sprintf("CALLBRIDGE_KAFKA_KEY_TEMPLATE=%q: %v", cfg.KafkaKeyTemplate, err)}
	}
	var tlsFiles *publish.TLSFiles
	if cfg.KafkaTLS {
		tlsFiles = &publish.TLSFiles{CAFile: cfg.KafkaTLSCAFile, CertFile: cfg.KafkaTLSCertFile, KeyFile: cfg.KafkaTLSKeyFile, InsecureSkipVerify: cfg.KafkaTLSInsecureSkipVerify}
	}
	var brokers []string
	for _, b := range strings.Split(cfg.KafkaBrokers, ",") {
		brokers = append(brokers, strings.TrimSpace(b))
	}
	k, err := publish.NewKafka(ctx, publish.KafkaConfig{
		Brokers:       brokers,
		RequiredAcks:  cfg.KafkaRequiredAcks,
		Compression:   cfg.KafkaCompression,
		ClientID:      cfg.KafkaClientID,
		Template:      tmpl,
		KeyTemplate:   key,
		Mode:          mode,
		CreateTopics:  cfg.KafkaCreateTopics,
		Partitions:    cfg.KafkaTopicPartitions,
		Replication:   cfg.KafkaTopicReplication,
		KnownTopics:   knownTopics(tmpl, registry),
		BatchTimeout:  cfg.KafkaBatchTimeout,
		BatchSize:     cfg.KafkaBatchSize,
		TLS:           tlsFiles,
		SASLMechanism: cfg.KafkaSASLMechanism,
		SASLUsername:  cfg.KafkaSASLUsername,
		SASLPassword:  cfg.KafkaSASLPassword,
		MaxTopics:     cfg.KafkaMaxTopics,
		Timeout:       cfg.PublishTimeout,
		Logger:        logger,
	})
	if err != nil {
		return nil, "", err
	}
	return k, "kafka://" + cfg.KafkaBrokers, nil
}

// lateSink stands in for the broker connection until it exists, so the HTTP side can answer
// probes during start-up, and the buffer can take callbacks (and render them with the broker's
// Encoder: bufferEncoder) before the broker is reached.
type lateSink struct {
	sink atomic.Pointer[publish.Target]
}

var errConnecting = errors.New("connecting to the broker")

func (l *lateSink) set(s publish.Target) { l.sink.Store(&s) }

func (l *lateSink) get() publish.Target {
	if s := l.sink.Load(); s != nil {
		return *s
	}
	return nil
}

func (l *lateSink) Publish(ev *normalize.Event) error {
	if s := l.get(); s != nil {
		return s.Publish(ev)
	}
	return errConnecting
}

func (l *lateSink) DeadLetter(provider string, body []byte, reason string) error {
	if s := l.get(); s != nil {
		return s.DeadLetter(provider, body, reason)
	}
	return errConnecting
}

func (l *lateSink) Send(m *publish.Message) error {
	if s := l.get(); s != nil {
		return s.Send(m)
	}
	return errConnecting
}

func (l *lateSink) Ready() error {
	if s := l.get(); s != nil {
		return s.Ready()
	}
	return errConnecting
}

func (l *lateSink) Live() error {
	if s := l.get(); s != nil {
		return s.Live()
	}
	return nil
}

func (l *lateSink) MessageLimit() int {
	if s := l.get(); s != nil {
		return s.MessageLimit()
	}
	return 0
}

func (l *lateSink) Close(ctx context.Context) error {
	if s := l.get(); s != nil {
		return s.Close(ctx)
	}
	return nil
}

package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/contract"
	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// connectBehindBuffer reaches the broker while the buffer already accepts callbacks, and hands
// it to the forwarder. A broker that refuses us for good (credentials, a stream that does not
// fit) stops the bridge: buffering for ever in front of it would only fill the disk. Once the
// broker's message limit is known, the body limit is fitted to it.
func (b *Bridge) connectBehindBuffer(ctx context.Context, tmpl *publish.Template, late *lateSink, buffer *publish.Buffer) {
	sink, where, err := connect(ctx, b.cfg, b.registry, tmpl, b.metrics, b.logger)
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
	fits := limit - publish.EnvelopeOverhead(cfg.MaxHeaderBytes)
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

// Connect opens the configured sink as a client does (tail, replay): an external broker that
// cannot be reached yet is retried until ctx ends. A topic template that cannot be parsed is a
// *config.Error.
func Connect(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (publish.Sink, string, error) {
	tmpl, err := parseTopicTemplate(cfg)
	if err != nil {
		return nil, "", err
	}
	return connect(ctx, cfg, registry, tmpl, nil, logger)
}

// connect opens the sink. An external broker that cannot be reached yet is retried with
// backoff until ctx ends; anything else (the embedded server failing, refused credentials, a
// stream or topic that does not fit) stops start-up. metrics (nil: none) takes the sink's own
// metrics (the Kafka schema registry's).
func connect(ctx context.Context, cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, metrics prometheus.Registerer, logger *slog.Logger) (publish.Target, string, error) {
	mode, err := publish.ParseMode(cfg.CEMode)
	if err != nil {
		return nil, "", err
	}
	open := func() (publish.Target, string, error) { return connectNATS(ctx, cfg, tmpl, mode, logger) }
	if cfg.Sink == "kafka" {
		open = func() (publish.Target, string, error) {
			return connectKafka(ctx, cfg, registry, tmpl, mode, metrics, logger)
		}
	}
	// Only an external broker is waited for: the embedded server does not start by waiting.
	retryable := func(err error) bool { return (cfg.Sink == "kafka" || cfg.NATSURL != "") && publish.Retriable(err) }
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
		Replicas:           cfg.NATSReplicas,
		CheckReplicas:      cfg.NATSReplicasSet,
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

func connectKafka(ctx context.Context, cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, mode publish.Mode, metrics prometheus.Registerer, logger *slog.Logger) (publish.Target, string, error) {
	key, err := publish.ParseTemplate(cfg.KafkaKeyTemplate)
	if err != nil {
		return nil, "", &config.Error{Line: fmt.Sprintf("CALLBRIDGE_KAFKA_KEY_TEMPLATE=%q: %v", cfg.KafkaKeyTemplate, err)}
	}
	schemas, err := schemaRegistryConfig(cfg, registry, tmpl, mode, metrics)
	if err != nil {
		return nil, "", err
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
		KnownTopics:   publish.KnownTopics(tmpl, registry),
		BatchTimeout:  cfg.KafkaBatchTimeout,
		BatchSize:     cfg.KafkaBatchSize,
		TLS:           tlsFiles,
		SASLMechanism: cfg.KafkaSASLMechanism,
		SASLUsername:  cfg.KafkaSASLUsername,
		SASLPassword:  cfg.KafkaSASLPassword,
		MaxTopics:     cfg.KafkaMaxTopics,
		Timeout:       cfg.PublishTimeout,
		Logger:        logger,

		SchemaRegistry: schemas,
	})
	if err != nil {
		return nil, "", err
	}
	return k, "kafka://" + cfg.KafkaBrokers, nil
}

// schemaRegistryConfig is the Kafka sink's schema registry (nil without
// CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL): the value schemas of the topics the template names, as
// the contract makes them for the content mode.
func schemaRegistryConfig(cfg *config.Config, registry *normalize.Registry, tmpl *publish.Template, mode publish.Mode, metrics prometheus.Registerer) (*publish.SchemaRegistryConfig, error) {
	if cfg.KafkaSchemaRegistryURL == "" {
		return nil, nil
	}
	topics, fallback, err := contract.ValueSchemas(registry, tmpl, mode == publish.Structured)
	if err != nil {
		return nil, err
	}
	var tlsFiles *publish.TLSFiles
	if strings.HasPrefix(cfg.KafkaSchemaRegistryURL, "https:") {
		tlsFiles = &publish.TLSFiles{CAFile: cfg.KafkaSchemaRegistryTLSCAFile, CertFile: cfg.KafkaSchemaRegistryTLSCertFile,
			KeyFile: cfg.KafkaSchemaRegistryTLSKeyFile, InsecureSkipVerify: cfg.KafkaSchemaRegistryTLSInsecureSkipVerify}
	}
	return &publish.SchemaRegistryConfig{
		URL: cfg.KafkaSchemaRegistryURL, Location: cfg.KafkaSchemaIDLocation,
		Username: cfg.KafkaSchemaRegistryUsername, Password: cfg.KafkaSchemaRegistryPassword, TLS: tlsFiles,
		Schemas: topics, Fallback: fallback, Registerer: metrics,
	}, nil
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
	return int32(min(max(1<<20, cfg.MaxBodyBytes+publish.EnvelopeOverhead(cfg.MaxHeaderBytes)), 64<<20))
}

// fitBodyLimit checks the body limit against the broker's message limit: a body that could never
// be published must be refused with 413 when it arrives, not retried by its provider for ever.
// A limit that was set and does not fit stops start-up; the default is lowered to fit.
func fitBodyLimit(cfg *config.Config, brokerLimit int, server *ingest.Server, logger *slog.Logger) error {
	fits := brokerLimit - publish.EnvelopeOverhead(cfg.MaxHeaderBytes)
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

package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rule is one variable's constraint. want also explains a value that does not parse.
type rule struct {
	name   string
	ok     bool
	want   string
	secret bool // the value is not shown
}

const (
	wantPositiveInt         = "want an integer greater than 0"
	wantPositiveDuration    = "want a duration greater than 0, such as 5s or 1m30s"
	wantNonNegativeDuration = "want a duration of 0 or more, such as 0s, 5s or 1m30s"
	wantHostPort            = "want host:port with a numeric port, such as "
)

func (c *Config) rules() []rule {
	return append([]rule{
		{name: "CALLBRIDGE_LISTEN", ok: isHostPort(c.Listen), want: wantHostPort + ":8080 or 127.0.0.1:8080"},
		{name: "CALLBRIDGE_MAX_BODY_BYTES", ok: c.MaxBodyBytes > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_READ_TIMEOUT", ok: c.ReadTimeout > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_WRITE_TIMEOUT", ok: c.WriteTimeout > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_IDLE_TIMEOUT", ok: c.IdleTimeout > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_MAX_INFLIGHT", ok: c.MaxInflight > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_MAX_HEADER_BYTES", ok: c.MaxHeaderBytes >= 1024, want: "want an integer of at least 1024"},
		{name: "CALLBRIDGE_MAX_CONNS", ok: c.MaxConns > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_BODY_MEMORY_BYTES", ok: c.BodyMemoryBytes > int64(c.MaxBodyBytes),
			want: "want more than CALLBRIDGE_MAX_BODY_BYTES, or no body of the largest size could ever be read"},
		{name: "CALLBRIDGE_RETRY_AFTER", ok: c.RetryAfter >= time.Second && c.RetryAfter%time.Second == 0,
			want: "want whole seconds, at least 1s, such as 5s"},
		enum("CALLBRIDGE_SINK", c.Sink, "", "nats", "kafka"),
		{name: "CALLBRIDGE_EMBEDDED_NATS_LISTEN", ok: isHostPort(c.EmbeddedNATSListen), want: wantHostPort + "127.0.0.1:4222"},
		{name: "CALLBRIDGE_DATA_DIR", ok: c.DataDir != "", want: "want a directory, not empty"},
		{name: "CALLBRIDGE_NATS_STREAM", ok: isStreamName(c.NATSStream),
			want: `want a non-empty JetStream stream name without whitespace or any of . * > / \`},
		{name: "CALLBRIDGE_NATS_DUPLICATE_WINDOW", ok: c.NATSDuplicateWindow >= minDuplicateWindow,
			want: "want a duration of at least 15m, such as 1h: longer than Tencent's 12-minute retry horizon, so its retries are deduplicated"},
		{name: "CALLBRIDGE_NATS_MAX_AGE", ok: c.NATSMaxAge == 0 || c.NATSMaxAge >= c.NATSDuplicateWindow,
			want: "want 0 (no limit) or at least CALLBRIDGE_NATS_DUPLICATE_WINDOW"},
		{name: "CALLBRIDGE_NATS_MAX_BYTES", ok: c.NATSMaxBytes >= 0, want: "want 0 (no bound) or a number of bytes"},
		{name: "CALLBRIDGE_NATS_REPLICAS", ok: c.NATSReplicas >= 1 && c.NATSReplicas <= 5, want: "want 1 to 5 (JetStream's limit), such as 3 on a three-node cluster"},
		{name: "CALLBRIDGE_NATS_REPLICAS", ok: c.NATSReplicas == 1 || !c.EmbeddedNATS(),
			want: "the embedded NATS server is one node: set CALLBRIDGE_NATS_URL to a cluster, or leave it at 1"},
		enum("CALLBRIDGE_CE_MODE", c.CEMode, "", "structured", "binary"),
		enum("CALLBRIDGE_ACK_MODE", c.AckMode, "", "broker", "buffer"),
		{name: "CALLBRIDGE_ACK_MODE", ok: c.AckMode != "buffer" || !c.EmbeddedNATS(),
			want: "buffer mode forwards to an external broker: set CALLBRIDGE_NATS_URL or CALLBRIDGE_SINK=kafka (the embedded broker already writes to disk)"},
		{name: "CALLBRIDGE_BUFFER_MAX_BYTES", ok: c.BufferMaxBytes >= 4*int64(c.MaxBodyBytes),
			want: "want at least 4 × CALLBRIDGE_MAX_BODY_BYTES"},
		{name: "CALLBRIDGE_BUFFER_MAX_AGE", ok: c.BufferMaxAge > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_NATS_SYNC", ok: c.NATSSync == "always" || isPositiveDuration(c.NATSSync),
			want: "want always, or a duration greater than 0 such as 2m"},
		{name: "CALLBRIDGE_PUBLISH_TIMEOUT", ok: c.PublishTimeout > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_SHUTDOWN_DELAY", ok: c.ShutdownDelay >= 0, want: wantNonNegativeDuration},
		{name: "CALLBRIDGE_SHUTDOWN_TIMEOUT", ok: c.ShutdownTimeout > c.ShutdownDelay+c.PublishTimeout,
			want: fmt.Sprintf("want more than CALLBRIDGE_SHUTDOWN_DELAY plus CALLBRIDGE_PUBLISH_TIMEOUT (%s): in-flight callbacks must be able to finish", c.ShutdownDelay+c.PublishTimeout)},
		enum("CALLBRIDGE_LOG_LEVEL", c.LogLevel, "", "debug", "info", "warn", "error"),
		enum("CALLBRIDGE_LOG_FORMAT", c.LogFormat, "", "json", "text"),
		{name: "CALLBRIDGE_PPROF_LISTEN", ok: c.PprofListen == "" || isHostPort(c.PprofListen), want: wantHostPort + "127.0.0.1:6060, or empty"},
		// Decode rejects what is not allowed; the rule is here for its message.
		{name: "CALLBRIDGE_ALLOW_UNSIGNED", ok: true, want: "allowed: auto (or empty), true, false"},
		{name: "CALLBRIDGE_MAX_CLOCK_SKEW", ok: c.MaxClockSkew > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_SCHEMA_BASE_URL", ok: isAbsoluteURL(c.SchemaBaseURL),
			want: "want an absolute http or https URL without query or fragment, such as https://callbridge.example.com/schemas (CloudEvents' dataschema is a URI)"},

		{name: "CALLBRIDGE_NATS_PASSWORD", ok: (c.NATSUser == "") == (c.NATSPassword == ""), secret: true,
			want: "CALLBRIDGE_NATS_USER and CALLBRIDGE_NATS_PASSWORD go together: set both or neither"},
		{name: "CALLBRIDGE_NATS_TOKEN", ok: c.NATSToken == "" || c.NATSUser == "", secret: true,
			want: "set a token or a user and password, not both"},
		{name: "CALLBRIDGE_NATS_TLS_KEY_FILE", ok: (c.NATSTLSCertFile == "") == (c.NATSTLSKeyFile == ""),
			want: "CALLBRIDGE_NATS_TLS_CERT_FILE and CALLBRIDGE_NATS_TLS_KEY_FILE go together: set both or neither"},
	}, c.kafkaRules()...)
}

// kafkaRules are the Kafka sink's settings' rules, its schema registry's included.
func (c *Config) kafkaRules() []rule {
	return []rule{
		{name: "CALLBRIDGE_KAFKA_BROKERS", ok: c.Sink != "kafka" || isHostPortList(c.KafkaBrokers),
			want: "want comma-separated host:port, such as kafka-0:9092,kafka-1:9092 (required with CALLBRIDGE_SINK=kafka)"},
		enum("CALLBRIDGE_CANONICAL", c.Canonical, "", "on", "off"),
		enum("CALLBRIDGE_KAFKA_REQUIRED_ACKS", c.KafkaRequiredAcks, "", "all", "one", "none"),
		enum("CALLBRIDGE_KAFKA_COMPRESSION", c.KafkaCompression, "", "none", "gzip", "snappy", "lz4", "zstd"),
		{name: "CALLBRIDGE_KAFKA_CLIENT_ID", ok: c.KafkaClientID != "", want: "want a client id, not empty"},
		{name: "CALLBRIDGE_KAFKA_CREATE_TOPICS", ok: !(c.Sink == "kafka" && c.KafkaCreateTopics && strings.Contains(c.TopicTemplate, "{subject}")),
			want: "with {subject} in CALLBRIDGE_TOPIC_TEMPLATE this would create one topic per stream or channel a provider names: create the topics yourself, or leave {subject} to the key"},
		{name: "CALLBRIDGE_KAFKA_TOPIC_PARTITIONS", ok: c.KafkaTopicPartitions > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_KAFKA_TOPIC_REPLICATION", ok: c.KafkaTopicReplication == -1 || c.KafkaTopicReplication > 0,
			want: "want -1 (the broker's default) or an integer greater than 0"},
		{name: "CALLBRIDGE_KAFKA_BATCH_TIMEOUT", ok: c.KafkaBatchTimeout > 0, want: wantPositiveDuration},
		{name: "CALLBRIDGE_KAFKA_BATCH_SIZE", ok: c.KafkaBatchSize > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_KAFKA_MAX_TOPICS", ok: c.KafkaMaxTopics > 0, want: wantPositiveInt},
		{name: "CALLBRIDGE_KAFKA_TLS_KEY_FILE", ok: (c.KafkaTLSCertFile == "") == (c.KafkaTLSKeyFile == ""),
			want: "CALLBRIDGE_KAFKA_TLS_CERT_FILE and CALLBRIDGE_KAFKA_TLS_KEY_FILE go together: set both or neither"},
		enum("CALLBRIDGE_KAFKA_SASL_MECHANISM", c.KafkaSASLMechanism, "", "none", "plain", "scram-sha-256", "scram-sha-512"),
		{name: "CALLBRIDGE_KAFKA_SASL_PASSWORD", ok: c.KafkaSASLMechanism == "none" || (c.KafkaSASLUsername != "" && c.KafkaSASLPassword != ""), secret: true,
			want: "a SASL mechanism needs CALLBRIDGE_KAFKA_SASL_USERNAME and CALLBRIDGE_KAFKA_SASL_PASSWORD"},
		{name: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL", ok: c.KafkaSchemaRegistryURL == "" || isAbsoluteURL(c.KafkaSchemaRegistryURL),
			want: "want an absolute http or https URL without query or fragment, such as http://registry:8081, or empty (off)"},
		enum("CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION", c.KafkaSchemaIDLocation, "", "header", "prefix"),
		{name: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_PASSWORD", ok: (c.KafkaSchemaRegistryUsername == "") == (c.KafkaSchemaRegistryPassword == ""), secret: true,
			want: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_USERNAME and CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_PASSWORD go together: set both or neither"},
		{name: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE", ok: (c.KafkaSchemaRegistryTLSCertFile == "") == (c.KafkaSchemaRegistryTLSKeyFile == ""),
			want: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_CERT_FILE and CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE go together: set both or neither"},
		{name: "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL", ok: strings.HasPrefix(c.KafkaSchemaRegistryURL, "https:") ||
			c.KafkaSchemaRegistryTLSCAFile == "" && c.KafkaSchemaRegistryTLSCertFile == "" && !c.KafkaSchemaRegistryTLSInsecureSkipVerify,
			want: "the CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_* settings are for an https URL: use https, or unset them"},
	}
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

func isPositiveDuration(s string) bool {
	d, err := time.ParseDuration(s)
	return err == nil && d > 0
}

// BufferMode reports whether callbacks are acknowledged after the local buffer's write.
func (c *Config) BufferMode() bool { return c.AckMode == "buffer" }

// CanonicalOn reports whether the canonical RTC events are published (CALLBRIDGE_CANONICAL).
func (c *Config) CanonicalOn() bool { return c.Canonical != "off" }

func isHostPortList(s string) bool {
	for _, hp := range strings.Split(s, ",") {
		if !isHostPort(strings.TrimSpace(hp)) {
			return false
		}
	}
	return s != ""
}

// rules checks s; publishTimeout is CALLBRIDGE_PUBLISH_TIMEOUT, which a provider's own may not
// exceed when set (its default may: Load lowers it).
func (s *ProviderSettings) rules(spec ProviderSpec, publishTimeout time.Duration) []rule {
	_, timeoutSet := os.LookupEnv(spec.varName("PUBLISH_TIMEOUT"))
	return []rule{
		{name: spec.varName("URL_TOKEN"), ok: isPathSegment(s.URLToken), secret: true,
			want: "want only letters, digits and - . _ ~ (the token is one URL path segment)"},
		enum(spec.varName("VERIFY"), s.Verify, "", VerifyEnforce, VerifyReport),
		{name: spec.varName("PUBLISH_TIMEOUT"), ok: s.PublishTimeout >= 0 && (!timeoutSet || s.PublishTimeout <= publishTimeout),
			want: fmt.Sprintf("want a duration from 0 (CALLBRIDGE_PUBLISH_TIMEOUT) to CALLBRIDGE_PUBLISH_TIMEOUT (%s): the broker is never waited for longer", publishTimeout)},
	}
}

// want explains what variable name accepts, for a value envconfig could not parse.
func (c *Config) want(name string) string {
	for _, f := range configFields(c) {
		if f.name == name && f.value.Kind() == reflect.Bool {
			return "want true or false"
		}
	}
	for _, r := range c.rules() {
		if r.name == name {
			return r.want
		}
	}
	return "want a valid value"
}

func enum(name, value, note string, allowed ...string) rule {
	want := "allowed: " + strings.Join(allowed, ", ")
	if note != "" {
		want += " (" + note + ")"
	}
	return rule{name: name, ok: slices.Contains(allowed, value), want: want}
}

// check returns the first broken rule as an *Error. Only a set variable can break a rule, since
// the defaults are valid, so the value shown is the variable's.
func check(rules []rule) error {
	for _, r := range rules {
		switch {
		case r.ok:
		case r.secret:
			return &Error{Line: r.name + "=<redacted>: " + r.want}
		default:
			return invalid(r.name, os.Getenv(r.name), r.want)
		}
	}
	return nil
}

func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// isStreamName follows nats-server's rule for stream names.
func isStreamName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n\f.*>/\\")
}

// isPathSegment accepts RFC 3986 unreserved characters, which need no escaping in a path.
func isPathSegment(s string) bool {
	for _, r := range s {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)
		if !ok {
			return false
		}
	}
	return true
}

func isEnvName(s string) bool {
	for _, r := range s {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Prefix starts every variable name.
const Prefix = "CALLBRIDGE_"

// Values of ProviderSettings.Verify.
const (
	VerifyEnforce = "enforce"
	VerifyReport  = "report"
)

// minDuplicateWindow outlasts Tencent's 12-minute retry horizon, so every retry of an event still
// meets the first copy in JetStream's duplicate window.
const minDuplicateWindow = 15 * time.Minute

// Config is callbridge's configuration.
//
// Each envconfig tag holds the full variable name, read with an empty envconfig prefix: with a
// prefix, envconfig falls back to the bare tag name (LISTEN, DATA_DIR, ...) when the prefixed
// variable is unset, and an unrelated DATA_DIR in the environment must not configure the bridge.
type Config struct {
	Listen          string        `envconfig:"CALLBRIDGE_LISTEN" default:":8080" desc:"HTTP listen address (callbacks, probes, metrics)"`
	MaxBodyBytes    int           `envconfig:"CALLBRIDGE_MAX_BODY_BYTES" default:"1048576" desc:"largest callback body accepted; larger gets 413"`
	ReadTimeout     time.Duration `envconfig:"CALLBRIDGE_READ_TIMEOUT" default:"10s" desc:"HTTP read timeout"`
	WriteTimeout    time.Duration `envconfig:"CALLBRIDGE_WRITE_TIMEOUT" default:"10s" desc:"HTTP write timeout"`
	IdleTimeout     time.Duration `envconfig:"CALLBRIDGE_IDLE_TIMEOUT" default:"60s" desc:"HTTP keep-alive idle timeout"`
	MaxInflight     int           `envconfig:"CALLBRIDGE_MAX_INFLIGHT" default:"1024" desc:"callbacks handled at once; more get 503 with Retry-After"`
	MaxHeaderBytes  int           `envconfig:"CALLBRIDGE_MAX_HEADER_BYTES" default:"8192" desc:"request line and headers, at most; more gets 431 (also each connection's read buffer)"`
	MaxConns        int           `envconfig:"CALLBRIDGE_MAX_CONNS" default:"8192" desc:"HTTP connections open at once, at most; more are refused (each costs some tens of KiB while open)"`
	BodyMemoryBytes int64         `envconfig:"CALLBRIDGE_BODY_MEMORY_BYTES" default:"67108864" desc:"body buffer bytes held by all requests together, counted by capacity, pooled spares included, at most; past it 503 with Retry-After (a body's first 4 KiB are its connection's own)"`
	RetryAfter      time.Duration `envconfig:"CALLBRIDGE_RETRY_AFTER" default:"5s" desc:"Retry-After sent with a 503 (whole seconds)"`

	Sink                string        `envconfig:"CALLBRIDGE_SINK" default:"nats" desc:"where events go: nats or kafka"`
	NATSURL             string        `envconfig:"CALLBRIDGE_NATS_URL" desc:"NATS server URL; empty starts the embedded NATS JetStream server"`
	EmbeddedNATSListen  string        `envconfig:"CALLBRIDGE_EMBEDDED_NATS_LISTEN" default:"127.0.0.1:4222" desc:"host:port of the embedded NATS server, so other tools can read it"`
	DataDir             string        `envconfig:"CALLBRIDGE_DATA_DIR" default:"./data" desc:"embedded JetStream store"`
	NATSStream          string        `envconfig:"CALLBRIDGE_NATS_STREAM" default:"CALLBACKS" desc:"JetStream stream (subjects callbacks.>), created if missing"`
	NATSDuplicateWindow time.Duration `envconfig:"CALLBRIDGE_NATS_DUPLICATE_WINDOW" default:"1h" desc:"JetStream duplicate window; at least 15m, longer than Tencent's 12-minute retry horizon"`
	NATSMaxAge          time.Duration `envconfig:"CALLBRIDGE_NATS_MAX_AGE" default:"168h" desc:"retention of the stream callbridge creates (events and dead letters); 0: none"`
	NATSMaxBytes        int64         `envconfig:"CALLBRIDGE_NATS_MAX_BYTES" default:"1073741824" desc:"size of the stream callbridge creates, at most; the oldest messages go first; 0: no bound"`
	NATSReplicas        int           `envconfig:"CALLBRIDGE_NATS_REPLICAS" default:"1" desc:"replicas of the stream callbridge creates (1 to 5; 3 on a NATS cluster: a PubAck then means a quorum stored it); when set, an existing stream with another count stops start-up"`
	TopicTemplate       string        `envconfig:"CALLBRIDGE_TOPIC_TEMPLATE" default:"callbacks.{provider}.{eventtype}" desc:"subject or topic; placeholders {provider} {eventtype} {type} {subject}"`
	CEMode              string        `envconfig:"CALLBRIDGE_CE_MODE" default:"structured" desc:"CloudEvents content mode: structured (the JSON event is the message) or binary (data is the message, attributes are headers)"`
	AckMode             string        `envconfig:"CALLBRIDGE_ACK_MODE" default:"broker" desc:"broker: answer 200 after the broker acknowledged; buffer: after an fsynced write to a local buffer in CALLBRIDGE_DATA_DIR, forwarded to the broker (which must be external)"`
	BufferMaxBytes      int64         `envconfig:"CALLBRIDGE_BUFFER_MAX_BYTES" default:"1073741824" desc:"buffer mode: size of the buffer on disk, at most; when it is full, 503 with Retry-After"`
	BufferMaxAge        time.Duration `envconfig:"CALLBRIDGE_BUFFER_MAX_AGE" default:"24h" desc:"buffer mode: while the oldest unforwarded event is older, 503 with Retry-After (nothing buffered is dropped)"`
	NATSSync            string        `envconfig:"CALLBRIDGE_NATS_SYNC" default:"2m" desc:"embedded NATS server: fsync the store every interval (such as 2m, the server's default) or always (every write: no acknowledged event lost to a power cut, at a cost in throughput)"`
	PublishTimeout      time.Duration `envconfig:"CALLBRIDGE_PUBLISH_TIMEOUT" default:"5s" desc:"longest wait for the broker's acknowledgement; past it 503"`
	ShutdownDelay       time.Duration `envconfig:"CALLBRIDGE_SHUTDOWN_DELAY" default:"5s" desc:"after SIGTERM, /readyz answers 503 this long before the listener closes"`
	ShutdownTimeout     time.Duration `envconfig:"CALLBRIDGE_SHUTDOWN_TIMEOUT" default:"30s" desc:"after SIGTERM, exit within this"`
	LogLevel            string        `envconfig:"CALLBRIDGE_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat           string        `envconfig:"CALLBRIDGE_LOG_FORMAT" default:"json" desc:"json or text"`
	PprofListen         string        `envconfig:"CALLBRIDGE_PPROF_LISTEN" desc:"host:port serving Go's /debug/pprof/ for profiling (such as 127.0.0.1:6060); empty: off"`
	Canonical           string        `envconfig:"CALLBRIDGE_CANONICAL" default:"on" desc:"on: every native event that has a counterpart is also published as a canonical RTC event (io.callbridge.rtc.<entity>.<verb>, {provider} rtc: callbacks.rtc.participant.joined), the 200 waiting for both; off: native events only"`
	SchemaBaseURL       string        `envconfig:"CALLBRIDGE_SCHEMA_BASE_URL" default:"http://localhost:8080/schemas" desc:"absolute URL under which consumers find the JSON Schemas of event data: every event's dataschema is <this>/<type>/v<major>.json; the bridge serves them at /schemas/ (set the address consumers reach it at)"`

	NATSUser                  string `envconfig:"CALLBRIDGE_NATS_USER" desc:"external NATS: user name (with CALLBRIDGE_NATS_PASSWORD)"`
	NATSPassword              string `envconfig:"CALLBRIDGE_NATS_PASSWORD" secret:"true" desc:"external NATS: password"`
	NATSToken                 string `envconfig:"CALLBRIDGE_NATS_TOKEN" secret:"true" desc:"external NATS: authentication token"`
	NATSNKeySeedFile          string `envconfig:"CALLBRIDGE_NATS_NKEY_SEED_FILE" desc:"external NATS: file holding an NKey seed (SU...)"`
	NATSCredsFile             string `envconfig:"CALLBRIDGE_NATS_CREDS_FILE" desc:"external NATS: .creds file (user JWT and NKey seed)"`
	NATSTLSCAFile             string `envconfig:"CALLBRIDGE_NATS_TLS_CA_FILE" desc:"external NATS: PEM CA bundle to verify the server (default: the system pool)"`
	NATSTLSCertFile           string `envconfig:"CALLBRIDGE_NATS_TLS_CERT_FILE" desc:"external NATS: PEM client certificate (with CALLBRIDGE_NATS_TLS_KEY_FILE)"`
	NATSTLSKeyFile            string `envconfig:"CALLBRIDGE_NATS_TLS_KEY_FILE" desc:"external NATS: PEM client key"`
	NATSTLSInsecureSkipVerify bool   `envconfig:"CALLBRIDGE_NATS_TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"external NATS: do not verify the server certificate (testing only)"`

	KafkaBrokers               string        `envconfig:"CALLBRIDGE_KAFKA_BROKERS" desc:"comma-separated host:port of Kafka bootstrap brokers; required with CALLBRIDGE_SINK=kafka"`
	KafkaRequiredAcks          string        `envconfig:"CALLBRIDGE_KAFKA_REQUIRED_ACKS" default:"all" desc:"acknowledgement awaited before answering 200: all (every in-sync replica), one (the leader) or none"`
	KafkaCompression           string        `envconfig:"CALLBRIDGE_KAFKA_COMPRESSION" default:"none" desc:"none, gzip, snappy, lz4 or zstd"`
	KafkaClientID              string        `envconfig:"CALLBRIDGE_KAFKA_CLIENT_ID" default:"callbridge" desc:"Kafka client id"`
	KafkaKeyTemplate           string        `envconfig:"CALLBRIDGE_KAFKA_KEY_TEMPLATE" default:"{subject}" desc:"message key; placeholders as the topic template; {subject} keeps one entity's events in one partition, in order"`
	KafkaCreateTopics          bool          `envconfig:"CALLBRIDGE_KAFKA_CREATE_TOPICS" default:"false" desc:"create missing topics; when false a missing topic stops start-up (known topics) or answers 503 (others)"`
	KafkaTopicPartitions       int           `envconfig:"CALLBRIDGE_KAFKA_TOPIC_PARTITIONS" default:"3" desc:"partitions of a topic callbridge creates"`
	KafkaTopicReplication      int           `envconfig:"CALLBRIDGE_KAFKA_TOPIC_REPLICATION" default:"-1" desc:"replication factor of a topic callbridge creates; -1: the broker's default"`
	KafkaBatchTimeout          time.Duration `envconfig:"CALLBRIDGE_KAFKA_BATCH_TIMEOUT" default:"200us" desc:"longest a message waits for its batch to fill; concurrent callbacks share batches"`
	KafkaBatchSize             int           `envconfig:"CALLBRIDGE_KAFKA_BATCH_SIZE" default:"100" desc:"messages per batch at most"`
	KafkaMaxTopics             int           `envconfig:"CALLBRIDGE_KAFKA_MAX_TOPICS" default:"512" desc:"with CALLBRIDGE_KAFKA_CREATE_TOPICS: topics created beyond the documented events' (each undocumented code or generic source type names one), at most; past it a callback for a new topic gets 503 and the log names this setting"`
	KafkaTLS                   bool          `envconfig:"CALLBRIDGE_KAFKA_TLS" default:"false" desc:"connect to Kafka with TLS"`
	KafkaTLSCAFile             string        `envconfig:"CALLBRIDGE_KAFKA_TLS_CA_FILE" desc:"PEM CA bundle to verify the brokers (default: the system pool)"`
	KafkaTLSCertFile           string        `envconfig:"CALLBRIDGE_KAFKA_TLS_CERT_FILE" desc:"PEM client certificate (with CALLBRIDGE_KAFKA_TLS_KEY_FILE)"`
	KafkaTLSKeyFile            string        `envconfig:"CALLBRIDGE_KAFKA_TLS_KEY_FILE" desc:"PEM client key"`
	KafkaTLSInsecureSkipVerify bool          `envconfig:"CALLBRIDGE_KAFKA_TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"do not verify the brokers' certificates (testing only)"`
	KafkaSASLMechanism         string        `envconfig:"CALLBRIDGE_KAFKA_SASL_MECHANISM" default:"none" desc:"none, plain, scram-sha-256 or scram-sha-512"`
	KafkaSASLUsername          string        `envconfig:"CALLBRIDGE_KAFKA_SASL_USERNAME" desc:"SASL user name"`
	KafkaSASLPassword          string        `envconfig:"CALLBRIDGE_KAFKA_SASL_PASSWORD" secret:"true" desc:"SASL password"`

	KafkaSchemaRegistryURL                   string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL" desc:"Confluent-compatible schema registry (such as http://registry:8081): each topic's value schema is registered under <topic>-value at start-up and every event is marked with its id; /readyz answers 503 until all are registered; empty: off"`
	KafkaSchemaIDLocation                    string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION" default:"header" desc:"with a schema registry: header (the id in header __value_schema_id, the value unchanged) or prefix (Confluent's wire format: byte 0 and the 4-byte id before the value)"`
	KafkaSchemaRegistryUsername              string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_USERNAME" desc:"schema registry: HTTP basic authentication user (with CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_PASSWORD)"`
	KafkaSchemaRegistryPassword              string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_PASSWORD" secret:"true" desc:"schema registry: HTTP basic authentication password"`
	KafkaSchemaRegistryTLSCAFile             string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_CA_FILE" desc:"schema registry at an https URL: PEM CA bundle to verify it (default: the system pool)"`
	KafkaSchemaRegistryTLSCertFile           string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_CERT_FILE" desc:"schema registry: PEM client certificate (with CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE)"`
	KafkaSchemaRegistryTLSKeyFile            string `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE" desc:"schema registry: PEM client key"`
	KafkaSchemaRegistryTLSInsecureSkipVerify bool   `envconfig:"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"schema registry: do not verify its certificate (testing only)"`

	// AllowUnsignedSetting is the variable as set; AllowUnsigned resolves it.
	AllowUnsignedSetting AutoBool      `envconfig:"CALLBRIDGE_ALLOW_UNSIGNED" default:"auto" desc:"accept unsigned callbacks for a provider without a secret; auto: true only with the embedded NATS server"`
	MaxClockSkew         time.Duration `envconfig:"CALLBRIDGE_MAX_CLOCK_SKEW" default:"5m" desc:"signature window: how far a signed send time (NetEase CurTime, anyRTC notifyMs, ...; see each provider's page in docs/providers) may be from now, either way"`
	WebhookSources       string        `envconfig:"CALLBRIDGE_WEBHOOK_SOURCES" desc:"generic sources (SPEC §6a): comma-separated names ([a-z0-9-], not a built-in provider id), each served at /v1/callbacks/<name> and configured by CALLBRIDGE_WEBHOOK_<NAME>_* (SCHEME, SECRET, signature template, timestamp, token or challenge, ID, TYPE, SUBJECT, TIME, URL_TOKEN, VERIFY, PUBLISH_TIMEOUT; callbridge env lists them; see docs/generic-sources.md)"`

	// Providers holds every provider's settings by provider id, one entry per ProviderSpec.
	Providers map[string]ProviderSettings `ignored:"true"`
	// MaxBodyBytesSet is whether CALLBRIDGE_MAX_BODY_BYTES was set, rather than defaulted: a
	// default over the broker's message limit is lowered to fit, a value set is refused.
	MaxBodyBytesSet bool `ignored:"true"`
	// NATSReplicasSet is whether CALLBRIDGE_NATS_REPLICAS was set: only then must an existing
	// stream have that many replicas (unset, the stream is used as it is).
	NATSReplicasSet bool `ignored:"true"`

	secretFiles map[string]string // secret variable name → the _FILE path it was read from
}

// ProviderSpec names one provider's variables: CALLBRIDGE_<ENV>_<SecretVar>, _URL_TOKEN, _VERIFY,
// _PUBLISH_TIMEOUT and the ones the provider declares itself.
type ProviderSpec struct {
	ID        string // e.g. "netease-nertc"; ENV is ID upper-cased with '-' → '_': NETEASE_NERTC
	SecretVar string // e.g. "APP_SECRET", "SECRET", "CALLBACK_KEY"; TokenSecret: the URL token is the secret
	Env       string // when set, ENV instead of the one made from ID: WEBHOOK_<NAME> for a generic source
	// SecretName is what the secret variable holds, in the provider's words (`callbridge env`
	// describes it so): "App Secret", "SNS topic ARN allow-list"; empty: a signing secret.
	SecretName string
	Own        []ProviderVar
	// PublishTimeout is the default of CALLBRIDGE_<ENV>_PUBLISH_TIMEOUT; 0: none, the provider's
	// callbacks wait CALLBRIDGE_PUBLISH_TIMEOUT.
	PublishTimeout time.Duration
}

// ProviderVar is a variable of one provider's own, CALLBRIDGE_<ENV>_<Name>, such as
// CALLBRIDGE_ANYRTC_SIGNATURE. The provider declares it; config reads, checks and lists it like
// any other, and keeps its value as text in ProviderSettings.Own for the provider to parse.
type ProviderVar struct {
	Name        string // after CALLBRIDGE_<ENV>_, e.g. "SIGNATURE"
	Type        string // as `callbridge env` lists it: string, duration, a|b, ...
	Default     string
	Description string
	Secret      bool // never printed; also read from <NAME>_FILE
	// WithSecret: required whenever the provider's secret is set (the secret is useless without it).
	WithSecret bool
	// Check reports whether value is allowed; when not, want says what is, for the one-line error.
	Check func(value string) (want string, ok bool)
}

// TokenSecret is the SecretVar of a provider that signs nothing (SRS): it has no secret variable
// of its own; its URL token, CALLBRIDGE_<ENV>_URL_TOKEN, is read as both ProviderSettings.URLToken
// (the route) and ProviderSettings.Secret (what its Verify and the start-up warnings see).
const TokenSecret = "URL_TOKEN"

// VarName is the full name of one of p's variables: VarName("URL_TOKEN") is
// CALLBRIDGE_<ENV>_URL_TOKEN.
func (p ProviderSpec) VarName(suffix string) string { return p.varName(suffix) }

func (p ProviderSpec) env() string {
	if p.Env != "" {
		return p.Env
	}
	return strings.ToUpper(strings.ReplaceAll(p.ID, "-", "_"))
}

// varName is the full name of one of p's variables.
func (p ProviderSpec) varName(suffix string) string {
	return Prefix + p.env() + "_" + suffix
}

// ProviderSettings is one provider's settings.
//
// The envconfig tags hold the name after CALLBRIDGE_<ENV>_; the field without one is the secret,
// named by ProviderSpec.SecretVar. Load reads these itself rather than with envconfig.Process,
// whose fallback to the bare tag name would let an unrelated VERIFY variable configure every
// provider.
type ProviderSettings struct {
	// Secret verifies the provider's signatures; empty means its callbacks cannot be verified.
	Secret string `secret:"true" desc:"the secret that authenticates this provider's callbacks"`
	// URLToken, when set, serves the provider only on /v1/callbacks/{provider}/{token}.
	URLToken string `envconfig:"URL_TOKEN" secret:"true" desc:"when set, callbacks are accepted only on /v1/callbacks/{provider}/{token}"`
	// Verify is VerifyEnforce or VerifyReport.
	Verify string `envconfig:"VERIFY" default:"enforce" desc:"enforce (a failed check gets 401) or report (it is logged, counted and accepted with verified=false)"`
	// PublishTimeout, when set, is how long this provider's callbacks wait for the broker, at
	// most Config.PublishTimeout; 0: that. Its default is the provider's (ProviderSpec).
	PublishTimeout time.Duration `envconfig:"PUBLISH_TIMEOUT" desc:"longest wait for the broker's acknowledgement of this provider's events, for a sender that stops waiting sooner; at most CALLBRIDGE_PUBLISH_TIMEOUT; empty or 0: CALLBRIDGE_PUBLISH_TIMEOUT"`
	// Own holds the provider's own variables (ProviderSpec.Own) by name, as set or defaulted,
	// each accepted by its Check; nil when the provider declares none.
	Own map[string]string `ignored:"true"`
}

// EmbeddedNATS reports whether callbridge runs its own NATS JetStream server (no broker configured).
func (c *Config) EmbeddedNATS() bool {
	return c.Sink == "nats" && c.NATSURL == ""
}

// AllowUnsigned reports whether a provider without a secret accepts unsigned callbacks.
func (c *Config) AllowUnsigned() bool {
	if v, ok := c.AllowUnsignedSetting.Bool(); ok {
		return v
	}
	return c.EmbeddedNATS()
}

// AllowUnsignedAuto reports whether AllowUnsigned is true only because no broker is configured;
// the caller warns about it at start-up.
func (c *Config) AllowUnsignedAuto() bool {
	_, explicit := c.AllowUnsignedSetting.Bool()
	return !explicit && c.EmbeddedNATS()
}

// Error is an invalid configuration value. Its message is one line naming the variable, the value
// (never a secret's) and what is allowed; callbridge exits with status 2 on it.
type Error struct {
	Line string
}

func (e *Error) Error() string { return e.Line }

func invalid(name, value, want string) *Error {
	return &Error{Line: name + "=" + strconv.Quote(value) + ": " + want}
}

// Load reads the configuration from the environment and validates it. providers lists the
// providers whose variables to read.
func Load(providers []ProviderSpec) (*Config, error) {
	if err := checkSpecs(providers); err != nil {
		return nil, err
	}
	c := &Config{}
	if err := envconfig.Process("", c); err != nil {
		var pe *envconfig.ParseError
		if !errors.As(err, &pe) {
			return nil, err
		}
		return nil, invalid(pe.KeyName, pe.Value, c.want(pe.KeyName))
	}
	c.secretFiles = make(map[string]string)
	for _, f := range configFields(c) {
		if f.secret {
			v, err := c.read(f)
			if err != nil {
				return nil, err
			}
			f.value.SetString(v)
		}
	}
	_, c.MaxBodyBytesSet = os.LookupEnv("CALLBRIDGE_MAX_BODY_BYTES")
	_, c.NATSReplicasSet = os.LookupEnv("CALLBRIDGE_NATS_REPLICAS")
	if err := check(c.rules()); err != nil {
		return nil, err
	}
	if err := checkSources(c.WebhookSources, providers); err != nil {
		return nil, err
	}
	c.Providers = make(map[string]ProviderSettings, len(providers))
	for _, spec := range providers {
		var s ProviderSettings
		for _, f := range providerFields(spec, &s) {
			v, err := c.read(f)
			if err == nil {
				err = set(f, v)
			}
			if err != nil {
				return nil, err
			}
		}
		if err := check(s.rules(spec, c.PublishTimeout)); err != nil {
			return nil, err
		}
		// A default over CALLBRIDGE_PUBLISH_TIMEOUT (only a value set is refused) gives way to it.
		s.PublishTimeout = min(s.PublishTimeout, c.PublishTimeout)
		if spec.SecretVar == TokenSecret {
			s.Secret = s.URLToken
		}
		for _, f := range ownFields(spec, &s) {
			v, err := c.read(f)
			if err != nil {
				return nil, err
			}
			if want, ok := f.check(v); !ok {
				return nil, check([]rule{{name: f.name, want: want, secret: f.secret}})
			}
			if s.Own == nil {
				s.Own = make(map[string]string, len(spec.Own))
			}
			s.Own[f.own] = v
		}
		for _, v := range spec.Own {
			if v.WithSecret && s.Secret != "" && s.Own[v.Name] == "" {
				return nil, &Error{Line: fmt.Sprintf("%s is not set: want it whenever %s is",
					spec.varName(v.Name), spec.varName(spec.SecretVar))}
			}
		}
		c.Providers[spec.ID] = s
	}
	return c, nil
}

// ProviderPublishTimeout is how long provider id's callbacks wait for the broker: its
// CALLBRIDGE_<ENV>_PUBLISH_TIMEOUT, else CALLBRIDGE_PUBLISH_TIMEOUT.
func (c *Config) ProviderPublishTimeout(id string) time.Duration {
	if d := c.Providers[id].PublishTimeout; d > 0 {
		return d
	}
	return c.PublishTimeout
}

// read returns the value of one provider variable, recording where a secret came from.
func (c *Config) read(f field) (string, error) {
	if f.secret {
		v, path, err := readSecret(f.name)
		if path != "" {
			c.secretFiles[f.name] = path
		}
		return v, err
	}
	if v, ok := os.LookupEnv(f.name); ok {
		return v, nil
	}
	return f.def, nil
}

// readSecret returns the secret in variable name or, when name_FILE is set, in the file it names
// (a mounted Kubernetes Secret). path is that file, if any.
func readSecret(name string) (value, path string, err error) {
	value, path = os.Getenv(name), os.Getenv(name+"_FILE")
	switch {
	case path == "":
		return value, "", nil
	case value != "":
		return "", "", &Error{Line: name + " and " + name + "_FILE are both set: set only one"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the line
		}
		return "", "", invalid(name+"_FILE", path, "cannot read the file: "+err.Error())
	}
	// Files written by editors and `echo` end in a newline that is not part of the secret.
	value = strings.TrimSpace(string(b))
	if value == "" {
		return "", "", invalid(name+"_FILE", path, "the file is empty")
	}
	return value, path, nil
}

// checkSpecs catches a provider registry whose variable names would be malformed or collide.
func checkSpecs(providers []ProviderSpec) error {
	for _, p := range providers {
		if !isEnvName(p.env()) || !isEnvName(p.SecretVar) {
			return fmt.Errorf("config: provider %q: id or secret variable %q does not make a variable name", p.ID, p.SecretVar)
		}
		for _, v := range p.Own {
			if !isEnvName(v.Name) || v.Check == nil {
				return fmt.Errorf("config: provider %q: variable %q does not make a variable name or has no check", p.ID, v.Name)
			}
			if _, ok := v.Check(v.Default); !ok {
				return fmt.Errorf("config: provider %q: the default of %s does not pass its own check", p.ID, p.varName(v.Name))
			}
		}
	}
	seen := make(map[string]bool)
	for _, v := range Vars(providers) {
		if seen[v.Name] {
			return fmt.Errorf("config: two settings are named %s; check the provider specs", v.Name)
		}
		seen[v.Name] = true
	}
	return nil
}

// Unknown returns the CALLBRIDGE_* names in environ (as os.Environ gives it) that no setting
// reads, each with the closest known name when one is near: a misspelt variable is otherwise
// silently ignored. The caller warns; it does not stop start-up, so that a newer deployment's
// variables do not break an older binary.
func Unknown(environ []string, providers []ProviderSpec) []string {
	known := map[string]bool{}
	for _, v := range Vars(providers) {
		known[v.Name] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, Prefix) || known[name] {
			continue
		}
		msg, best := name, 4 // suggest only names within 3 edits
		for k := range known {
			if d := editDistance(name, k); d < best || (d == best && msg != name && k < msg) {
				msg, best = k, d
			}
		}
		if msg != name {
			msg = name + " (did you mean " + msg + "?)"
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// SourceEnv is ENV of the generic source name: WEBHOOK_<NAME>, upper-cased, '-' as '_'.
func SourceEnv(name string) string {
	return "WEBHOOK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// SourceNames splits CALLBRIDGE_WEBHOOK_SOURCES into names (SPEC §6a); ok is false when one is
// not lower-case [a-z0-9-] (starting with a letter or digit) or appears twice.
func SourceNames(value string) (names []string, ok bool) {
	if strings.TrimSpace(value) == "" {
		return nil, true
	}
	for _, n := range strings.Split(value, ",") {
		n = strings.TrimSpace(n)
		if !isSourceName(n) || slices.Contains(names, n) {
			return nil, false
		}
		names = append(names, n)
	}
	return names, true
}

func isSourceName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Sources returns the generic sources named in CALLBRIDGE_WEBHOOK_SOURCES, as Load checked them.
func (c *Config) Sources() []string {
	names, _ := SourceNames(c.WebhookSources)
	return names
}

// checkSources checks CALLBRIDGE_WEBHOOK_SOURCES against the specs Load was given: each name is
// valid, is no built-in provider's id, and has its spec (with Env SourceEnv(name)).
func checkSources(value string, providers []ProviderSpec) error {
	const name = "CALLBRIDGE_WEBHOOK_SOURCES"
	names, ok := SourceNames(value)
	if !ok {
		return invalid(name, value, "want comma-separated names of lower-case letters, digits and - (starting with a letter or digit, at most 64), each once")
	}
	for _, n := range names {
		found := false
		for _, p := range providers {
			switch {
			case p.ID == n && p.Env == "":
				return invalid(name, value, n+" is a built-in provider's id: name the source otherwise")
			case p.ID == n && p.Env == SourceEnv(n):
				found = true
			}
		}
		if !found {
			return fmt.Errorf("config: generic source %q has no provider spec; check the command's providerSpecs", n)
		}
	}
	return nil
}

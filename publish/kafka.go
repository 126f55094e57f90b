package publish

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/callbridge/callbridge/normalize"
)

// KafkaConfig configures the Kafka sink.
type KafkaConfig struct {
	Brokers      []string
	RequiredAcks string // "all", "one" or "none"
	Compression  string // "none", "gzip", "snappy", "lz4", "zstd"
	ClientID     string
	Template     *Template // topic
	KeyTemplate  *Template // message key
	Mode         Mode
	CreateTopics bool
	Partitions   int // of a created topic; 0 or less: the broker's default
	Replication  int // of a created topic; -1 (or 0): the broker's default
	// KnownTopics are the topics the template yields for every documented event and the dead
	// letters: created at start-up with CreateTopics, else checked to exist.
	KnownTopics []string
	// MaxTopics bounds the topics CreateTopics creates beyond KnownTopics (an undocumented code
	// or a generic source's type names a new one): past it, a callback for a new topic fails,
	// transient (503), and the log names CALLBRIDGE_KAFKA_MAX_TOPICS. 0 or less: 512.
	MaxTopics     int
	BatchTimeout  time.Duration // longest a message waits for its batch to fill; 0: 200µs
	BatchSize     int           // messages per batch at most; 0: 100
	TLS           *TLSFiles     // nil: plaintext
	SASLMechanism string        // "none", "plain", "scram-sha-256", "scram-sha-512"
	SASLUsername  string
	SASLPassword  string
	Timeout       time.Duration // write acknowledgement deadline; 0: 5s
	Logger        *slog.Logger
	// SchemaRegistry, when set, registers the topics' value schemas and marks every event with
	// its schema id (schemaregistry.go); not ready until every known topic's is registered.
	SchemaRegistry *SchemaRegistryConfig
}

// maxTopicLen is Kafka's limit on a topic name.
const maxTopicLen = 249

// maxKnownTopics bounds the topics remembered as existing beyond the known ones: a template with
// {subject} names one per entity.
const maxKnownTopics = 4096

// Kafka publishes to Kafka topics through one kafka-go Writer. Publish is synchronous:
// concurrent calls are batched together per partition (up to BatchSize messages, waiting at most
// BatchTimeout for a batch to fill), and each returns once its batch is acknowledged per
// RequiredAcks.
type Kafka struct {
	cfg       KafkaConfig
	enc       *Encoder
	addr      net.Addr
	transport *kafka.Transport
	client    *kafka.Client
	writer    *kafka.Writer
	sr        *schemaRegistry // nil: no schema registry

	mu      sync.RWMutex
	topics  map[string]string   // topics known to exist, interned: name → name
	missing map[string]struct{} // missing topics already logged
	created map[string]struct{} // topics created (or being created) beyond the known ones, at most MaxTopics
	limit   topicLimitLog

	checkErr atomic.Pointer[error]        // last check; nil: the brokers answered
	writeErr atomic.Pointer[writeFailure] // the last write failed for want of the brokers

	wake      chan struct{} // a write failed: check now
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
	bufs      sync.Pool
}

// kafkaBuf is one message on its way: the rendered Message and what the writer is handed.
type kafkaBuf struct {
	msg      Message
	headers  []kafka.Header
	out      [1]kafka.Message
	schemaID [5]byte // the schema id header's value or the value's prefix
	value    []byte  // the value with the schema id prefix
}

// NewKafka connects to the brokers and checks or creates the known topics. Brokers that do not
// answer make an error that wraps ErrNotReady; a known topic that is missing (without
// CreateTopics) or cannot be created is an error naming it.
func NewKafka(ctx context.Context, cfg KafkaConfig) (*Kafka, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	acks, err := kafkaAcks(cfg.RequiredAcks)
	if err != nil {
		return nil, err
	}
	compression, err := kafkaCompression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	mechanism, err := kafkaSASL(cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword)
	if err != nil {
		return nil, err
	}
	transport := &kafka.Transport{
		ClientID:    cfg.ClientID,
		DialTimeout: cfg.Timeout,
		SASL:        mechanism,
		// kafka-go learns that a partition's leader moved only from fresh metadata, never from
		// a NOT_LEADER answer: kafkaMetadataTTL keeps that within the publish timeout.
		MetadataTTL: kafkaMetadataTTL,
	}
	if cfg.TLS != nil {
		if transport.TLS, err = cfg.TLS.Config(); err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
	}
	k := &Kafka{
		cfg:       cfg,
		enc:       KafkaEncoder(cfg.Template, cfg.KeyTemplate, cfg.Mode),
		addr:      kafka.TCP(cfg.Brokers...), // not resolved here: the brokers may be host names
		transport: transport,
		topics:    map[string]string{},
		missing:   map[string]struct{}{},
		created:   map[string]struct{}{},
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	k.client = &kafka.Client{Addr: k.addr, Transport: transport, Timeout: cfg.Timeout}
	k.writer = newKafkaWriter(&cfg, k.addr, transport, acks, compression)
	if cfg.SchemaRegistry != nil {
		topic := func(t string) string { return string(AppendKafkaTopic(nil, []byte(t))) }
		if k.sr, err = newSchemaRegistry(*cfg.SchemaRegistry, cfg.Timeout, cfg.Logger, topic); err != nil {
			return nil, err
		}
	}

	startCtx, cancel := context.WithTimeout(ctx, max(2*cfg.Timeout, 10*time.Second))
	defer cancel()
	if err := k.start(startCtx); err != nil {
		k.transport.CloseIdleConnections()
		return nil, err
	}
	go k.check()
	if k.sr != nil {
		k.sr.start()
	}
	return k, nil
}

// defaults fills in what is unset and checks what is required.
func (cfg *KafkaConfig) defaults() error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 200 * time.Microsecond // not kafka-go's 1s: a lone callback would wait for it
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.MaxTopics <= 0 {
		cfg.MaxTopics = defaultMaxTopics
	}
	if cfg.Template == nil || cfg.KeyTemplate == nil {
		return errors.New("kafka sink: topic and key templates are required")
	}
	var brokers []string
	for _, b := range cfg.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return errors.New("kafka sink: no brokers configured")
	}
	cfg.Brokers = brokers
	return nil
}

// newKafkaWriter is the one writer every publish goes through.
func newKafkaWriter(cfg *KafkaConfig, addr net.Addr, transport *kafka.Transport, acks kafka.RequiredAcks, compression kafka.Compression) *kafka.Writer {
	logger := cfg.Logger
	return &kafka.Writer{
		Addr:      addr,
		Transport: transport,
		// murmur2 of the key, as the Java client's and franz-go's default partitioners: one
		// subject stays in one partition, and any other producer keyed the same way agrees.
		// A nil key (dead letters) goes to a random partition.
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: acks,
		Compression:  compression,
		BatchTimeout: cfg.BatchTimeout,
		BatchSize:    cfg.BatchSize,
		BatchBytes:   1 << 20, // kafka-go's default, under the brokers' default message.max.bytes
		// Retries inside one call cover a lost connection; the call itself ends at Timeout and
		// few attempts keep a batch from being retried long after its callers answered 503.
		MaxAttempts:     3,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: 500 * time.Millisecond,
		WriteTimeout:    cfg.Timeout,
		ReadTimeout:     cfg.Timeout,
		Async:           false,
		// Topics are created by us (CreateTopics) or by the operator, never by a metadata
		// request with a broker's defaults.
		AllowAutoTopicCreation: false,
		// Each failed attempt; what fails a call is returned to the caller, which logs it.
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			if logger.Enabled(context.Background(), slog.LevelDebug) {
				logger.Debug("kafka: " + fmt.Sprintf(format, args...))
			}
		}),
	}
}

// start proves that the brokers answer and checks or creates the known topics.
func (k *Kafka) start(ctx context.Context) error {
	if err := k.ping(ctx); err != nil {
		if !unreachable(err) { // retrying will not help
			return fmt.Errorf("kafka brokers %s: %w", k.Brokers(), err)
		}
		return fmt.Errorf("%w: kafka brokers %s do not answer: %v", ErrNotReady, k.Brokers(), err)
	}
	known := make([]string, len(k.cfg.KnownTopics))
	for i, t := range k.cfg.KnownTopics {
		known[i] = string(AppendKafkaTopic(nil, []byte(t))) // as Publish will name it
	}
	known = unique(known)
	if len(known) == 0 {
		return nil
	}
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: known})
	if err != nil {
		return fmt.Errorf("%w: kafka metadata from %s: %v", ErrNotReady, k.Brokers(), err)
	}
	exists := map[string]bool{}
	for _, t := range meta.Topics {
		if t.Error == nil {
			exists[t.Name] = true
		}
	}
	var missing []string
	for _, t := range known {
		if exists[t] {
			k.topics[t] = t
		} else {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !k.cfg.CreateTopics {
		return fmt.Errorf("kafka topics missing: %s (create them or set CALLBRIDGE_KAFKA_CREATE_TOPICS=true)", strings.Join(missing, ", "))
	}
	if err := k.createTopics(ctx, missing...); err != nil {
		return err
	}
	for _, t := range missing {
		k.topics[t] = t
	}
	return nil
}

// unreachable reports whether err says the brokers could not be reached (which may pass) rather
// than that they refused us: an error code from a broker (such as a failed SASL authentication)
// or a certificate that does not verify.
func unreachable(err error) bool {
	var kerr kafka.Error
	var cerr *tls.CertificateVerificationError
	var aerr tls.AlertError
	return !errors.As(err, &kerr) && !errors.As(err, &cerr) && !errors.As(err, &aerr)
}

// Brokers is where the sink connects, for the start-up log.
func (k *Kafka) Brokers() string { return strings.Join(k.cfg.Brokers, ",") }

func (k *Kafka) getBuf() *kafkaBuf {
	if b, ok := k.bufs.Get().(*kafkaBuf); ok {
		return b
	}
	return &kafkaBuf{
		msg:     Message{buf: make([]byte, 0, 2048), vals: make([]byte, 0, 512), Headers: make([]Header, 0, 12)},
		headers: make([]kafka.Header, 0, 12),
	}
}

// putBuf pools b again, once the writer is done with it: after a successful write only (a call
// that timed out may leave its batch with the writer).
func (k *Kafka) putBuf(b *kafkaBuf) {
	if cap(b.msg.buf) > maxPooledMsg || cap(b.msg.vals) > maxPooledMsg || cap(b.value) > maxPooledMsg {
		return
	}
	b.msg.reset()
	b.value = b.value[:0]
	clear(b.headers)
	b.headers = b.headers[:0]
	b.out[0] = kafka.Message{}
	k.bufs.Put(b)
}

// Publish sends ev as its Encoder renders it (KafkaEncoder) to the topic its template names,
// keyed by the key template, and waits for the acknowledgement. In binary mode the attributes
// are "ce_" headers, per the CloudEvents Kafka binding. Nothing handed to the writer points into
// ev, which is reused once Publish returns. A topic name over Kafka's limit is ErrNameTooLong.
func (k *Kafka) Publish(ev *normalize.Event) error {
	return k.PublishWithin(ev, k.cfg.Timeout)
}

// PublishWithin is Publish, waiting at most d (publish.Within): the write's retries stop at d
// too. A d over the sink's timeout is the sink's timeout.
func (k *Kafka) PublishWithin(ev *normalize.Event, d time.Duration) error {
	if e := k.checkErr.Load(); e != nil {
		return *e
	}
	b := k.getBuf()
	if err := k.enc.Event(&b.msg, ev); err != nil {
		k.putBuf(b)
		return err
	}
	return k.send(b, min(d, k.cfg.Timeout))
}

// DeadLetter sends body as it arrived to DeadLetterSubject(provider), without a key, with the
// reason in ReasonHeader. Only authenticated bodies are dead-lettered (ingest's contract), and
// the letter says so in VerifiedHeader.
func (k *Kafka) DeadLetter(provider string, body []byte, reason string) error {
	if e := k.checkErr.Load(); e != nil {
		return *e
	}
	b := k.getBuf()
	if err := k.enc.DeadLetter(&b.msg, provider, body, reason); err != nil {
		k.putBuf(b)
		return err
	}
	return k.send(b, k.cfg.Timeout)
}

// Send writes m, rendered by an Encoder like this sink's (the buffer's forwarder), and waits for
// the acknowledgement. m is copied: the caller may use it again once Send returns.
func (k *Kafka) Send(m *Message) error {
	if e := k.checkErr.Load(); e != nil {
		return *e
	}
	if len(m.Subject) > maxTopicLen {
		return fmt.Errorf("%w: a %d-byte topic (%s)", ErrNameTooLong, len(m.Subject), nameExcerpt(m.Subject, len(m.Subject)))
	}
	b := k.getBuf()
	b.msg.copyFrom(m)
	return k.send(b, k.cfg.Timeout)
}

func (k *Kafka) send(b *kafkaBuf, timeout time.Duration) error {
	err := k.write(b, timeout)
	if err == nil {
		k.putBuf(b)
	} // else the writer may still hold the batch (a call that timed out): leave it to the GC
	return err
}

// write ensures the topic exists (or lets the broker say it does not) and writes b's message,
// within timeout.
func (k *Kafka) write(b *kafkaBuf, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m := &b.msg
	topic, err := k.topic(ctx, m.Subject)
	if err != nil {
		return err
	}
	for _, h := range m.Headers {
		b.headers = append(b.headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	value := m.Data
	if k.sr != nil && !isDeadLetterTopic(topic) {
		id, err := k.sr.id(ctx, topic)
		if err != nil {
			return err
		}
		value = k.sr.mark(b, id, value)
	}
	b.out[0] = kafka.Message{Topic: topic, Key: m.Key, Value: value, Headers: b.headers}
	err = k.writeRetrying(ctx, b.out[:])
	if err == nil {
		if k.writeErr.Load() != nil {
			k.writeErr.Store(nil)
		}
		if !k.cfg.CreateTopics { // a topic the operator created: remember it
			k.remember(topic)
		}
		return nil
	}
	return k.writeFailed(err, topic, len(m.Data), timeout)
}

// writeFailed says what a write of size bytes to topic met: ErrTooLarge when it can never fit,
// a topic to create, or the brokers not answering (then the sink is not ready until they do).
// The topic is quoted as an excerpt: it may hold payload values.
func (k *Kafka) writeFailed(err error, topic string, size int, timeout time.Duration) error {
	name := nameExcerpt([]byte(topic), len(topic))
	var werr kafka.WriteErrors
	if errors.As(err, &werr) && len(werr) == 1 && werr[0] != nil {
		err = werr[0]
	}
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		return k.topicMissing(err, topic, name)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no acknowledgement within %s: %w", timeout, err)
	}
	var kerr kafka.Error
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%w: %d bytes to %s, over the %d a batch may hold: %v", ErrTooLarge, size, name, k.writer.BatchBytes, err)
	}
	if errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.RecordListTooLarge) {
		return fmt.Errorf("%w: %d bytes to %s, over the broker's message.max.bytes (or the topic's max.message.bytes): %v", ErrTooLarge, size, name, err)
	}
	if !errors.As(err, &kerr) {
		// No answer from the broker (a protocol error code would be one): not ready until a
		// write succeeds, or a check at least writeFailureHold later finds the brokers answering.
		// The check runs now, so that brokers which are down are seen as down at once.
		k.writeErr.Store(&writeFailure{err: fmt.Errorf("%w: kafka write to %s failed: %v", ErrNotReady, name, err), at: time.Now()})
		select {
		case k.wake <- struct{}{}:
		default:
		}
	}
	return fmt.Errorf("publish to %s: %w", name, err)
}

// Live returns ErrClosed once the sink is closed; until then nil: kafka-go redials a broker for
// every request that needs one, so no connection is ever lost for good.
func (k *Kafka) Live() error {
	if k.closed.Load() {
		return ErrClosed
	}
	return nil
}

// MessageLimit is the largest batch the writer sends: one message at most.
func (k *Kafka) MessageLimit() int { return int(k.writer.BatchBytes) }

// Close flushes the writer, stops the readiness check and closes the connections. Later calls
// return the first one's result.
func (k *Kafka) Close(ctx context.Context) error {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		close(k.stop)
		closed := make(chan error, 1)
		go func() { closed <- k.writer.Close() }()
		select {
		case k.closeErr = <-closed:
		case <-ctx.Done():
			k.closeErr = fmt.Errorf("kafka writer still flushing at shutdown: %w", ctx.Err())
		}
		<-k.done
		if k.sr != nil {
			k.sr.close()
		}
		k.transport.CloseIdleConnections()
	})
	return k.closeErr
}

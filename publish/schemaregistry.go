package publish

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// SchemaRegistryConfig opts the Kafka sink into a Confluent-compatible schema registry (SPEC §9):
// each topic's value schema is registered under the subject "<topic>-value" (schema type JSON)
// and every event written to the topic is marked with the id the registry gave it. Dead letters
// are not marked: they are raw provider bodies, not the events the schemas describe.
type SchemaRegistryConfig struct {
	URL string // base URL of the registry's REST API, such as http://registry:8081
	// Location is where a message carries its schema id: SchemaIDHeader (the default) or
	// SchemaIDPrefix.
	Location           string
	Username, Password string    // HTTP basic authentication; none when Username is empty
	TLS                *TLSFiles // for an https URL; nil: the system roots
	// Schemas are the value schemas of the known topics (as the topic template names them),
	// registered in the background from start-up; the sink is not ready until all are.
	Schemas map[string][]byte
	// Fallback is the value schema of any other topic (an undocumented code, a generic source):
	// registered on the topic's first use.
	Fallback []byte
	// Registerer takes the registration metrics; nil: none.
	Registerer prometheus.Registerer
}

// Where a message carries its value schema id.
const (
	// SchemaIDHeader: the value is unchanged and the header ValueSchemaIDHeader holds the id as
	// Confluent's SchemaId encodes it (byte 0, then the id as 4 big-endian bytes), which
	// Confluent's DualSchemaIdDeserializer reads from that header.
	SchemaIDHeader = "header"
	// SchemaIDPrefix: the Confluent wire format, the value preceded by byte 0 and the id as 4
	// big-endian bytes.
	SchemaIDPrefix = "prefix"
)

// ValueSchemaIDHeader is the header of SchemaIDHeader, named as Confluent's serializers name it
// (io.confluent.kafka.serializers.schema.id.SchemaId.VALUE_SCHEMA_ID_HEADER).
const ValueSchemaIDHeader = "__value_schema_id"

// ErrSchemaNotRegistered refuses an event for a topic whose value schema the registry has not
// (yet) given an id for: the registry is unreachable or refused the schema. It is transient
// (503: the provider retries, and the buffer keeps the message), never a 4xx.
var ErrSchemaNotRegistered = errors.New("kafka schema registry: the topic's value schema is not registered")

// Backoff of the background registration.
const (
	registryBackoffMin = 250 * time.Millisecond
	registryBackoffMax = 15 * time.Second
)

// schemaRegistry registers value schemas and caches their ids by topic.
type schemaRegistry struct {
	cfg     SchemaRegistryConfig
	base    string // the URL requests go to
	where   string // base without a password, for the log
	client  *http.Client
	timeout time.Duration
	logger  *slog.Logger
	prefix  bool

	mu       sync.RWMutex
	ids      map[string]uint32      // registered topics' ids
	pending  map[string]struct{}    // known topics still to register
	inflight map[string]*registered // a first use's registration under way

	lastErr  atomic.Pointer[error] // the background registration's last failure; nil: none
	failures prometheus.Counter
	stop     chan struct{}
	done     chan struct{}
}

// registered is one registration that concurrent first uses of a topic share.
type registered struct {
	done chan struct{}
	id   uint32
	err  error
}

// newSchemaRegistry checks cfg; topics maps each known topic as configured to its name on
// Kafka. Nothing is asked of the registry yet (start does that).
func newSchemaRegistry(cfg SchemaRegistryConfig, timeout time.Duration, logger *slog.Logger, topic func(string) string) (*schemaRegistry, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kafka schema registry URL %q: want an http or https URL", cfg.URL)
	}
	if cfg.Location == "" {
		cfg.Location = SchemaIDHeader
	}
	if cfg.Location != SchemaIDHeader && cfg.Location != SchemaIDPrefix {
		return nil, fmt.Errorf("kafka schema id location %q: want header or prefix", cfg.Location)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		if transport.TLSClientConfig, err = cfg.TLS.Config(); err != nil {
			return nil, fmt.Errorf("kafka schema registry: %w", err)
		}
	}
	schemas := make(map[string][]byte, len(cfg.Schemas))
	r := &schemaRegistry{
		base: strings.TrimSuffix(cfg.URL, "/"), where: strings.TrimSuffix(u.Redacted(), "/"), client: &http.Client{Transport: transport},
		timeout: timeout, logger: logger, prefix: cfg.Location == SchemaIDPrefix,
		ids: map[string]uint32{}, pending: map[string]struct{}{}, inflight: map[string]*registered{},
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_schema_registry_failures_total",
			Help: "Failed attempts to register a Kafka topic's value schema (registry unreachable, or refusing it: 409, 422).",
		}),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for t, s := range cfg.Schemas {
		if isDeadLetterTopic(topic(t)) {
			continue
		}
		schemas[topic(t)] = s
		r.pending[topic(t)] = struct{}{}
	}
	cfg.Schemas = schemas
	r.cfg = cfg
	return r, nil
}

// start registers the metrics and the known topics' schemas in the background, until all are
// registered or close.
func (r *schemaRegistry) start() {
	if reg := r.cfg.Registerer; reg != nil {
		pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "callbridge_schema_registry_pending_topics",
			Help: "Known Kafka topics whose value schema is not registered yet: while above 0, /readyz answers 503.",
		}, func() float64 {
			r.mu.RLock()
			defer r.mu.RUnlock()
			return float64(len(r.pending))
		})
		for _, c := range []prometheus.Collector{r.failures, pending} {
			var already prometheus.AlreadyRegisteredError
			if err := reg.Register(c); err != nil && !errors.As(err, &already) {
				r.logger.Warn("schema registry metrics not registered", "error", err)
			}
		}
	}
	go r.registerKnown()
}

func (r *schemaRegistry) close() {
	close(r.stop)
	<-r.done
	r.client.CloseIdleConnections()
}

// registerParallel is how many registrations a round of registerKnown has under way at once: a
// registry a round trip of 20 ms away takes hundreds of topics in about a second.
const registerParallel = 8

// registerKnown registers every pending topic's schema, in rounds retried with backoff until all
// are registered (or close). A round stops at the first registry that does not answer (the
// others would not either); a refusal (409, 422) is logged once per subject and answer, naming
// the subject.
func (r *schemaRegistry) registerKnown() {
	defer close(r.done)
	wait := registryBackoffMin
	var logged sync.Map // subject → the failure last logged
	began := time.Now()
	for {
		if !r.registerRound(&logged, wait) {
			r.lastErr.Store(nil)
			r.logger.Info("kafka schema registry: every known topic's value schema is registered",
				"topics", len(r.cfg.Schemas), "registry", r.where, "took", time.Since(began).Round(time.Millisecond).String())
			return
		}
		select {
		case <-r.stop:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, registryBackoffMax)
	}
}

// registerRound tries every pending topic once, registerParallel at a time; it reports whether
// any failed.
func (r *schemaRegistry) registerRound(logged *sync.Map, wait time.Duration) (failed bool) {
	var (
		wg          sync.WaitGroup
		failures    atomic.Bool
		unreachable atomic.Bool
		slots       = make(chan struct{}, registerParallel)
	)
	for _, t := range r.pendingTopics() {
		slots <- struct{}{}
		if unreachable.Load() {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
			id, err := r.register(ctx, t, r.cfg.Schemas[t])
			cancel()
			if err == nil {
				r.mu.Lock()
				r.ids[t] = id
				delete(r.pending, t)
				r.mu.Unlock()
				return
			}
			failures.Store(true)
			r.lastErr.Store(&err)
			if last, _ := logged.Swap(t, err.Error()); last != err.Error() {
				r.logger.Error("kafka schema registry: value schema not registered; /readyz answers 503 and the topic's events 503 until it is",
					"subject", t+"-value", "error", err, "retry_in", wait.String())
			}
			var refused *registryError
			if !errors.As(err, &refused) {
				unreachable.Store(true)
			}
		}()
	}
	wg.Wait()
	return failures.Load()
}

func (r *schemaRegistry) pendingTopics() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	topics := make([]string, 0, len(r.pending))
	for t := range r.pending {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// ready returns nil once every known topic's schema is registered.
func (r *schemaRegistry) ready() error {
	r.mu.RLock()
	n := len(r.pending)
	r.mu.RUnlock()
	if n == 0 {
		return nil
	}
	err := fmt.Errorf("%w: %d known topics' value schemas not registered yet", ErrSchemaNotRegistered, n)
	if last := r.lastErr.Load(); last != nil {
		err = fmt.Errorf("%w (last: %v)", err, *last)
	}
	return err
}

// id is the schema id of topic's values. A known topic waits for the background registration
// (ErrSchemaNotRegistered until then); any other is registered now with the fallback schema,
// once for concurrent first uses.
func (r *schemaRegistry) id(ctx context.Context, topic string) (uint32, error) {
	r.mu.RLock()
	id, ok := r.ids[topic]
	_, known := r.pending[topic]
	call := r.inflight[topic]
	r.mu.RUnlock()
	switch {
	case ok:
		return id, nil
	case known:
		if err := r.ready(); err != nil {
			return 0, err
		}
		return r.id(ctx, topic) // registered since: the id is there
	case call != nil:
		select {
		case <-call.done:
			return call.id, call.err
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %v", ErrSchemaNotRegistered, ctx.Err())
		}
	}
	r.mu.Lock()
	if id, ok := r.ids[topic]; ok {
		r.mu.Unlock()
		return id, nil
	}
	if call = r.inflight[topic]; call != nil {
		r.mu.Unlock()
		<-call.done
		return call.id, call.err
	}
	call = &registered{done: make(chan struct{})}
	r.inflight[topic] = call
	r.mu.Unlock()

	call.id, call.err = r.register(ctx, topic, r.cfg.Fallback)
	if call.err != nil {
		r.logger.Error("kafka schema registry: value schema of a new topic not registered; its events get 503 until it is", "error", call.err)
	}
	r.mu.Lock()
	delete(r.inflight, topic)
	if call.err == nil && len(r.ids) < maxKnownTopics+len(r.cfg.Schemas) {
		r.ids[topic] = call.id
	}
	r.mu.Unlock()
	close(call.done)
	return call.id, call.err
}

// register posts schema under topic's value subject (POST /subjects/<subject>/versions): the
// registry answers the id of the schema, the same id again for a schema it holds already.
// Every failure wraps ErrSchemaNotRegistered (and the *registryError of a refusal), and is
// counted.
func (r *schemaRegistry) register(ctx context.Context, topic string, schema []byte) (uint32, error) {
	subject := topic + "-value"
	id, err := r.post(ctx, subject, schema)
	if err != nil {
		r.failures.Inc()
		return 0, fmt.Errorf("%w: subject %s at %s: %w", ErrSchemaNotRegistered, nameExcerpt([]byte(subject), len(subject)), r.where, err)
	}
	return id, nil
}

// registryError is the registry's answer to a request it refused.
type registryError struct {
	Status  int
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *registryError) Error() string {
	what := "refused"
	switch e.Status {
	case http.StatusConflict:
		what = "refused: incompatible with the subject's registered schemas (409)"
	case http.StatusUnprocessableEntity:
		what = "refused: an invalid schema (422)"
	case http.StatusUnauthorized, http.StatusForbidden:
		what = fmt.Sprintf("refused: check CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_USERNAME and _PASSWORD (%d)", e.Status)
	default:
		what = fmt.Sprintf("answered %d", e.Status)
	}
	return fmt.Sprintf("%s: error_code %d: %s", what, e.Code, e.Message)
}

func (r *schemaRegistry) post(ctx context.Context, subject string, schema []byte) (uint32, error) {
	body, err := json.Marshal(struct {
		SchemaType string `json:"schemaType"`
		Schema     string `json:"schema"`
	}{"JSON", string(schema)})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/subjects/"+url.PathEscape(subject)+"/versions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if r.cfg.Username != "" {
		req.SetBasicAuth(r.cfg.Username, r.cfg.Password)
	}
	res, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		rerr := &registryError{Status: res.StatusCode}
		if json.Unmarshal(answer, rerr) != nil {
			rerr.Message = excerpt(answer)
		}
		return 0, rerr
	}
	var ok struct {
		ID *int64 `json:"id"`
	}
	if err := json.Unmarshal(answer, &ok); err != nil || ok.ID == nil || *ok.ID < 0 || *ok.ID > 1<<31-1 {
		return 0, fmt.Errorf("answer without a schema id: %s", excerpt(answer))
	}
	return uint32(*ok.ID), nil
}

// mark marks b's message, about to be written with value, with schema id: a header, or the
// Confluent wire format's prefix. It returns the value to write.
func (r *schemaRegistry) mark(b *kafkaBuf, id uint32, value []byte) []byte {
	b.schemaID[0] = 0 // Confluent's magic byte: a 4-byte id follows
	binary.BigEndian.PutUint32(b.schemaID[1:], id)
	if !r.prefix {
		b.headers = append(b.headers, kafka.Header{Key: ValueSchemaIDHeader, Value: b.schemaID[:]})
		return value
	}
	b.value = append(append(b.value[:0], b.schemaID[:]...), value...)
	return b.value
}

// withoutSchemaID is value without the schema id prefix SchemaIDPrefix puts before it, if any: no
// event's value (JSON: a structured event, or binary mode's data) starts with byte 0.
func withoutSchemaID(value []byte) []byte {
	if len(value) >= 5 && value[0] == 0 {
		return value[5:]
	}
	return value
}

// isDeadLetterTopic reports whether topic holds dead letters, which are not marked.
func isDeadLetterTopic(topic string) bool { return strings.HasPrefix(topic, deadLetterPrefix) }

package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// The sink contract (SPEC §7): one table of sinks, each fed an event made from every registry
// entry, and held to the same guarantees. A provider added to the registry is covered here
// without editing this file.
//
//   - every event is published and read back from the broker by id;
//   - a retry (the same event twice) is stored once on JetStream;
//   - two providers' events with the same id are both stored, and so are two providers' dead
//     letters with the same body: deduplication is scoped by provider;
//   - an event over the target's message limit is ErrTooLarge, at the door in buffer mode too;
//   - an event whose undocumented code is 5 000 bytes is stored under a bounded subject or
//     refused with ErrNameTooLong, and the connection still works afterwards;
//   - a connection closed for good fails Live (for the buffer: its target's).
func TestSinkContract(t *testing.T) {
	for _, c := range contractSinks() {
		t.Run(c.name, func(t *testing.T) {
			sink, broker := c.open(t)
			events := registryEvents(t)
			t.Run("every registry entry is stored", func(t *testing.T) { contractEveryEntry(t, sink, broker, events) })
			t.Run("a retry is stored once", func(t *testing.T) { contractRetry(t, sink, broker, events[0]) })
			t.Run("deduplication is scoped by provider", func(t *testing.T) { contractScopedDedup(t, sink, broker, events) })
			t.Run("oversize is ErrTooLarge", func(t *testing.T) { contractTooLarge(t, sink, broker, events[0]) })
			t.Run("a 5000-byte code keeps the connection", func(t *testing.T) { contractLongCode(t, sink, broker, events) })
			t.Run("closed for good fails Live", func(t *testing.T) { contractClosed(t, sink, broker) })
		})
	}
}

// contractBroker is what a contract test needs of the broker behind a sink.
type contractBroker struct {
	jetstream bool               // the broker deduplicates by Nats-Msg-Id
	limit     int                // the target's message limit
	maxName   int                // the longest subject or topic it takes
	read      func() []brokerMsg // everything the broker holds now
	kill      func()             // closes the connection for good, as a protocol error does
}

// brokerMsg is one message read back from a broker.
type brokerMsg struct {
	subject string
	msgID   string // Nats-Msg-Id; empty on Kafka
	id      string // the CloudEvent id; empty for a dead letter
	data    []byte
}

type contractSink struct {
	name string
	open func(t *testing.T) (Sink, *contractBroker)
}

func contractSinks() []contractSink {
	return []contractSink{
		{"nats", func(t *testing.T) (Sink, *contractBroker) {
			s := newEmbedded(t, NATSConfig{})
			return s, natsBroker(t, s)
		}},
		{"kafka", func(t *testing.T) (Sink, *contractBroker) {
			k, broker := contractKafka(t)
			return k, broker
		}},
		{"buffer to nats", func(t *testing.T) (Sink, *contractBroker) {
			s := newEmbedded(t, NATSConfig{})
			return contractBuffer(t, s, s.enc), natsBroker(t, s)
		}},
		{"buffer to kafka", func(t *testing.T) (Sink, *contractBroker) {
			k, broker := contractKafka(t)
			return contractBuffer(t, k, k.enc), broker
		}},
	}
}

// contractBuffer is a buffer in front of target that stores more than the target takes, so that
// refusing what the target cannot take is the buffer's own doing.
func contractBuffer(t *testing.T, target Target, enc *Encoder) *Buffer {
	b := openBuffer(t, t.TempDir(), target, func(c *BufferConfig) {
		c.Encoder = enc
		c.MaxPayload = 4 << 20
	})
	t.Cleanup(func() { closeBuffer(t, b, 5*time.Second) })
	return b
}

func natsBroker(t *testing.T, s *NATS) *contractBroker {
	return &contractBroker{
		jetstream: true,
		limit:     s.MessageLimit(),
		maxName:   maxNATSSubject,
		read:      func() []brokerMsg { return natsBrokerMsgs(t, s) },
		kill:      func() { s.nc.Close() },
	}
}

// natsBrokerMsgs reads the whole stream through the sink's own connection.
func natsBrokerMsgs(t *testing.T, s *NATS) []brokerMsg {
	ctx := context.Background()
	str, err := s.js.Stream(ctx, "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := str.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []brokerMsg
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := str.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, storedOf(m.Subject, m.Header.Get(jetstream.MsgIDHeader), m.Data))
	}
	return out
}

func storedOf(subject, msgID string, data []byte) brokerMsg {
	s := brokerMsg{subject: subject, msgID: msgID, data: data}
	if !strings.HasPrefix(subject, deadLetterPrefix) {
		var ev struct{ ID string }
		json.Unmarshal(data, &ev)
		s.id = ev.ID
	}
	return s
}

// contractKafka is a Kafka sink on an in-process cluster, and a consumer of every topic that
// keeps what it read.
func contractKafka(t *testing.T) (*Kafka, *contractBroker) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []brokerMsg
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				mu.Lock()
				got = append(got, storedOf(r.Topic, "", r.Value))
				mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return k, &contractBroker{
		limit:   k.MessageLimit(),
		maxName: maxTopicLen,
		read: func() []brokerMsg {
			mu.Lock()
			defer mu.Unlock()
			return append([]brokerMsg(nil), got...)
		},
		kill: func() { k.Close(context.Background()) },
	}
}

// registryEvents is one event per registry entry: every provider's Sample through its Envelope
// (with its SampleHeaders), and a generic source's sample.
func registryEvents(t *testing.T) []*normalize.Event {
	providers := normalize.Builtins()
	source, err := normalize.NewWebhook("contract-source", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var events []*normalize.Event
	for _, p := range append(providers, source) {
		h := contractHeaders{}
		for _, kv := range p.SampleHeaders {
			h[strings.ToLower(kv.Key)] = []byte(kv.Value)
		}
		h["webhook-id"] = []byte("msg_" + p.ID) // Standard Webhooks: the generic source's id
		ev := new(normalize.Event)
		if err := p.Envelope(&normalize.Callback{Body: p.Sample, Header: h, Received: time.Unix(1712900001, 0)}, ev); err != nil {
			t.Fatalf("%s: its sample does not make an event: %v", p.ID, err)
		}
		events = append(events, ev)
	}
	return events
}

type contractHeaders map[string][]byte

func (h contractHeaders) Peek(key string) []byte { return h[strings.ToLower(key)] }

// withID is a copy of ev with another id.
func withID(ev *normalize.Event, id string) *normalize.Event {
	cp := *ev
	cp.ID = []byte(id)
	return &cp
}

// eventually waits until ok holds for what broker stores.
func eventually(t *testing.T, broker *contractBroker, what string, ok func([]brokerMsg) bool) []brokerMsg {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := broker.read()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s; the broker holds %d messages", what, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func copies(got []brokerMsg, id string) (n int) {
	for _, s := range got {
		if s.id == id {
			n++
		}
	}
	return n
}

func contractEveryEntry(t *testing.T, sink Sink, broker *contractBroker, events []*normalize.Event) {
	for _, ev := range events {
		if err := sink.Publish(ev); err != nil {
			t.Fatalf("%s: %v", ev.Provider, err)
		}
	}
	got := eventually(t, broker, "every registry entry read back", func(got []brokerMsg) bool {
		for _, ev := range events {
			if copies(got, string(ev.ID)) == 0 {
				return false
			}
		}
		return true
	})
	for _, s := range got {
		if broker.jetstream && s.id != "" && !strings.HasSuffix(s.msgID, "/"+s.id) {
			t.Errorf("%s: Nats-Msg-Id %q for event id %q: want <provider>/<id>", s.subject, s.msgID, s.id)
		}
	}
}

// contractRetry publishes ev again, then a later event on the same subject: once that one is
// stored, the retry was handled (in buffer mode too: one subject, one lane, in order).
func contractRetry(t *testing.T, sink Sink, broker *contractBroker, ev *normalize.Event) {
	if err := sink.Publish(ev); err != nil {
		t.Fatal(err)
	}
	later := withID(ev, "contract-after-retry")
	if err := sink.Publish(later); err != nil {
		t.Fatal(err)
	}
	got := eventually(t, broker, "the event after the retry", func(got []brokerMsg) bool { return copies(got, "contract-after-retry") > 0 })
	if n := copies(got, string(ev.ID)); broker.jetstream && n != 1 {
		t.Errorf("%d copies of a retried event on JetStream, want 1", n)
	}
}

func contractScopedDedup(t *testing.T, sink Sink, broker *contractBroker, events []*normalize.Event) {
	a, b := withID(events[0], "contract-shared-id"), withID(events[len(events)-1], "contract-shared-id")
	if a.Provider == b.Provider {
		t.Fatal("the registry has one entry")
	}
	body := []byte(`{"not":"the documented shape"}`)
	for _, step := range []func() error{
		func() error { return sink.Publish(a) },
		func() error { return sink.Publish(b) },
		func() error { return sink.DeadLetter(a.Provider, body, "contract") },
		func() error { return sink.DeadLetter(b.Provider, body, "contract") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	letters := func(got []brokerMsg, provider string) (n int) {
		for _, s := range got {
			if strings.HasSuffix(s.subject, "."+provider) && strings.HasPrefix(s.subject, deadLetterPrefix) && bytes.Equal(s.data, body) {
				n++
			}
		}
		return n
	}
	eventually(t, broker, "two providers' events with one id, and their dead letters with one body", func(got []brokerMsg) bool {
		return copies(got, "contract-shared-id") == 2 && letters(got, a.Provider) == 1 && letters(got, b.Provider) == 1
	})
}

func contractTooLarge(t *testing.T, sink Sink, broker *contractBroker, ev *normalize.Event) {
	big := withID(ev, "contract-too-large")
	big.Data = []byte(`{"pad":"` + strings.Repeat("p", broker.limit) + `"}`)
	if err := sink.Publish(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an event over the target's %d bytes: %v, want ErrTooLarge", broker.limit, err)
	}
	if err := sink.DeadLetter(ev.Provider, make([]byte, broker.limit+1), "contract"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a dead letter over the target's %d bytes: %v, want ErrTooLarge", broker.limit, err)
	}
	after := withID(ev, "contract-after-too-large")
	if err := sink.Publish(after); err != nil {
		t.Fatalf("after an event too large: %v", err)
	}
	eventually(t, broker, "the event after one too large", func(got []brokerMsg) bool { return copies(got, "contract-after-too-large") == 1 })
}

// contractLongCode sends, for every registry entry, an event whose undocumented code is 5 000
// bytes (what `{eventtype}` then holds is the sender's choice).
func contractLongCode(t *testing.T, sink Sink, broker *contractBroker, events []*normalize.Event) {
	code := strings.Repeat("9", 5000)
	var want []string
	for i, ev := range events {
		long := withID(ev, fmt.Sprintf("contract-long-code-%d", i))
		prefix := ev.Type[:len(ev.Type)-len(ev.EventType)]
		long.Type = append(append([]byte(string(prefix)), "unknown."...), code...)
		long.EventType = long.Type[len(prefix):]
		long.ProviderEventType = []byte(code)
		switch err := sink.Publish(long); {
		case err == nil:
			want = append(want, string(long.ID))
		case !errors.Is(err, ErrNameTooLong):
			t.Fatalf("%s: %v, want success or ErrNameTooLong", ev.Provider, err)
		}
	}
	after := withID(events[0], "contract-after-long-code")
	if err := sink.Publish(after); err != nil {
		t.Fatalf("the next event: %v", err)
	}
	got := eventually(t, broker, "the events with a long code, and the next one", func(got []brokerMsg) bool {
		for _, id := range append(want, "contract-after-long-code") {
			if copies(got, id) == 0 {
				return false
			}
		}
		return true
	})
	for _, s := range got {
		if len(s.subject) > broker.maxName || len(s.subject) > 512 {
			t.Errorf("stored under a %d-byte name: %.80s…", len(s.subject), s.subject)
		}
	}
	if err := sink.Live(); err != nil {
		t.Errorf("Live after the long code: %v", err)
	}
}

func contractClosed(t *testing.T, sink Sink, broker *contractBroker) {
	if err := sink.Live(); err != nil {
		t.Fatalf("Live before: %v", err)
	}
	broker.kill()
	deadline := time.Now().Add(5 * time.Second)
	for sink.Live() == nil {
		if time.Now().After(deadline) {
			t.Fatal("Live still nil 5s after the connection closed for good")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

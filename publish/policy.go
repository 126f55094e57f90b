package publish

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/callbridge/callbridge/normalize"
)

// Retriable reports whether a connect error (NewNATS, NewKafka) means the broker cannot be
// reached yet, so that connecting again later may succeed: ErrNotReady, or no NATS server
// answering. Anything else (refused credentials, a stream or topic that does not fit, a setting
// that cannot work) is final. Callers decide whether waiting makes sense at all: an embedded
// server that failed to start will not start by waiting.
func Retriable(err error) bool {
	return errors.Is(err, ErrNotReady) || errors.Is(err, nats.ErrNoServers)
}

// EnvelopeOverhead is what an event may add to its body on the broker: the attributes, and the
// trace context copied from request headers (bounded by maxHeaderBytes, the header limit).
func EnvelopeOverhead(maxHeaderBytes int) int { return 4096 + maxHeaderBytes }

// KnownTopics renders tmpl for every documented event of every registry entry, and the
// dead-letter topics: the topics a deployment needs before its first callback. A template
// with {subject} has no fixed set of event topics; they are checked as they are first used.
func KnownTopics(tmpl *Template, registry *normalize.Registry) []string {
	perEvent := !strings.Contains(tmpl.String(), "{subject}")
	seen := map[string]bool{}
	var topics []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			topics = append(topics, t)
		}
	}
	for _, p := range registry.Publishers() {
		for _, e := range p.Events {
			if !perEvent {
				break
			}
			ev := normalize.Event{Provider: p.ID, EventType: []byte(e.Name), Type: []byte(p.TypePrefix + e.Name)}
			add(string(tmpl.Append(nil, &ev)))
		}
		if p.ID != normalize.CanonicalID { // canonical events are never dead-lettered
			add(DeadLetterSubject(p.ID))
		}
	}
	return topics
}

// DeadLetterReader is a sink that keeps its dead letters and reads them back, for replay:
// NATS and Kafka. ReadDeadLetters calls take for every dead letter stored when it is called,
// oldest first, and returns how many take accepted; what happens to a letter take refuses is
// the sink's (NATS.DeadLetters, Kafka.DeadLetters).
type DeadLetterReader interface {
	ReadDeadLetters(ctx context.Context, take func(StoredDeadLetter) error) (taken int, err error)
}

// Tailer is a sink that can also read back what is published (from now on, or from what
// opts says, filtered as it says): NATS and Kafka.
type Tailer interface {
	Tail(ctx context.Context, opts TailOptions, emit func(event []byte) error) error
}

var (
	_ DeadLetterReader = (*NATS)(nil)
	_ DeadLetterReader = (*Kafka)(nil)
	_ Tailer           = (*NATS)(nil)
	_ Tailer           = (*Kafka)(nil)
)

// ReadDeadLetters is DeadLetters: a letter take accepts is deleted, one it refuses stays.
func (s *NATS) ReadDeadLetters(ctx context.Context, take func(StoredDeadLetter) error) (int, error) {
	return s.DeadLetters(ctx, take)
}

// kafkaDeadLetterIdle is how long ReadDeadLetters waits for another dead letter on Kafka, which
// has no end of stream, before it takes the topics as read.
const kafkaDeadLetterIdle = 5 * time.Second

// ReadDeadLetters is DeadLetters, with the topics taken as read after five idle seconds: the
// consumer group callbridge-replay moves past every letter, taken or not.
func (k *Kafka) ReadDeadLetters(ctx context.Context, take func(StoredDeadLetter) error) (int, error) {
	return k.DeadLetters(ctx, kafkaDeadLetterIdle, take)
}

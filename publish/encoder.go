package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

// Encoder renders events and dead letters into Messages for one kind of broker: its subject or
// topic template (and Kafka's key template), its content mode and the binding's header names
// ("ce-" on NATS, "ce_" on Kafka). It is the one place where an event becomes what a broker
// takes, for the sinks and for the buffer alike. An Encoder is immutable and safe for concurrent
// use; rendering allocates nothing once the Message's buffers have grown.
//
// Its contract: a rendered subject or topic is at most the broker's limit (else ErrNameTooLong),
// no value from a payload reaches it unbounded (Template), and the deduplication id is scoped
// by provider: "<provider>/<id>" for an event, "deadletter:<provider>:<hash of the body>" for a
// dead letter (SPEC §4), so that no sender of one provider can occupy another's slot.
type Encoder struct {
	kafka   bool
	name    *Template // the subject or topic
	key     *Template // Kafka's message key
	mode    Mode
	prefix  string // the binding's attribute header prefix
	maxName int
}

// maxNATSSubject is the longest subject we publish on. nats-server refuses a control line over
// max_control_line (4 KiB by default) and closes the connection for good; a publish's line holds
// the subject, the reply subject (our inbox, about 50 bytes) and two sizes. 1 KiB leaves room for
// those in any sensible server setting, and is far above what the default template renders
// (callbacks. + a provider id + an event type: under 210 bytes with both at their bounds).
const maxNATSSubject = 1024

// NATSEncoder renders for JetStream: the subject from subject, the attributes as "ce-" headers
// in binary mode.
func NATSEncoder(subject *Template, mode Mode) *Encoder {
	return &Encoder{name: subject, mode: mode, prefix: "ce-", maxName: maxNATSSubject}
}

// KafkaEncoder renders for Kafka: the topic from topic (bytes Kafka does not allow become '_'),
// the message key from key (none when it renders empty), the attributes as "ce_" headers in
// binary mode.
func KafkaEncoder(topic, key *Template, mode Mode) *Encoder {
	return &Encoder{kafka: true, name: topic, key: key, mode: mode, prefix: "ce_", maxName: maxTopicLen}
}

// Event renders ev into m. The only error is ErrNameTooLong, permanent.
func (e *Encoder) Event(m *Message, ev *normalize.Event) error {
	m.reset()
	b := e.name.Append(m.buf, ev)
	if len(b) > e.maxName {
		m.buf = b[:0]
		return e.nameTooLong(b)
	}
	if e.kafka {
		b = AppendKafkaTopic(b[:0], b)
	}
	nameEnd := len(b)
	b = appendEventID(b, ev.Provider, ev.ID)
	idEnd := len(b)
	switch {
	case e.kafka && len(ev.PartitionKey) > 0:
		// A canonical event: keyed by its room, so that one room's events stay in order.
		b = append(b, ev.PartitionKey...)
	case e.kafka:
		b = e.key.AppendKey(b, ev)
	}
	keyEnd := len(b)
	b = encode(b, ev, e.mode, e.prefix, m.addHeader)
	if e.mode == Binary && !e.kafka {
		// The NATS binding maps datacontenttype to ce-datacontenttype (1.0.3-wip §3.1.3.1);
		// content-type stays as well: the CloudEvents SDK reads either. See natsbinding.md.
		m.addHeader(binaryDataContentTypeHeader, dataContentType)
	}
	m.buf = b
	m.seal(nameEnd, idEnd, keyEnd)
	return nil
}

// DeadLetter renders a dead letter into m: body as it arrived, to DeadLetterSubject(provider)
// (always within the limit: the provider id is bounded), without a key, with the reason in
// ReasonHeader and VerifiedHeader "true" (only authenticated bodies are dead-lettered).
func (e *Encoder) DeadLetter(m *Message, provider string, body []byte, reason string) error {
	m.reset()
	b := appendToken(append(m.buf, deadLetterPrefix...), []byte(provider), false, maxToken)
	if e.kafka {
		b = AppendKafkaTopic(b[:0], b)
	}
	nameEnd := len(b)
	b = appendLetterID(b, provider, body)
	idEnd := len(b)
	b = append(b, body...)
	m.addHeader(ReasonHeader, []byte(headerValue(reason)))
	m.addHeader(VerifiedHeader, []byte("true"))
	m.buf = b
	m.seal(nameEnd, idEnd, idEnd)
	return nil
}

// Size is what the broker counts of m against its message limit (MessageLimit): on NATS the
// header block and the data; on Kafka the record with its overhead, over-estimated a little.
func (e *Encoder) Size(m *Message) int {
	n := len(m.Data)
	if e.kafka {
		n += 32 + len(m.Key) // lengths, attributes, timestamp, offset delta
		for _, h := range m.Headers {
			n += len(h.Key) + len(h.Value) + 10
		}
		return n
	}
	if len(m.ID) == 0 && len(m.Headers) == 0 {
		return n
	}
	n += len("NATS/1.0\r\n\r\n")
	if len(m.ID) > 0 {
		n += len(jetstream.MsgIDHeader) + len(": \r\n") + len(m.ID)
	}
	for _, h := range m.Headers {
		n += len(h.Key) + len(": \r\n") + len(h.Value)
	}
	return n
}

func (e *Encoder) nameTooLong(name []byte) error {
	broker, what := "NATS", "subject"
	if e.kafka {
		broker, what = "Kafka", "topic"
	}
	return fmt.Errorf("%w: the %s rendered from %s is %d bytes, over the %d %s takes (%s)",
		ErrNameTooLong, what, excerpt(e.name.String()), len(name), e.maxName, broker, excerpt(name))
}

// appendEventID appends an event's deduplication id, "<provider>/<id>" (SPEC §4): an id is unique
// only within its source, while JetStream deduplicates across the whole stream.
func appendEventID(dst []byte, provider string, id []byte) []byte {
	start := len(dst)
	dst = boundToken(append(dst, provider...), start, []byte(provider), maxToken)
	dst = append(dst, '/')
	start = len(dst)
	return boundToken(append(dst, id...), start, id, maxToken)
}

// appendLetterID appends a dead letter's deduplication id: retries of one body from one provider
// share it, the same body from two providers does not, and no event's id is ever one (a
// provider id holds no ':').
func appendLetterID(dst []byte, provider string, body []byte) []byte {
	sum := sha256.Sum256(body)
	start := len(dst)
	dst = boundToken(append(append(dst, "deadletter:"...), provider...), start, []byte(provider), maxToken)
	dst = append(dst, ':')
	return hex.AppendEncode(dst, sum[:16])
}

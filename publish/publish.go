// Package publish delivers envelopes to a broker.
//
// A Sink publishes one normalize.Event and returns only once the broker has acknowledged it (or
// with an error when it has not, within the sink's timeout): the caller answers 200 only after a
// nil error, so an acknowledged callback is never lost. Sinks are safe for concurrent use and
// share one connection between concurrent calls. publish knows brokers, subjects and envelopes;
// it knows nothing of providers or HTTP.
//
// An Encoder renders an event or a dead letter into a Message: the subject (or topic and key),
// the deduplication id, the headers and the value exactly as one kind of broker takes them. The
// NATS and Kafka sinks publish through their Encoder, and the Buffer stores the Message whole, so
// that forwarding it later needs no provider and cannot fail for want of one.
//
// Errors that no retry can cure are ErrTooLarge and ErrNameTooLong (the caller answers 4xx);
// every other error is transient (503).
package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callbridge/callbridge/normalize"
)

// Sink is a broker connection. Its methods are safe for concurrent use.
//
// Ownership: Publish and DeadLetter encode what they are given before they return and keep no
// reference to it: once they return, with or without an error, the caller owns ev (or body)
// again and may reuse or overwrite it.
//
// Errors, and what ingest answers for each:
//   - ErrTooLarge (permanent: the message is larger than the broker, or the buffer, accepts):
//     413, not dead-lettered; no retry can succeed.
//   - ErrNameTooLong (permanent: the subject or topic rendered for the event is longer than
//     the broker takes; Publish only): 400, and the body is dead-lettered first when the
//     callback was authenticated.
//   - ErrNotReady (the broker does not answer, or acknowledgements time out), ErrClosed,
//     ErrBufferFull (the buffer sink), ErrTopicLimit (Kafka), a timeout waiting for the
//     acknowledgement, or any other error: transient, 503 with Retry-After; the provider
//     retries and the event is not lost.
//
// Callers tell them apart with errors.Is: the sentinels may be wrapped with detail.
type Sink interface {
	// Publish sends ev and waits for the broker's acknowledgement. A nil error means the
	// broker holds the event; it keeps no reference to ev. Errors: see Sink.
	Publish(ev *normalize.Event) error
	// DeadLetter sends a body that could not be normalised to DeadLetterSubject(provider),
	// with the reason in a header, and waits for the acknowledgement. It keeps no reference to
	// body. Errors as Publish's, except ErrNameTooLong (the dead-letter subject is built from
	// the provider id and always fits).
	DeadLetter(provider string, body []byte, reason string) error
	// Ready returns nil while the sink can publish; it answers at once.
	Ready() error
	// Live returns an error once the sink can never publish again (its connection closed for
	// good): the process must be restarted.
	Live() error
	// MessageLimit is the largest message, headers included, the broker accepts.
	MessageLimit() int
	// Close flushes what is in flight and disconnects. It is safe to call more than once.
	Close(ctx context.Context) error
}

// Within is a Sink that can publish within a deadline shorter than its own timeout, for a
// provider that stops waiting for its answer sooner (CALLBRIDGE_<ID>_PUBLISH_TIMEOUT: Zoom,
// OvenMediaEngine): answered 503 before the sender gives up, the bridge's 200s and metrics stay
// true. PublishWithin is Publish, with its errors, except that it waits at most d for the
// acknowledgement; a d at least the sink's own timeout behaves as Publish.
type Within interface {
	PublishWithin(ev *normalize.Event, d time.Duration) error
}

var (
	_ Within = (*NATS)(nil)
	_ Within = (*Kafka)(nil)
	_ Within = (*Buffer)(nil)
)

// Target is a Sink the buffer forwards to: besides publishing events, it sends Messages that
// an Encoder of its own kind and templates rendered earlier (and the buffer stored), and waits
// for the acknowledgement. Send's errors are Publish's (see Sink): ErrTooLarge and
// ErrNameTooLong are permanent (the buffer moves the entry to its dead stream rather than
// retry it forever), anything else (ErrNotReady, ErrTopicLimit, a timeout) transient: the
// buffer keeps the message and retries. Send keeps no reference to m: the caller may reuse it
// once Send returns.
type Target interface {
	Sink
	Send(m *Message) error
}

var (
	// ErrNotReady is returned while the broker is unreachable or not answering.
	ErrNotReady = errors.New("broker not connected")
	// ErrTooLarge is a permanent failure: the event is larger than the broker accepts, so no
	// retry can succeed.
	ErrTooLarge = errors.New("event larger than the broker accepts")
	// ErrClosed is returned once the connection is closed for good.
	ErrClosed = errors.New("broker connection closed for good")
	// ErrNameTooLong is a permanent failure: the subject or topic rendered for the event is
	// longer than the broker takes (maxNATSSubject, Kafka's 249 characters) even with every
	// value bounded, so no retry can succeed. It is never sent to the broker: a NATS control
	// line over the server's limit would close the shared connection.
	ErrNameTooLong = errors.New("subject or topic longer than the broker accepts")
)

// DeadLetterSubject is where bodies that could not be normalised go.
func DeadLetterSubject(provider string) string {
	return deadLetterPrefix + sanitizeToken(provider)
}

const deadLetterPrefix = "callbacks.deadletter."

const (
	// ReasonHeader carries the dead-letter reason.
	ReasonHeader = "Callbridge-Deadletter-Reason"
	// VerifiedHeader records that a dead letter's body was authenticated when it arrived;
	// replay marks events from a letter without it unverified.
	VerifiedHeader = "Callbridge-Verified"
)

// maxHeaderValue bounds a header value we write from text that may quote a payload.
const maxHeaderValue = 512

// headerValue makes s safe as a header value: control characters become spaces (NATS clients
// would fold CR and LF anyway) and it is cut to maxHeaderValue bytes.
func headerValue(s string) string {
	b := []byte(s[:min(len(s), maxHeaderValue)])
	for i, c := range b {
		if c < ' ' || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

// Template renders a subject or topic from an event. Placeholders: {provider}, {eventtype},
// {type}, {subject}. A value substituted from the payload never carries subject syntax: '.',
// '*', '>' and white space become '_'.
type Template struct {
	text  string
	parts []part
}

type part struct {
	lit         string
	placeholder string // empty for a literal
}

var placeholders = []string{"provider", "eventtype", "type", "subject"}

// ParseTemplate compiles a template; an unknown or unclosed placeholder is an error.
func ParseTemplate(text string) (*Template, error) {
	t := &Template{text: text}
	rest := text
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed placeholder at %q", rest[open:])
		}
		name := rest[open+1 : open+end]
		known := false
		for _, p := range placeholders {
			known = known || p == name
		}
		if !known {
			return nil, fmt.Errorf("unknown placeholder {%s} (allowed: {provider}, {eventtype}, {type}, {subject})", name)
		}
		t.parts = append(t.parts, part{placeholder: name})
		rest = rest[open+end+1:]
	}
	if text == "" {
		return nil, errors.New("empty template")
	}
	return t, nil
}

// String returns the template text.
func (t *Template) String() string { return t.text }

// Prefix is the literal text before the first placeholder, up to and including its last dot:
// the whole tokens every rendered subject starts with.
func (t *Template) Prefix() string {
	if len(t.parts) == 0 || t.parts[0].placeholder != "" {
		return ""
	}
	lit := t.parts[0].lit
	if len(t.parts) == 1 {
		return lit
	}
	return lit[:strings.LastIndexByte(lit, '.')+1]
}

// Append renders the template for ev onto dst as a subject or topic: a payload value carries
// no subject syntax and at most maxToken bytes (see appendToken); the provider id contributes at
// most maxToken bytes and the event type at most maxEventType, so that what a sender chooses
// (an undocumented code, a generic source's type) cannot make a name without bound.
func (t *Template) Append(dst []byte, ev *normalize.Event) []byte {
	return t.render(dst, ev, false)
}

// AppendKey renders the template for ev onto dst as a Kafka message key: values as they are
// (a key is bytes, not a name), a payload value bounded like a token, an empty one left empty.
func (t *Template) AppendKey(dst []byte, ev *normalize.Event) []byte {
	return t.render(dst, ev, true)
}

// render appends the parts, values as a key's or a subject's. A flag, not the function: called
// through a func value, the provider's []byte conversion would be made on the heap per message.
func (t *Template) render(dst []byte, ev *normalize.Event, key bool) []byte {
	value := func(dst, v []byte, ours bool, limit int) []byte {
		if key {
			return appendKeyPart(dst, v, limit)
		}
		return appendToken(dst, v, ours, limit)
	}
	for _, p := range t.parts {
		switch p.placeholder {
		case "":
			dst = append(dst, p.lit...)
		case "provider":
			dst = value(dst, []byte(ev.Provider), true, maxToken)
		case "eventtype":
			dst = value(dst, ev.EventType, true, maxEventType)
		case "type":
			// The provider's prefix, then the event type bounded as {eventtype} is.
			prefix, name := ev.Type, []byte(nil)
			if len(ev.EventType) > 0 && bytes.HasSuffix(ev.Type, ev.EventType) {
				prefix, name = ev.Type[:len(ev.Type)-len(ev.EventType)], ev.EventType
			}
			if len(prefix) > 0 || len(name) == 0 {
				dst = value(dst, prefix, true, maxToken)
			}
			if len(name) > 0 {
				dst = value(dst, name, true, maxEventType)
			}
		case "subject":
			dst = value(dst, ev.Subject, false, maxToken)
		}
	}
	return dst
}

// maxToken bounds what one payload value (or the provider id) contributes to a subject, topic or
// key. A longer value is cut and ends in a hash of the whole, so distinct values stay distinct: a
// callback must not be able to make a protocol line the broker refuses (nats-server closes the
// connection over its 4 KiB control-line limit).
const maxToken = 128

// maxEventType bounds what the event type contributes to {eventtype}, and to {type} after the
// provider's prefix (SPEC §4): an undocumented code ("unknown.<code>") or a generic source's
// type is chosen by the sender. Every documented name is far shorter (35 bytes at most), so only
// such codes are ever cut.
const maxEventType = 64

// appendToken appends v with subject syntax replaced, at most limit bytes (see boundToken). Our
// own names (provider, eventtype, type) keep their dots, which are the hierarchy; payload values
// never do.
func appendToken(dst, v []byte, ours bool, limit int) []byte {
	if len(v) == 0 {
		return append(dst, '_')
	}
	start := len(dst)
	for _, c := range v {
		if c <= ' ' || c == '*' || c == '>' || c == 0x7f || (c == '.' && !ours) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return boundToken(dst, start, v, limit)
}

// appendKeyPart appends v to a Kafka key as it is (a key is bytes, not a name), bounded like a
// token.
func appendKeyPart(dst, v []byte, limit int) []byte {
	start := len(dst)
	dst = append(dst, v...)
	return boundToken(dst, start, v, limit)
}

// boundToken cuts dst[start:], rendered from v, to limit bytes ending in '-' and 16 hex digits
// of v's SHA-256, when it is longer.
func boundToken(dst []byte, start int, v []byte, limit int) []byte {
	if len(dst)-start <= limit {
		return dst
	}
	const hashLen = 16
	sum := sha256.Sum256(v)
	dst = append(dst[:start+limit-hashLen-1], '-')
	return hex.AppendEncode(dst, sum[:hashLen/2])
}

// maxExcerpt bounds what of a payload value, or of a name rendered from one, an error message or
// a log line quotes.
const maxExcerpt = 64

// excerpt quotes at most maxExcerpt bytes of v in printable ASCII, saying how long v was when
// it is cut: safe in a log line and a header.
func excerpt[T ~string | ~[]byte](v T) string {
	if len(v) <= maxExcerpt {
		return strconv.QuoteToASCII(string(v))
	}
	return strconv.QuoteToASCII(string(v[:maxExcerpt])) + fmt.Sprintf("… (%d bytes)", len(v))
}

// nameExcerpt is a subject or topic for an error message or a log line: as it is when it is
// short printable ASCII (what every default template renders), else quoted and cut as excerpt
// does. full is the name's length when name is its start only.
func nameExcerpt(name []byte, full int) string {
	plain := len(name) <= maxExcerpt && full == len(name)
	for _, c := range name {
		plain = plain && c > ' ' && c < 0x7f && c != '"'
	}
	switch {
	case plain:
		return string(name)
	case full > len(name) && len(name) <= maxExcerpt:
		return strconv.QuoteToASCII(string(name)) + fmt.Sprintf("… (%d bytes)", full)
	}
	return excerpt(name)
}

func sanitizeToken(s string) string {
	return string(appendToken(nil, []byte(s), false, maxToken))
}

// CheckSubject reports whether every subject the template renders is a valid NATS subject to
// publish on, and one the stream can cover: no white space or wildcards in the literal text, no
// empty token, and a first token that is literal (the stream's filter is built from it).
func (t *Template) CheckSubject() error {
	if strings.ContainsAny(t.literal(), " \t\r\n*>") {
		return errors.New("the literal text has white space or a wildcard (* or >), which a published subject cannot hold")
	}
	for i, tok := range strings.Split(t.shape(), ".") {
		if tok == "" {
			return errors.New("a subject token would be empty: no leading or trailing dot, and no two dots together")
		}
		if i == 0 && strings.Contains(tok, "{}") {
			return errors.New("the first subject token must be literal text, such as callbacks.: the stream's subject filter is built from it")
		}
	}
	return nil
}

// CheckTopic reports whether the literal text holds only what a Kafka topic name may (placeholder
// values are made safe as they are rendered).
func (t *Template) CheckTopic() error {
	for _, c := range []byte(t.literal()) {
		if !kafkaTopicByte(c) {
			return fmt.Errorf("the literal text has %q; a Kafka topic name holds only letters, digits, '.', '_' and '-'", c)
		}
	}
	return nil
}

// literal is the template's literal text; shape is the template with every placeholder as "{}".
func (t *Template) literal() string { return t.join(false) }
func (t *Template) shape() string   { return t.join(true) }

func (t *Template) join(marks bool) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.placeholder == "" {
			b.WriteString(p.lit)
		} else if marks {
			b.WriteString("{}")
		}
	}
	return b.String()
}

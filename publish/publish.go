// Package publish delivers envelopes to a broker.
//
// A Sink publishes one normalize.Event and returns only once the broker has acknowledged it (or
// with an error when it has not, within the sink's timeout): the caller answers 200 only after a
// nil error, so an acknowledged callback is never lost. Sinks are safe for concurrent use and
// share one connection between concurrent calls. publish knows brokers, subjects and envelopes;
// it knows nothing of providers or HTTP.
package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/callbridge/callbridge/normalize"
)

// Sink is a broker connection.
type Sink interface {
	// Publish sends ev and waits for the broker's acknowledgement.
	Publish(ev *normalize.Event) error
	// DeadLetter sends a body that could not be normalised to DeadLetterSubject(provider),
	// with the reason in a header, and waits for the acknowledgement.
	DeadLetter(provider string, body []byte, reason string) error
	// Ready returns nil while the sink can publish.
	Ready() error
	// Close flushes what is in flight and disconnects.
	Close(ctx context.Context) error
}

// ErrNotReady is returned while the broker is unreachable.
var ErrNotReady = errors.New("broker not connected")

// DeadLetterSubject is where bodies that could not be normalised go.
func DeadLetterSubject(provider string) string {
	return deadLetterPrefix + sanitizeToken(provider)
}

const deadLetterPrefix = "callbacks.deadletter."

// ReasonHeader carries the dead-letter reason.
const ReasonHeader = "Callbridge-Deadletter-Reason"

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

// Prefix is the literal text before the first placeholder.
func (t *Template) Prefix() string {
	if len(t.parts) > 0 && t.parts[0].placeholder == "" {
		return t.parts[0].lit
	}
	return ""
}

// Append renders the template for ev onto dst.
func (t *Template) Append(dst []byte, ev *normalize.Event) []byte {
	for _, p := range t.parts {
		switch p.placeholder {
		case "":
			dst = append(dst, p.lit...)
		case "provider":
			dst = appendToken(dst, []byte(ev.Provider), false)
		case "eventtype":
			dst = appendToken(dst, ev.EventType, true)
		case "type":
			dst = appendToken(dst, ev.Type, true)
		case "subject":
			dst = appendToken(dst, ev.Subject, false)
		}
	}
	return dst
}

// appendToken appends v with subject syntax replaced. Our own dotted names (eventtype, type)
// keep their dots, which are the hierarchy; payload values never do.
func appendToken(dst, v []byte, keepDots bool) []byte {
	if len(v) == 0 {
		return append(dst, '_')
	}
	for _, c := range v {
		if c <= ' ' || c == '*' || c == '>' || c == 0x7f || (c == '.' && !keepDots) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

func sanitizeToken(s string) string {
	return string(appendToken(nil, []byte(s), false))
}

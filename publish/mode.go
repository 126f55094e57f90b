package publish

import (
	"fmt"

	"github.com/callbridge/callbridge/normalize"
)

// Mode is a CloudEvents content mode.
type Mode int

const (
	// Structured: the message value is the JSON event, content-type application/cloudevents+json.
	Structured Mode = iota
	// Binary: the message value is data; the attributes are headers with the binding's prefix
	// and datacontenttype is the content-type header (on NATS also ce-datacontenttype).
	Binary
)

// ParseMode reads CALLBRIDGE_CE_MODE.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "structured":
		return Structured, nil
	case "binary":
		return Binary, nil
	}
	return 0, fmt.Errorf("unknown content mode %q (allowed: structured, binary)", s)
}

// StructuredContentType is the content type of a structured-mode message.
const StructuredContentType = "application/cloudevents+json; charset=UTF-8"

// encode appends the message value for ev in mode to dst and calls header for each header the
// binding asks for: attributes prefixed with prefix ("ce_" for Kafka, "ce-" for NATS) in binary
// mode, and content-type in both.
func encode(dst []byte, ev *normalize.Event, mode Mode, prefix string, header func(key string, value []byte)) []byte {
	if mode == Structured {
		header("content-type", []byte(StructuredContentType))
		return ev.AppendStructured(dst)
	}
	header("content-type", []byte(normalize.DataContentType))
	var name [64]byte
	ev.EachAttribute(func(attr string, value []byte) {
		header(string(append(append(name[:0], prefix...), attr...)), value)
	})
	return append(dst, ev.Data...)
}

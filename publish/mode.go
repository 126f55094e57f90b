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
		header("content-type", structuredContentType)
		return ev.AppendStructured(dst)
	}
	header("content-type", dataContentType)
	names := headerNames[prefix]
	ev.EachAttribute(func(attr string, value []byte) {
		name, ok := names[attr]
		if !ok {
			name = prefix + attr
		}
		header(name, value)
	})
	return append(dst, ev.Data...)
}

// The content types as bytes, made once: header is a func value, so a conversion at the call
// would be made on the heap per message.
var structuredContentType, dataContentType = []byte(StructuredContentType), []byte(normalize.DataContentType)

// headerNames holds, for each binding's prefix, the header name of every attribute an event
// can have, so that binary mode does not make them again for every message.
var headerNames = func() map[string]map[string]string {
	every := normalize.Event{Subject: []byte("s"), DataSchema: []byte("d"), TraceParent: []byte("t"), TraceState: []byte("t"), CausationID: []byte("c"), PartitionKey: []byte("k"), Unverified: true}
	names := make(map[string]map[string]string)
	for _, prefix := range []string{"ce-", "ce_"} {
		names[prefix] = make(map[string]string)
		every.EachAttribute(func(attr string, _ []byte) { names[prefix][attr] = prefix + attr })
	}
	return names
}()

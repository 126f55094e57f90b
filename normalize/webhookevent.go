package normalize

import (
	"bytes"
	"strings"
	"time"
)

// A generic source's event: where its attributes come from (SPEC §6a).

// maxWebhookType bounds the type value a sender chooses: it becomes part of a subject or topic.
const maxWebhookType = 128

func (w *webhook) normalize(c *Callback, ev *Event) error {
	if !validValue(c.Body) {
		return &PayloadError{Reason: "body is not one JSON value"}
	}
	typ, err := w.text(c, ev, w.typ)
	if err != nil {
		return err
	}
	if len(typ) == 0 {
		return payloadErr(w.typ[0].String(), "event type missing or empty (from %s)", docSources(w.typ, ""))
	}
	if len(typ) > maxWebhookType {
		return payloadErr(w.typ[0].String(), "event type longer than %d bytes", maxWebhookType)
	}
	ev.ProviderEventType = ev.keep(typ)
	ev.Type = ev.keep([]byte(w.typePref), typ)
	ev.EventType = ev.Type[len(w.typePref):]
	senderType(ev.EventType)

	subject, err := w.text(c, ev, w.subject)
	if err != nil {
		return err
	}
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	if err := w.setTime(c, ev); err != nil {
		return err
	}

	ev.setSource(nil)
	ev.data = appendCompact(ev.data[:0], c.Body[skipSpace(c.Body, 0):])
	ev.Data = ev.data

	id, err := w.text(c, ev, w.id)
	if err != nil {
		return err
	}
	if len(id) > 0 {
		ev.setProviderID(id)
	} else {
		ev.hashID([]byte("body"), ev.Data)
	}
	return nil
}

// raw returns the first of srcs present in c: a header's value (isJSON false) or a raw JSON value.
func (w *webhook) raw(c *Callback, srcs []attrSource) (v []byte, isJSON bool, err error) {
	for _, s := range srcs {
		if s.header != "" {
			if v := c.Header.Peek(s.header); len(v) > 0 {
				return v, false, nil
			}
			continue
		}
		v, err := jsonPath(c, s.path)
		if err != nil {
			return nil, false, err
		}
		if len(v) > 0 && string(v) != "null" {
			return v, true, nil
		}
	}
	return nil, false, nil
}

// text returns the first of srcs present in c as text: a JSON string decoded, a number as
// written. An object or array is a payload error.
func (w *webhook) text(c *Callback, ev *Event, srcs []attrSource) ([]byte, error) {
	v, isJSON, err := w.raw(c, srcs)
	if err != nil || !isJSON {
		return v, err
	}
	t, scratch, ok := stringValue(v, ev.scratch)
	if !ok {
		return nil, payloadErr(excerpt(v), "want a string or a number here")
	}
	ev.scratch = scratch
	return t, nil
}

// setTime sets ev.Time from the first of w.time present: RFC 3339, or Unix seconds or
// milliseconds. A value that is none of these is a payload error; none present keeps the receipt
// time.
func (w *webhook) setTime(c *Callback, ev *Event) error {
	v, isJSON, err := w.raw(c, w.time)
	if err != nil || v == nil {
		return err
	}
	if isJSON && v[0] == '"' {
		var ok bool
		if v, ev.scratch, ok = stringValue(v, ev.scratch); !ok {
			return payloadErr(excerpt(v), "want a time")
		}
	}
	if ev.setTime(intValue(v)) || ev.setTime(decimalSeconds(v)) {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return payloadErr(excerpt(v), "want a time: RFC 3339, or Unix seconds (a fraction allowed) or milliseconds")
	}
	ev.Time = t.UTC()
	return nil
}

// jsonPath returns the raw value at path in c's body, nil when a step is missing or not an
// object. Two members of one name on the way are a payload error, as JSON readers disagree on
// which counts.
func jsonPath(c *Callback, path []string) ([]byte, error) {
	top, err := c.members()
	if err != nil {
		if len(top) == 0 {
			return nil, nil // not an object: no member to read
		}
		return nil, err
	}
	v, dup := lookupOnce(top, path[0])
	for _, step := range path[1:] {
		if dup {
			break
		}
		if len(v) == 0 || v[0] != '{' {
			return nil, nil
		}
		var found []byte
		eachValidMember(v, func(m member) { // nested in the body members accepted: valid
			if string(m.key) == step {
				if found != nil {
					dup = true
				}
				found = m.val
			}
		})
		v = found
	}
	if dup {
		return nil, payloadErr(strings.Join(path, "."), "the member appears twice; JSON readers disagree on which one counts")
	}
	return v, nil
}

// senderType makes a sender's type safe in place: kept as it is when it is dotted lower-case
// ASCII (invoice.paid stays invoice.paid, so callbacks.<name>.invoice.> selects a family on
// NATS), else every byte but [a-z0-9_-] becomes '_', so that the sender cannot add subject
// levels or a wildcard (SPEC §6a).
func senderType(t []byte) {
	if dottedLower(t) {
		return
	}
	for i, c := range t {
		if !lowerTokenByte(c) {
			t[i] = '_'
		}
	}
}

// dottedLower reports [a-z0-9_-] tokens joined by single dots.
func dottedLower(t []byte) bool {
	prev := byte('.')
	for _, c := range t {
		if c == '.' && prev == '.' || c != '.' && !lowerTokenByte(c) {
			return false
		}
		prev = c
	}
	return prev != '.'
}

func lowerTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// decimalSeconds reads Unix seconds with a fraction, such as Daily's 1708972280.048, as ms
// (digits past the third are dropped), for setTime.
func decimalSeconds(v []byte) (int64, bool) {
	i := bytes.IndexByte(v, '.')
	if i <= 0 || i == len(v)-1 {
		return 0, false
	}
	sec, ok := intValue(v[:i])
	if !ok || sec < 0 || sec >= 1e11 {
		return 0, false
	}
	var ms int64
	for n, c := range v[i+1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 3 {
			ms += int64(c-'0') * [...]int64{100, 10, 1}[n]
		}
	}
	return sec*1000 + ms, true
}

package normalize

import (
	"strconv"
	"strings"
)

// Derive makes the canonical counterpart of ev, a native event of a provider whose mapping c
// is, in out (reset first), and reports whether ev has one. It reads ev as published (its Data,
// Time, ID), never the callback, so a replayed dead letter derives what the live callback did.
//
// The counterpart's id is a hash of the native provider, the native id and the canonical type:
// a retry of the callback makes the same id, and deduplicates as the native event does. Its
// subject is the room, its causationid the native id, its partitionkey
// <provider>:<app>:<room>. Derive allocates nothing once out's buffers have grown.
func (c *Canonical) Derive(ev, out *Event) bool {
	if !c.Has() {
		return false
	}
	m := c.choose(ev, out)
	if m == nil {
		return false
	}
	out.Reset()
	out.Provider = CanonicalID
	out.setType(CanonicalPrefix, m.Type)
	out.Source = out.keep(ev.Source)
	out.Time = ev.Time
	out.ProviderEventType = out.keep(ev.ProviderEventType)
	if len(ev.TraceParent) > 0 {
		out.TraceParent, out.TraceState = out.keep(ev.TraceParent), out.keep(ev.TraceState)
	}
	out.Unverified = ev.Unverified
	out.CausationID = out.keep(ev.ID)
	app, room := c.writeData(ev, out, m)
	out.Subject = room
	out.PartitionKey = out.keep([]byte(ev.Provider), []byte{':'}, app, []byte{':'}, room)
	out.hashID([]byte(ev.Provider), ev.ID, out.Type)
	return true
}

// choose returns the first of ev's mappings whose condition holds, or nil.
func (c *Canonical) choose(ev, out *Event) *Mapping {
	ms := c.Events[string(ev.EventType)]
	for i := range ms {
		m := &ms[i]
		if m.If == nil {
			return m
		}
		text, scratch, ok := stringValue(pathValue(ev.Data, m.If.Path), out.scratch[:0])
		out.scratch = scratch
		if !ok {
			continue
		}
		for _, v := range m.If.Values {
			if (v == AnyValue && len(text) > 0) || string(text) == v {
				return m
			}
		}
	}
	return nil
}

// find returns the Set of field name: m's own, else the provider's Base; nil when neither has one.
func (c *Canonical) find(m *Mapping, name string) *Set {
	for i := range m.Set {
		if m.Set[i].To == name {
			return &m.Set[i]
		}
	}
	for i := range c.Base {
		if c.Base[i].To == name {
			return &c.Base[i]
		}
	}
	return nil
}

// writeData writes out's data, the canonical fields in the vocabulary's order (an entity's
// fields in an object of its name, left out when none has a value), and returns the app and room
// ids as text, kept in out, for the attributes.
func (c *Canonical) writeData(ev, out *Event, m *Mapping) (app, room []byte) {
	d := append(out.data[:0], `{"provider":"`...)
	d = append(d, ev.Provider...)
	d = append(d, `","native_type":`...)
	d = appendString(d, ev.Type)
	d = append(d, `,"occurred_at":"`...)
	d = ev.AppendTime(d)
	d = append(d, '"')
	entity, open := m.Type[:strings.IndexByte(m.Type, '.')], false
	// Every field's Set, and the values its paths name, found in one pass over the data.
	var sets [maxPaths]*Set
	var paths [maxPaths]string
	var vals [maxPaths][]byte
	var at [maxPaths]int8 // a field's index in paths, -1 for none
	n := 0
	for i, f := range canonicalFields {
		at[i] = -1
		if f.entity != "" && f.entity != entity {
			continue
		}
		if sets[i] = c.find(m, f.name); sets[i] != nil && sets[i].From != "" {
			paths[n], _, _ = strings.Cut(sets[i].From, "[]")
			at[i], n = int8(n), n+1
		}
	}
	lookupPaths(ev.Data, paths[:n], vals[:n])
	for i, f := range canonicalFields {
		s := sets[i]
		if s == nil {
			continue
		}
		var raw []byte
		if at[i] >= 0 {
			raw = vals[at[i]]
		}
		mark, key, comma := len(d), f.name, true
		if f.entity != "" {
			// The object is the field's own prefix: track for the stream entity's fields.
			object, member, _ := strings.Cut(f.name, ".")
			key = member
			if !open {
				d = append(append(append(d, `,"`...), object...), `":{`...)
				comma = false
			}
		}
		valueStart := len(d)
		var text []byte
		d, text = writeCanonical(d, raw, out, f, s, key, comma)
		if len(d) == valueStart {
			d = d[:mark]
			continue
		}
		open = open || f.entity != ""
		switch f.name {
		case "app_id":
			app = out.keep(text)
		case "room_id":
			room = out.keep(text)
		}
	}
	if open {
		d = append(d, '}')
	}
	out.data = append(d, '}')
	out.Data = out.data
	return app, room
}

// writeCanonical appends field f as s gives it, as the member key (after a comma when comma),
// and returns its text; it appends nothing when the native event has no value for it.
func writeCanonical(d, raw []byte, out *Event, f canonicalField, s *Set, key string, comma bool) ([]byte, []byte) {
	if f.kind == kindTexts {
		return writeTexts(d, raw, out, s, key, comma), nil
	}
	if s.From == "" {
		// A constant: CheckCanonical holds it to plain text.
		d = appendKeyText(d, key, comma)
		d = append(append(append(d, '"'), s.Value...), '"')
		return d, nil
	}
	text, scratch, ok := stringValue(raw, out.scratch[:0])
	out.scratch = scratch
	if !ok || len(text) == 0 {
		return d, nil // an empty string names nothing: left out, as an absent member is
	}
	switch f.kind {
	case kindEnum:
		return writeEnum(d, f, s, key, comma, text), text
	case kindSecs:
		return writeSeconds(d, s, key, comma, raw), text
	}
	d = appendKeyText(d, key, comma)
	return appendString(d, text), text
}

// writeEnum appends an enum's value: the native text through s.Values, or as it is when it is
// one of the enum's values; a reason without a counterpart is "other". A reason is followed by
// reason_native, the native text.
func writeEnum(d []byte, f canonicalField, s *Set, key string, comma bool, text []byte) []byte {
	v, found := s.Values[string(text)]
	if !found {
		for _, e := range canonicalEnums[f.name] {
			if string(text) == e {
				v, found = e, true
			}
		}
	}
	if !found && f.name == "reason" {
		v, found = "other", true
	}
	if !found {
		return d
	}
	d = appendKeyText(d, key, comma)
	d = append(append(append(d, '"'), v...), '"')
	if f.name == "reason" {
		d = append(d, `,"reason_native":`...)
		d = appendString(d, text)
	}
	return d
}

// writeSeconds appends a duration in seconds from an integer in s.Unit (s or ms, as a number
// or a string of digits), or a plain non-negative number of seconds as it is written.
func writeSeconds(d []byte, s *Set, key string, comma bool, raw []byte) []byte {
	n, ok := intValue(raw)
	switch {
	case ok && n >= 0 && s.Unit == "ms":
		d = appendKeyText(d, key, comma)
		d = strconv.AppendInt(d, n/1000, 10)
		if ms := n % 1000; ms != 0 {
			d = append(d, '.')
			d = appendDigits(d, int(ms), 3)
			for d[len(d)-1] == '0' {
				d = d[:len(d)-1]
			}
		}
		return d
	case ok && n >= 0:
		return strconv.AppendInt(appendKeyText(d, key, comma), n, 10)
	case s.Unit != "ms" && len(raw) > 0 && raw[0] >= '0' && raw[0] <= '9' && validValue(raw):
		return append(appendKeyText(d, key, comma), raw...)
	}
	return d
}

// writeTexts appends an array of the texts at s.From, v being the value before any "[]": "list[]"
// (each element), "list[].name" (each element's member), or a single value as an array of one.
func writeTexts(d, v []byte, out *Event, s *Set, key string, comma bool) []byte {
	_, tail, many := strings.Cut(s.From, "[]")
	tail = strings.TrimPrefix(tail, ".")
	mark := len(d)
	d = append(appendKeyText(d, key, comma), '[')
	n := 0
	add := func(v []byte) {
		text, scratch, ok := stringValue(v, out.scratch[:0])
		out.scratch = scratch
		if !ok || len(text) == 0 {
			return
		}
		if n > 0 {
			d = append(d, ',')
		}
		d = appendString(d, text)
		n++
	}
	switch {
	case !many:
		add(v)
	case len(v) > 0 && v[0] == '[':
		eachElement(v, func(el []byte) {
			if tail != "" {
				el = pathValue(el, tail)
			}
			add(el)
		})
	}
	if n == 0 {
		return d[:mark]
	}
	return append(d, ']')
}

// appendKeyText appends a member's name and colon, after a comma when comma.
func appendKeyText(d []byte, key string, comma bool) []byte {
	if comma {
		d = append(d, ',')
	}
	return append(append(append(d, '"'), key...), `":`...)
}

// pathValue returns the value at the dotted path in the JSON object obj, or nil. A name ending
// in [0] is the first element of its array ("resources[0]": the first resource).
func pathValue(obj []byte, path string) []byte {
	for obj != nil && path != "" {
		var name string
		name, path, _ = strings.Cut(path, ".")
		first := strings.HasSuffix(name, "[0]")
		obj = nestedMember(obj, strings.TrimSuffix(name, "[0]"))
		if first && len(obj) > 0 && obj[0] == '[' {
			obj = firstElement(obj) // awsivs.go's
		} else if first {
			obj = nil
		}
	}
	return obj
}

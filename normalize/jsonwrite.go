package normalize

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The writing half of the JSON code in json.go: compacting, quoting and editing members of the raw
// bytes, without reflection and, on the callback path, without allocation.

// appendCompact appends the validated JSON value v without insignificant white space, copying
// runs rather than bytes: outside strings it looks for the next '"' or white space, inside one for
// its closing quote, each eight bytes at a time.
func appendCompact(dst, v []byte) []byte {
	start := 0
	for i := 0; i < len(v); {
		if i = skipToken(v, i); i >= len(v) {
			break
		}
		switch c := v[i]; {
		case c == '"':
			for i++; ; {
				if i = skipToQuote(v, i); i >= len(v) {
					break
				}
				if v[i] == '\\' {
					i += 2
					continue
				}
				i++
				break
			}
		case isSpace(c):
			dst = append(dst, v[start:i]...)
			for i < len(v) && isSpace(v[i]) {
				i++
			}
			start = i
		default: // a control byte outside strings: not in valid JSON
			i++
		}
	}
	return append(dst, v[start:]...)
}

// appendCompactObject is appendCompact for obj, a valid object whose members are ms (as
// eachMember gave them, so slices of obj): when every value is a scalar and the members sit
// where a compact object has them, obj holds no white space to leave out and is copied as it
// is, without reading its strings again.
func appendCompactObject(dst, obj []byte, ms []member) []byte {
	next := 1 // where the next member's name starts, in a compact obj
	for _, m := range ms {
		if m.escaped || len(m.val) == 0 || m.val[0] == '{' || m.val[0] == '[' ||
			cap(obj)-cap(m.key) != next+1 || cap(obj)-cap(m.val) != next+len(m.key)+3 {
			return appendCompact(dst, obj)
		}
		next = cap(obj) - cap(m.val) + len(m.val) + 1 // past the ','
	}
	if len(ms) == 0 || next != len(obj) {
		return appendCompact(dst, obj)
	}
	return append(dst, obj...)
}

// skipToken returns the index of the first '"' or byte of ' ' or less at or after i: outside
// strings, where white space may start.
func skipToken(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		quote := w ^ (ones * '"')
		// The lowest flagged byte is the first one sought (a borrow flags only bytes above one).
		if m := ((w-ones*0x21)&^w | (quote-ones)&^quote) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && b[i] != '"' && b[i] > ' ' {
		i++
	}
	return i
}

// appendString appends s as a JSON string literal.
func appendString(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = skipPlain(s, i); i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += n
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xF])
				i += n
				start = i
				continue
			}
			i += n
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// setMembers returns the object obj with the given members set: replaced where obj has them, or
// added at its end. Other members are kept, compacted. obj must be a JSON object.
func setMembers(obj []byte, set ...member) ([]byte, error) {
	out := []byte{'{'}
	done := make([]bool, len(set))
	err := eachMember(obj, func(m member) {
		for i, s := range set {
			if string(m.key) == string(s.key) {
				m.val, done[i] = s.val, true
			}
		}
		out = appendMember(out, m)
	})
	if err != nil {
		return nil, err
	}
	for i, s := range set {
		if !done[i] {
			out = appendMember(out, s)
		}
	}
	return append(out, '}'), nil
}

func appendMember(dst []byte, m member) []byte {
	if len(dst) > 1 {
		dst = append(dst, ',')
	}
	dst = appendKey(dst, m)
	return appendCompact(dst, m.val)
}

// appendKey appends m's name and the colon: as received when it had no escapes, else encoded
// again from its decoded form.
func appendKey(dst []byte, m member) []byte {
	if m.escaped {
		dst = appendString(dst, m.key)
	} else {
		dst = append(append(append(dst, '"'), m.key...), '"')
	}
	return append(dst, ':')
}

// replaceMember returns a copy of the object obj with the value of its first top-level member
// named key replaced by val, every other byte as it was: a provider that signs its pretty-printed
// body must still find its formatting after `callbridge send` changed one value. A member obj
// lacks is added by setMembers, which compacts the rest.
func replaceMember(obj []byte, key string, val []byte) ([]byte, error) {
	at, end := -1, 0
	err := eachMember(obj, func(m member) {
		if at < 0 && string(m.key) == key {
			at = cap(obj) - cap(m.val) // m.val is a slice of obj
			end = at + len(m.val)
		}
	})
	if err != nil {
		return nil, err
	}
	if at < 0 {
		return setMembers(obj, member{key: []byte(key), val: val})
	}
	out := make([]byte, 0, len(obj)-(end-at)+len(val))
	return append(append(append(out, obj[:at]...), val...), obj[end:]...), nil
}

// appendEmbeddedJSON appends the JSON held inside the string value raw, decoded, when it is
// valid JSON; one extra level of escaping (as in some doc examples) is tolerated. Anything else
// is appended unchanged, so nothing is lost.
func appendEmbeddedJSON(dst, raw, scratch []byte) ([]byte, []byte) {
	if len(raw) < 2 || raw[0] != '"' {
		return appendCompact(dst, raw), scratch
	}
	inner := bytes.TrimSpace(appendUnquoted(scratch[:0], raw))
	if len(inner) > 0 && validValue(inner) {
		return appendCompact(dst, inner), inner[:0]
	}
	// {\"a\":1} once more: quote it and unescape again.
	n := len(inner)
	twice := append(append(append(inner, '"'), inner...), '"')
	quoted := twice[n:]
	if end, err := scanString(quoted, 0); err == nil && end == len(quoted) {
		again := appendUnquoted(twice[len(twice):], quoted)
		if len(again) > 0 && validValue(again) {
			return appendCompact(dst, again), twice[:0]
		}
	}
	return appendCompact(dst, raw), twice[:0]
}

// stampJSON sets the member key of the JSON object body to val, as a sender does on every send
// (a send time), and returns it with its Content-Type header: the start of a JSON provider's Sign.
func stampJSON(body []byte, key string, val []byte) ([]byte, []Header, error) {
	body, err := replaceMember(body, key, val)
	if err != nil {
		return nil, nil, err
	}
	return body, []Header{{"Content-Type", "application/json"}}, nil
}

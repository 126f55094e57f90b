package normalize

import (
	"bytes"
	"net/url"
	"strings"
)

// Redacted stands in a dead letter for a value that is a credential.
const Redacted = "<redacted>"

// Redact returns body with the value at each of p.Credentials replaced by Redacted (for a path
// ending in '?', only the value's query: "rtmp://host/app?token=x" keeps "rtmp://host/app?"
// followed by Redacted; a step "name[]" goes into every item of the array name): the body a
// dead letter may carry onto the bus. Every copy of a member named twice is replaced, as readers
// disagree on which one counts. A body that is not a JSON object is read as a form (key=value
// pairs joined by &). body itself is returned when p declares no credentials or none is there;
// it is never modified. Dead letters are rare: this may allocate.
func (p *Provider) Redact(body []byte) []byte {
	if len(p.Credentials) == 0 {
		return body
	}
	i := skipSpace(body, 0)
	for _, path := range p.Credentials {
		path, query := strings.CutSuffix(path, "?")
		if i < len(body) && body[i] == '{' {
			body = redactJSON(body, strings.Split(path, "."), query)
		} else {
			body = redactForm(body, path, query)
		}
	}
	return body
}

// redactJSON replaces every value at path in the object obj (only its query when query is
// true), keeping every other byte.
func redactJSON(obj []byte, path []string, query bool) []byte {
	type span struct{ at, end int }
	var spans []span
	name, items := strings.CutSuffix(path[0], "[]")
	eachMember(obj, func(m member) {
		if string(m.key) == name {
			at := cap(obj) - cap(m.val) // m.val is a slice of obj
			spans = append(spans, span{at, at + len(m.val)})
		}
	})
	if len(spans) == 0 {
		return obj
	}
	out := make([]byte, 0, len(obj))
	last := 0
	for _, s := range spans {
		val := []byte(`"` + Redacted + `"`)
		inner := obj[s.at:s.end]
		switch {
		case items && (len(inner) == 0 || inner[0] != '['):
			continue
		case items:
			val = redactItems(inner, path[1:], query)
		case len(path) > 1 && (len(inner) == 0 || inner[0] != '{'):
			continue
		case len(path) > 1:
			val = redactJSON(inner, path[1:], query)
		case query:
			q := bytes.IndexByte(inner, '?')
			if q < 0 || inner[0] != '"' {
				continue
			}
			val = append(append(inner[:q+1:q+1], Redacted...), '"')
		}
		out = append(append(out, obj[last:s.at]...), val...)
		last = s.end
	}
	return append(out, obj[last:]...)
}

// redactItems redacts, in every item of the array arr, the value at path (each item itself when
// path is empty), keeping every other byte.
func redactItems(arr []byte, path []string, query bool) []byte {
	out := append(make([]byte, 0, len(arr)), '[')
	n := 0
	eachElement(arr, func(el []byte) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		switch {
		case len(path) == 0: // the items themselves (a URL's query too: the whole item, safer)
			out = append(out, `"`+Redacted+`"`...)
		case len(el) > 0 && el[0] == '{':
			out = append(out, redactJSON(el, path, query)...)
		default:
			out = append(out, el...)
		}
	})
	return append(out, ']')
}

// redactForm replaces the value (or only its query) of every key=value pair of the form body
// whose key, decoded, is key.
func redactForm(body []byte, key string, query bool) []byte {
	pairs := bytes.Split(body, []byte{'&'})
	changed := false
	for i, pair := range pairs {
		k, v, _ := bytes.Cut(pair, []byte{'='})
		name, err := url.QueryUnescape(string(k))
		if err != nil || name != key {
			continue
		}
		val := Redacted
		if query {
			dec, err := url.QueryUnescape(string(v))
			base, _, found := strings.Cut(dec, "?")
			if err != nil || !found {
				continue
			}
			val = base + "?" + Redacted
		}
		pairs[i] = append(append(k[:len(k):len(k)], '='), url.QueryEscape(val)...)
		changed = true
	}
	if !changed {
		return body
	}
	return bytes.Join(pairs, []byte{'&'})
}

package normalize

import (
	"bytes"
	"net/url"
	"strings"
)

// Redacted stands in a dead letter for a value that is a credential.
const Redacted = "<redacted>"

// Redact returns body with the value at each of p.Credentials replaced by Redacted: the body a
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
		if i < len(body) && body[i] == '{' {
			body = redactJSON(body, strings.Split(path, "."))
		} else {
			body = redactForm(body, path)
		}
	}
	return body
}

// redactJSON replaces every value at path in the object obj, keeping every other byte.
func redactJSON(obj []byte, path []string) []byte {
	type span struct{ at, end int }
	var spans []span
	eachMember(obj, func(m member) {
		if string(m.key) == path[0] {
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
		if len(path) > 1 {
			inner := obj[s.at:s.end]
			if len(inner) == 0 || inner[0] != '{' {
				continue
			}
			val = redactJSON(inner, path[1:])
		}
		out = append(append(out, obj[last:s.at]...), val...)
		last = s.end
	}
	return append(out, obj[last:]...)
}

// redactForm replaces the value of every key=value pair of the form body whose key, decoded,
// is key.
func redactForm(body []byte, key string) []byte {
	pairs := bytes.Split(body, []byte{'&'})
	changed := false
	for i, pair := range pairs {
		k, _, _ := bytes.Cut(pair, []byte{'='})
		if name, err := url.QueryUnescape(string(k)); err == nil && name == key {
			pairs[i] = append(append(k[:len(k):len(k)], '='), url.QueryEscape(Redacted)...)
			changed = true
		}
	}
	if !changed {
		return body
	}
	return bytes.Join(pairs, []byte{'&'})
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// jnode is a JSON value that keeps its members in order, duplicates included, and numbers as
// written: what the property test mutates before a provider's own Sign signs it.
type jnode struct {
	kind byte   // '{', '[', or 0 for a scalar
	raw  string // a scalar as JSON text
	keys []string
	vals []*jnode // an object's member values (keys[i] names vals[i]), or an array's elements
	// embedded is the object a string scalar holds as JSON text (SNS's Message), once a path
	// went through it: the string is then written from it.
	embedded *jnode
}

func parseJSON(b []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := readJSON(dec)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	return n, err
}

func readJSON(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &jnode{kind: byte(v)}
		for dec.More() {
			if n.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			child, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, child)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return &jnode{raw: jsonString(v)}, nil
	case json.Number:
		return &jnode{raw: v.String()}, nil
	case bool:
		if v {
			return &jnode{raw: "true"}, nil
		}
		return &jnode{raw: "false"}, nil
	}
	return &jnode{raw: "null"}, nil
}

// jsonString quotes s as JSON does, control characters escaped, HTML characters left alone.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// encode writes n as compact JSON.
func (n *jnode) encode() []byte {
	return n.appendTo(nil)
}

func (n *jnode) appendTo(dst []byte) []byte {
	if n.embedded != nil {
		return append(dst, jsonString(string(n.embedded.encode()))...)
	}
	if n.kind == 0 {
		return append(dst, n.raw...)
	}
	dst = append(dst, n.kind)
	for i, v := range n.vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		if n.kind == '{' {
			dst = append(append(dst, jsonString(n.keys[i])...), ':')
		}
		dst = v.appendTo(dst)
	}
	if n.kind == '{' {
		return append(dst, '}')
	}
	return append(dst, ']')
}

func (n *jnode) clone() *jnode {
	c := &jnode{kind: n.kind, raw: n.raw, keys: append([]string(nil), n.keys...)}
	if n.embedded != nil {
		c.embedded = n.embedded.clone()
	}
	for _, v := range n.vals {
		c.vals = append(c.vals, v.clone())
	}
	return c
}

// find returns the object holding the member at the dotted path and the member's index, or nil.
// A step through a string holding a JSON object goes into that object (Provider.Distinct).
func (n *jnode) find(path string) (*jnode, int) {
	keys := strings.Split(path, ".")
	obj := n
	for i, k := range keys {
		if obj.kind != '{' {
			return nil, -1
		}
		at := -1
		for j, name := range obj.keys {
			if name == k {
				at = j
				break
			}
		}
		if at < 0 {
			return nil, -1
		}
		if i == len(keys)-1 {
			return obj, at
		}
		obj = obj.vals[at].inner()
	}
	return nil, -1
}

// get returns the value at path, or nil.
func (n *jnode) get(path string) *jnode {
	if obj, i := n.find(path); obj != nil {
		return obj.vals[i]
	}
	return nil
}

// set replaces the value at path with the scalar raw (or, for a raw object or array, that
// value); it reports whether path was there.
func (n *jnode) set(path, raw string) bool {
	obj, i := n.find(path)
	if obj != nil {
		obj.vals[i] = rawNode(raw)
	}
	return obj != nil
}

// dup inserts a second member of the same name as the one at path, holding raw, right after it.
func (n *jnode) dup(path, raw string) bool {
	obj, i := n.find(path)
	if obj == nil {
		return false
	}
	obj.keys = append(obj.keys[:i+1], append([]string{obj.keys[i]}, obj.keys[i+1:]...)...)
	obj.vals = append(obj.vals[:i+1], append([]*jnode{rawNode(raw)}, obj.vals[i+1:]...)...)
	return true
}

// add appends a member to the top-level object.
func (n *jnode) add(key, raw string) {
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, rawNode(raw))
}

// inner is the object a string scalar holds as JSON text, parsed on first use; else n.
func (n *jnode) inner() *jnode {
	if n.embedded == nil && n.isString() {
		if e, err := parseJSON([]byte(n.text())); err == nil && e.kind == '{' {
			n.embedded = e
		}
	}
	if n.embedded != nil {
		return n.embedded
	}
	return n
}

func rawNode(raw string) *jnode {
	switch raw {
	case "{}":
		return &jnode{kind: '{'}
	case "[]":
		return &jnode{kind: '['}
	}
	return &jnode{raw: raw}
}

// leaves returns the dotted paths of every scalar reached through objects only (array elements
// and names holding a dot are left out: a dotted path cannot name them).
func (n *jnode) leaves() []string {
	var out []string
	var walk func(prefix string, obj *jnode)
	walk = func(prefix string, obj *jnode) {
		for i, k := range obj.keys {
			if strings.Contains(k, ".") {
				continue
			}
			switch v := obj.vals[i]; v.kind {
			case 0:
				out = append(out, prefix+k)
			case '{':
				walk(prefix+k+".", v)
			}
		}
	}
	if n.kind == '{' {
		walk("", n)
	}
	return out
}

// text is a scalar's value as text: a string decoded, anything else as written.
func (n *jnode) text() string {
	var s string
	if n.embedded != nil {
		return string(n.embedded.encode())
	}
	if n.kind == 0 && strings.HasPrefix(n.raw, `"`) && json.Unmarshal([]byte(n.raw), &s) == nil {
		return s
	}
	return n.raw
}

func (n *jnode) isString() bool { return n.kind == 0 && strings.HasPrefix(n.raw, `"`) }

func (n *jnode) isNumber() bool {
	return n.kind == 0 && n.raw != "" && (n.raw[0] == '-' || n.raw[0] >= '0' && n.raw[0] <= '9')
}

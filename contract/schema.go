// Package contract writes the event contract of SPEC §9 from the providers' declarations: a
// JSON Schema (draft-07) of each event type's data, and one AsyncAPI 3.0 document of the
// configured sink. The command writes them (`callbridge contract -out DIR`) and the bridge serves
// them (GET /schemas/<type>/v<major>.json, GET /asyncapi.yaml), both from what Build made once.
// It reads normalize and publish; neither reads it.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/callbridge/callbridge/normalize"
)

// draft07 is the meta-schema every schema names.
const draft07 = "http://json-schema.org/draft-07/schema#"

// bigIDNote is what the schema says of a 64-bit id.
const bigIDNote = "64-bit id: as a JSON number it can exceed 2^53, which a reader that parses numbers as doubles rounds; read it as a 64-bit integer or as its decimal text"

// node is one member of data in the tree the dotted paths make.
type node struct {
	field    normalize.Field
	names    []string // children in declaration order
	children map[string]*node
	items    *node // an array's items, when declared
}

// tree builds the tree of fields, checking each: a known type, a declared parent that can hold
// it, no path twice.
func tree(fields []normalize.Field) (*node, error) {
	root := &node{field: normalize.Field{Type: normalize.TObject}}
	for _, f := range fields {
		if err := checkType(f); err != nil {
			return nil, err
		}
		parent, name, err := root.parentOf(f.Path)
		if err != nil {
			return nil, err
		}
		if name == "" { // "a[]": the items of array a
			if parent.items != nil {
				return nil, fmt.Errorf("%s: declared twice", f.Path)
			}
			parent.items = &node{field: f}
			continue
		}
		if parent.children[name] != nil {
			return nil, fmt.Errorf("%s: declared twice", f.Path)
		}
		if parent.children == nil {
			parent.children = map[string]*node{}
		}
		parent.children[name] = &node{field: f}
		parent.names = append(parent.names, name)
	}
	return root, nil
}

// parentOf walks path to the node that holds its last step, and returns that step's name ("" for
// an array's items, path "a[]").
func (n *node) parentOf(path string) (*node, string, error) {
	steps := strings.Split(path, ".")
	for i, step := range steps {
		last := i == len(steps)-1
		name, items := strings.CutSuffix(step, "[]")
		if name == "" || strings.Contains(name, "[") {
			return nil, "", fmt.Errorf("%s: a path is names joined by dots, [] after an array's name", path)
		}
		if last && !items {
			return n, name, nil
		}
		child := n.children[name]
		if child == nil {
			return nil, "", fmt.Errorf("%s: %s is not declared before it", path, name)
		}
		n = child
		if items {
			if !hasType(n.field.Type, normalize.TArray) {
				return nil, "", fmt.Errorf("%s: %s is not an array", path, name)
			}
			if last {
				return n, "", nil
			}
			if n.items == nil { // items of objects, their members declared below
				n.items = &node{field: normalize.Field{Path: name + "[]", Type: normalize.TObject}}
			}
			n = n.items
		}
		if !hasType(n.field.Type, normalize.TObject) {
			return nil, "", fmt.Errorf("%s: %s is not an object", path, name)
		}
	}
	return nil, "", fmt.Errorf("%s: empty path", path)
}

func checkType(f normalize.Field) error {
	for _, t := range strings.Split(f.Type, "|") {
		switch t {
		case normalize.TString, normalize.TInteger, normalize.TNumber, normalize.TBool, normalize.TObject, normalize.TArray, normalize.TNull:
		default:
			return fmt.Errorf("%s: type %q is not one of string, integer, number, boolean, object, array, null", f.Path, f.Type)
		}
	}
	if f.BigID && !hasType(f.Type, normalize.TInteger) && !hasType(f.Type, normalize.TString) {
		return fmt.Errorf("%s: a BigID is an integer or a string", f.Path)
	}
	return nil
}

func hasType(types, t string) bool {
	for _, x := range strings.Split(types, "|") {
		if x == t {
			return true
		}
	}
	return false
}

// schema is the JSON Schema of n, its members in declaration order.
func (n *node) schema() obj {
	f := n.field
	s := obj{}
	if types := strings.Split(f.Type, "|"); len(types) > 1 {
		s = s.add("type", types)
	} else {
		s = s.add("type", f.Type)
	}
	if d := describe(f); d != "" {
		s = s.add("description", d)
	}
	if f.Unit != "" {
		s = s.add("x-unit", f.Unit)
	}
	if len(f.Enum) > 0 {
		s = s.add("enum", f.Enum)
	}
	if n.children != nil {
		props, required := obj{}, []string{}
		for _, name := range n.names {
			c := n.children[name]
			props = props.add(name, c.schema())
			if c.field.Required {
				required = append(required, name)
			}
		}
		s = s.add("properties", props)
		if len(required) > 0 {
			s = s.add("required", required)
		}
		s = s.add("additionalProperties", false)
	}
	if n.items != nil {
		s = s.add("items", n.items.schema())
	}
	return s
}

// describe is a field's description with its unit and, for a 64-bit id, the warning.
func describe(f normalize.Field) string {
	parts := []string{}
	if f.Desc != "" {
		parts = append(parts, f.Desc)
	}
	if f.Unit != "" {
		parts = append(parts, "unit: "+f.Unit)
	}
	if f.BigID {
		if hasType(f.Type, normalize.TInteger) {
			parts = append(parts, bigIDNote)
		} else {
			parts = append(parts, "64-bit id, written as a string by the provider: exact")
		}
	}
	return strings.Join(parts, "; ")
}

// EventSchema is the JSON Schema of the data of p's event e as published.
func EventSchema(p *normalize.Provider, e normalize.EventDef) ([]byte, error) {
	if !p.Declared() {
		return Permissive(), nil
	}
	root, err := tree(p.DataFields(e.Name))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", p.ID, e.Name, err)
	}
	head := obj{}.add("$schema", draft07).add("title", p.TypePrefix+e.Name).
		add("description", fmt.Sprintf("data of %s%s (native code %s): %s", p.TypePrefix, e.Name, e.Code, e.Meaning))
	return marshal(append(head, root.schema()...))
}

// permissive is the schema of data nothing declares: any JSON value.
var permissive = mustMarshal(obj{}.add("$schema", draft07).add("title", "undeclared data").
	add("description", "data of an event type whose members are not declared (an undocumented code, a generic source, or a provider whose declarations are still to come): any JSON value, as the sender wrote it").
	add("type", []string{"object", "array", "string", "number", "boolean", "null"}))

// Permissive is the schema of data that is not declared: any JSON value.
func Permissive() []byte { return permissive }

// obj is a JSON object that keeps its members' order, so the files read well and diff well.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) add(k string, v any) obj { return append(o, kv{k, v}) }

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := jsonText(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := jsonText(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // descriptions say <type>, not \u003ctype\u003e
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

// jsonText is v in JSON on one line, without HTML escaping.
func jsonText(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

func mustMarshal(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

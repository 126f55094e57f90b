package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Breaks lists how the schema next breaks what the published schema old promised, one line per
// break, naming the member by its dotted path ("" when none: next may replace old in the same
// major). A major is a promise to the consumers written against it, and to the events already
// stored under it:
//
//   - every member old declares is still declared, with the same JSON type (the set of types,
//     null among them) and the same unit;
//   - a member is required in next exactly when it is in old: a new required member would fail
//     the events already stored, a member no longer required fails a consumer that counted on it;
//   - every value old enumerates (enum, const) is still allowed;
//   - items old declares for an array are still declared.
//
// Everything else may change within a major: descriptions and titles, members added as optional,
// values added to an enum, and what old left undeclared: the members of an object declared
// without them, the items of an array declared without them, and all of data when old is the
// permissive schema (nothing was promised).
func Breaks(old, next []byte) ([]string, error) {
	var o, n map[string]any
	if err := json.Unmarshal(old, &o); err != nil {
		return nil, fmt.Errorf("published schema: %w", err)
	}
	if err := json.Unmarshal(next, &n); err != nil {
		return nil, fmt.Errorf("new schema: %w", err)
	}
	var breaks []string
	compareSchema("", o, n, &breaks)
	return breaks, nil
}

// anyType is the type list of the permissive schema: it promises nothing.
var anyType = []string{"array", "boolean", "null", "number", "object", "string"}

// compareSchema appends to breaks where n breaks o, both the schema of the member at path.
func compareSchema(path string, o, n map[string]any, breaks *[]string) {
	at := path
	if at == "" {
		at = "data"
	}
	ot, nt := types(o), types(n)
	if len(ot) == 0 || slices.Equal(ot, anyType) && o["properties"] == nil && o["items"] == nil {
		return // undeclared: nothing was promised
	}
	if !slices.Equal(ot, nt) {
		*breaks = append(*breaks, fmt.Sprintf("%s: type %s, was %s", at, strings.Join(nt, "|"), strings.Join(ot, "|")))
		return // a member of another type: what it holds is another question
	}
	if ou, nu := o["x-unit"], n["x-unit"]; ou != nu {
		*breaks = append(*breaks, fmt.Sprintf("%s: unit %v, was %v", at, orNone(nu), orNone(ou)))
	}
	compareEnum(at, o, n, breaks)
	compareMembers(path, o, n, breaks)
	if oi, ok := o["items"].(map[string]any); ok {
		ni, ok := n["items"].(map[string]any)
		if !ok {
			*breaks = append(*breaks, at+": items no longer declared")
			return
		}
		compareSchema(path+"[]", oi, ni, breaks)
	}
}

// compareMembers compares the declared members of an object and which of them are required.
func compareMembers(path string, o, n map[string]any, breaks *[]string) {
	op, ok := o["properties"].(map[string]any)
	if !ok {
		return // members not declared: an open object, nothing promised of them
	}
	np, _ := n["properties"].(map[string]any)
	for _, name := range sortedKeys(op) {
		at := join(path, name)
		ns, ok := np[name].(map[string]any)
		if !ok {
			*breaks = append(*breaks, at+": member removed")
			continue
		}
		om, _ := op[name].(map[string]any)
		compareSchema(at, om, ns, breaks)
	}
	or, nr := stringSet(o["required"]), stringSet(n["required"])
	for _, name := range sortedKeys(nr) {
		if !or[name] {
			*breaks = append(*breaks, join(path, name)+": now required")
		}
	}
	for _, name := range sortedKeys(or) {
		if !nr[name] && np[name] != nil {
			*breaks = append(*breaks, join(path, name)+": no longer required")
		}
	}
}

// compareEnum: every value o allows by enum or const, n still allows.
func compareEnum(at string, o, n map[string]any, breaks *[]string) {
	ov, ok := values(o)
	if !ok {
		return
	}
	nv, ok := values(n)
	if !ok {
		return // no enum: every value of the type allowed
	}
	for _, v := range ov {
		if !slices.Contains(nv, v) {
			*breaks = append(*breaks, fmt.Sprintf("%s: enum narrowed, %s no longer allowed", at, v))
		}
	}
}

// values are the values a schema enumerates, as JSON text, and whether it enumerates any.
func values(s map[string]any) ([]string, bool) {
	var vs []any
	if e, ok := s["enum"].([]any); ok {
		vs = e
	} else if c, ok := s["const"]; ok {
		vs = []any{c}
	} else {
		return nil, false
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	return out, true
}

// types is a schema's type list, sorted: "string" and ["string","null"] alike.
func types(s map[string]any) []string {
	var out []string
	switch t := s["type"].(type) {
	case string:
		out = []string{t}
	case []any:
		for _, x := range t {
			if x, ok := x.(string); ok {
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return out
}

func stringSet(v any) map[string]bool {
	set := map[string]bool{}
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			set[s] = true
		}
	}
	return set
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orNone(v any) any {
	if v == nil {
		return "none"
	}
	return v
}

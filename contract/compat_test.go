package contract

import (
	"strings"
	"testing"
)

// Breaks on hand-made pairs: what keeps a major's promise and what needs a new major.
func TestBreaks(t *testing.T) {
	const base = `{"type":"object","properties":{
		"id":{"type":"string","description":"the id"},
		"at":{"type":"integer","x-unit":"ms"},
		"state":{"type":"string","enum":["a","b"]},
		"opts":{"type":"object"},
		"files":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}},"additionalProperties":false}},
		"tags":{"type":"array"},
		"maybe":{"type":["string","null"]}
	},"required":["id"],"additionalProperties":false}`
	tests := []struct {
		name     string
		old, new string
		want     []string // each a substring of one break, in order; none: compatible
	}{
		{"same", base, base, nil},
		{"description changed", base, strings.Replace(base, "the id", "the room's id", 1), nil},
		{"optional member added", base, strings.Replace(base, `"id":{`, `"note":{"type":"string"},"id":{`, 1), nil},
		{"enum widened", base, strings.Replace(base, `["a","b"]`, `["a","b","c"]`, 1), nil},
		{"open object declares its members", base, strings.Replace(base, `"opts":{"type":"object"}`, `"opts":{"type":"object","properties":{"k":{"type":"string"}},"required":["k"],"additionalProperties":false}`, 1), nil},
		{"items declared", base, strings.Replace(base, `"tags":{"type":"array"}`, `"tags":{"type":"array","items":{"type":"string"}}`, 1), nil},
		{"type order", base, strings.Replace(base, `["string","null"]`, `["null","string"]`, 1), nil},
		{"permissive to declared", string(Permissive()), base, nil},
		{"member removed", base, strings.Replace(base, `"at":{"type":"integer","x-unit":"ms"},`, "", 1), []string{"at: member removed"}},
		{"type changed", base, strings.Replace(base, `"id":{"type":"string"`, `"id":{"type":"integer"`, 1), []string{"id: type integer, was string"}},
		{"type widened to null", base, strings.Replace(base, `"id":{"type":"string"`, `"id":{"type":["string","null"]`, 1), []string{"id: type null|string, was string"}},
		{"null dropped", base, strings.Replace(base, `["string","null"]`, `"string"`, 1), []string{"maybe: type string, was null|string"}},
		{"unit changed", base, strings.Replace(base, `"x-unit":"ms"`, `"x-unit":"s"`, 1), []string{"at: unit s, was ms"}},
		{"unit dropped", base, strings.Replace(base, `,"x-unit":"ms"`, "", 1), []string{"at: unit none, was ms"}},
		{"required added", base, strings.Replace(base, `"required":["id"]`, `"required":["id","at"]`, 1), []string{"at: now required"}},
		{"new member required", base, strings.Replace(strings.Replace(base, `"id":{`, `"n":{"type":"string"},"id":{`, 1), `"required":["id"]`, `"required":["id","n"]`, 1), []string{"n: now required"}},
		{"required dropped", base, strings.Replace(base, `"required":["id"],`, "", 1), []string{"id: no longer required"}},
		{"enum narrowed", base, strings.Replace(base, `["a","b"]`, `["a"]`, 1), []string{`state: enum narrowed, "b" no longer allowed`}},
		{"enum to const", base, strings.Replace(base, `"enum":["a","b"]`, `"const":"a"`, 1), []string{`"b" no longer allowed`}},
		{"nested member removed", base, strings.Replace(base, `"name":{"type":"string"}`, `"size":{"type":"integer"}`, 1), []string{"files[].name: member removed"}},
		{"items dropped", base, strings.Replace(base, `"items":{"type":"object","properties":{"name":{"type":"string"}},"additionalProperties":false}`, `"description":"x"`, 1), []string{"files: items no longer declared"}},
		{"declared to permissive", base, string(Permissive()), []string{"data: type array|boolean|null|number|object|string, was object"}},
	}
	for _, tt := range tests {
		got, err := Breaks([]byte(tt.old), []byte(tt.new))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %q, want %d breaks like %q", tt.name, got, len(tt.want), tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: %q, want %q", tt.name, got[i], w)
			}
		}
	}
	if _, err := Breaks([]byte("{"), []byte(base)); err == nil {
		t.Error("a published schema that is not JSON compared")
	}
}

package normalize

import (
	"slices"
	"testing"
)

// The readers of valid JSON must give what eachMember, eachElement and appendCompact give.
var validBodies = []string{
	`{}`,
	`{"a":1,"b":"x y","c":true,"d":null}`,
	` { "a" : 1 , "b" :"x" } `,
	`{"a":{"b":[1, {"c":"\"}"}, []],"d":{}},"e":[ ]}`,
	`{"\u0061":"\\","b":-1.5e3,"c":"é\u00e9"}`,
	`{"a":"1","b":{"x":1}}`,
	"{\"a\":\n\"1\"}",
	`{"a":"0123456789abcdef\"0123456789","b":"0123456789abcdef\\"}`,
}

func TestValidReaders(t *testing.T) {
	for _, body := range validBodies {
		b := []byte(body)
		var want, got []member
		if err := eachMember(b, func(m member) { want = append(want, m) }); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		eachValidMember(b[skipSpace(b, 0):], func(m member) { got = append(got, m) })
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d", body, len(got), len(want))
		}
		for i := range want {
			if string(got[i].key) != string(want[i].key) || string(got[i].val) != string(want[i].val) || got[i].escaped != want[i].escaped {
				t.Errorf("%s: member %d = %q:%q, want %q:%q", body, i, got[i].key, got[i].val, want[i].key, want[i].val)
			}
			if v := want[i].val; v[0] == '[' {
				var we, ge [][]byte
				eachElement(v, func(el []byte) { we = append(we, el) })
				eachValidElement(v, func(el []byte) { ge = append(ge, el) })
				if !slices.EqualFunc(we, ge, func(x, y []byte) bool { return string(x) == string(y) }) {
					t.Errorf("%s: elements %q, want %q", v, ge, we)
				}
			}
		}
		if got, want := appendCompactObject(nil, b, want), appendCompact(nil, b); string(got) != string(want) {
			t.Errorf("appendCompactObject(%s) = %s, want %s", body, got, want)
		}
		// Dropping nothing, appendWithout compacts (names written with escapes aside: it writes
		// them again from their decoded form).
		escaped := slices.ContainsFunc(want, func(m member) bool { return m.escaped })
		if got, want := appendWithout(nil, b, []string{"zz"}), appendCompact(nil, b); !escaped && string(got) != string(want) {
			t.Errorf("appendWithout(%s) = %s, want %s", body, got, want)
		}
	}
}

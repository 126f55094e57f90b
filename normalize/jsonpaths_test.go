package normalize

import "testing"

// TestLookupPaths: one pass finds every path, nested or not, and nothing that only looks alike.
func TestLookupPaths(t *testing.T) {
	obj := []byte(`{"a":1,"ab":{"c":"x"},"b":{"c":{"d":[1,2]},"cc":true},"e\u0066":3,"n":null}`)
	paths := []string{"a", "ab.c", "b.c.d", "b.cc", "b.c", "b.x", "ab.c.z", "a.b", "ef", "", "n"}
	want := []string{"1", `"x"`, "[1,2]", "true", `{"d":[1,2]}`, "", "", "", "", "", "null"}
	vals := make([][]byte, len(paths))
	lookupPaths(obj, paths, vals)
	for i := range paths {
		if string(vals[i]) != want[i] {
			t.Errorf("%q: %q, want %q", paths[i], vals[i], want[i])
		}
	}
	if n := testing.AllocsPerRun(100, func() { lookupPaths(obj, paths, vals) }); n != 0 && !raceEnabled {
		t.Errorf("%.0f allocations", n)
	}
}

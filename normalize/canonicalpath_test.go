package normalize

import "testing"

// TestPathValueFirstElement: "list[0]" reads an array's first element, at any depth.
func TestPathValueFirstElement(t *testing.T) {
	obj := []byte(`{"resources":[ "arn:a" ,"arn:b"],"d":{"l":[{"x":1}]},"e":[],"s":"t"}`)
	for path, want := range map[string]string{
		"resources[0]": `"arn:a"`,
		"d.l[0].x":     `1`,
		"e[0]":         ``,
		"s[0]":         ``,
		"missing[0]":   ``,
	} {
		if got := string(pathValue(obj, path)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

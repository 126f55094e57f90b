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

// TestCondAnyValue: AnyValue chooses a mapping when its member has a value, else the next one.
func TestCondAnyValue(t *testing.T) {
	c := &Canonical{Events: map[string][]Mapping{"e": {
		{Type: RecordingFileReady, If: &Cond{Path: "live", Values: []string{AnyValue}}},
		{Type: RoomStarted},
	}}}
	for data, want := range map[string]string{
		`{"live":"in1"}`: RecordingFileReady,
		`{"live":7}`:     RecordingFileReady,
		`{"live":""}`:    RoomStarted,
		`{"live":null}`:  RoomStarted,
		`{}`:             RoomStarted,
	} {
		ev := &Event{EventType: []byte("e"), Data: []byte(data)}
		if m := c.choose(ev, &Event{}); m == nil || m.Type != want {
			t.Errorf("%s: %v, want %s", data, m, want)
		}
	}
}

// TestLookupPathsFirstElement: lookupPaths reads a last segment "name[0]" as pathValue does.
func TestLookupPathsFirstElement(t *testing.T) {
	obj := []byte(`{"resources":[ "arn:a" ,"arn:b"],"d":{"l":["x"]},"e":[],"s":"t"}`)
	paths := []string{"resources[0]", "d.l[0]", "e[0]", "s[0]", "missing[0]", "resources"}
	vals := make([][]byte, len(paths))
	lookupPaths(obj, paths, vals)
	for i, p := range paths {
		if got, want := string(vals[i]), string(pathValue(obj, p)); got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
	if string(vals[0]) != `"arn:a"` || string(vals[1]) != `"x"` {
		t.Errorf("first elements: %q %q", vals[0], vals[1])
	}
}

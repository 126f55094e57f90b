package normalize

import "testing"

func TestRegistry(t *testing.T) {
	source, err := NewWebhook("orders", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(append(Builtins(), source)...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(r.All()), len(Builtins())+1; got != want {
		t.Fatalf("%d entries, want %d", got, want)
	}
	for _, p := range r.All() {
		if r.Lookup([]byte(p.ID)) != p {
			t.Errorf("Lookup(%q) does not find its entry", p.ID)
		}
	}
	if r.Lookup([]byte("orders")) != source {
		t.Error("a generic source is not found by its name")
	}
	if BuiltinRegistry().Lookup([]byte("orders")) != nil {
		t.Error("a generic source leaked into another registry")
	}
	if r.Lookup([]byte("nope")) != nil {
		t.Error("Lookup of an unknown id is not nil")
	}
}

func TestRegistryRefusesTwoEntriesWithOneID(t *testing.T) {
	shadow, err := NewWebhook("anyrtc", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegistry(append(Builtins(), shadow)...); err == nil {
		t.Error("a source named like a built-in provider was registered")
	}
}

// Builtins hands out a new slice: no caller can change what another sees.
func TestBuiltinsIsNotShared(t *testing.T) {
	b := Builtins()
	b[0] = nil
	if Builtins()[0] == nil {
		t.Error("Builtins returned a shared slice")
	}
}

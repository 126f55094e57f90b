package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

// The README's event and variable tables are generated from the provider table and the config
// struct, the same values the code runs on; this test fails when they drift. Regenerate with
// go test ./cmd/callbridge -run TestREADME -update.

var update = flag.Bool("update", false, "rewrite the generated README sections")

func eventsMarkdown() string {
	var b strings.Builder
	for _, p := range normalize.Builtins() {
		fmt.Fprintf(&b, "#### `%s`\n\n", p.ID)
		fmt.Fprintf(&b, "`source` `/callbridge/%s[/<app id>]` · `subject` %s · `time` %s · answer `%s`\n\n", p.ID, p.Subject, p.TimeSource, p.Reply)
		b.WriteString("| native code | meaning | `type` | `{eventtype}` |\n|---|---|---|---|\n")
		for _, e := range p.Events {
			fmt.Fprintf(&b, "| `%s` | %s | `%s%s` | `%s` |\n", e.Code, e.Meaning, p.TypePrefix, e.Name, e.Name)
		}
		fmt.Fprintf(&b, "| any other | undocumented: published, never dropped | `%s<eventtype>` | `%s` |\n\n", p.TypePrefix, p.Unknown)
	}
	return b.String()
}

func verificationMarkdown() string {
	var b strings.Builder
	b.WriteString("| provider | scheme (checked on the raw bytes, constant-time) | replay window | secret variable |\n|---|---|---|---|\n")
	for _, spec := range providerSpecs() {
		p := normalize.BuiltinRegistry().Lookup([]byte(spec.ID))
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` |\n", p.ID, p.Scheme, p.Replay, spec.VarName(p.SecretVar))
	}
	return b.String()
}

func envMarkdown() string {
	var b strings.Builder
	b.WriteString("| variable | type | default | meaning |\n|---|---|---|---|\n")
	for _, v := range config.Vars(providerSpecs()) {
		def := v.Default
		if def != "" {
			def = "`" + def + "`"
		}
		desc := strings.ReplaceAll(v.Description, "|", `\|`)
		if v.Secret {
			desc += " (secret: never printed)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, strings.ReplaceAll(v.Type, "|", `\|`), def, desc)
	}
	return b.String()
}

func TestREADME(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := readme
	for _, section := range []struct{ name, text string }{
		{"verification", verificationMarkdown()},
		{"events", eventsMarkdown()},
		{"env", envMarkdown()},
	} {
		begin := []byte("<!-- BEGIN " + section.name + " (generated, see cmd/callbridge/docs_test.go) -->\n")
		end := []byte("<!-- END " + section.name + " -->")
		i, j := bytes.Index(out, begin), bytes.Index(out, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the %q markers", section.name)
		}
		current := string(out[i+len(begin) : j])
		if current != section.text {
			if !*update {
				t.Errorf("README.md's %s table is out of date: run go test ./cmd/callbridge -run TestREADME -update", section.name)
			}
			out = append(append(append([]byte{}, out[:i+len(begin)]...), section.text...), out[j:]...)
		}
	}
	if *update && !bytes.Equal(out, readme) {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

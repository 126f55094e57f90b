package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/normalize"
)

// credentialMarker is written into every credential path of a provider's Sample.
const credentialMarker = "cb-credential-marker"

// TestCredentialsNeverOnTheBus is the contract for Provider.Credentials (SPEC §6b): for every
// built-in provider that declares credentials, in both content modes, a callback whose
// credential values are a marker is published, and a body of the wrong shape carrying them is
// dead-lettered; the marker is then nowhere in what JetStream holds, data or headers. A new
// provider is covered by declaring its credentials, without editing this test.
func TestCredentialsNeverOnTheBus(t *testing.T) {
	for _, mode := range []string{"structured", "binary"} {
		t.Run(mode, func(t *testing.T) {
			env := signedEnv()
			env["CALLBRIDGE_CE_MODE"] = mode
			b := startBridge(t, env)
			now := time.Now()
			dead := map[string]bool{}
			var providers []string
			for _, p := range normalize.Builtins() {
				if len(p.Credentials) == 0 {
					continue
				}
				providers = append(providers, p.ID)
				valid, deadLetter := credentialBodies(t, p)
				if status, _, reply := b.post(t, signed(p.ID, valid, now)); status != 200 {
					t.Fatalf("%s: %d %s", p.ID, status, reply)
				}
				if status, _, reply := b.post(t, signed(p.ID, deadLetter, now)); status != 400 {
					t.Fatalf("%s: a body of the wrong shape answered %d %s, want 400 and a dead letter", p.ID, status, reply)
				}
			}
			if len(providers) == 0 {
				t.Fatal("no provider declares credentials: the contract checks nothing")
			}
			for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
				if strings.HasPrefix(m.Subject(), "callbacks.deadletter.") {
					dead[strings.TrimPrefix(m.Subject(), "callbacks.deadletter.")] = true
				}
				all := string(m.Data()) + fmt.Sprint(m.Headers())
				if strings.Contains(all, credentialMarker) {
					t.Errorf("%s carries a credential: %s", m.Subject(), all)
				}
			}
			for _, id := range providers {
				if !dead[id] {
					t.Errorf("%s: no dead letter to check", id)
				}
			}
		})
	}
}

// putPath sets the value at path to raw, adding the members on the way that Sample lacks: a
// provider may declare a credential its Sample does not carry (a field of another event kind).
func putPath(n *jnode, path, raw string) {
	if n.set(path, raw) {
		return
	}
	steps := strings.Split(path, ".")
	for _, step := range steps[:len(steps)-1] {
		// "name[]" steps into an array's items: the marker goes into its first, an object.
		name, items := strings.CutSuffix(step, "[]")
		child := n.get(name)
		want := byte('{')
		if items {
			want = '['
		}
		if child == nil || child.kind != want {
			n.add(name, string([]byte{want, want + 2})) // {} or []
			child = n.vals[len(n.vals)-1]
		}
		if items {
			if len(child.vals) == 0 || child.vals[0].kind != '{' {
				child.vals = append([]*jnode{{kind: '{'}}, child.vals...)
			}
			child = child.vals[0]
		}
		n = child
	}
	n.add(steps[len(steps)-1], raw)
}

// credentialBodies returns p's Sample with every credential path set to the marker, and the
// same with its event code made an object: a body of the wrong shape, dead-lettered.
func credentialBodies(t *testing.T, p *normalize.Provider) (valid, deadLetter []byte) {
	t.Helper()
	sample, err := parseJSON(p.Sample)
	if err != nil {
		t.Fatalf("%s: Sample: %v", p.ID, err)
	}
	for _, cred := range p.Credentials {
		// A whole value is the credential; for a path ending in '?', a URL's query.
		path, query := strings.CutSuffix(cred, "?")
		value := credentialMarker
		if query {
			value = "rtmp://example.invalid/live/stream?token=" + credentialMarker
		}
		putPath(sample, path, jsonString(value))
	}
	if p.Code == "" || !sample.clone().set(p.Code, "{}") {
		t.Fatalf("%s: declares credentials but no Code path to make a dead letter with", p.ID)
	}
	broken := sample.clone()
	broken.set(p.Code, "{}")
	return sample.encode(), broken.encode()
}

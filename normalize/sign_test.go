package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Sign is what `callbridge send` posts: for every provider, its sample and every fixture,
// signed now, must pass the provider's own Verify (with and without a secret) and normalise to
// the same id as the body before signing (marked unverified when no secret signed it).
func TestSignVerifies(t *testing.T) {
	now := time.Now()
	for _, p := range Builtins() {
		bodies := map[string][]byte{"sample": p.Sample}
		for _, name := range fixtureNames(t, p.ID) {
			if !strings.HasPrefix(name, "probe") {
				bodies[name] = fixture(t, p.ID, name)
			}
		}
		for name, body := range bodies {
			for _, auth := range authVariants(t, p) {
				signed, headers, err := p.Sign(body, &auth, now)
				if err != nil {
					t.Fatalf("%s/%s: %v", p.ID, name, err)
				}
				c := &Callback{Body: signed, Header: headerMap(p, headers), Received: now.Add(time.Second)}
				var ev Event
				if reportErr, err := p.Run(c, &auth, true, &ev); err != nil || reportErr != nil {
					t.Fatalf("%s/%s (secret %q): %v %v\n%s", p.ID, name, auth.Secret, err, reportErr, signed)
				}
				if ev.Unverified != (len(auth.Secret) == 0) {
					t.Errorf("%s/%s: Unverified %v with secret %q", p.ID, name, ev.Unverified, auth.Secret)
				}
				var plain Event
				if err := p.Envelope(&Callback{Body: body, Header: headerMap(p, nil), Received: now}, &plain); err != nil {
					t.Fatal(err)
				}
				if ev.Unverified {
					plain.MarkUnverified() // unsigned: an id the sender cannot choose, stable still
				}
				if !bytes.Equal(ev.ID, plain.ID) {
					t.Errorf("%s/%s: signing changed the id: %s, unsigned %s", p.ID, name, ev.ID, plain.ID)
				}
			}
		}
	}
}

// authVariants are the configurations a provider is signed and verified under: a secret with
// the default options, a secret with each choice of each Choice setting, and no secret with
// unsigned callbacks allowed.
func authVariants(t testing.TB, p *Provider) []Auth {
	variants := []Auth{{Secret: []byte("s3cret"), MaxSkew: time.Minute}}
	for _, s := range p.Settings {
		if s.Kind != Choice {
			continue
		}
		for _, c := range s.Choices {
			variants = append(variants, Auth{Secret: []byte("s3cret"), MaxSkew: time.Minute, Options: withOptions(t, p, s.Name, c)})
		}
	}
	return append(variants, Auth{AllowUnsigned: true, MaxSkew: time.Minute})
}

func fixtureNames(t *testing.T, provider string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("..", "testdata", provider))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	return names
}

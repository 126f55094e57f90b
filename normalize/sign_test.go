package normalize

import (
	"bytes"
	"errors"
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
				signed, headers, err := signFor(p, body, &auth, now)
				if err != nil {
					t.Fatalf("%s/%s: %v", p.ID, name, err)
				}
				c := testCallback(p, signed, headers, now.Add(time.Second))
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

// testHost is the host the generic tests' callbacks are posted to.
const testHost = "bridge.test"

// testPath is p's route, where the generic tests' callbacks are posted.
func testPath(p *Provider) string { return "/v1/callbacks/" + p.ID }

// signFor signs body as p's sender posts it to the test URL (Provider.SignFor): the body sent
// and the headers.
func signFor(p *Provider, body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	_, out, headers, err := p.SignFor("http://"+testHost+testPath(p), body, a, now)
	return out, headers, err
}

// testCallback is the callback the bridge reads when p's sender posts out with headers (as
// signFor made them) to the test URL, received at received: its request line and Host header
// filled as ingest fills them.
func testCallback(p *Provider, out []byte, headers []Header, received time.Time) *Callback {
	h := headerMap(p, headers)
	if h.Peek("Host") == nil {
		h["Host"] = testHost
	}
	method, uri := p.Method(out), testPath(p)
	if method == "GET" {
		uri += "?" + string(out)
	}
	return &Callback{Body: out, Header: h, Received: received, Method: []byte(method), URI: []byte(uri)}
}

// SignFor hands SignRequest the request Sign made, addressed as the URL says: host (or Sign's
// Host header), escaped path and query, a GET's query string after the path and no body.
func TestSignFor(t *testing.T) {
	type got struct {
		method, uri, host, body string
		headers                 int
	}
	var seen got
	p := Provider{
		AcceptsGET: true,
		Sign: func(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
			if string(body) == "host" {
				return []byte("{}"), []Header{{"Host", "other.example"}}, nil
			}
			if string(body) == "bad" {
				return nil, nil, errors.New("bad body")
			}
			return body, []Header{{"Content-Type", "text/plain"}}, nil
		},
		SignRequest: func(method, uri, host string, body []byte, headers []Header, a *Auth) ([]Header, error) {
			seen = got{method, uri, host, string(body), len(headers)}
			return append(headers, Header{"Authorization", "x"}), nil
		},
	}
	tests := []struct {
		url, body string
		want      got
	}{
		{"http://h.example:8080/a%20b/c?x=1&y=%2F", `{"a":1}`, got{"POST", "/a%20b/c?x=1&y=%2F", "h.example:8080", `{"a":1}`, 1}},
		{"http://h.example", `{}`, got{"POST", "/", "h.example", `{}`, 1}},
		{"https://h.example/cb", `a=1&b=2`, got{"GET", "/cb?a=1&b=2", "h.example", "", 1}},
		{"http://h.example/cb", "host", got{"POST", "/cb", "other.example", `{}`, 1}},
	}
	for _, tt := range tests {
		method, out, headers, err := p.SignFor(tt.url, []byte(tt.body), &Auth{}, time.Now())
		if err != nil || seen != tt.want || method != tt.want.method || len(headers) != 2 || headers[1].Key != "Authorization" {
			t.Errorf("SignFor(%s, %s) = %s %s %v %v; SignRequest saw %+v, want %+v", tt.url, tt.body, method, out, headers, err, seen, tt.want)
		}
	}
	if _, _, _, err := p.SignFor("http://h.example/", []byte("bad"), &Auth{}, time.Now()); err == nil {
		t.Error("Sign's error not returned")
	}
	p.SignRequest = nil
	if method, out, headers, err := p.SignFor("::", []byte(`{"a":1}`), &Auth{}, time.Now()); err != nil || method != "POST" || string(out) != `{"a":1}` || len(headers) != 1 {
		t.Errorf("without SignRequest: %s %s %v %v, want Sign's request as it is", method, out, headers, err)
	}
}

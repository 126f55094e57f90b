package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// policy is how a run's bridge treats one entry's signatures.
type policy int

const (
	enforced   policy = iota // a secret, VERIFY=enforce: a failed check is 401
	reported                 // a secret, VERIFY=report: a failed check is accepted, verified=false
	unsignedOK               // no secret, unsigned callbacks allowed: nothing is checked
)

func (p policy) String() string { return [...]string{"enforce", "report", "unsigned"}[p] }

// propSources are the generic sources (SPEC §6a) the property test configures beside the
// built-in providers: settings by Setting name, the secret and another of the same form.
var propSources = []struct {
	name, secret, wrong string
	settings            map[string]string
}{
	{"prop-std", "whsec_" + base64.StdEncoding.EncodeToString([]byte("property standard webhooks key")),
		"whsec_" + base64.StdEncoding.EncodeToString([]byte("some other webhooks key")),
		map[string]string{"SUBJECT": "json:data.id"}},
	{"prop-hmac", "property-hmac-secret", "property-hmac-wrong", map[string]string{
		"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Prop-Signature", "SIGNATURE_PREFIX": "sha256=",
		"TYPE": "json:type", "SUBJECT": "json:data.id", "TIME": "json:timestamp"}},
	{"prop-template", base64.StdEncoding.EncodeToString([]byte("property template key")),
		base64.StdEncoding.EncodeToString([]byte("another template key")), map[string]string{
			"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Prop-Sig", "SIGNATURE_FORMAT": "kv", "SIGNATURE_PARAM": "v1",
			"SIGNED_CONTENT": "{sig:t}:{header:X-Prop-Nonce}.{body}", "TIMESTAMP": "sig:t", "TIMESTAMP_UNIT": "ms",
			"SECRET_ENCODING": "base64", "SIGNATURE_ENCODING": "base64url", "CHALLENGE": "zoom",
			"ID": "json:data.id", "TYPE": "json:type", "SUBJECT": "json:data.id", "TIME": "json:timestamp"}},
	{"prop-token", "property-token", "property-wrong-token", map[string]string{
		"SCHEME": "static-token", "TOKEN_HEADER": "X-Prop-Token", "TYPE": "json:type", "SUBJECT": "json:data.id"}},
}

// propEntry is one registry entry (a built-in provider or a generic source) as a run drives it.
type propEntry struct {
	p        *normalize.Provider
	vars     config.ProviderSpec // names its variables
	settings map[string]string   // its own settings by Setting name: required ones, or a source's
	secret   string              // what it signs with: the bridge's secret unless unsignedOK
	wrong    string              // another secret of the same form
	policy   policy
	opts     []normalize.NamedOption // settings parsed, for Sign
	sample   *jnode
	distinct []string // paths that make the event id; none: a nonce member makes bodies distinct
	subjects []string // paths holding the sample's subject
	leaves   []string
	auth     normalize.Auth    // the bridge's, once it runs: for the oracle
	output   *normalize.Output // the bridge's, once it runs: the events a callback makes
	enforce  bool
}

// propEntries is every registry entry, each built-in provider and each generic source of
// propSources: the property test's one loop over the registry. In a lax run every entry is in
// report mode or has no secret (alternating, from where rng says).
func propEntries(t *testing.T, rng *rand.Rand, lax bool) []*propEntry {
	t.Helper()
	var out []*propEntry
	for _, p := range normalize.Builtins() {
		out = append(out, newPropEntry(t, p, config.ProviderSpec{ID: p.ID, SecretVar: p.SecretVar},
			testRequired(p), testSecret(p.ID), testSecret(p.ID)+"-wrong"))
	}
	for _, s := range propSources {
		p, err := normalize.NewWebhook(s.name, s.settings, []byte(s.secret))
		if err != nil {
			t.Fatalf("generic source %s: %v", s.name, err)
		}
		out = append(out, newPropEntry(t, p, config.ProviderSpec{ID: s.name, SecretVar: p.SecretVar, Env: config.SourceEnv(s.name)},
			s.settings, s.secret, s.wrong))
	}
	first := rng.IntN(2)
	for i, e := range out {
		if lax {
			e.policy = []policy{reported, unsignedOK}[(first+i)%2]
		}
	}
	return out
}

// newPropEntry reads what the test varies from the provider's own declarations: its Sample,
// the paths of its event code (Provider.Code) and of its id (Provider.Distinct), and the fields
// holding the sample's subject (found by value).
func newPropEntry(t *testing.T, p *normalize.Provider, vars config.ProviderSpec, settings map[string]string, secret, wrong string) *propEntry {
	t.Helper()
	opts, err := p.Options(settings)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := parseJSON(p.Sample)
	if err != nil || sample.kind != '{' {
		t.Fatalf("%s: Sample is not a JSON object (%v)", p.ID, err)
	}
	e := &propEntry{p: p, vars: vars, settings: settings, secret: secret, wrong: wrong, opts: opts,
		sample: sample, distinct: p.Distinct, leaves: sample.leaves()}
	var ev normalize.Event
	h := http.Header{}
	for _, kv := range p.SampleHeaders {
		h.Set(kv.Key, kv.Value)
	}
	if err := p.Envelope(&normalize.Callback{Body: p.Sample, Header: peekHeader(h), Received: time.Now()}, &ev); err != nil {
		t.Fatalf("%s: Sample does not normalise: %v", p.ID, err)
	}
	for _, path := range p.Distinct {
		if sample.get(path) == nil {
			t.Fatalf("%s: Distinct path %q is not in Sample", p.ID, path)
		}
	}
	if p.Code != "" {
		if v := sample.get(p.Code); v == nil || v.text() != string(ev.ProviderEventType) {
			t.Fatalf("%s: Code %q does not hold the sample's event code %q", p.ID, p.Code, ev.ProviderEventType)
		}
	}
	for _, path := range e.leaves {
		if len(ev.Subject) > 0 && sample.get(path).text() == string(ev.Subject) {
			e.subjects = append(e.subjects, path)
		}
	}
	return e
}

// caseClass sorts the callbacks a run sends.
type caseClass int

const (
	valid   caseClass = iota // must be 200 and stored once
	invalid                  // a status SPEC §2 names
	hostile                  // anything but 5xx, and what the provider's own code decides
)

type signMode int

const (
	signRight signMode = iota
	signWrong          // another secret of the same form
	signNone           // no signature at all
)

// propCase is one callback of a run's sequence.
type propCase struct {
	e      *propEntry
	name   string
	class  caseClass
	want   []int  // the statuses allowed whatever the provider's code says; nil: any but 5xx
	body   *jnode // before signing; nil with raw nil: a retry of an earlier valid callback
	raw    []byte // sent as it is (not JSON), signed
	sign   signMode
	resign bool // a retry signed again a second later, rather than the same request again
	gzip   bool // sent gzipped (Content-Encoding: gzip): the bridge inflates it before the provider sees it
	// mayCut: a request line over the header limit, which the bridge may refuse before it has
	// read it all; closing then resets the connection under the unread rest, and the client
	// may see that rather than the 431.
	mayCut bool
}

// ids makes the values written into an entry's Distinct paths: distinct within a run, or the
// one value every entry shares.
type ids struct {
	rng  *rand.Rand
	n    int
	seed int64
}

func (g *ids) next() int { g.n++; return g.n }

// value is the id n written where orig was: digits for a number, else text.
func (g *ids) value(orig *jnode, n int) string {
	if orig.isNumber() {
		return fmt.Sprint(7_000_000_000 + n)
	}
	return jsonString(fmt.Sprintf("prop-%d-%04x", n, g.rng.IntN(1<<16)))
}

// distinctBody is the entry's sample with id n in its Distinct paths (or a nonce member).
func (e *propEntry) distinctBody(g *ids, n int) *jnode {
	b := e.sample.clone()
	if len(e.distinct) == 0 {
		b.add("prop_nonce", jsonString(fmt.Sprintf("prop-%d", n)))
	}
	for _, path := range e.distinct {
		b.set(path, g.value(e.sample.get(path), n))
	}
	return b
}

// cases are every callback the run sends for e, in no particular order.
func (e *propEntry) cases(g *ids, maxBody int) []*propCase {
	fresh := func() *jnode { return e.distinctBody(g, g.next()) }
	mut := func(f func(b *jnode, n int)) *jnode { n := g.next(); b := e.distinctBody(g, n); f(b, n); return b }
	signedCheck := []int{http.StatusUnauthorized}
	switch {
	case e.tokenRoute():
		signedCheck = []int{http.StatusNotFound} // the wrong URL token, or none
	case e.policy != enforced:
		signedCheck = []int{http.StatusOK}
	}
	refused := []int{http.StatusBadRequest, http.StatusUnauthorized}
	cs := []*propCase{
		{name: "valid", class: valid, want: []int{200}, body: fresh()},
		{name: "valid", class: valid, want: []int{200}, body: fresh()},
		{name: "id another provider uses too", class: valid, want: []int{200}, body: e.sharedBody(g)},
		{name: "valid, gzipped", class: valid, want: []int{200}, body: fresh(), gzip: true},
		{name: "retry, the same request", class: valid, want: []int{200}},
		{name: "retry, signed again", class: valid, want: []int{200}, resign: true},
		{name: "wrong signature", class: invalid, want: signedCheck, body: fresh(), sign: signWrong},
		{name: "no signature", class: invalid, want: signedCheck, body: fresh(), sign: signNone},
		{name: "broken JSON", class: invalid, want: refused, raw: brokenJSON(fresh())},
		{name: "broken JSON another provider sends too", class: invalid, want: refused, raw: fmt.Appendf(nil, `{"prop-shared-%d":`, g.seed)},
		{name: "not an object", class: invalid, want: refused, raw: []byte("[" + string(fresh().encode()) + "]")},
		{name: "body over the limit", class: invalid, want: []int{http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge},
			body: mut(func(b *jnode, n int) { b.add("prop_pad", jsonString(strings.Repeat("p", maxBody))) })},
	}
	if c := e.p.Code; c != "" {
		orig := e.sample.get(c)
		cs = append(cs,
			&propCase{name: "unknown code", class: valid, want: []int{200}, body: mut(func(b *jnode, n int) { b.set(c, unknownCode(orig, n)) })},
			&propCase{name: "code an object", class: invalid, want: refused, body: mut(func(b *jnode, n int) { b.set(c, "{}") })},
			&propCase{name: "code 5000 characters", class: hostile, body: mut(func(b *jnode, n int) { b.set(c, longValue(orig, n, 5000)) })},
			&propCase{name: "code with control characters", class: hostile, body: mut(func(b *jnode, n int) { b.set(c, controlValue(n)) })},
			&propCase{name: "code twice", class: hostile, body: mut(func(b *jnode, n int) { b.dup(c, unknownCode(orig, n)) })},
		)
	}
	seen := map[string]bool{}
	for _, path := range append(append([]string(nil), e.distinct...), e.subjects...) {
		if seen[path] {
			continue
		}
		seen[path] = true
		orig := e.sample.get(path)
		cs = append(cs,
			&propCase{name: path + " 5000 characters", class: hostile, body: mut(func(b *jnode, n int) { b.set(path, longValue(orig, n, 5000)) })},
			&propCase{name: path + " with control characters", class: hostile, body: mut(func(b *jnode, n int) { b.set(path, controlValue(n)) })},
			&propCase{name: path + " twice", class: hostile, body: mut(func(b *jnode, n int) { b.dup(path, g.value(orig, g.next())) })},
		)
	}
	for range 3 { // random fields, mutated at random
		path := e.leaves[g.rng.IntN(len(e.leaves))]
		name, f := randomMutation(g, e.sample.get(path))
		cs = append(cs, &propCase{name: path + " " + name, class: hostile, body: mut(func(b *jnode, n int) { f(b, path, n) })})
	}
	for _, c := range cs {
		c.e = e
	}
	return cs
}

// sharedBody is the sample with the id every entry of a run uses once: two providers'
// callbacks with the same native id must not share a deduplication slot (SPEC §4, §7.4).
func (e *propEntry) sharedBody(g *ids) *jnode {
	b := e.sample.clone()
	if len(e.distinct) == 0 {
		b.add("prop_nonce", jsonString("shared"))
	}
	for _, path := range e.distinct {
		orig := e.sample.get(path)
		v := jsonString(fmt.Sprintf("prop-shared-%d", g.seed))
		if orig.isNumber() {
			v = fmt.Sprint(6_000_000_000 + g.seed%1_000_000)
		}
		b.set(path, v)
	}
	return b
}

// randomMutation picks one of the hostile changes of a field.
func randomMutation(g *ids, orig *jnode) (string, func(b *jnode, path string, n int)) {
	switch g.rng.IntN(4) {
	case 0:
		return "5000 characters", func(b *jnode, path string, n int) { b.set(path, longValue(orig, n, 5000)) }
	case 1:
		return "with control characters", func(b *jnode, path string, n int) { b.set(path, controlValue(n)) }
	case 2:
		return "twice", func(b *jnode, path string, n int) { b.dup(path, controlValue(n)) }
	}
	other := []string{"null", "{}", "[]", "true", "12345", `"12345"`}[g.rng.IntN(6)]
	return "as " + other, func(b *jnode, path string, n int) { b.set(path, other) }
}

// longValue is a value of n characters of orig's kind: digits for a number, else text; distinct
// for every n.
func longValue(orig *jnode, n, size int) string {
	if orig != nil && orig.isNumber() {
		d := fmt.Sprint(n)
		return "9" + d + strings.Repeat("7", size-1-len(d))
	}
	p := fmt.Sprintf("L%d-", n)
	return jsonString(p + strings.Repeat("x", size-len(p)))
}

// controlValue holds control characters, white space and subject syntax.
func controlValue(n int) string {
	return jsonString(fmt.Sprintf("c%d\x00\x01\t\n\r\x1b\x7f . * > end", n))
}

// unknownCode is a code of orig's kind that no provider documents.
func unknownCode(orig *jnode, n int) string {
	if orig.isNumber() {
		return fmt.Sprint(900_000 + n)
	}
	return jsonString(fmt.Sprintf("PropUnknown%d", n))
}

// brokenJSON is b cut in the middle of a value.
func brokenJSON(b *jnode) []byte {
	enc := b.encode()
	return enc[:len(enc)/2]
}

// request signs body as e's sender would at now and addresses it to the bridge.
func (e *propEntry) request(body []byte, mode signMode, now time.Time) (request, error) {
	secret := map[signMode]string{signRight: e.secret, signWrong: e.wrong}[mode]
	path := "/v1/callbacks/" + e.p.ID
	if e.tokenRoute() && secret != "" {
		path += "/" + secret
	}
	c, err := testenv.Sign(e.p, &normalize.Auth{Secret: []byte(secret), Options: e.opts}, testBridgeURL+path, body, now)
	if err != nil {
		return request{}, err
	}
	if c.Method == http.MethodGet {
		return request{path: path + "?" + string(c.Body), header: c.Header, method: http.MethodGet}, nil
	}
	return request{path: path, body: c.Body, header: c.Header}, nil
}

// tokenRoute reports whether e signs nothing and the run configures its URL token, its secret
// (SRS): signing is then addressing the callback to /v1/callbacks/<id>/<secret>, and a wrong
// secret or none is a path the bridge does not serve.
func (e *propEntry) tokenRoute() bool { return e.p.RouteAuthenticated() && e.policy != unsignedOK }

// build makes c's request. A body the provider's Sign refuses (it reads what it signs) is sent
// unsigned, and failing that as it is: the bridge must still answer it properly.
func (c *propCase) build(now time.Time) (r request, note string, err error) {
	body := c.raw
	if body == nil {
		body = c.body.encode()
	}
	r, err = c.e.request(body, c.sign, now)
	r.gzip = c.gzip
	if err == nil && c.class == invalid && r.method == http.MethodGet && c.want[0] == http.StatusBadRequest {
		// Sign sent what it could read of the body as a query string (Alibaba's publish
		// callbacks): no longer a body of the wrong shape, so the provider's code decides.
		c.class, c.want = hostile, nil
		return r, "Sign made it a query string", nil
	}
	if err == nil && r.method == http.MethodGet && contains(c.want, http.StatusRequestHeaderFieldsTooLarge) {
		c.mayCut = true
		return r, "Sign made it a query string", nil
	}
	if err == nil || c.class == valid {
		return r, "", err
	}
	if r, err2 := c.e.request(body, signNone, now); err2 == nil {
		return r, "Sign refused it (" + err.Error() + "): sent unsigned", nil
	}
	h := http.Header{}
	for _, kv := range c.e.p.SampleHeaders {
		h.Set(kv.Key, kv.Value)
	}
	return request{path: "/v1/callbacks/" + c.e.p.ID, body: body, header: h}, "Sign refused it (" + err.Error() + "): sent as it is", nil
}

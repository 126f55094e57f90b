package normalize

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Run one target at a time, e.g.
//
//	go test ./normalize -run '^$' -fuzz '^FuzzScanner$' -fuzztime 20s

// fuzzBodies returns every fixture body of provider (every provider when id is "").
func fuzzBodies(f *testing.F, id string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, p := range Builtins() {
		if id != "" && p.ID != id {
			continue
		}
		files, err := filepath.Glob(filepath.Join("..", "testdata", p.ID, "*.json"))
		if err != nil || len(files) == 0 {
			f.Fatalf("%s: no fixtures (%v)", p.ID, err)
		}
		for _, file := range files {
			out = append(out, fixture(f, p.ID, filepath.Base(file)))
		}
	}
	return out
}

func FuzzScanner(f *testing.F) {
	for _, b := range fuzzBodies(f, "") {
		f.Add(b)
	}
	for _, s := range []string{
		`{"a":[1,2,{"b":null}],"c":"\ud83d\ude00\u00e9\"\\"}`, ` [ 1 , -0.5e+3 , true ] `, `"\ud800\u0041"`,
		`01`, `1.`, `-`, `[1,]`, "\"\xff\"", "\"a\x01\"", nest(65, "1"), nest(66, "1"), `"x`, `{"a":"b\\"}`,
		`"1703732078"`, `-999999999999999999`, `1e3`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, std := validValue(b), json.Valid(b)
		err := eachMember(b, func(member) {})
		if ours != std {
			switch {
			case std && jsonDepth(b) > maxDepth:
				return // intentional: the scanner limits nesting
			case std && !utf8.Valid(b):
				return // known: the scanner refuses invalid UTF-8 in strings, json.Valid does not
			}
			t.Fatalf("validValue(%q) = %v, json.Valid = %v", b, ours, std)
		}
		trimmed := bytes.Trim(b, " \t\r\n")
		isObject := len(trimmed) > 0 && trimmed[0] == '{'
		if (err == nil) != (ours && isObject) {
			t.Fatalf("eachMember(%q) = %v, validValue = %v, object = %v", b, err, ours, isObject)
		}
		if !ours {
			return
		}

		var want bytes.Buffer
		if err := json.Compact(&want, b); err != nil {
			t.Fatalf("json.Compact(%q): %v", b, err)
		}
		if got := appendCompact(nil, b); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendCompact(%q) = %q, json.Compact = %q", b, got, want.Bytes())
		}

		switch trimmed[0] {
		case '"':
			var s string
			if err := json.Unmarshal(trimmed, &s); err != nil {
				t.Fatal(err)
			}
			if got := appendUnquoted(nil, trimmed); string(got) != s {
				t.Fatalf("appendUnquoted(%s) = %q, json.Unmarshal = %q", trimmed, got, s)
			}
			// appendString round-trips what appendUnquoted decoded.
			enc := appendString(nil, []byte(s))
			var back string
			if !validValue(enc) || json.Unmarshal(enc, &back) != nil || back != s {
				t.Fatalf("appendString(%q) = %s does not decode back (%q)", s, enc, back)
			}
		case '{':
			// Members agree with encoding/json when keys carry no escapes.
			var m map[string]json.RawMessage
			if err := json.Unmarshal(trimmed, &m); err != nil {
				t.Fatal(err)
			}
			eachMember(b, func(mb member) {
				if bytes.IndexByte(mb.key, '\\') >= 0 {
					return
				}
				if _, ok := m[string(mb.key)]; !ok {
					t.Fatalf("member %q not seen by encoding/json in %q", mb.key, b)
				}
			})
		}

		// intValue accepts exactly the plain or quoted integers of at most 18 digits.
		if n, ok := intValue(trimmed); ok {
			digits := strings.Trim(string(trimmed), `"`)
			want, err := strconv.ParseInt(digits, 10, 64)
			if err != nil || want != n {
				t.Fatalf("intValue(%s) = %d, strconv says %d, %v", trimmed, n, want, err)
			}
		}
	})
}

// FuzzNormalize checks every provider's Envelope on arbitrary bytes: no panic, only
// *PayloadError, and valid JSON out whenever it succeeds; normalising again into the Reset Event
// gives the same bytes. which picks the provider from the registry; headerValue stands in for
// every sample header (an app id, say).
func FuzzNormalize(f *testing.F) {
	for i, p := range Builtins() {
		for _, b := range fuzzBodies(f, p.ID) {
			f.Add(uint8(i), b, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a1b2c3d4e5f6")
		}
		f.Add(uint8(i), p.Sample, "tp\"", "app\n")
	}
	f.Add(uint8(0), []byte(`{"event_type":314,"msg":"{\\\"a\\\":0}","task_id":"x\"y"}`), "tp\"", "app\n")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, traceparent, headerValue string) {
		p := Builtins()[int(which)%len(Builtins())]
		h := HeaderMap{"traceparent": traceparent, "tracestate": "k=v"}
		for _, kv := range p.SampleHeaders {
			h[kv.Key] = headerValue
		}
		var ev Event
		err := p.Envelope(&Callback{Body: body, Header: h, Received: received}, &ev)
		if err != nil {
			if _, ok := err.(*PayloadError); !ok {
				t.Fatalf("%s: Envelope(%q) error %T %v, want *PayloadError", p.ID, body, err, err)
			}
			return
		}
		out := ev.AppendStructured(nil)
		if !json.Valid(out) {
			t.Fatalf("%s: Envelope(%q): structured event is not valid JSON: %s", p.ID, body, out)
		}
		if !json.Valid(ev.Data) {
			t.Fatalf("%s: Envelope(%q): Data is not valid JSON: %s", p.ID, body, ev.Data)
		}
		if _, err := time.Parse(time.RFC3339Nano, string(ev.AppendTime(nil))); err != nil {
			t.Fatalf("%s: Envelope(%q): time is not RFC 3339: %v", p.ID, body, err)
		}
		if len(ev.ID) == 0 || !bytes.HasPrefix(ev.Type, []byte(p.TypePrefix)) {
			t.Fatalf("%s: Envelope(%q): id %q type %q", p.ID, body, ev.ID, ev.Type)
		}
		ev.Reset()
		if err := p.Envelope(&Callback{Body: body, Header: h, Received: received}, &ev); err != nil {
			t.Fatalf("%s: second Envelope(%q): %v", p.ID, body, err)
		}
		if again := ev.AppendStructured(nil); !bytes.Equal(again, out) {
			t.Fatalf("%s: Envelope(%q) into a reused Event differs:\n%s\n%s", p.ID, body, out, again)
		}
		checkCanonical(t, p, &ev, body)
	})
}

// checkCanonical: whatever the native event holds, its canonical counterpart, when it has one,
// is a valid event in the rtc vocabulary, made the same way twice, its id apart from the native's.
func checkCanonical(t *testing.T, p *Provider, ev *Event, body []byte) {
	var a, b Event
	if !p.Canonical.Derive(ev, &a) {
		return
	}
	out := a.AppendStructured(nil)
	if !json.Valid(out) || !json.Valid(a.Data) {
		t.Fatalf("%s: canonical event of %q is not valid JSON: %s", p.ID, body, out)
	}
	if a.Provider != CanonicalID || !bytes.HasPrefix(a.Type, []byte(CanonicalPrefix)) || bytes.Equal(a.ID, ev.ID) ||
		!bytes.Equal(a.CausationID, ev.ID) || !bytes.HasPrefix(a.PartitionKey, []byte(p.ID+":")) {
		t.Fatalf("%s: canonical event of %q: %s", p.ID, body, out)
	}
	if !p.Canonical.Derive(ev, &b) || !bytes.Equal(b.AppendStructured(nil), out) {
		t.Fatalf("%s: canonical event of %q made twice differs", p.ID, body)
	}
}

// checkAuthErr fails unless err is nil or an *AuthError.
func checkAuthErr(t *testing.T, err error) *AuthError {
	t.Helper()
	if err == nil {
		return nil
	}
	ae, ok := err.(*AuthError)
	if !ok {
		t.Fatalf("Verify error %T %v, want *AuthError", err, err)
	}
	if ae.Reason == "" {
		t.Fatal("AuthError with an empty reason")
	}
	return ae
}

// FuzzVerify fuzzes every provider's Verify through its own Sign: the body, the secret, the
// choice of each Choice setting, and one signature header. With sign set the body is signed
// by p.Sign, so a body Sign accepts and that is one JSON object with unique member names must
// pass; tamper then replaces one signature header with value. Without sign, every signature
// header carries value. Unsigned callbacks are never allowed here: no secret must fail.
// Both halves, for every provider in the registry: a callback Sign made with the secret
// verifies, and the same body signed by Sign with any other secret (a signature Sign did not
// make for this one) is refused with an *AuthError.
func FuzzVerify(f *testing.F) {
	for i, p := range Builtins() {
		for _, b := range fuzzBodies(f, p.ID) {
			f.Add(uint8(i), b, "s3cret", true, uint8(0), "", uint8(0))
			f.Add(uint8(i), b, "s3cret", true, uint8(1), "00", uint8(1))
			f.Add(uint8(i), b, "", false, uint8(0), "x", uint8(0))
		}
	}
	recv := time.UnixMilli(1712900013100)
	f.Fuzz(func(t *testing.T, which uint8, body []byte, secret string, sign bool, tamper uint8, value string, choice uint8) {
		p := Builtins()[int(which)%len(Builtins())]
		values := map[string]string{}
		for _, s := range p.Settings {
			if s.Kind == Choice {
				values[s.Name] = s.Choices[int(choice)%len(s.Choices)]
			}
		}
		opts, err := p.Options(values)
		if err != nil {
			t.Fatal(err)
		}
		auth := &Auth{Secret: []byte(secret), MaxSkew: 5 * time.Minute, Options: opts}
		raw := body
		// The signature headers' names, from the sample.
		_, sampleHeaders, err := signFor(p, p.Sample, &Auth{Secret: []byte("k"), Options: opts}, recv)
		if err != nil {
			t.Fatal(err)
		}
		headers := sampleHeaders
		if sign {
			if body, headers, err = signFor(p, body, auth, recv); err != nil {
				return // not a body p could send
			}
			if tamper > 0 && len(headers) > 0 {
				headers = append([]Header(nil), headers...)
				headers[int(tamper)%len(headers)].Value = value
			}
		} else {
			headers = append([]Header(nil), headers...)
			for i := range headers {
				headers[i].Value = value
			}
		}
		c := testCallback(p, body, headers, recv.Add(time.Second))
		v, err := p.Verify(c, auth)
		ae := checkAuthErr(t, err)
		if ae == nil && v != Signed {
			t.Fatalf("%s: accepted as %v with unsigned callbacks not allowed", p.ID, v)
		}
		if secret == "" && ae == nil {
			t.Fatalf("%s: accepted with no secret and unsigned callbacks not allowed", p.ID)
		}
		if sign && tamper == 0 && secret != "" && ae != nil && uniqueObject(body) {
			t.Fatalf("%s: a callback signed by Sign refused: %v\n%q", p.ID, ae, body)
		}
		if secret != "" && !p.RouteAuthenticated() { // SRS: the route checked the token, Verify sees nothing to forge
			checkForgeryRefused(t, p, raw, auth, recv)
		}
	})
}

// checkForgeryRefused signs body with a secret other than auth's (one byte more: a different
// key for every scheme, HMAC's zero padding included) and checks that Verify with auth refuses
// it with an *AuthError.
func checkForgeryRefused(t *testing.T, p *Provider, body []byte, auth *Auth, recv time.Time) {
	t.Helper()
	other := *auth
	other.Secret = append(append([]byte(nil), auth.Secret...), '!')
	forged, headers, err := signFor(p, body, &other, recv)
	if err != nil {
		return // not a body p could send
	}
	c := testCallback(p, forged, headers, recv.Add(time.Second))
	if v, err := p.Verify(c, auth); checkAuthErr(t, err) == nil {
		t.Fatalf("%s: accepted (%v) a callback signed with another secret:\n%q\n%v", p.ID, v, forged, headers)
	}
}

// uniqueObject reports whether b is one JSON object whose top-level members have unique names.
func uniqueObject(b []byte) bool {
	var ms []member
	return eachMember(b, func(m member) { ms = append(ms, m) }) == nil && duplicateKey(ms) == nil
}

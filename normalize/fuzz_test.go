package normalize

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
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
	for _, p := range Providers {
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

// fuzzNormalize checks Envelope on arbitrary bytes: no panic, only *PayloadError, and valid JSON
// out whenever it succeeds; normalising again into the Reset Event gives the same bytes.
func fuzzNormalize(f *testing.F, p *Provider) {
	for _, b := range fuzzBodies(f, p.ID) {
		f.Add(b, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a1b2c3d4e5f6")
	}
	f.Add([]byte(`{"event_type":314,"msg":"{\\\"a\\\":0}","task_id":"x\"y"}`), "tp\"", "app\n")
	f.Fuzz(func(t *testing.T, body []byte, traceparent, appKey string) {
		h := HeaderMap{"traceparent": traceparent, "tracestate": "k=v", "AppKey": appKey}
		var ev Event
		err := p.Envelope(&Callback{Body: body, Header: h, Received: received}, &ev)
		if err != nil {
			if _, ok := err.(*PayloadError); !ok {
				t.Fatalf("Envelope(%q) error %T %v, want *PayloadError", body, err, err)
			}
			return
		}
		out := ev.AppendStructured(nil)
		if !json.Valid(out) {
			t.Fatalf("Envelope(%q): structured event is not valid JSON: %s", body, out)
		}
		if !json.Valid(ev.Data) {
			t.Fatalf("Envelope(%q): Data is not valid JSON: %s", body, ev.Data)
		}
		if _, err := time.Parse(time.RFC3339Nano, string(ev.AppendTime(nil))); err != nil {
			t.Fatalf("Envelope(%q): time is not RFC 3339: %v", body, err)
		}
		if len(ev.ID) == 0 || !bytes.HasPrefix(ev.Type, []byte(p.TypePrefix)) {
			t.Fatalf("Envelope(%q): id %q type %q", body, ev.ID, ev.Type)
		}
		ev.Reset()
		if err := p.Envelope(&Callback{Body: body, Header: h, Received: received}, &ev); err != nil {
			t.Fatalf("second Envelope(%q): %v", body, err)
		}
		if again := ev.AppendStructured(nil); !bytes.Equal(again, out) {
			t.Fatalf("Envelope(%q) into a reused Event differs:\n%s\n%s", body, out, again)
		}
	})
}

func FuzzNormalizeNetEase(f *testing.F)    { fuzzNormalize(f, &NetEaseNERTC) }
func FuzzNormalizeAnyRTC(f *testing.F)     { fuzzNormalize(f, &AnyRTC) }
func FuzzNormalizeTencentCSS(f *testing.F) { fuzzNormalize(f, &TencentCSS) }

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

// FuzzVerifyNetEase fuzzes the body and the three headers. With sign set, MD5 and CheckSum are
// computed for the body and CurTime, so the only failures left are about CurTime.
func FuzzVerifyNetEase(f *testing.F) {
	f.Add([]byte(`{}`), neteaseMD5, neteaseCurTime, neteaseCheckSum, false)
	f.Add([]byte(`{}`), neteaseMD5, "yesterday", "", true)
	for _, b := range fuzzBodies(f, NetEaseNERTC.ID) {
		h := neteaseSign(b, neteaseSecret, neteaseCurTime)
		f.Add(b, h["MD5"], h["CurTime"], h["CheckSum"], false)
		f.Add(b, "", "1608110400000", "", true)
	}
	recv := time.UnixMilli(1608110108512 + 1000)
	f.Fuzz(func(t *testing.T, body []byte, md5Hex, curTime, checkSum string, sign bool) {
		if sign {
			h := neteaseSign(body, neteaseSecret, curTime)
			md5Hex, checkSum = h["MD5"], h["CheckSum"]
		}
		c := &Callback{Body: body, Header: HeaderMap{"MD5": md5Hex, "CurTime": curTime, "CheckSum": checkSum}, Received: recv}
		v, err := NetEaseNERTC.Verify(c, &Auth{Secret: []byte(neteaseSecret), MaxSkew: 5 * time.Minute})
		ae := checkAuthErr(t, err)
		if ae == nil && v != Signed {
			t.Fatalf("accepted as %v with a secret configured", v)
		}
		if sign && ae != nil && !strings.Contains(ae.Reason, "CurTime") {
			t.Fatalf("correctly signed callback refused: %v (CurTime %q)", ae, curTime)
		}
	})
}

// FuzzVerifyAnyRTC fuzzes the body, the Ar-Signature header, the secret and the hash. With sign
// set, the signature is computed, so the only failures left are about notifyMs or no secret.
func FuzzVerifyAnyRTC(f *testing.F) {
	f.Add([]byte(anyrtcBody), anyrtcSHA1, anyrtcSecret, false, false)
	f.Add([]byte(anyrtcBody), anyrtcSHA256, anyrtcSecret, true, false)
	f.Add([]byte(anyrtcBody), "", "", false, false)
	for _, b := range fuzzBodies(f, AnyRTC.ID) {
		f.Add(b, anyrtcSign(b, anyrtcSecret, false), anyrtcSecret, false, false)
		f.Add(b, "", "k", true, true)
	}
	recv := time.UnixMilli(anyrtcMs)
	f.Fuzz(func(t *testing.T, body []byte, sig, secret string, sha256Hash, sign bool) {
		if sign {
			sig = anyrtcSign(body, secret, sha256Hash)
		}
		c := &Callback{Body: body, Header: HeaderMap{"Ar-Signature": sig}, Received: recv}
		v, err := AnyRTC.Verify(c, &Auth{Secret: []byte(secret), SHA256: sha256Hash, MaxSkew: 5 * time.Minute})
		ae := checkAuthErr(t, err)
		if secret == "" {
			if ae == nil || !strings.Contains(ae.Reason, "no secret") {
				t.Fatalf("no secret and unsigned not allowed: Verify = %v, %v", v, err)
			}
			return
		}
		if ae == nil && v != Signed {
			t.Fatalf("accepted as %v with a secret configured", v)
		}
		if sign && ae != nil && !strings.Contains(ae.Reason, "notifyMs") {
			t.Fatalf("correctly signed callback refused: %v", ae)
		}
	})
}

// FuzzVerifyTencentCSS fuzzes the body, the key and the route/policy flags (Tencent has no
// signature headers: t and sign are in the body). With sign set, a fresh valid t/sign pair is
// placed in front of the fuzzed members, and a valid JSON body must then pass.
func FuzzVerifyTencentCSS(f *testing.F) {
	for _, b := range fuzzBodies(f, TencentCSS.ID) {
		f.Add(b, tencentKey, false, false, false)
		f.Add(b, "", true, false, false)
		f.Add(b, tencentKey, false, true, false)
	}
	f.Add([]byte(`{"event_type":1,"t":"1703732078","sign":"7E686ADF6045C49CEE873DC7D8EB05AF"}`), tencentKey, false, false, false)
	f.Add([]byte(`{"a":1}`), "k", false, false, true)
	recv := time.Unix(1703731478, 0)
	f.Fuzz(func(t *testing.T, body []byte, key string, tokenRoute, allowUnsigned, sign bool) {
		if sign {
			// Prepend a valid t/sign pair. A second t or sign later in body is refused (JSON
			// readers disagree on which copy counts); nothing else may be.
			const exp = 1703732078
			s := md5.Sum([]byte(key + strconv.Itoa(exp)))
			prefix := `{"t":` + strconv.Itoa(exp) + `,"sign":"` + hex.EncodeToString(s[:]) + `"`
			rest := bytes.TrimLeft(body, " \t\r\n")
			if len(rest) > 0 && rest[0] == '{' {
				rest = rest[1:]
				if r := bytes.TrimLeft(rest, " \t\r\n"); len(r) > 0 && r[0] != '}' {
					prefix += ","
				}
			}
			body = append([]byte(prefix), rest...)
		}
		c := &Callback{Body: body, Header: HeaderMap{}, Received: recv, TokenRoute: tokenRoute}
		v, err := TencentCSS.Verify(c, &Auth{Secret: []byte(key), AllowUnsigned: allowUnsigned, ExpiryGrace: 5 * time.Minute})
		ae := checkAuthErr(t, err)
		if ae == nil && v == Unsigned && !allowUnsigned {
			t.Fatalf("accepted unsigned without AllowUnsigned: %q", body)
		}
		if sign && key != "" && ae != nil && validValue(body) && !hasTopLevelTwice(body, "t", "sign") {
			t.Fatalf("body with a fresh valid t/sign refused: %v\n%q", ae, body)
		}
	})
}

// hasTopLevelTwice reports whether one of names is a top-level member of body more than once.
func hasTopLevelTwice(body []byte, names ...string) bool {
	seen := map[string]int{}
	eachMember(body, func(m member) { seen[string(m.key)]++ })
	for _, n := range names {
		if seen[n] > 1 {
			return true
		}
	}
	return false
}

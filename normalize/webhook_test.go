package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	// The reference implementation of the Standard Webhooks specification, as an independent
	// signer and verifier: a test-only dependency.
)

// The specification's published test vector (standard-webhooks spec, "Signature scheme").
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = "1614265330"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustWebhook(t testing.TB, name string, values map[string]string, secret string) *Provider {
	t.Helper()
	p, err := NewWebhook(name, values, []byte(secret))
	if err != nil {
		t.Fatalf("NewWebhook(%s, %v): %v", name, values, err)
	}
	return p
}

func TestStandardWebhooksVector(t *testing.T) {
	key, err := standardKey([]byte(vectorSecret))
	if err != nil {
		t.Fatal(err)
	}
	if got := "v1," + string(standardSignature(key, []byte(vectorID), []byte(vectorTS), []byte(vectorBody))); got != vectorSig {
		t.Fatalf("signature = %s, want the published %s", got, vectorSig)
	}

	p := mustWebhook(t, "sw", nil, vectorSecret)
	ts, _ := strconv.ParseInt(vectorTS, 10, 64)
	at := time.Unix(ts, 0)
	auth := &Auth{Secret: []byte(vectorSecret), MaxSkew: 5 * time.Minute}
	for _, tc := range []struct {
		name     string
		sig      string
		received time.Time
		wantErr  string
	}{
		{"published vector", vectorSig, at, ""},
		{"among other entries", "v1a,AAAA v1,bm90IGl0 " + vectorSig, at, ""},
		{"within the window", vectorSig, at.Add(4 * time.Minute), ""},
		{"too old", vectorSig, at.Add(6 * time.Minute), "old"},
		{"in the future", vectorSig, at.Add(-6 * time.Minute), "future"},
		{"wrong version", strings.Replace(vectorSig, "v1,", "v2,", 1), at, "no v1 signature"},
		{"one bit off", vectorSig[:len(vectorSig)-2] + "A=", at, "no v1 signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Callback{Body: []byte(vectorBody), Received: tc.received, Header: HeaderMap{
				"webhook-id": vectorID, "webhook-timestamp": vectorTS, "webhook-signature": tc.sig}}
			_, err := p.Verify(c, auth)
			wantAuthErr(t, err, tc.wantErr)
		})
	}
	// Each signed header matters.
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		hdr := HeaderMap{"webhook-id": vectorID, "webhook-timestamp": vectorTS, "webhook-signature": vectorSig}
		delete(hdr, h)
		_, err := p.Verify(&Callback{Body: []byte(vectorBody), Received: at, Header: hdr}, auth)
		wantAuthErr(t, err, h+" header missing")
	}
	hdr := HeaderMap{"webhook-id": vectorID + "x", "webhook-timestamp": vectorTS, "webhook-signature": vectorSig}
	_, err = p.Verify(&Callback{Body: []byte(vectorBody), Received: at, Header: hdr}, auth)
	wantAuthErr(t, err, "no v1 signature")
}

func wantAuthErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return
	}
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Reason, want) {
		t.Fatalf("Verify = %v, want an AuthError containing %q", err, want)
	}
}

func TestWebhookHMAC(t *testing.T) {
	const secret, body = "It's a Secret to Everybody", `{"action":"opened","n":1}`
	sum256 := hmac.New(sha256.New, []byte(secret))
	sum256.Write([]byte(body))
	mac256 := sum256.Sum(nil)
	sum1 := hmac.New(sha1.New, []byte(secret))
	sum1.Write([]byte(body))
	mac1 := sum1.Sum(nil)

	github := map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Hub-Signature-256", "SIGNATURE_PREFIX": "sha256=", "TYPE": "header:X-GitHub-Event"}
	b64 := map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Signature", "SIGNATURE_ENCODING": "base64", "TYPE": "json:action"}
	sha1hex := map[string]string{"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Signature", "TYPE": "json:action"}
	for _, tc := range []struct {
		name     string
		settings map[string]string
		header   map[string]string
		wantErr  string
	}{
		{"github style", github, map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac256)}, ""},
		{"hex upper case", github, map[string]string{"X-Hub-Signature-256": "sha256=" + strings.ToUpper(hex.EncodeToString(mac256))}, ""},
		{"prefix missing", github, map[string]string{"X-Hub-Signature-256": hex.EncodeToString(mac256)}, "does not match"},
		{"wrong signature", github, map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac1)}, "does not match"},
		{"header missing", github, map[string]string{"X-Hub-Signature": "sha1=" + hex.EncodeToString(mac1)}, "X-Hub-Signature-256 header missing"},
		{"base64", b64, map[string]string{"X-Signature": base64.StdEncoding.EncodeToString(mac256)}, ""},
		{"base64 unpadded", b64, map[string]string{"X-Signature": base64.RawStdEncoding.EncodeToString(mac256)}, ""},
		{"base64 given hex", b64, map[string]string{"X-Signature": hex.EncodeToString(mac256)}, "does not match"},
		{"base64 garbage", b64, map[string]string{"X-Signature": "!!!"}, "does not match"},
		{"sha1 hex", sha1hex, map[string]string{"X-Signature": hex.EncodeToString(mac1)}, ""},
		{"sha1 given sha256", sha1hex, map[string]string{"X-Signature": hex.EncodeToString(mac256)}, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustWebhook(t, "src", tc.settings, secret)
			hdr := HeaderMap{"X-GitHub-Event": "pull_request"}
			for k, v := range tc.header {
				hdr[k] = v
			}
			c := &Callback{Body: []byte(body), Header: hdr, Received: received}
			_, err := p.Verify(c, &Auth{Secret: []byte(secret)})
			wantAuthErr(t, err, tc.wantErr)

			// Sign makes what Verify accepts.
			signed, headers, err := p.Sign([]byte(body), &Auth{Secret: []byte(secret)}, received)
			if err != nil {
				t.Fatal(err)
			}
			sh := HeaderMap{}
			for _, kv := range headers {
				sh[kv.Key] = kv.Value
			}
			if _, err := p.Verify(&Callback{Body: signed, Header: sh, Received: received}, &Auth{Secret: []byte(secret)}); err != nil {
				t.Fatalf("Verify(Sign(...)): %v", err)
			}
		})
	}
}

// TestWebhookReportMode: a failed check is accepted in report mode, marked unverified, and the
// sender's id is not kept.
func TestWebhookReportMode(t *testing.T) {
	p := mustWebhook(t, "src", map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Sig", "TYPE": "json:type", "ID": "json:id"}, "k")
	body := []byte(`{"type":"a.b","id":"evt_genuine"}`)
	c := &Callback{Body: body, Header: HeaderMap{"X-Sig": "00"}, Received: received}
	var ev Event
	reportErr, err := p.Run(c, &Auth{Secret: []byte("k")}, false, &ev)
	if err != nil || reportErr == nil {
		t.Fatalf("Run in report mode = %v, %v; want a report error and no error", reportErr, err)
	}
	if !ev.Unverified || string(ev.ID) == "evt_genuine" || len(ev.ID) != 32 {
		t.Fatalf("unverified %v id %s: want an unverified event with a derived id", ev.Unverified, ev.ID)
	}
	ev.Reset()
	if _, err := p.Run(&Callback{Body: body, Header: HeaderMap{"X-Sig": "00"}, Received: received}, &Auth{Secret: []byte("k")}, true, &ev); err == nil {
		t.Fatal("enforce mode accepted a wrong signature")
	}
	// No secret: unsigned by policy, also without the sender's id.
	ev.Reset()
	if _, err := p.Run(&Callback{Body: body, Header: HeaderMap{}, Received: received}, &Auth{AllowUnsigned: true}, true, &ev); err != nil {
		t.Fatal(err)
	}
	if !ev.Unverified || string(ev.ID) == "evt_genuine" {
		t.Fatalf("unsigned by policy: unverified %v id %s", ev.Unverified, ev.ID)
	}
	if _, err := p.Verify(&Callback{Body: body, Header: HeaderMap{}, Received: received}, &Auth{}); err == nil {
		t.Fatal("no secret and unsigned not allowed: accepted")
	}
}

func TestWebhookAttributes(t *testing.T) {
	const body = `{"type":"order.paid","id":"ord_1","ts":1712902003412,"when":"2024-04-12T05:33:20+02:00","secs":"1712902003",` +
		`"data":{"object":{"id":"obj 9","n":18446744073709551617,"tags":["x"]},"big":12345678901234567890},"dup":{"a":1,"a":2},"obj":{"k":1}}`
	hdr := HeaderMap{"X-Event": "push", "X-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-Time": "1712902003", "X-Subject": "repo/name"}
	for _, tc := range []struct {
		name     string
		settings map[string]string
		wantErr  string // a PayloadError containing it
		id       string // "" : 32 hex digits of a hash
		typ      string
		subject  string
		time     time.Time
	}{
		{name: "headers", settings: map[string]string{"TYPE": "header:X-Event", "ID": "header:X-Delivery", "SUBJECT": "header:X-Subject", "TIME": "header:X-Time"},
			id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", typ: "push", subject: "repo/name", time: time.Unix(1712902003, 0)},
		{name: "json paths", settings: map[string]string{"TYPE": "json:type", "ID": "json:data.object.id", "SUBJECT": "json:id", "TIME": "json:ts"},
			id: "hash", typ: "order.paid", subject: "ord_1", time: time.UnixMilli(1712902003412)},
		{name: "RFC 3339 with offset", settings: map[string]string{"TYPE": "json:type", "TIME": "json:when"},
			id: "hash", typ: "order.paid", time: time.Date(2024, 4, 12, 3, 33, 20, 0, time.UTC)},
		{name: "seconds in a string", settings: map[string]string{"TYPE": "json:type", "TIME": "json:secs"},
			id: "hash", typ: "order.paid", time: time.Unix(1712902003, 0)},
		{name: "number as id", settings: map[string]string{"TYPE": "json:type", "ID": "json:data.big"},
			id: "12345678901234567890", typ: "order.paid", time: received},
		{name: "alternatives: first present wins", settings: map[string]string{"TYPE": "json:kind,header:X-Event", "ID": "json:nothing,json:id", "TIME": "header:X-None,json:ts"},
			id: "ord_1", typ: "push", time: time.UnixMilli(1712902003412)},
		{name: "missing attributes", settings: map[string]string{"TYPE": "json:type", "SUBJECT": "json:data.nothing.here", "TIME": "header:X-None"},
			id: "hash", typ: "order.paid", time: received},
		{name: "type missing", settings: map[string]string{"TYPE": "json:kind"}, wantErr: "event type missing"},
		{name: "type an object", settings: map[string]string{"TYPE": "json:obj"}, wantErr: "want a string or a number"},
		{name: "duplicate member on the path", settings: map[string]string{"TYPE": "json:dup.a"}, wantErr: "appears twice"},
		{name: "time not a time", settings: map[string]string{"TYPE": "json:type", "TIME": "json:type"}, wantErr: "want a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Sig"}
			for k, v := range tc.settings {
				settings[k] = v
			}
			p := mustWebhook(t, "acme-pay", settings, "")
			var ev Event
			err := p.Envelope(&Callback{Body: []byte(body), Header: hdr, Received: received}, &ev)
			if tc.wantErr != "" {
				var pe *PayloadError
				if !errors.As(err, &pe) || !strings.Contains(pe.Error(), tc.wantErr) {
					t.Fatalf("Normalize = %v, want a PayloadError containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.id == "hash" {
				if len(ev.ID) != 32 {
					t.Errorf("id %q, want a hash of the body", ev.ID)
				}
			} else if string(ev.ID) != tc.id {
				t.Errorf("id %q, want %q", ev.ID, tc.id)
			}
			if want := "io.callbridge.webhook.acme-pay." + tc.typ; string(ev.Type) != want || string(ev.EventType) != tc.typ {
				t.Errorf("type %q eventtype %q, want %q", ev.Type, ev.EventType, want)
			}
			if string(ev.Subject) != tc.subject {
				t.Errorf("subject %q, want %q", ev.Subject, tc.subject)
			}
			if !ev.Time.Equal(tc.time) {
				t.Errorf("time %s, want %s", ev.Time, tc.time)
			}
			if string(ev.Source) != "/callbridge/acme-pay" || ev.Provider != "acme-pay" {
				t.Errorf("source %q provider %q", ev.Source, ev.Provider)
			}
			var want bytes.Buffer
			json.Compact(&want, []byte(body))
			if !bytes.Equal(ev.Data, want.Bytes()) {
				t.Errorf("data %s, want the body byte for byte (compacted)", ev.Data)
			}
		})
	}
}

// TestWebhookUnsafeValues: a sender's id that is not plain is hashed; its type cannot add subject
// tokens or wildcards; a body that is a JSON value but not an object is data as it is.
func TestWebhookUnsafeValues(t *testing.T) {
	p := mustWebhook(t, "src", map[string]string{"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Sig", "TYPE": "json:type", "ID": "json:id"}, "")
	var ev Event
	if err := p.Envelope(&Callback{Body: []byte(`{"type":"a.*.>\n b","id":"x y"}`), Header: HeaderMap{}, Received: received}, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.EventType) != "a______b" || strings.ContainsAny(string(ev.EventType), ".*> \n") {
		t.Fatalf("eventtype %q", ev.EventType)
	}
	if string(ev.ID) == "x y" || len(ev.ID) != 32 {
		t.Fatalf("id %q, want the unsafe id hashed", ev.ID)
	}
	p = mustWebhook(t, "src", map[string]string{"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Sig", "TYPE": "header:X-Event"}, "")
	ev.Reset()
	if err := p.Envelope(&Callback{Body: []byte(` [1, 2.50, 12345678901234567890] `), Header: HeaderMap{"X-Event": "batch"}, Received: received}, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.Data) != `[1,2.50,12345678901234567890]` {
		t.Fatalf("data %s", ev.Data)
	}
	ev.Reset()
	var pe *PayloadError
	if err := p.Envelope(&Callback{Body: []byte(`{"a":`), Header: HeaderMap{"X-Event": "batch"}, Received: received}, &ev); !errors.As(err, &pe) {
		t.Fatalf("a body that is not JSON: %v", err)
	}
}

// settingCase is a generic source's configuration and the setting NewWebhook must refuse.
type settingCase struct {
	name     string
	settings map[string]string
	secret   string
	setting  string // the setting refused (a SettingError's, or named by the error); "": no error
}

func checkSettingCases(t *testing.T, cases []settingCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWebhook("src", tc.settings, []byte(tc.secret))
			var se *SettingError
			switch {
			case tc.setting == "" && err != nil:
				t.Fatal(err)
			case tc.setting != "" && err == nil:
				t.Fatalf("NewWebhook accepted it, want an error on %s", tc.setting)
			case tc.setting != "" && (!errors.As(err, &se) || se.Setting != tc.setting) && !strings.Contains(err.Error(), "setting "+tc.setting+":"):
				t.Fatalf("NewWebhook = %v, want an error on %s", err, tc.setting)
			}
		})
	}
}

func TestNewWebhookSettings(t *testing.T) {
	checkSettingCases(t, []settingCase{
		{"defaults", nil, "", ""},
		{"standard with secret", nil, vectorSecret, ""},
		{"standard secret without prefix", nil, strings.TrimPrefix(vectorSecret, "whsec_"), ""},
		{"standard secret not base64", nil, "whsec_not base64!", "SECRET"},
		{"hmac without header", map[string]string{"SCHEME": "hmac-sha256", "TYPE": "json:type"}, "", "SIGNATURE_HEADER"},
		{"hmac header not a name", map[string]string{"SCHEME": "hmac-sha256", "TYPE": "json:type", "SIGNATURE_HEADER": "X Sig"}, "", "SIGNATURE_HEADER"},
		{"hmac without type", map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Sig"}, "", "TYPE"},
		{"hmac any secret", map[string]string{"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Sig", "TYPE": "json:type"}, "not base64 at all", ""},
		{"source without kind", map[string]string{"ID": "id"}, "", "ID"},
		{"source of unknown kind", map[string]string{"SUBJECT": "query:x"}, "", "SUBJECT"},
		{"empty path step", map[string]string{"TIME": "json:a..b"}, "", "TIME"},
		{"empty alternative", map[string]string{"TYPE": "json:type,"}, "", "TYPE"},
	})
	for _, bad := range []string{"", "Acme", "a_b", "-a", "a.b", strings.Repeat("a", 65)} {
		if _, err := NewWebhook(bad, nil, nil); err == nil {
			t.Errorf("NewWebhook(%q) accepted the name", bad)
		}
	}
	if _, err := NewWebhook("x", map[string]string{"SCHEME": "hmac-md5"}, nil); err == nil {
		t.Error("SCHEME=hmac-md5 accepted")
	}
}

// FuzzWebhook runs the generic verifier and normaliser of both schemes on any body and header
// values: no panic; an accepted event has a safe type, an id and data that is valid JSON. Both
// halves of verification: a signature Sign makes verifies, and the same body signed by Sign with
// another secret (a signature Sign did not make for this one) is refused with an *AuthError, by
// Verify and by Run in enforce mode.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(vectorBody), vectorID, vectorTS, vectorSig, "push")
	f.Add([]byte(`{"type":"a.b","timestamp":"2024-04-12T05:33:20Z","data":{"n":1e400}}`), "msg_1", "1614265330", "v1,x v1,", "")
	f.Add([]byte(`[{"type":1}]`), "", "-1", "v1", "a.b*>")
	f.Add([]byte(`{"type":{"x":1},"timestamp":99999999999999999999,"id":"\u0000"}`), "\x7f", "00001614265330", "", "\n")
	f.Add([]byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}`), "i", "1614265330", "t=1614265330,v1=AAAA, v1=", "a.b")
	sw := mustWebhook(f, "fz", nil, "")
	hm := mustWebhook(f, "fz-hmac", map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Sig", "SIGNATURE_PREFIX": "sha256=",
		"TYPE": "json:type,header:X-Event", "ID": "json:data.id,header:webhook-id", "SUBJECT": "json:data.subject", "TIME": "json:timestamp,header:webhook-timestamp"}, "")
	hm64 := mustWebhook(f, "fz-b64", map[string]string{"SCHEME": "hmac-sha1", "SIGNATURE_HEADER": "X-Sig", "SIGNATURE_ENCODING": "base64", "TYPE": "header:X-Event"}, "")
	kv := mustWebhook(f, "fz-kv", map[string]string{"SCHEME": "hmac-sha256", "SIGNATURE_HEADER": "X-Sig", "SIGNATURE_FORMAT": "kv", "SIGNATURE_PARAM": "v1",
		"SIGNED_CONTENT": "{sig:t}.{header:webhook-id}:{body}", "TIMESTAMP": "sig:t", "SIGNATURE_ENCODING": "base64url", "CHALLENGE": "zoom", "TYPE": "json:type,header:X-Event"}, "")
	auths := []*Auth{{Secret: []byte(vectorSecret), MaxSkew: time.Hour}, {AllowUnsigned: true}}
	// Another secret, valid for every scheme (whsec_ and base64 for standard-webhooks).
	other := &Auth{Secret: []byte("whsec_" + base64.StdEncoding.EncodeToString([]byte("not the vector's secret"))), MaxSkew: time.Hour}
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sig, event string) {
		hdr := HeaderMap{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig, "X-Sig": sig, "X-Event": event}
		for _, p := range []*Provider{sw, hm, hm64, kv} {
			for _, a := range auths {
				for _, enforce := range []bool{true, false} {
					var ev Event
					c := &Callback{Body: body, Header: hdr, Received: time.Unix(1614265330, 0)}
					if reply, probe, err := p.Probe(c, a, nil); probe {
						var ae *AuthError
						var pe *PayloadError
						if err == nil && (len(a.Secret) == 0 || !json.Valid(reply)) || err != nil && !errors.As(err, &ae) && !errors.As(err, &pe) {
							t.Fatalf("%s: probe answered %q, %v (an answer needs a signature, and is JSON)", p.ID, reply, err)
						}
						continue
					}
					_, err := p.Run(c, a, enforce, &ev)
					if err != nil {
						var ae *AuthError
						var pe *PayloadError
						if !errors.As(err, &ae) && !errors.As(err, &pe) {
							t.Fatalf("%s: error of type %T: %v", p.ID, err, err)
						}
						continue
					}
					if !strings.HasPrefix(string(ev.Type), p.TypePrefix) || len(ev.EventType) == 0 ||
						bytes.ContainsAny(ev.EventType, "*> \t\r\n") || bytes.Contains(ev.EventType, []byte("..")) ||
						ev.EventType[0] == '.' || ev.EventType[len(ev.EventType)-1] == '.' ||
						bytes.IndexByte(ev.EventType, '.') >= 0 && bytes.ContainsFunc(ev.EventType, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
						t.Fatalf("%s: unsafe type %q (eventtype %q)", p.ID, ev.Type, ev.EventType)
					}
					if !plainID(ev.ID) || !json.Valid(ev.Data) {
						t.Fatalf("%s: id %q data %q", p.ID, ev.ID, ev.Data)
					}
				}
			}
			signed, headers, err := p.Sign(body, auths[0], time.Unix(1614265330, 0))
			if err != nil {
				t.Fatal(err)
			}
			sh := HeaderMap{}
			for _, kv := range headers {
				sh[kv.Key] = kv.Value
			}
			if _, err := p.Verify(&Callback{Body: signed, Header: sh, Received: time.Unix(1614265330, 0)}, auths[0]); err != nil {
				t.Fatalf("%s: Verify(Sign(%q)): %v", p.ID, body, err)
			}
			checkWebhookForgery(t, p, body, auths[0], other)
		}
	})
}

// checkWebhookForgery signs body with other's secret and checks that auth refuses it with an
// *AuthError, in Verify and in Run with enforce.
func checkWebhookForgery(t *testing.T, p *Provider, body []byte, auth, other *Auth) {
	t.Helper()
	at := time.Unix(1614265330, 0)
	forged, headers, err := p.Sign(body, other, at)
	if err != nil {
		t.Fatal(err)
	}
	h := HeaderMap{}
	for _, kv := range headers {
		h[kv.Key] = kv.Value
	}
	var ae *AuthError
	if _, err := p.Verify(&Callback{Body: forged, Header: h, Received: at}, auth); !errors.As(err, &ae) {
		t.Fatalf("%s: Verify of %q signed with another secret: %v, want an *AuthError", p.ID, body, err)
	}
	var ev Event
	if _, err := p.Run(&Callback{Body: forged, Header: h, Received: at}, auth, true, &ev); !errors.As(err, &ae) {
		t.Fatalf("%s: Run (enforce) of %q signed with another secret: %v, want an *AuthError", p.ID, body, err)
	}
}

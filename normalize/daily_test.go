package normalize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// PROTOCOLS-WAVE3-GLOBAL.md §4g / §10: the invented hmac (base64 of
// "INVENTED-daily-hmac-key-32bytes!") and X-Webhook-Timestamp (ms) of vectors D1 and D2.
const (
	dailySelfSecret = "SU5WRU5URUQtZGFpbHktaG1hYy1rZXktMzJieXRlcyE="
	dailySelfTS     = "1708972280048"
	dailyD1         = "HXV5ISVPicdE8Hx99aK1TOGyVNF/0MbxDJBHmvHfonk="
	dailyD2         = "C+qfQW18cAqjAtdvp1rDxOr19wYgK0Zorn334Urug3g="
)

// dailySignRef is the documented signature computed independently of the declared scheme.
func dailySignRef(secret, ts, body string) string {
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "." + body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func dailyHeaders(ts, sig string) HeaderMap {
	return HeaderMap{"X-Webhook-Timestamp": ts, "X-Webhook-Signature": sig}
}

// TestDailyVectors: D1 (meeting.started) and D2 (the creation ping) on the fixtures' exact
// bytes, by the reference and by the provider's check.
func TestDailyVectors(t *testing.T) {
	if key, _ := base64.StdEncoding.DecodeString(dailySelfSecret); string(key) != "INVENTED-daily-hmac-key-32bytes!" {
		t.Fatalf("key %q", key)
	}
	for _, v := range []struct{ name, file, want string }{
		{"D1", "meeting-started.json", dailyD1},
		{"D2", "probe-creation-ping.json", dailyD2},
	} {
		body := string(fixture(t, "daily", v.file))
		if got := dailySignRef(dailySelfSecret, dailySelfTS, body); got != v.want {
			t.Errorf("%s: reference %s, want %s", v.name, got, v.want)
		}
		c := &Callback{Body: []byte(body), Header: dailyHeaders(dailySelfTS, v.want), Received: time.UnixMilli(1708972280048)}
		if got, err := Daily.Verify(c, &Auth{Secret: []byte(dailySelfSecret), MaxSkew: 5 * time.Minute}); err != nil || got != Signed {
			t.Errorf("%s: Verify = %v, %v", v.name, got, err)
		}
	}
}

func TestVerifyDaily(t *testing.T) {
	body := string(fixture(t, "daily", "meeting-started.json"))
	at := time.UnixMilli(1708972280048)
	auth := Auth{Secret: []byte(dailySelfSecret), MaxSkew: 5 * time.Minute}
	unpadded := Auth{Secret: []byte(strings.TrimRight(dailySelfSecret, "=")), MaxSkew: 5 * time.Minute}
	inSeconds := dailySignRef(dailySelfSecret, "1708972280", body)
	tests := []verifyCase{
		{name: "D1", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: auth, want: Signed},
		{name: "D1, secret without its padding", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: unpadded, want: Signed},
		{name: "D1, signature without its padding", body: body, header: dailyHeaders(dailySelfTS, strings.TrimRight(dailyD1, "=")), received: at, auth: auth, want: Signed},
		{name: "timestamp in s (the other reading)", body: body, header: dailyHeaders("1708972280", inSeconds), received: at, auth: auth, want: Signed},
		{name: "4m59s late", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at.Add(299 * time.Second), auth: auth, want: Signed},

		{name: "6m late (replay)", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at.Add(6 * time.Minute), auth: auth, wantErr: "signature window"},
		{name: "timestamp in s, 6m ahead", body: body, header: dailyHeaders("1708972280", inSeconds), received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "wrong secret", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: Auth{Secret: []byte(base64.StdEncoding.EncodeToString([]byte("other"))), MaxSkew: time.Minute}, wantErr: "does not match"},
		{name: "the secret used undecoded does not match", body: body, header: dailyHeaders(dailySelfTS, func() string {
			m := hmac.New(sha256.New, []byte(dailySelfSecret))
			m.Write([]byte(dailySelfTS + "." + body))
			return base64.StdEncoding.EncodeToString(m.Sum(nil))
		}()), received: at, auth: auth, wantErr: "does not match"},
		{name: "body changed", body: body + " ", header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: auth, wantErr: "does not match"},
		{name: "timestamp changed", body: body, header: dailyHeaders("1708972280049", dailyD1), received: at, auth: auth, wantErr: "does not match"},
		{name: "hex instead of base64", body: body, header: dailyHeaders(dailySelfTS, "1d757921254f89c744f07c7df5a2b54ce1b254d17fd0c6f10c90479af1dfa279"), received: at, auth: auth, wantErr: "does not match"},
		{name: "signature missing", body: body, header: HeaderMap{"X-Webhook-Timestamp": dailySelfTS}, received: at, auth: auth, wantErr: "X-Webhook-Signature header missing"},
		{name: "timestamp missing", body: body, header: HeaderMap{"X-Webhook-Signature": dailyD1}, received: at, auth: auth, wantErr: "X-Webhook-Timestamp header missing"},
		{name: "a secret that is not base64 is used as written, and says so", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: Auth{Secret: []byte("not base64!"), MaxSkew: time.Minute}, wantErr: "not base64"},
		{name: "no secret", body: body, header: dailyHeaders(dailySelfTS, dailyD1), received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
		{name: "no secret, unsigned allowed", body: body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
	}
	runVerify(t, &Daily, tests)
}

// The creation ping is answered 200 {} whatever its signature (Daily sends it before the
// operator can know the hmac it returns), and nothing else is a ping.
func TestDailyPing(t *testing.T) {
	ping := fixture(t, "daily", "probe-creation-ping.json")
	for _, auth := range []Auth{{Secret: []byte(dailySelfSecret), MaxSkew: time.Minute}, {}} {
		for _, h := range []HeaderMap{dailyHeaders(dailySelfTS, dailyD2), {}} {
			reply, probe, err := Daily.Probe(&Callback{Body: ping, Header: h, Received: time.UnixMilli(1708972280048)}, &auth, nil)
			if !probe || err != nil || string(reply) != `{}` {
				t.Errorf("ping: %s %v %v", reply, probe, err)
			}
		}
	}
	for _, body := range []string{` { "test" : "test" } `} {
		if !Daily.IsProbe(&Callback{Body: []byte(body)}) {
			t.Errorf("%s is the ping", body)
		}
	}
	for _, body := range []string{`{"test":"test","type":"meeting.started"}`, `{"test":"other"}`, `{"test":"test","test":"test"}`, `{"test":`, `[]`} {
		if Daily.IsProbe(&Callback{Body: []byte(body)}) {
			t.Errorf("%s taken for the ping", body)
		}
	}
	for _, name := range fixtureNames(t, "daily") {
		if isProbe := Daily.IsProbe(&Callback{Body: fixture(t, "daily", name)}); isProbe != strings.HasPrefix(name, "probe") {
			t.Errorf("%s: IsProbe = %v", name, isProbe)
		}
	}
}

func TestDailyNormalize(t *testing.T) {
	tests := []struct {
		file, id, typ, subject, time string
	}{
		{"meeting-started.json", "ev-INVENTED-0001", "meeting.started", "INVENTED-meeting-uuid", "2024-02-26T18:31:20.048Z"},
		{"participant-left.json", "ev-INVENTED-0002", "participant.left", "INVENTED-room", "2024-02-26T18:33:40.500Z"},
		{"recording-ready-to-download.json", "ev-INVENTED-0005", "recording.ready-to-download", "INVENTED-room", "2024-02-26T19:31:40.002Z"},
		{"unknown-dialout.json", "ev-INVENTED-0006", "dialout.connected", "INVENTED-room", "2024-02-26T18:35:00.750Z"},
		{"unknown-not-dotted.json", "ev-INVENTED-0007", "unknown.Meeting_Started!", "INVENTED-room", "2024-02-26T18:35:01.000Z"},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &Daily, fixture(t, "daily", tt.file), nil)
		if string(ev.ID) != tt.id || string(ev.EventType) != tt.typ || string(ev.Subject) != tt.subject || string(ev.AppendTime(nil)) != tt.time {
			t.Errorf("%s: id %q type %q subject %q time %s, want %q %q %q %s", tt.file, ev.ID, ev.EventType, ev.Subject, ev.AppendTime(nil), tt.id, tt.typ, tt.subject, tt.time)
		}
	}
	// event_ts: fractions to the ms, more digits dropped; a number without a fraction is s.
	for ts, want := range map[string]string{"1708972280.0489": "2024-02-26T18:31:20.048Z", "1708972280": "2024-02-26T18:31:20.000Z", `"x"`: "2026-11-23T12:00:00.000Z"} {
		ev := mustEnvelope(t, &Daily, []byte(`{"type":"meeting.started","id":"e","payload":{},"event_ts":`+ts+`}`), nil)
		if got := string(ev.AppendTime(nil)); got != want {
			t.Errorf("event_ts %s: time %s, want %s", ts, got, want)
		}
	}
	// Without an id the data identifies the event; an id that is not text is refused.
	a := mustEnvelope(t, &Daily, []byte(`{"type":"meeting.started","payload":{"room":"r"}}`), nil)
	b := mustEnvelope(t, &Daily, []byte(`{"type":"meeting.started","payload":{"room":"s"}}`), nil)
	if len(a.ID) == 0 || string(a.ID) == string(b.ID) {
		t.Errorf("ids without Daily's id: %s %s", a.ID, b.ID)
	}
	for _, body := range []string{`{"type":"meeting.started","id":{}}`, `{"type":"meeting.started","id":""}`, `{"type":{},"id":"e"}`, `{"id":"e"}`} {
		if _, err := envelope(&Daily, []byte(body), nil); err == nil {
			t.Errorf("%s: no PayloadError", body)
		}
	}
}

// Sign stamps ms and makes what Verify takes, with the decoded key: at D1's time it is D1.
func TestSignDaily(t *testing.T) {
	body := fixture(t, "daily", "meeting-started.json")
	signed, headers, err := Daily.Sign(body, &Auth{Secret: []byte(dailySelfSecret)}, time.UnixMilli(1708972280048))
	if err != nil || string(signed) != string(body) {
		t.Fatalf("Sign: %v, body %s", err, signed)
	}
	h := headerMap(&Daily, headers)
	if string(h.Peek("X-Webhook-Timestamp")) != dailySelfTS || string(h.Peek("X-Webhook-Signature")) != dailyD1 {
		t.Errorf("Sign at D1's time: %v", headers)
	}
}

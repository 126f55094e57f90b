package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// §3g / §10 V2 (self vector): the body, secret and token exactly as printed.
const (
	vonageSecret = "INVENTED_vonage_signature_secret_0123456789"
	vonageBody   = `{"sessionId":"2_MX4INVENTED","projectId":"12345678","event":"connectionCreated","timestamp":1735689600123,"connection":{"id":"INVENTED-conn","createdAt":1735689600100,"data":""}}`
	vonageHash   = "5fc39c720573f84959d2dda719b68373ae2a7f71af6661970caca08064ae1372"
	vonageToken  = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MzU2ODk2MDAsImp0aSI6IklOVkVOVEVELWp0aS0wMDAxIiwiaXNzIjoiVm9uYWdlIiwicGF5bG9hZF9oYXNoIjoiNWZjMzljNzIwNTczZjg0OTU5ZDJkZGE3MTliNjgzNzNhZTJhN2Y3MWFmNjY2MTk3MGNhY2EwODA2NGFlMTM3MiIsImFwaV9rZXkiOiIxMjM0NTY3OCIsImFwcGxpY2F0aW9uX2lkIjoiSU5WRU5URUQtYXBwLWlkIn0.-9FrZNxSdPWL0mlR71mX78u4ugg9xcIPMWV-YMFk2FQ"
	vonageIat    = 1735689600
)

// V1: Vonage/vonage-python-sdk jwt/tests/test_verify_jwt.py@445cab8, a generic HS256 JWT the SDK
// verifies with the secret's UTF-8 bytes. It carries no payload_hash, so as a callback it is
// refused; its signature is reproduced.
const (
	vonageSDKSecret = "qwertyuiopasdfghjklzxcvbnm123456"
	vonageSDKToken  = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
)

func vonageVerifyAt(body []byte, authorization, secret string, at time.Time) error {
	h := HeaderMap{}
	if authorization != "" {
		h["Authorization"] = authorization
	}
	a := Auth{Secret: []byte(secret), MaxSkew: time.Minute}
	v, err := VonageVideo.Verify(&Callback{Body: body, Header: h, Received: at}, &a)
	if err == nil && v != Signed {
		return &AuthError{Reason: "accepted unsigned"}
	}
	return err
}

func TestVonageVectors(t *testing.T) {
	// V1: the SDK's token, HMAC-SHA256 over header.payload with the secret.
	mac := hmac.New(sha256.New, []byte(vonageSDKSecret))
	mac.Write([]byte(vonageSDKToken[:strings.LastIndexByte(vonageSDKToken, '.')]))
	if got := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); got != "88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM" {
		t.Errorf("V1: signature %s", got)
	}
	var buf [maxJWT]byte
	claims, err := verifyHS256([]byte(vonageSDKToken), []byte(vonageSDKSecret), buf[:], "the signature secret")
	if err != nil || !strings.Contains(string(claims), `"iss":"Online JWT Builder"`) {
		t.Errorf("V1: %v %s", err, claims)
	}
	if err := vonageVerifyAt([]byte(vonageBody), "Bearer "+vonageSDKToken, vonageSDKSecret, time.Unix(1697634680, 0)); err == nil || !strings.Contains(err.Error(), "payload_hash") {
		t.Errorf("V1 as a callback: err %v, want it refused for its missing payload_hash", err)
	}

	// V2: the self vector of §3g.
	sum := sha256.Sum256([]byte(vonageBody))
	if hex.EncodeToString(sum[:]) != vonageHash {
		t.Errorf("V2: payload_hash %x", sum)
	}
	if err := vonageVerifyAt([]byte(vonageBody), "Bearer "+vonageToken, vonageSecret, time.Unix(vonageIat, 0)); err != nil {
		t.Errorf("V2: %v", err)
	}
}

func TestVonageVerify(t *testing.T) {
	body := []byte(vonageBody)
	now := time.Unix(vonageIat, 0)
	claims := func(extra string) string {
		return `{"iat":1735689600,"jti":"INVENTED-jti-0001","iss":"Vonage","payload_hash":"` + vonageHash + `"` + extra + `}`
	}
	signed := func(header, claims string) string { return "Bearer " + hs256(header, claims, vonageSecret) }
	enc := base64.RawURLEncoding
	hs512 := enc.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims("")))
	mac := hmac.New(sha512.New, []byte(vonageSecret))
	mac.Write([]byte(hs512))
	hs512 += "." + enc.EncodeToString(mac.Sum(nil))
	none := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims(""))) + "."
	pretty := indent(t, body)
	good := "Bearer " + vonageToken
	tests := []struct {
		name, header string
		body         []byte
		secret       string
		at           time.Time
		wantErr      string
	}{
		{name: "V2 as sent", header: good},
		{name: "without Bearer", header: vonageToken},
		{name: "bearer, lower case", header: "bearer " + vonageToken},
		{name: "iat at the skew's edge, late", header: good, at: now.Add(time.Minute)},
		{name: "iat at the skew's edge, early", header: good, at: now.Add(-time.Minute)},
		{name: "payload_hash over the compacted body", header: good, body: pretty},
		{name: "payload_hash in upper case", header: signed(`{"alg":"HS256"}`, strings.Replace(claims(""), vonageHash, strings.ToUpper(vonageHash), 1))},
		{name: "exp and nbf in the window", header: signed(`{"alg":"HS256"}`, claims(`,"exp":1735689900,"nbf":1735689600`))},
		{name: "missing", header: "", wantErr: "Authorization header missing"},
		{name: "alg none, unsigned", header: "Bearer " + none, wantErr: "not HS256"},
		{name: "alg none, signed", header: signed(`{"alg":"none"}`, claims("")), wantErr: "not HS256"},
		{name: "alg HS512", header: "Bearer " + hs512, wantErr: "not HS256"},
		{name: "alg HS384", header: signed(`{"alg":"HS384"}`, claims("")), wantErr: "not HS256"},
		{name: "alg RS256", header: signed(`{"alg":"RS256"}`, claims("")), wantErr: "not HS256"},
		{name: "alg hs256", header: signed(`{"alg":"hs256"}`, claims("")), wantErr: "not HS256"},
		{name: "no alg", header: signed(`{"typ":"JWT"}`, claims("")), wantErr: "not HS256"},
		{name: "alg twice", header: signed(`{"alg":"HS256","alg":"none"}`, claims("")), wantErr: "not HS256"},
		{name: "crit", header: signed(`{"alg":"HS256","crit":["exp"]}`, claims("")), wantErr: "not HS256"},
		{name: "header not JSON", header: signed(`alg=HS256`, claims("")), wantErr: "not a JSON object"},
		{name: "another secret", header: good, secret: "INVENTED_another_secret", wantErr: "does not match the signature secret"},
		{name: "tampered body", header: good, body: []byte(strings.Replace(vonageBody, "INVENTED-conn", "INVENTED-conx", 1)), wantErr: "payload_hash does not match"},
		{name: "keys re-ordered", header: good, body: []byte(strings.Replace(vonageBody, `"sessionId":"2_MX4INVENTED","projectId":"12345678"`, `"projectId":"12345678","sessionId":"2_MX4INVENTED"`, 1)), wantErr: "payload_hash does not match"},
		{name: "wrong payload_hash", header: signed(`{"alg":"HS256"}`, strings.Replace(claims(""), vonageHash, strings.Repeat("0", 64), 1)), wantErr: "payload_hash does not match"},
		{name: "payload_hash base64", header: signed(`{"alg":"HS256"}`, strings.Replace(claims(""), vonageHash, bodySHA(body), 1)), wantErr: "not a hex SHA-256"},
		{name: "no payload_hash", header: signed(`{"alg":"HS256"}`, `{"iat":1735689600}`), wantErr: "no payload_hash"},
		{name: "payload_hash twice", header: signed(`{"alg":"HS256"}`, `{"payload_hash":"`+strings.Repeat("0", 64)+`",`+claims("")[1:]), wantErr: "twice"},
		{name: "payload_hash a number", header: signed(`{"alg":"HS256"}`, `{"iat":1735689600,"payload_hash":1}`), wantErr: "no payload_hash"},
		{name: "iat too old", header: good, at: now.Add(time.Minute + time.Second), wantErr: "old"},
		{name: "iat too early", header: good, at: now.Add(-time.Minute - time.Second), wantErr: "future"},
		{name: "no iat", header: signed(`{"alg":"HS256"}`, `{"payload_hash":"`+vonageHash+`"}`), wantErr: "iat missing"},
		{name: "iat a string", header: signed(`{"alg":"HS256"}`, `{"iat":"1735689600","payload_hash":"`+vonageHash+`"}`), wantErr: "iat missing"},
		{name: "exp past", header: signed(`{"alg":"HS256"}`, claims(`,"exp":1735689500`)), wantErr: "expired"},
		{name: "nbf ahead", header: signed(`{"alg":"HS256"}`, claims(`,"nbf":1735689700`)), wantErr: "nbf"},
		{name: "two parts", header: good[:strings.LastIndexByte(good, '.')], wantErr: "not a JWT"},
		{name: "signature cut", header: good[:len(good)-2], wantErr: "HMAC-SHA256"},
		{name: "too long", header: "Bearer " + strings.Repeat("a", maxJWT+1), wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, secret, at := body, vonageSecret, now
			if tt.body != nil {
				b = tt.body
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			if !tt.at.IsZero() {
				at = tt.at
			}
			err := vonageVerifyAt(b, tt.header, secret, at)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err %v, want it to mention %q", err, tt.wantErr)
			}
			if _, ok := err.(*AuthError); err != nil && !ok {
				t.Errorf("%T, want *AuthError", err)
			}
		})
	}
}

// The white-space fallback of payload_hash works in a pooled buffer: a pretty-printed body is
// verified without allocating, as the raw one is.
func TestVonageVerifyAllocs(t *testing.T) {
	for name, body := range map[string][]byte{"raw": []byte(vonageBody), "pretty": indent(t, []byte(vonageBody))} {
		c := &Callback{Body: body, Header: byteHeaders{"authorization": []byte("Bearer " + vonageToken)}, Received: time.Unix(vonageIat, 0)}
		a := Auth{Secret: []byte(vonageSecret), MaxSkew: time.Minute}
		if _, err := vonageVerify(c, &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := testing.AllocsPerRun(100, func() { vonageVerify(c, &a) }); n > 0 {
			t.Errorf("%s: %v allocations per verification", name, n)
		}
	}
}

func TestVonageNoSecret(t *testing.T) {
	c := &Callback{Body: []byte(vonageBody), Header: HeaderMap{}, Received: time.Unix(vonageIat, 0)}
	if v, err := VonageVideo.Verify(c, &Auth{AllowUnsigned: true}); err != nil || v != Unsigned {
		t.Errorf("unsigned allowed: %v %v", v, err)
	}
	if _, err := VonageVideo.Verify(c, &Auth{}); err == nil {
		t.Error("unsigned refused: accepted")
	}
}

// connection.data (the client's token data) never reaches the event, wherever a connection is.
func TestVonageCredentials(t *testing.T) {
	for _, file := range []string{"connectionCreated.json", "connectionDestroyed.json", "streamCreated.json", "streamDestroyed.json", "unknown-streamPropertyChanged.json"} {
		ev := mustEnvelope(t, &VonageVideo, fixture(t, "vonage-video", file), nil)
		if bytes.Contains(ev.Data, []byte("alice")) || bytes.Contains(ev.Data, []byte(`"data"`)) {
			t.Errorf("%s: connection data on the bus: %s", file, ev.Data)
		}
		if !bytes.Contains(ev.Data, []byte(`"c1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b"`)) {
			t.Errorf("%s: connection id lost: %s", file, ev.Data)
		}
	}
	redacted := VonageVideo.Redact(VonageVideo.Sample)
	if bytes.Contains(redacted, []byte("alice")) || !bytes.Contains(redacted, []byte(Redacted)) {
		t.Errorf("dead letter: %s", redacted)
	}
}

func TestVonageNormalize(t *testing.T) {
	for _, tt := range []struct{ file, code, subject, time string }{
		{"archive-available.json", "archive/available", "b40ef09b-3811-4726-b508-e41a0f96c68f", "2025-01-01T00:10:00.000Z"},
		{"render-started.json", "render/started", "1248e7070b81464c9789f46ad10e7764", "2025-01-01T00:01:45.000Z"},
		{"streamCreated.json", "streamCreated", "2_MX4xMjM0NTY3OH5-MTczNTY4OTYwMDAwMH5JTlZFTlRFRH5-fg", "2025-01-01T00:00:01.234Z"},
	} {
		ev := mustEnvelope(t, &VonageVideo, fixture(t, "vonage-video", tt.file), nil)
		if string(ev.ProviderEventType) != tt.code || string(ev.Subject) != tt.subject || string(ev.AppendTime(nil)) != tt.time {
			t.Errorf("%s: code %s subject %s time %s", tt.file, ev.ProviderEventType, ev.Subject, ev.AppendTime(nil))
		}
	}
	for _, tt := range []struct{ body, field string }{
		{`{"sessionId":"s","timestamp":1}`, "event"},
		{`{"event":{},"sessionId":"s"}`, "event"},
		{`{"event":"archive","id":"a"}`, "status"},
		{`{"event":"archive","id":"a","status":3}`, "status"},
		{`[]`, ""},
	} {
		_, err := envelope(&VonageVideo, []byte(tt.body), nil)
		if pe, ok := err.(*PayloadError); !ok || pe.Field != tt.field && tt.field != "" {
			t.Errorf("%s: err %v, want a PayloadError on %q", tt.body, err, tt.field)
		}
	}
	ev := mustEnvelope(t, &VonageVideo, []byte(`{"event":"archive","status":"stopped","id":"a","sessionId":"s"}`), nil)
	if !ev.Time.Equal(received) || string(ev.Subject) != "a" {
		t.Errorf("no time fields: time %s (want the receipt), subject %s", ev.Time, ev.Subject)
	}
	ev = mustEnvelope(t, &VonageVideo, []byte(`{"event":"archive","status":"bogus","sessionId":"s","createdAt":1735689600000}`), nil)
	if string(ev.EventType) != "unknown.archive/bogus" || string(ev.Subject) != "s" || ev.Time.UnixMilli() != 1735689600000 {
		t.Errorf("unknown status: %s %s %s", ev.EventType, ev.Subject, ev.Time)
	}
}

func TestVonageID(t *testing.T) {
	conn := fixture(t, "vonage-video", "connectionCreated.json")
	archive := fixture(t, "vonage-video", "archive-available.json")
	sip := fixture(t, "vonage-video", "callDestroyed.json")
	tests := []struct {
		name string
		a, b []byte
		same bool
	}{
		{"pretty-printed", conn, indent(t, conn), true},
		{"other token data", conn, replaceOnce(t, conn, "name=alice&role=host", "name=bob"), true},
		{"another connection", conn, replaceOnce(t, conn, `"c1a2b3c4-`, `"d1a2b3c4-`), false},
		{"another timestamp", conn, replaceOnce(t, conn, "1735689600123", "1735689600124"), false},
		{"another session", conn, replaceOnce(t, conn, `"2_MX4x`, `"1_MX4x`), false},
		{"another project", conn, replaceOnce(t, conn, `"12345678"`, `"12345679"`), false},
		{"archive: another status", archive, replaceOnce(t, archive, `"available"`, `"uploaded"`), false},
		{"archive: another updatedAt", archive, replaceOnce(t, archive, "1735690200000", "1735690200001"), false},
		{"archive: pretty-printed", archive, indent(t, archive), true},
		{"archive: url changed, same status", archive, replaceOnce(t, archive, "archive.mp4", "archive2.mp4"), true},
		{"archive: legacy partnerId", archive, replaceOnce(t, archive, `"projectId":"12345678"`, `"partnerId":12345678`), true},
		{"sip: pretty-printed", sip, indent(t, sip), true},
		{"sip: another reason", sip, replaceOnce(t, sip, "forceDisconnected", "clientDisconnected"), false},
	}
	for _, tt := range tests {
		a := mustEnvelope(t, &VonageVideo, tt.a, nil)
		b := mustEnvelope(t, &VonageVideo, tt.b, nil)
		if same := bytes.Equal(a.ID, b.ID); same != tt.same || len(a.ID) == 0 {
			t.Errorf("%s: ids %s and %s, same = %v, want %v", tt.name, a.ID, b.ID, same, tt.same)
		}
	}
}

// Sign makes what vonageVerify accepts, and the token's claims are Vonage's.
func TestVonageSign(t *testing.T) {
	now := time.Unix(vonageIat, 0)
	a := Auth{Secret: []byte(vonageSecret), MaxSkew: time.Minute}
	body, headers, err := VonageVideo.Sign([]byte(vonageBody), &a, now)
	if err != nil {
		t.Fatal(err)
	}
	var authz string
	for _, h := range headers {
		if h.Key == "Authorization" {
			authz = h.Value
		}
	}
	if err := vonageVerifyAt(body, authz, vonageSecret, now); err != nil {
		t.Fatal(err)
	}
	var buf [maxJWT]byte
	claims, err := verifyHS256([]byte(strings.TrimPrefix(authz, "Bearer ")), a.Secret, buf[:], "")
	if err != nil || !strings.Contains(string(claims), `"iat":1735689600,"jti":"`) || !strings.Contains(string(claims), `"iss":"Vonage","payload_hash":"`+vonageHash+`"`) {
		t.Errorf("claims %s (%v)", claims, err)
	}
}

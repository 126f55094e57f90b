package normalize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

const (
	livekitKey    = "APIxRk4aWcNuHrZ"
	livekitSecret = "aWG1tHbV8dQ4RkTzQe3Hc0zJxYpL2mNf7sUoIvKq9Bw"
)

func livekitAuth(t testing.TB, key string) Auth {
	return Auth{Secret: []byte(livekitSecret), MaxSkew: time.Minute, Options: withOptions(t, &LiveKit, "API_KEY", key)}
}

// hs256 makes a compact JWS from a header and claims written by hand, signed with secret.
func hs256(header, claims, secret string) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func bodySHA(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestLiveKitVerify(t *testing.T) {
	body := fixture(t, "livekit", "participant_joined.json")
	now := time.Unix(1692985549, 0)
	nbf, exp := "1692985549", "1692985849" // LiveKit: valid for 5 minutes
	claims := func(iss, sha string) string {
		return `{"iss":"` + iss + `","exp":` + exp + `,"nbf":` + nbf + `,"iat":` + nbf + `,"sha256":"` + sha + `"}`
	}
	good := hs256(`{"alg":"HS256","typ":"JWT"}`, claims(livekitKey, bodySHA(body)), livekitSecret)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(claims(livekitKey, bodySHA(body)))) + "."
	tests := []struct {
		name     string
		header   string
		body     []byte
		key      string
		secret   string
		received time.Time
		wantErr  string
	}{
		{name: "as LiveKit sends it", header: good},
		{name: "with Bearer", header: "Bearer " + good},
		{name: "with bearer, lower case", header: "bearer " + good},
		{name: "at exp + skew", header: good, received: time.Unix(1692985849, 0).Add(time.Minute)},
		{name: "at nbf - skew", header: good, received: now.Add(-time.Minute)},
		{name: "past exp + skew", header: good, received: time.Unix(1692985849, 0).Add(time.Minute + time.Second), wantErr: "expired"},
		{name: "before nbf - skew", header: good, received: now.Add(-time.Minute - time.Second), wantErr: "nbf"},
		{name: "missing", header: "", wantErr: "Authorization header missing"},
		{name: "tampered body", header: good, body: []byte(strings.Replace(string(body), "alice", "mallory", 1)), wantErr: "sha256 does not match"},
		{name: "wrong secret", header: good, secret: "another secret", wantErr: "signature does not match"},
		{name: "wrong api key", header: good, key: "APIother", wantErr: "iss"},
		{name: "api key unset", header: good, key: "-", wantErr: "iss"},
		{name: "alg none", header: none, wantErr: "not HS256"},
		{name: "alg none, signed", header: hs256(`{"alg":"none"}`, claims(livekitKey, bodySHA(body)), livekitSecret), wantErr: "not HS256"},
		{name: "alg HS512", header: hs256(`{"alg":"HS512","typ":"JWT"}`, claims(livekitKey, bodySHA(body)), livekitSecret), wantErr: "not HS256"},
		{name: "alg twice", header: hs256(`{"alg":"HS256","alg":"none"}`, claims(livekitKey, bodySHA(body)), livekitSecret), wantErr: "not HS256"},
		{name: "crit", header: hs256(`{"alg":"HS256","crit":["b64"],"b64":false}`, claims(livekitKey, bodySHA(body)), livekitSecret), wantErr: "not HS256"},
		{name: "no exp", header: hs256(`{"alg":"HS256"}`, `{"iss":"`+livekitKey+`","nbf":`+nbf+`,"sha256":"`+bodySHA(body)+`"}`, livekitSecret), wantErr: "exp missing"},
		{name: "exp as a string", header: hs256(`{"alg":"HS256"}`, `{"iss":"`+livekitKey+`","exp":"`+exp+`","sha256":"`+bodySHA(body)+`"}`, livekitSecret), wantErr: "exp missing"},
		{name: "no sha256", header: hs256(`{"alg":"HS256"}`, `{"iss":"`+livekitKey+`","exp":`+exp+`}`, livekitSecret), wantErr: "no sha256"},
		{name: "sha256 twice", header: hs256(`{"alg":"HS256"}`, `{"iss":"`+livekitKey+`","exp":`+exp+`,"sha256":"x","sha256":"`+bodySHA(body)+`"}`, livekitSecret), wantErr: "twice"},
		{name: "two parts", header: good[:strings.LastIndexByte(good, '.')], wantErr: "not a JWT"},
		{name: "four parts", header: good + ".x", wantErr: "not a JWT"},
		{name: "signature cut", header: good[:len(good)-2], wantErr: "not an HMAC-SHA256"},
		{name: "padded signature", header: good + "=", wantErr: "HMAC-SHA256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			key := livekitKey
			switch tt.key {
			case "":
			case "-":
				key = ""
			default:
				key = tt.key
			}
			a := livekitAuth(t, key)
			if tt.secret != "" {
				a.Secret = []byte(tt.secret)
			}
			received := now
			if !tt.received.IsZero() {
				received = tt.received
			}
			h := HeaderMap{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			_, err := LiveKit.Verify(&Callback{Body: b, Header: h, Received: received}, &a)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err %v, want it to mention %q", err, tt.wantErr)
			}
			if err != nil {
				if _, ok := err.(*AuthError); !ok {
					t.Errorf("%T, want *AuthError", err)
				}
			}
		})
	}
}

// The body's int64 fields are protojson strings; data keeps them, and every other number, as
// written, and egress and ingress events take their subject from their own id.
func TestLiveKitNormalize(t *testing.T) {
	for _, tt := range []struct{ file, subject, keep string }{
		{"egress_ended.json", "EG_hzsdrq7WRNBv", `"endedAt":"1692989095012345678"`},
		{"ingress_started.json", "IN_9ZTXkm3WnRyt", `"startedAt":"1692985600123456789"`},
		{"track_published.json", "room1", `"unixMicro":"1692985550123456"`},
	} {
		ev := mustEnvelope(t, &LiveKit, fixture(t, "livekit", tt.file), nil)
		if string(ev.Subject) != tt.subject {
			t.Errorf("%s: subject %q, want %q", tt.file, ev.Subject, tt.subject)
		}
		if !strings.Contains(string(ev.Data), tt.keep) {
			t.Errorf("%s: data lost %s:\n%s", tt.file, tt.keep, ev.Data)
		}
	}
	if _, err := envelope(&LiveKit, []byte(`{"id":"EV_1","createdAt":"1"}`), nil); err == nil || !strings.Contains(err.Error(), "event") {
		t.Errorf("no event: err %v", err)
	}
	ev := mustEnvelope(t, &LiveKit, []byte(`{"event":"room_started","room":{"name":"r"},"createdAt":"1692985548"}`), nil)
	if len(ev.ID) != 32 {
		t.Errorf("no id: want a hash, got %q", ev.ID)
	}
}

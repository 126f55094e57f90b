package normalize

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test vectors from shared/providers/PROTOCOLS.md 1b, 2b and 3b.
const (
	neteaseSecret   = "90ud57s6xxxx"
	neteaseCurTime  = "1608110108512"
	neteaseMD5      = "99914b932bd37a50b983c5e7c90ae93b" // md5hex("{}")
	neteaseCheckSum = "14e1eb5ebf1bc801b080d5fb86a75d59ccd729b6"

	anyrtcSecret = "secret"
	anyrtcBody   = `{"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f","notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}`
	anyrtcSHA1   = "5a3bb6a6d9fad2ea9ae3fb707a14c9d7f3136df1"
	anyrtcSHA256 = "de96da5acf03b0021ac3b4fa2225e7ae6f3533a30d50bb02c08ea4fa748bda24"
	anyrtcMs     = 1560408533119

	tencentKey  = "testkey"
	tencentT    = 1703732078
	tencentSign = "7e686adf6045c49cee873dc7d8eb05af"
)

// fixture reads testdata/<provider>/<name>.
func fixture(t testing.TB, provider, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", provider, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withOptions returns p's options with the given settings set: pairs of Setting.Name and value.
func withOptions(t testing.TB, p *Provider, nameValues ...string) []NamedOption {
	t.Helper()
	values := map[string]string{}
	for i := 0; i+1 < len(nameValues); i += 2 {
		values[nameValues[i]] = nameValues[i+1]
	}
	opts, err := p.Options(values)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// neteaseSign returns the headers NetEase sends for body.
func neteaseSign(body []byte, secret, curTime string) HeaderMap {
	m := md5.Sum(body)
	md5Hex := hex.EncodeToString(m[:])
	return HeaderMap{"MD5": md5Hex, "CurTime": curTime, "CheckSum": neteaseCheckSumOf(secret, md5Hex, curTime)}
}

func neteaseCheckSumOf(secret, md5Hex, curTime string) string {
	s := sha1.Sum([]byte(secret + md5Hex + curTime))
	return hex.EncodeToString(s[:])
}

// anyrtcSign returns hex(HMAC(secret, body)).
func anyrtcSign(body []byte, secret string, sha256Hash bool) string {
	h := sha1.New
	if sha256Hash {
		h = sha256.New
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func tencentSignOf(key string, t int64) string {
	s := md5.Sum(fmt.Appendf(nil, "%s%d", key, t))
	return hex.EncodeToString(s[:])
}

// verifyCase is one Verify call and its expected outcome.
type verifyCase struct {
	name       string
	body       string
	header     HeaderMap
	received   time.Time
	auth       Auth
	tokenRoute bool
	want       Verified
	wantErr    string // substring of the AuthError reason; empty: no error
}

func runVerify(t *testing.T, p *Provider, tests []verifyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = HeaderMap{}
			}
			c := &Callback{Body: []byte(tt.body), Header: header, Received: tt.received, TokenRoute: tt.tokenRoute}
			auth := tt.auth
			got, err := p.Verify(c, &auth)
			checkVerify(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func checkVerify(t *testing.T, got Verified, err error, want Verified, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Verify: unexpected error %v", err)
		}
		if got != want {
			t.Fatalf("Verify = %v, want %v", got, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("Verify = %v, nil; want an *AuthError containing %q", got, wantErr)
	}
	ae, ok := err.(*AuthError)
	if !ok {
		t.Fatalf("Verify error is %T (%v), want *AuthError", err, err)
	}
	if !strings.Contains(ae.Reason, wantErr) {
		t.Fatalf("Verify error %q, want it to contain %q", ae.Reason, wantErr)
	}
}

func TestNetEaseVectorSelfCheck(t *testing.T) {
	h := neteaseSign([]byte("{}"), neteaseSecret, neteaseCurTime)
	if h["MD5"] != neteaseMD5 || h["CheckSum"] != neteaseCheckSum {
		t.Fatalf("test helper disagrees with the PROTOCOLS.md vector: %v", h)
	}
}

func TestVerifyNetEase(t *testing.T) {
	sent := time.UnixMilli(1608110108512)
	recv := sent.Add(time.Second)
	auth := Auth{Secret: []byte(neteaseSecret), MaxSkew: 5 * time.Minute}
	vector := func() HeaderMap {
		return HeaderMap{"MD5": neteaseMD5, "CurTime": neteaseCurTime, "CheckSum": neteaseCheckSum}
	}
	with := func(key, val string) HeaderMap {
		h := vector()
		h[key] = val
		return h
	}
	without := func(key string) HeaderMap {
		h := vector()
		delete(h, key)
		return h
	}
	upperMD5 := strings.ToUpper(neteaseMD5)
	tests := []verifyCase{
		{name: "vector", body: `{}`, header: vector(), received: recv, auth: auth, want: Signed},
		{name: "header names in any case", body: `{}`, header: HeaderMap{"md5": neteaseMD5, "curtime": neteaseCurTime, "CHECKSUM": neteaseCheckSum}, received: recv, auth: auth, want: Signed},
		{name: "upper-case CheckSum", body: `{}`, header: with("CheckSum", strings.ToUpper(neteaseCheckSum)), received: recv, auth: auth, want: Signed},
		{name: "upper-case MD5, CheckSum over it", body: `{}`, header: HeaderMap{"MD5": upperMD5, "CurTime": neteaseCurTime, "CheckSum": neteaseCheckSumOf(neteaseSecret, upperMD5, neteaseCurTime)}, received: recv, auth: auth, want: Signed},
		{name: "received exactly MaxSkew after CurTime", body: `{}`, header: vector(), received: sent.Add(5 * time.Minute), auth: auth, want: Signed},
		{name: "received exactly MaxSkew before CurTime", body: `{}`, header: vector(), received: sent.Add(-5 * time.Minute), auth: auth, want: Signed},
		{name: "real fixture", body: string(fixture(t, "netease-nertc", "503-play-started.json")), header: neteaseSign(fixture(t, "netease-nertc", "503-play-started.json"), neteaseSecret, "1712900013100"), received: time.UnixMilli(1712900013100), auth: auth, want: Signed},

		{name: "wrong CheckSum", body: `{}`, header: with("CheckSum", "14e1eb5ebf1bc801b080d5fb86a75d59ccd729b7"), received: recv, auth: auth, wantErr: "CheckSum does not match"},
		{name: "CheckSum truncated", body: `{}`, header: with("CheckSum", neteaseCheckSum[:39]), received: recv, auth: auth, wantErr: "CheckSum does not match"},
		{name: "MD5 does not match the body", body: `{"a":1}`, header: vector(), received: recv, auth: auth, wantErr: "MD5 header does not match the body"},
		{name: "body with extra white space", body: `{} `, header: vector(), received: recv, auth: auth, wantErr: "MD5 header does not match the body"},
		{name: "MD5 of the body but CheckSum for another MD5", body: `{"a":1}`, header: with("MD5", neteaseSign([]byte(`{"a":1}`), neteaseSecret, neteaseCurTime)["MD5"]), received: recv, auth: auth, wantErr: "CheckSum does not match"},
		{name: "CheckSum missing", body: `{}`, header: without("CheckSum"), received: recv, auth: auth, wantErr: "CheckSum header missing"},
		{name: "CheckSum empty", body: `{}`, header: with("CheckSum", ""), received: recv, auth: auth, wantErr: "CheckSum header missing"},
		{name: "MD5 missing", body: `{}`, header: without("MD5"), received: recv, auth: auth, wantErr: "MD5 header missing"},
		{name: "CurTime missing", body: `{}`, header: without("CurTime"), received: recv, auth: auth, wantErr: "CurTime header missing"},
		{name: "no headers", body: `{}`, header: HeaderMap{}, received: recv, auth: auth, wantErr: "header missing"},
		{name: "CurTime too old (replay)", body: `{}`, header: vector(), received: sent.Add(5*time.Minute + time.Millisecond), auth: auth, wantErr: "signature window"},
		{name: "CurTime a day old (replay)", body: `{}`, header: vector(), received: sent.Add(24 * time.Hour), auth: auth, wantErr: "old, more than the allowed clock skew"},
		{name: "CurTime too far in the future", body: `{}`, header: vector(), received: sent.Add(-5*time.Minute - time.Millisecond), auth: auth, wantErr: "in the future"},
		{name: "CurTime changed, CheckSum not", body: `{}`, header: with("CurTime", "1608110109512"), received: recv, auth: auth, wantErr: "CheckSum does not match"},
		{name: "non-numeric CurTime", body: `{}`, header: HeaderMap{"MD5": neteaseMD5, "CurTime": "yesterday", "CheckSum": neteaseCheckSumOf(neteaseSecret, neteaseMD5, "yesterday")}, received: recv, auth: auth, wantErr: "CurTime is not a millisecond timestamp"},
		{name: "fractional CurTime", body: `{}`, header: HeaderMap{"MD5": neteaseMD5, "CurTime": "1608110108.512", "CheckSum": neteaseCheckSumOf(neteaseSecret, neteaseMD5, "1608110108.512")}, received: recv, auth: auth, wantErr: "CurTime is not a millisecond timestamp"},
		{name: "wrong secret", body: `{}`, header: vector(), received: recv, auth: Auth{Secret: []byte("90ud57s6xxxy"), MaxSkew: 5 * time.Minute}, wantErr: "CheckSum does not match"},
		{name: "wrong secret, AllowUnsigned does not help", body: `{}`, header: vector(), received: recv, auth: Auth{Secret: []byte("other"), AllowUnsigned: true, MaxSkew: 5 * time.Minute}, wantErr: "CheckSum does not match"},
	}
	runVerify(t, &NetEaseNERTC, tests)
}

func TestVerifyAnyRTC(t *testing.T) {
	sent := time.UnixMilli(anyrtcMs)
	sha1Auth := Auth{Secret: []byte(anyrtcSecret), MaxSkew: 5 * time.Minute}
	sha256Auth := Auth{Secret: []byte(anyrtcSecret), MaxSkew: 5 * time.Minute, Options: withOptions(t, &AnyRTC, "SIGNATURE", "hmac-sha256")}
	sig := func(v string) HeaderMap { return HeaderMap{"Ar-Signature": v} }
	signed := func(body string) HeaderMap { return sig(anyrtcSign([]byte(body), anyrtcSecret, false)) }
	altered := strings.Replace(anyrtcBody, `"b":2`, `"b":3`, 1)
	noNotify := `{"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f","payload":{"a":"1","b":2},"productId":1}`
	stringNotify := strings.Replace(anyrtcBody, `1560408533119`, `"1560408533119"`, 1)
	floatNotify := strings.Replace(anyrtcBody, `1560408533119`, `1.560408533119e12`, 1)
	tests := []verifyCase{
		{name: "SHA1 vector", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent, auth: sha1Auth, want: Signed},
		{name: "SHA1 vector upper-case", body: anyrtcBody, header: sig(strings.ToUpper(anyrtcSHA1)), received: sent, auth: sha1Auth, want: Signed},
		{name: "SHA1 vector lower-case header name", body: anyrtcBody, header: HeaderMap{"ar-signature": anyrtcSHA1}, received: sent, auth: sha1Auth, want: Signed},
		{name: "SHA256 vector", body: anyrtcBody, header: sig(anyrtcSHA256), received: sent, auth: sha256Auth, want: Signed},
		{name: "notifyMs within skew", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent.Add(4 * time.Minute), auth: sha1Auth, want: Signed},
		{name: "notifyMs as a string", body: stringNotify, header: signed(stringNotify), received: sent, auth: sha1Auth, want: Signed},
		{name: "authentic but not JSON: Normalize reports it", body: `not json`, header: signed(`not json`), received: sent, auth: sha1Auth, want: Signed},

		{name: "SHA1 signature with SHA256 configured", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent, auth: sha256Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "SHA256 signature with SHA1 configured", body: anyrtcBody, header: sig(anyrtcSHA256), received: sent, auth: sha1Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "header missing", body: anyrtcBody, received: sent, auth: sha1Auth, wantErr: "Ar-Signature header missing"},
		{name: "Agora header name is not read", body: anyrtcBody, header: HeaderMap{"Agora-Signature": anyrtcSHA1}, received: sent, auth: sha1Auth, wantErr: "Ar-Signature header missing"},
		{name: "body altered by one byte", body: altered, header: sig(anyrtcSHA1), received: sent, auth: sha1Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "body with a trailing newline", body: anyrtcBody + "\n", header: sig(anyrtcSHA1), received: sent, auth: sha1Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "wrong secret", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent, auth: Auth{Secret: []byte("Secret"), MaxSkew: 5 * time.Minute}, wantErr: "Ar-Signature does not match the body"},
		{name: "signature truncated", body: anyrtcBody, header: sig(anyrtcSHA1[:38]), received: sent, auth: sha1Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "base64 signature", body: anyrtcBody, header: sig("WjumttnGyvQ="), received: sent, auth: sha1Auth, wantErr: "Ar-Signature does not match the body"},
		{name: "notifyMs too old (replay)", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent.Add(5*time.Minute + time.Millisecond), auth: sha1Auth, wantErr: "signature window"},
		{name: "notifyMs too far ahead", body: anyrtcBody, header: sig(anyrtcSHA1), received: sent.Add(-5*time.Minute - time.Millisecond), auth: sha1Auth, wantErr: "in the future"},
		{name: "notifyMs missing", body: noNotify, header: signed(noNotify), received: sent, auth: sha1Auth, wantErr: "notifyMs missing"},
		{name: "notifyMs not an integer", body: floatNotify, header: signed(floatNotify), received: sent, auth: sha1Auth, wantErr: "notifyMs missing or not a millisecond timestamp"},
	}
	runVerify(t, &AnyRTC, tests)
}

// anyrtcOptions selects HMAC-SHA256 or HMAC-SHA1.
func anyrtcOptions(t testing.TB, sha256Hash bool) []NamedOption {
	if sha256Hash {
		return withOptions(t, &AnyRTC, "SIGNATURE", "hmac-sha256")
	}
	return withOptions(t, &AnyRTC, "SIGNATURE", "hmac-sha1")
}

// TestVerifyAnyRTCMACPool checks that the pooled HMAC is never reused under another secret or
// hash: every call below is correctly signed for its own configuration and must pass, and a
// signature for the previous secret must fail.
func TestVerifyAnyRTCMACPool(t *testing.T) {
	sent := time.UnixMilli(anyrtcMs)
	body := []byte(anyrtcBody)
	tests := []struct {
		name   string
		secret string
		sha256 bool
		sig    string
		ok     bool
	}{
		{"secret A", "secret", false, anyrtcSHA1, true},
		{"secret B", "another secret", false, anyrtcSign(body, "another secret", false), true},
		{"secret A again", "secret", false, anyrtcSHA1, true},
		{"secret B, A's signature", "another secret", false, anyrtcSHA1, false},
		{"secret B again", "another secret", false, anyrtcSign(body, "another secret", false), true},
		{"secret A, SHA256", "secret", true, anyrtcSHA256, true},
		{"secret A, SHA1 after SHA256", "secret", false, anyrtcSHA1, true},
		{"secret A, SHA256 signature after SHA256 switched off", "secret", false, anyrtcSHA256, false},
		{"secret B, SHA256", "another secret", true, anyrtcSign(body, "another secret", true), true},
		{"secret that is a prefix of A", "secre", false, anyrtcSign(body, "secre", false), true},
		{"secret A once more", "secret", false, anyrtcSHA1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Callback{Body: body, Header: HeaderMap{"Ar-Signature": tt.sig}, Received: sent}
			_, err := AnyRTC.Verify(c, &Auth{Secret: []byte(tt.secret), Options: anyrtcOptions(t, tt.sha256), MaxSkew: time.Minute})
			if tt.ok && err != nil {
				t.Fatalf("correctly signed callback refused: %v", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("callback signed with another key accepted")
			}
		})
	}

	// The same under concurrency: each goroutine has its own secret.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := fmt.Sprintf("secret-%d", g)
			sig := anyrtcSign(body, secret, g%2 == 1)
			for i := range 200 {
				c := &Callback{Body: body, Header: HeaderMap{"Ar-Signature": sig}, Received: sent}
				if _, err := AnyRTC.Verify(c, &Auth{Secret: []byte(secret), Options: anyrtcOptions(t, g%2 == 1), MaxSkew: time.Minute}); err != nil {
					errs <- fmt.Errorf("goroutine %d call %d: %v", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVerifyTencentCSS(t *testing.T) {
	push := string(fixture(t, "tencent-css", "1-push.json"))
	if !strings.Contains(push, `"t":1703732078`) || !strings.Contains(push, `"sign":"`+tencentSign+`"`) {
		t.Fatalf("1-push.json no longer carries the PROTOCOLS.md vector")
	}
	if got := tencentSignOf(tencentKey, tencentT); got != tencentSign {
		t.Fatalf("test helper disagrees with the PROTOCOLS.md vector: %s", got)
	}
	expiry := time.Unix(tencentT, 0)
	auth := Auth{Secret: []byte(tencentKey)} // the default grace: 5m
	replace := func(old, new string) string {
		if !strings.Contains(push, old) {
			t.Fatalf("1-push.json has no %s", old)
		}
		return strings.Replace(push, old, new, 1)
	}
	signMember := `"sign":"` + tencentSign + `",`
	tMember := `,"t":1703732078`
	tests := []verifyCase{
		{name: "received at event time", body: push, received: time.Unix(1703731478, 0), auth: auth, want: Signed},
		{name: "received just before t", body: push, received: expiry.Add(-time.Second), auth: auth, want: Signed},
		{name: "received 4m after t, grace 5m", body: push, received: expiry.Add(4 * time.Minute), auth: auth, want: Signed},
		{name: "received exactly grace after t", body: push, received: expiry.Add(5 * time.Minute), auth: auth, want: Signed},
		{name: "upper-case sign", body: replace(tencentSign, strings.ToUpper(tencentSign)), received: expiry, auth: auth, want: Signed},
		{name: "t as a JSON string", body: replace(`"t":1703732078`, `"t":"1703732078"`), received: expiry, auth: auth, want: Signed},
		{name: "TokenRoute does not skip a present signature", body: push, received: expiry, auth: auth, tokenRoute: true, want: Signed},

		{name: "received 6m after t, grace 5m", body: push, received: expiry.Add(6 * time.Minute), auth: auth, wantErr: "expired"},
		{name: "expired with no grace", body: push, received: expiry.Add(time.Second), auth: Auth{Secret: []byte(tencentKey), Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "0s")}, wantErr: "signature window"},
		{name: "wrong key", body: push, received: expiry, auth: Auth{Secret: []byte("testkez")}, wantErr: "sign does not match"},
		{name: "wrong key on the token route", body: push, received: expiry, auth: Auth{Secret: []byte("other")}, tokenRoute: true, wantErr: "sign does not match"},
		{name: "t changed, sign not (extended expiry)", body: replace(`"t":1703732078`, `"t":1703742078`), received: expiry, auth: auth, wantErr: "sign does not match"},
		{name: "sign missing, t present", body: replace(signMember, ""), received: expiry, auth: auth, wantErr: "t or sign missing"},
		{name: "t missing, sign present", body: replace(tMember, ""), received: expiry, auth: auth, wantErr: "t or sign missing"},
		{name: "t not a number", body: replace(`"t":1703732078`, `"t":"soon"`), received: expiry, auth: auth, wantErr: "t is not a unix timestamp"},
		{name: "t fractional", body: replace(`"t":1703732078`, `"t":1703732078.5`), received: expiry, auth: auth, wantErr: "t is not a unix timestamp"},
		{name: "sign a number", body: replace(`"`+tencentSign+`"`, `12345`), received: expiry, auth: auth, wantErr: "sign is not a string"},
		{name: "sign null", body: replace(`"`+tencentSign+`"`, `null`), received: expiry, auth: auth, wantErr: "sign is not a string"},
		{name: "sign an object", body: replace(`"`+tencentSign+`"`, `{"v":"`+tencentSign+`"}`), received: expiry, auth: auth, wantErr: "sign is not a string"},
		{name: "sign empty", body: replace(`"`+tencentSign+`"`, `""`), received: expiry, auth: auth, wantErr: "sign does not match"},
	}
	runVerify(t, &TencentCSS, tests)
}

// TestVerifyTencentUnsignedRelay covers relay (314) callbacks, which carry no t/sign.
func TestVerifyTencentUnsignedRelay(t *testing.T) {
	relay := string(fixture(t, "tencent-css", "314-task-start.json"))
	if strings.Contains(relay, `"t":`) || strings.Contains(relay, `"sign":`) {
		t.Fatal("314-task-start.json is expected to carry no t/sign")
	}
	key := []byte(tencentKey)
	tests := []verifyCase{
		{name: "key configured", body: relay, received: received, auth: Auth{Secret: key}, wantErr: "carries no t/sign"},
		{name: "key configured, token route", body: relay, received: received, auth: Auth{Secret: key}, tokenRoute: true, want: Signed},
		{name: "key configured, unsigned allowed", body: relay, received: received, auth: Auth{Secret: key, AllowUnsigned: true}, want: Unsigned},
		{name: "key configured, token route and unsigned allowed", body: relay, received: received, auth: Auth{Secret: key, AllowUnsigned: true}, tokenRoute: true, want: Signed},
		{name: "no key, token route", body: relay, received: received, auth: Auth{}, tokenRoute: true, want: Signed},
		{name: "no key, unsigned allowed", body: relay, received: received, auth: Auth{AllowUnsigned: true}, want: Unsigned},
		{name: "no key, nothing allowed", body: relay, received: received, auth: Auth{}, wantErr: "carries no t/sign"},
		{name: "signed relay fixture", body: string(fixture(t, "tencent-css", "314-task-start-signed.json")), received: time.Unix(1712893433, 0), auth: Auth{Secret: key}, want: Signed},
	}
	runVerify(t, &TencentCSS, tests)
}

// TestVerifyNoSecret applies the unsigned policy to every provider with no secret configured:
// its sample, signed by Sign with some secret or not signed at all.
func TestVerifyNoSecret(t *testing.T) {
	for _, p := range Builtins() {
		signedBody, signedHeaders := signSample(t, p, &Auth{Secret: []byte("some secret")}, received)
		unsignedBody, unsignedHeaders := signSample(t, p, &Auth{}, received)
		tests := []struct {
			name    string
			body    []byte
			header  HeaderMap
			allow   bool
			want    Verified
			wantErr string
		}{
			{name: "unsigned allowed, signature present", body: signedBody, header: signedHeaders, allow: true, want: Unsigned},
			{name: "unsigned allowed, no signature", body: unsignedBody, header: unsignedHeaders, allow: true, want: Unsigned},
			{name: "unsigned not allowed, signature present", body: signedBody, header: signedHeaders, wantErr: "no secret is configured"},
			{name: "unsigned not allowed, no signature", body: unsignedBody, header: unsignedHeaders, wantErr: "unsigned"},
		}
		for _, tt := range tests {
			t.Run(p.ID+"/"+tt.name, func(t *testing.T) {
				for _, secret := range [][]byte{nil, {}} {
					c := &Callback{Body: tt.body, Header: tt.header, Received: received}
					got, err := p.Verify(c, &Auth{Secret: secret, AllowUnsigned: tt.allow, MaxSkew: time.Minute})
					checkVerify(t, got, err, tt.want, tt.wantErr)
				}
			})
		}
	}
}

// signSample signs p's sample as p's sender does at now (signFor), with p's sample headers.
func signSample(t testing.TB, p *Provider, a *Auth, now time.Time) ([]byte, HeaderMap) {
	t.Helper()
	body, headers, err := signFor(p, p.Sample, a, now)
	if err != nil {
		t.Fatalf("%s: Sign(Sample): %v", p.ID, err)
	}
	return body, testCallback(p, body, headers, now).Header.(HeaderMap)
}

// headerMap holds p's sample headers and then the signed request's.
func headerMap(p *Provider, signed []Header) HeaderMap {
	h := HeaderMap{}
	for _, kv := range append(append([]Header(nil), p.SampleHeaders...), signed...) {
		h[kv.Key] = kv.Value
	}
	return h
}

// TestRun covers Provider.Run in enforce and report mode.
func TestRun(t *testing.T) {
	neteaseBody := fixture(t, "netease-nertc", "503-play-started.json")
	neteaseGood := neteaseSign(neteaseBody, neteaseSecret, "1712900013100")
	neteaseBad := neteaseSign(neteaseBody, "wrong secret", "1712900013100")
	anyrtcBody := fixture(t, "anyrtc", "1-103-broadcaster-join.json")
	tencentBody := fixture(t, "tencent-css", "1-push.json")
	tests := []struct {
		name       string
		p          *Provider
		body       []byte
		header     HeaderMap
		received   time.Time
		auth       Auth
		enforce    bool
		wantReport string // substring of reportErr; empty: nil
		wantErr    string // substring of err; empty: nil
		unverified bool
	}{
		{name: "netease report mode, good signature", p: &NetEaseNERTC, body: neteaseBody, header: neteaseGood, received: time.UnixMilli(1712900013100), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}},
		{name: "netease report mode, bad signature", p: &NetEaseNERTC, body: neteaseBody, header: neteaseBad, received: time.UnixMilli(1712900013100), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}, wantReport: "CheckSum does not match", unverified: true},
		{name: "netease report mode, replay", p: &NetEaseNERTC, body: neteaseBody, header: neteaseGood, received: time.UnixMilli(1712900013100).Add(time.Hour), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}, wantReport: "signature window", unverified: true},
		{name: "netease enforce, good signature", p: &NetEaseNERTC, body: neteaseBody, header: neteaseGood, received: time.UnixMilli(1712900013100), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}, enforce: true},
		{name: "netease enforce, bad signature", p: &NetEaseNERTC, body: neteaseBody, header: neteaseBad, received: time.UnixMilli(1712900013100), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}, enforce: true, wantErr: "CheckSum does not match"},
		{name: "netease report mode, bad signature and bad body", p: &NetEaseNERTC, body: []byte(`{"eventType":1}`), header: neteaseBad, received: time.UnixMilli(1712900013100), auth: Auth{Secret: []byte(neteaseSecret), MaxSkew: time.Minute}, wantReport: "MD5 header does not match", wantErr: "data", unverified: true},

		{name: "anyrtc report mode, good signature", p: &AnyRTC, body: anyrtcBody, header: HeaderMap{"Ar-Signature": anyrtcSign(anyrtcBody, "s", false)}, received: time.UnixMilli(1712902003412), auth: Auth{Secret: []byte("s"), MaxSkew: time.Minute}},
		{name: "anyrtc report mode, bad signature", p: &AnyRTC, body: anyrtcBody, header: HeaderMap{"Ar-Signature": anyrtcSign(anyrtcBody, "t", false)}, received: time.UnixMilli(1712902003412), auth: Auth{Secret: []byte("s"), MaxSkew: time.Minute}, wantReport: "Ar-Signature does not match", unverified: true},
		{name: "anyrtc report mode, signature missing", p: &AnyRTC, body: anyrtcBody, header: HeaderMap{}, received: time.UnixMilli(1712902003412), auth: Auth{Secret: []byte("s"), MaxSkew: time.Minute}, wantReport: "Ar-Signature header missing", unverified: true},
		{name: "anyrtc enforce, bad signature", p: &AnyRTC, body: anyrtcBody, header: HeaderMap{"Ar-Signature": anyrtcSign(anyrtcBody, "t", false)}, received: time.UnixMilli(1712902003412), auth: Auth{Secret: []byte("s"), MaxSkew: time.Minute}, enforce: true, wantErr: "Ar-Signature does not match"},

		{name: "tencent report mode, good signature", p: &TencentCSS, body: tencentBody, received: time.Unix(1703731478, 0), auth: Auth{Secret: []byte(tencentKey), Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")}},
		{name: "tencent report mode, bad key", p: &TencentCSS, body: tencentBody, received: time.Unix(1703731478, 0), auth: Auth{Secret: []byte("nope"), Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")}, wantReport: "sign does not match", unverified: true},
		{name: "tencent report mode, expired", p: &TencentCSS, body: tencentBody, received: time.Unix(tencentT, 0).Add(time.Hour), auth: Auth{Secret: []byte(tencentKey), Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")}, wantReport: "expired", unverified: true},
		{name: "tencent enforce, bad key", p: &TencentCSS, body: tencentBody, received: time.Unix(1703731478, 0), auth: Auth{Secret: []byte("nope"), Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")}, enforce: true, wantErr: "sign does not match"},

		{name: "no secret, unsigned allowed: accepted but unverified", p: &AnyRTC, body: anyrtcBody, received: time.UnixMilli(1712902003412), auth: Auth{AllowUnsigned: true}, enforce: true, unverified: true},
		{name: "no secret, unsigned not allowed, enforce", p: &AnyRTC, body: anyrtcBody, received: time.UnixMilli(1712902003412), auth: Auth{}, enforce: true, wantErr: "no secret is configured"},
		{name: "no secret, unsigned not allowed, report mode", p: &AnyRTC, body: anyrtcBody, received: time.UnixMilli(1712902003412), auth: Auth{}, wantReport: "no secret is configured", unverified: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = HeaderMap{}
			}
			c := &Callback{Body: tt.body, Header: header, Received: tt.received}
			var ev Event
			auth := tt.auth
			reportErr, err := tt.p.Run(c, &auth, tt.enforce, &ev)
			checkErr(t, "reportErr", reportErr, tt.wantReport)
			checkErr(t, "err", err, tt.wantErr)
			if tt.wantReport != "" {
				var ae *AuthError
				if !errors.As(reportErr, &ae) {
					t.Errorf("reportErr is %T, want *AuthError", reportErr)
				}
			}
			if tt.enforce && tt.wantErr != "" {
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Errorf("enforced failure is %T, want *AuthError", err)
				}
				if len(ev.ID) != 0 {
					t.Errorf("enforced failure still normalised the event: id %s", ev.ID)
				}
				return
			}
			if tt.wantErr != "" {
				return
			}
			if ev.Unverified != tt.unverified {
				t.Errorf("ev.Unverified = %v, want %v", ev.Unverified, tt.unverified)
			}
			if len(ev.ID) == 0 || len(ev.Type) == 0 {
				t.Errorf("event not filled: %s", ev.AppendStructured(nil))
			}
			if out := ev.AppendStructured(nil); strings.Contains(string(out), `"verified":"false"`) != tt.unverified {
				t.Errorf("verified extension does not match Unverified=%v: %s", tt.unverified, out)
			}
		})
	}
}

func checkErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s = %v, want nil", name, err)
	case want != "" && err == nil:
		t.Errorf("%s = nil, want an error containing %q", name, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s = %v, want it to contain %q", name, err, want)
	}
}

// Package interop holds the tests that check callbridge against other parties' own libraries
// (LiveKit's protocol module, the Standard Webhooks reference library, ...). It is a module of
// its own so that the service's go.mod requires only what the service links.
package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lkwebhook "github.com/livekit/protocol/webhook"

	"github.com/callbridge/callbridge/normalize"
)

// Interoperability with LiveKit's own Go library, github.com/livekit/protocol (a test-only
// requirement of this module's: the service's go.mod does not carry it).
//
// livekitSign signs body as livekit-server's webhook notifier does (webhook/url_notifier.go,
// URLNotifier.send): the same calls, made by LiveKit's code, not ours.
const (
	livekitKey    = "APIxRk4aWcNuHrZ"
	livekitSecret = "aWG1tHbV8dQ4RkTzQe3Hc0zJxYpL2mNf7sUoIvKq9Bw"
)

// livekitAuth is LiveKit's Auth with API_KEY set to key.
func livekitAuth(t testing.TB, key string) normalize.Auth {
	t.Helper()
	opts, err := normalize.LiveKit.Options(map[string]string{"API_KEY": key})
	if err != nil {
		t.Fatal(err)
	}
	return normalize.Auth{Secret: []byte(livekitSecret), MaxSkew: time.Minute, Options: opts}
}

func bodySHA(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// fixture is testdata/<provider>/<name> of the service's module.
func fixture(t testing.TB, provider, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", provider, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureNames are the JSON fixtures in testdata/<provider>.
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

func livekitSign(t *testing.T, key, secret string, body []byte) string {
	t.Helper()
	at := auth.NewAccessToken(key, secret).
		SetValidFor(5 * time.Minute).
		SetSha256(bodySHA(body))
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Tokens LiveKit's library makes pass our Verify; a tampered body, a wrong secret or key, and
// an expired token do not.
func TestLiveKitInteropVerify(t *testing.T) {
	for _, name := range fixtureNames(t, "livekit") {
		body := fixture(t, "livekit", name)
		token := livekitSign(t, livekitKey, livekitSecret, body)
		verify := func(body []byte, token string, a normalize.Auth, received time.Time) error {
			_, err := normalize.LiveKit.Verify(&normalize.Callback{Body: body, Header: headerMap{"Authorization": token}, Received: received}, &a)
			return err
		}
		now := time.Now() // ToJWT signs with time.Now
		good := livekitAuth(t, livekitKey)
		if err := verify(body, token, good, now); err != nil {
			t.Fatalf("%s: LiveKit's token refused: %v", name, err)
		}
		if err := verify(body, "Bearer "+token, good, now); err != nil {
			t.Fatalf("%s: LiveKit's token with Bearer refused: %v", name, err)
		}
		tampered := bytes.Replace(body, []byte(`"room1"`), []byte(`"room2"`), 1)
		if bytes.Equal(tampered, body) {
			tampered = append(bytes.TrimSpace(body), ' ')
		}
		if err := verify(tampered, token, good, now); err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("%s: tampered body: err %v", name, err)
		}
		wrongSecret := good
		wrongSecret.Secret = []byte("not the secret")
		if err := verify(body, token, wrongSecret, now); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Errorf("%s: wrong secret: err %v", name, err)
		}
		if err := verify(body, livekitSign(t, "APIsomeoneelse", livekitSecret, body), good, now); err == nil || !strings.Contains(err.Error(), "iss") {
			t.Errorf("%s: another key's token: err %v", name, err)
		}
		if err := verify(body, token, good, now.Add(5*time.Minute+good.MaxSkew+2*time.Second)); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Errorf("%s: expired: err %v", name, err)
		}
	}
}

// What `callbridge send` signs (our Sign) passes LiveKit's own receiver, webhook.Receive.
func TestLiveKitInteropSign(t *testing.T) {
	a := livekitAuth(t, livekitKey)
	for _, name := range fixtureNames(t, "livekit") {
		signed, headers, err := normalize.LiveKit.Sign(fixture(t, "livekit", name), &a, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest("POST", "http://callbridge.test/", bytes.NewReader(signed))
		for _, h := range headers {
			r.Header.Set(h.Key, h.Value)
		}
		got, err := lkwebhook.Receive(r, auth.NewSimpleKeyProvider(livekitKey, livekitSecret))
		if err != nil {
			t.Fatalf("%s: LiveKit's webhook.Receive refused our signature: %v", name, err)
		}
		if !bytes.Equal(got, signed) {
			t.Fatalf("%s: body changed", name)
		}
		r, _ = http.NewRequest("POST", "http://callbridge.test/", bytes.NewReader(signed))
		for _, h := range headers {
			r.Header.Set(h.Key, h.Value)
		}
		if _, err := lkwebhook.Receive(r, auth.NewSimpleKeyProvider(livekitKey, "another secret")); err == nil {
			t.Fatalf("%s: LiveKit accepted our signature under another secret", name)
		}
	}
}

// headerMap is a case-insensitive normalize.Headers.
type headerMap map[string]string

func (h headerMap) Peek(key string) []byte {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return []byte(v)
		}
	}
	return nil
}

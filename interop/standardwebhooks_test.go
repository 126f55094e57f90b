package interop

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/callbridge/callbridge/normalize"
)

// The Standard Webhooks specification's published test secret ("Signature scheme").
const vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func mustWebhook(t testing.TB, name string, values map[string]string, secret string) *normalize.Provider {
	t.Helper()
	p, err := normalize.NewWebhook(name, values, []byte(secret))
	if err != nil {
		t.Fatalf("NewWebhook(%s, %v): %v", name, values, err)
	}
	return p
}

func wantAuthErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return
	}
	var ae *normalize.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Reason, want) {
		t.Fatalf("Verify = %v, want an AuthError containing %q", err, want)
	}
}

// TestStandardWebhooksReference checks interoperability with the reference Go library both
// ways: what it signs we accept, what we sign it accepts.
func TestStandardWebhooksReference(t *testing.T) {
	ref, err := standardwebhooks.NewWebhook(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	p := mustWebhook(t, "sw", nil, vectorSecret)
	auth := &normalize.Auth{Secret: []byte(vectorSecret), MaxSkew: 5 * time.Minute}
	now := time.Now()
	body := []byte(`{"type":"invoice.paid","timestamp":"2024-04-12T05:33:20.123Z","data":{"id":"in_1","amount":12345678901234567890}}`)

	sig, err := ref.Sign("msg_ref1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	c := &normalize.Callback{Body: body, Received: now, Header: headerMap{
		"webhook-id": "msg_ref1", "webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": sig}}
	if _, err := p.Verify(c, auth); err != nil {
		t.Fatalf("a callback signed by the reference library: %v", err)
	}
	var ev normalize.Event
	if _, err := p.Run(c, auth, true, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.ID) != "msg_ref1" || string(ev.Type) != "io.callbridge.webhook.sw.invoice.paid" ||
		string(ev.ProviderEventType) != "invoice.paid" || string(ev.Source) != "/callbridge/sw" ||
		!ev.Time.Equal(time.Date(2024, 4, 12, 5, 33, 20, 123e6, time.UTC)) || ev.Unverified {
		t.Fatalf("event = id %s type %s pet %s source %s time %s unverified %v", ev.ID, ev.Type, ev.ProviderEventType, ev.Source, ev.Time, ev.Unverified)
	}
	if !bytes.Contains(ev.Data, []byte(`"amount":12345678901234567890`)) {
		t.Fatalf("data lost the number's bytes: %s", ev.Data)
	}

	signed, headers, err := p.Sign(body, auth, now)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, kv := range headers {
		h.Set(kv.Key, kv.Value)
	}
	if err := ref.Verify(signed, h); err != nil {
		t.Fatalf("the reference library refuses what Sign made: %v", err)
	}
	// And a signature the reference library makes under another key is refused.
	other, _ := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("another key, 24 bytes...")))
	sig, _ = other.Sign("msg_ref1", now, body)
	c.Header.(headerMap)["webhook-signature"] = sig
	_, err = p.Verify(c, auth)
	wantAuthErr(t, err, "no v1 signature")
}

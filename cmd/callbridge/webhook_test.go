package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	billingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ghSecret      = "It's a Secret to Everybody"
)

// standardWebhookSign is the Standard Webhooks signature of body sent as message id at ts:
// "v1," and the base64 HMAC-SHA256 of "id.unix-seconds.body" under the secret after "whsec_",
// base64-decoded.
func standardWebhookSign(t *testing.T, secret, id string, ts time.Time, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// sourcesEnv configures two generic sources: billing, a Standard Webhooks sender, and gh-hooks,
// a GitHub-style sender (X-Hub-Signature-256: sha256=<hex>), its secret read from a file.
func sourcesEnv(t *testing.T) map[string]string {
	secretFile := filepath.Join(t.TempDir(), "gh-secret")
	if err := os.WriteFile(secretFile, []byte(ghSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"CALLBRIDGE_ALLOW_UNSIGNED":                      "false",
		"CALLBRIDGE_WEBHOOK_SOURCES":                     "billing, gh-hooks",
		"CALLBRIDGE_WEBHOOK_BILLING_SECRET":              billingSecret,
		"CALLBRIDGE_WEBHOOK_BILLING_SUBJECT":             "json:data.customer",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SCHEME":             "hmac-sha256",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SECRET_FILE":        secretFile,
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SIGNATURE_HEADER":   "X-Hub-Signature-256",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SIGNATURE_PREFIX":   "sha256=",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SIGNATURE_ENCODING": "hex",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_TYPE":               "header:X-GitHub-Event",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_ID":                 "header:X-GitHub-Delivery",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_SUBJECT":            "json:repository.full_name",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_TIME":               "json:head_commit.timestamp",
		"CALLBRIDGE_WEBHOOK_GH_HOOKS_VERIFY":             "enforce",
		"CALLBRIDGE_WEBHOOK_BILLING_VERIFY":              "enforce",
		"CALLBRIDGE_WEBHOOK_BILLING_SIGNATURE_ENCODING":  "hex", // ignored by standard-webhooks
		"CALLBRIDGE_WEBHOOK_BILLING_TIME":                "",    // empty: the default
	}
}

// TestGenericSources: a bridge configured with a Standard Webhooks source and a GitHub-style
// source receives signed callbacks over HTTP; the events land in the stream with the type, id,
// subject and time the settings say, data byte for byte; a wrong or missing signature is 401.
func TestGenericSources(t *testing.T) {
	b := startBridge(t, sourcesEnv(t))
	now := time.Now()

	// billing: signed as the Standard Webhooks specification says, written out here rather than
	// by our Sign (interop/ checks the reference library against normalize both ways).
	billingBody := []byte(`{"type":"invoice.paid","timestamp":"2024-04-12T05:33:20.123Z","data":{"customer":"cus_42","amount":12345678901234567890}}`)
	sig := standardWebhookSign(t, billingSecret, "msg_2a1b", now, billingBody)
	billing := func(sig string) request {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("webhook-id", "msg_2a1b")
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		if sig != "" {
			h.Set("webhook-signature", sig)
		}
		return request{path: "/v1/callbacks/billing", body: billingBody, header: h}
	}

	ghBody := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"octo/hello","id":1296269},"head_commit":{"id":"6dcb09b","timestamp":"2024-04-12T07:33:20+02:00"},"size":18446744073709551617}`)
	mac := hmac.New(sha256.New, []byte(ghSecret))
	mac.Write(ghBody)
	gh := func(sig string) request {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("X-GitHub-Event", "push")
		h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		if sig != "" {
			h.Set("X-Hub-Signature-256", sig)
		}
		return request{path: "/v1/callbacks/gh-hooks", body: ghBody, header: h}
	}

	for _, tc := range []struct {
		name string
		r    request
		want int
	}{
		{"billing wrong signature", billing("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), 401},
		{"billing no signature", billing(""), 401},
		{"gh wrong signature", gh("sha256=" + strings.Repeat("0", 64)), 401},
		{"gh no prefix", gh(hex.EncodeToString(mac.Sum(nil))), 401},
		{"gh no signature", gh(""), 401},
		{"billing", billing(sig), 200},
		{"billing retried", billing(sig), 200},
		{"gh", gh("sha256=" + hex.EncodeToString(mac.Sum(nil))), 200},
		{"unknown source", request{path: "/v1/callbacks/nosuch", body: ghBody}, 404},
	} {
		if code, _, body := b.post(t, tc.r); code != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, code, body, tc.want)
		}
	}

	msgs := streamMessages(t, b.natsURL(t), "CALLBACKS")
	type ce struct {
		ID, Source, Type, Subject, Time, Provider, ProviderEventType string
		Data                                                         json.RawMessage
	}
	got := map[string]ce{}
	for _, m := range msgs {
		var e ce
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			t.Fatalf("%s: %v", m.Subject(), err)
		}
		if _, dup := got[m.Subject()]; dup {
			t.Errorf("%s: published twice (a retry must be deduplicated)", m.Subject())
		}
		got[m.Subject()] = e
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages on the stream, want 2: %v", len(msgs), got)
	}
	want := map[string]ce{
		"callbacks.billing.invoice.paid": {ID: "msg_2a1b", Source: "/callbridge/billing", Type: "io.callbridge.webhook.billing.invoice.paid",
			Subject: "cus_42", Time: "2024-04-12T05:33:20.123Z", Provider: "billing", ProviderEventType: "invoice.paid"},
		"callbacks.gh-hooks.push": {ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Source: "/callbridge/gh-hooks", Type: "io.callbridge.webhook.gh-hooks.push",
			Subject: "octo/hello", Time: "2024-04-12T05:33:20.000Z", Provider: "gh-hooks", ProviderEventType: "push"},
	}
	bodies := map[string][]byte{"callbacks.billing.invoice.paid": billingBody, "callbacks.gh-hooks.push": ghBody}
	for subject, w := range want {
		e, ok := got[subject]
		if !ok {
			t.Errorf("nothing on %s; got %v", subject, got)
			continue
		}
		if !bytes.Equal(e.Data, bodies[subject]) {
			t.Errorf("%s: data %s, want the body byte for byte", subject, e.Data)
		}
		e.Data, w.Data = nil, nil
		if !reflect.DeepEqual(e, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", subject, e, w)
		}
	}
}

// TestGenericSourceConfigErrors: a source's setting that cannot work stops start-up with one line
// naming the variable, exit 2.
func TestGenericSourceConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // the line starts with it
	}{
		{"bad name", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "Billing"}, "CALLBRIDGE_WEBHOOK_SOURCES="},
		{"twice", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "a,a"}, "CALLBRIDGE_WEBHOOK_SOURCES="},
		{"built-in id", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x,agora"}, "CALLBRIDGE_WEBHOOK_SOURCES="},
		{"scheme", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x", "CALLBRIDGE_WEBHOOK_X_SCHEME": "hmac-md5"}, "CALLBRIDGE_WEBHOOK_X_SCHEME="},
		{"verify", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x", "CALLBRIDGE_WEBHOOK_X_VERIFY": "sometimes"}, "CALLBRIDGE_WEBHOOK_X_VERIFY="},
		{"hmac without header", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "my-src", "CALLBRIDGE_WEBHOOK_MY_SRC_SCHEME": "hmac-sha1", "CALLBRIDGE_WEBHOOK_MY_SRC_TYPE": "json:t"},
			"CALLBRIDGE_WEBHOOK_MY_SRC_SIGNATURE_HEADER="},
		{"hmac without type", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x", "CALLBRIDGE_WEBHOOK_X_SCHEME": "hmac-sha256", "CALLBRIDGE_WEBHOOK_X_SIGNATURE_HEADER": "X-Sig"},
			"CALLBRIDGE_WEBHOOK_X_TYPE="},
		{"attribute source", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x", "CALLBRIDGE_WEBHOOK_X_SUBJECT": "body:x"}, `CALLBRIDGE_WEBHOOK_X_SUBJECT="body:x"`},
		{"secret", map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "x", "CALLBRIDGE_WEBHOOK_X_SECRET": "whsec_!!not-base64"}, "CALLBRIDGE_WEBHOOK_X_SECRET=<redacted>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("CALLBRIDGE_DATA_DIR", t.TempDir())
			t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"serve"}, &stdout, &stderr); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
			}
			line := strings.TrimSuffix(stderr.String(), "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, tc.want) {
				t.Errorf("want one line starting %s, got %q", tc.want, stderr.String())
			}
			if strings.Contains(line, "not-base64") {
				t.Errorf("the secret is shown: %q", line)
			}
		})
	}
}

// TestEnvListsSources: callbridge env documents the pattern, and lists a configured source's
// variables.
func TestEnvListsSources(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"env"}, &stdout, &stderr); code != 0 {
		t.Fatalf("env: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "CALLBRIDGE_WEBHOOK_SOURCES") || !strings.Contains(stdout.String(), "CALLBRIDGE_WEBHOOK_<NAME>_*") {
		t.Errorf("env does not document generic sources:\n%s", stdout.String())
	}
	t.Setenv("CALLBRIDGE_WEBHOOK_SOURCES", "billing")
	t.Setenv("CALLBRIDGE_WEBHOOK_BILLING_SECRET", billingSecret)
	stdout.Reset()
	if code := run([]string{"env"}, &stdout, &stderr); code != 0 {
		t.Fatalf("env: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, v := range []string{"CALLBRIDGE_WEBHOOK_BILLING_SCHEME", "CALLBRIDGE_WEBHOOK_BILLING_SECRET_FILE", "CALLBRIDGE_WEBHOOK_BILLING_TYPE", "CALLBRIDGE_WEBHOOK_BILLING_VERIFY"} {
		if !strings.Contains(out, v) {
			t.Errorf("env does not list %s", v)
		}
	}
	if strings.Contains(out, "MfKQ9r8") {
		t.Error("env prints the secret")
	}
}

// `callbridge send` reaches a generic source the way it reaches a built-in provider: it reads
// the one registry the bridge builds, sources included (before, it looked only at the built-ins
// and answered "unknown provider").
func TestSendToGenericSource(t *testing.T) {
	b := startBridge(t, sourcesEnv(t))
	var stdout, stderr bytes.Buffer
	if code := run([]string{"send", "-url", "http://" + b.addr.String(), "billing"}, &stdout, &stderr); code != 0 {
		t.Fatalf("send billing: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "200 OK") || !strings.Contains(stdout.String(), "(signed") {
		t.Errorf("send billing: %q, want a signed callback answered 200", stdout.String())
	}
	if n := len(streamMessages(t, b.natsURL(t), "CALLBACKS")); n != 1 {
		t.Errorf("%d events on the stream, want 1", n)
	}
}

package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/normalize"
)

func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CALLBRIDGE_") || strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// An invalid value stops start-up with one line naming the variable, the value and what is
// allowed, and exit code 2.
func TestRunRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"CALLBRIDGE_MAX_BODY_BYTES", "abc", []string{"CALLBRIDGE_MAX_BODY_BYTES", "abc", "integer"}},
		{"CALLBRIDGE_SINK", "redis", []string{"CALLBRIDGE_SINK", "redis", "nats"}},
		{"CALLBRIDGE_PUBLISH_TIMEOUT", "soon", []string{"CALLBRIDGE_PUBLISH_TIMEOUT", "soon", "duration"}},
		{"CALLBRIDGE_TOPIC_TEMPLATE", "callbacks.{nope}", []string{"CALLBRIDGE_TOPIC_TEMPLATE", "{nope}", "{provider}"}},
		{"CALLBRIDGE_NETEASE_NERTC_VERIFY", "sometimes", []string{"CALLBRIDGE_NETEASE_NERTC_VERIFY", "sometimes", "report"}},
		// A provider's publish timeout may not exceed the global one (5s by default).
		{"CALLBRIDGE_OVENMEDIAENGINE_PUBLISH_TIMEOUT", "6s", []string{`CALLBRIDGE_OVENMEDIAENGINE_PUBLISH_TIMEOUT="6s"`, "CALLBRIDGE_PUBLISH_TIMEOUT (5s)"}},
		// Variables providers declare themselves keep their names and their one-line errors.
		{"CALLBRIDGE_ANYRTC_SIGNATURE", "md5", []string{`CALLBRIDGE_ANYRTC_SIGNATURE="md5": allowed: hmac-sha1, hmac-sha256`}},
		{"CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE", "-5m", []string{`CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE="-5m": want a duration of 0 or more`}},
		{"CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE", "later", []string{`CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE="later"`}},
		// Templates that would start and then fail every callback.
		{"CALLBRIDGE_TOPIC_TEMPLATE", "cb-{provider}.{eventtype}", []string{"CALLBRIDGE_TOPIC_TEMPLATE", "first subject token must be literal"}},
		{"CALLBRIDGE_TOPIC_TEMPLATE", "{provider}.{eventtype}", []string{"CALLBRIDGE_TOPIC_TEMPLATE", "first subject token must be literal"}},
		{"CALLBRIDGE_TOPIC_TEMPLATE", "callbacks..{provider}", []string{"CALLBRIDGE_TOPIC_TEMPLATE", "empty"}},
		// A shutdown that cannot let in-flight callbacks finish (delay 5s + publish 5s).
		{"CALLBRIDGE_SHUTDOWN_TIMEOUT", "6s", []string{"CALLBRIDGE_SHUTDOWN_TIMEOUT", "6s", "CALLBRIDGE_SHUTDOWN_DELAY plus CALLBRIDGE_PUBLISH_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("CALLBRIDGE_DATA_DIR", t.TempDir())
			t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
			t.Setenv("CALLBRIDGE_EMBEDDED_NATS_LISTEN", "127.0.0.1:0")
			t.Setenv(tt.name, tt.value)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"serve"}, &stdout, &stderr); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
			}
			line := strings.TrimSuffix(stderr.String(), "\n")
			if strings.Contains(line, "\n") {
				t.Errorf("more than one line: %q", stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q does not mention %q", line, w)
				}
			}
		})
	}
}

// Every setting a provider declares is read by serve: a value its own Parse refuses stops
// start-up with one line naming the variable, exit 2.
func TestRunRejectsInvalidProviderSettings(t *testing.T) {
	for _, spec := range providerSpecs() {
		for _, v := range spec.Own {
			name := spec.VarName(v.Name)
			for _, bad := range []string{"not-a-value", "-1s"} {
				if _, ok := v.Check(bad); ok {
					continue // a text setting takes anything
				}
				t.Run(name+"="+bad, func(t *testing.T) {
					clearEnv(t)
					t.Setenv("CALLBRIDGE_DATA_DIR", t.TempDir())
					t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
					t.Setenv(name, bad)
					var stdout, stderr bytes.Buffer
					if code := run([]string{"serve"}, &stdout, &stderr); code != 2 {
						t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
					}
					if line := strings.TrimSuffix(stderr.String(), "\n"); strings.Contains(line, "\n") || !strings.HasPrefix(line, name+"=") {
						t.Errorf("want one line naming %s, got %q", name, stderr.String())
					}
				})
			}
		}
	}
}

// A setting a provider requires with its secret (LiveKit's API key) stops start-up when the
// secret is set without it: one line naming both variables, exit 2, and not the secret.
func TestRunRequiresSettingsWithSecret(t *testing.T) {
	for _, p := range normalize.Builtins() {
		for _, s := range p.Settings {
			if !s.WithSecret {
				continue
			}
			spec := specOf(t, p.ID)
			name, secretName := spec.VarName(s.Name), spec.VarName(spec.SecretVar)
			t.Run(name, func(t *testing.T) {
				clearEnv(t)
				t.Setenv("CALLBRIDGE_DATA_DIR", t.TempDir())
				t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
				t.Setenv(secretName, testSecret(p.ID))
				var stdout, stderr bytes.Buffer
				if code := run([]string{"serve"}, &stdout, &stderr); code != 2 {
					t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
				}
				line := strings.TrimSuffix(stderr.String(), "\n")
				if strings.Contains(line, "\n") || !strings.Contains(line, name) || !strings.Contains(line, secretName) || strings.Contains(line, testSecret(p.ID)) {
					t.Errorf("want one line naming %s and %s, without the secret; got %q", name, secretName, stderr.String())
				}
			})
		}
	}
}

// CALLBRIDGE_ANYRTC_SIGNATURE reaches the running bridge's Verify: with hmac-sha256 an
// Ar-Signature computed by hand with HMAC-SHA256 is accepted and one with HMAC-SHA1 refused.
func TestProviderSettingReachesVerify(t *testing.T) {
	env := signedEnv()
	env["CALLBRIDGE_ANYRTC_SIGNATURE"] = "hmac-sha256"
	b := startBridge(t, env)
	body := []byte(fmt.Sprintf(`{"noticeId":"n-1","productId":1,"eventType":101,"notifyMs":%d,"payload":{"channelName":"c","ts":1712902003}}`, time.Now().UnixMilli()))
	for _, tt := range []struct {
		hash   func() hash.Hash
		status int
	}{{sha256.New, 200}, {sha1.New, 401}} {
		mac := hmac.New(tt.hash, []byte(testSecret("anyrtc")))
		mac.Write(body)
		r := request{path: "/v1/callbacks/anyrtc", body: body, header: http.Header{"Ar-Signature": {hex.EncodeToString(mac.Sum(nil))}}}
		if status, _, reply := b.post(t, r); status != tt.status {
			t.Errorf("HMAC of size %d: %d %s, want %d", mac.Size(), status, reply, tt.status)
		}
	}
}

func TestEnvCommand(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBRIDGE_ANYRTC_SECRET", "s3cr3t-value")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"env"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "s3cr3t-value") {
		t.Error("env printed a secret")
	}
	for _, name := range []string{"CALLBRIDGE_LISTEN", "CALLBRIDGE_NATS_URL", "CALLBRIDGE_ANYRTC_SECRET", "CALLBRIDGE_TENCENT_CSS_URL_TOKEN_FILE", "CALLBRIDGE_MAX_CLOCK_SKEW",
		"CALLBRIDGE_ANYRTC_SIGNATURE", "CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE"} {
		if !strings.Contains(out, name) {
			t.Errorf("env does not list %s", name)
		}
	}
}

// `serve -h` prints the usage; it does not start a bridge.
func TestServeHelp(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:1") // would fail to listen if it started
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"serve", arg}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: callbridge") {
			t.Errorf("serve %s: exit %d, stdout %q, stderr %q", arg, code, stdout.String(), stderr.String())
		}
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "callbridge ") {
		t.Errorf("version: %d %q", code, stdout.String())
	}
	if code := run([]string{"frobnicate"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	for _, args := range [][]string{{"tail", "extra"}, {"replay", "extra"}, {"send"}, {"serve", "extra"}} {
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}

// `callbridge send` signs with this environment's secrets and token and gets a 200 from a bridge
// that enforces them; the event lands once per send of a distinct body.
func TestSendCommand(t *testing.T) {
	b := startBridge(t, signedEnv())
	base := "http://" + b.addr.String()
	file := filepath.Join(t.TempDir(), "relay.json")
	os.WriteFile(file, fixtures(t, "tencent-css")["314-task-exit.json"], 0o644)
	type sendCase struct {
		args []string
		code int
		out  string
	}
	var tests []sendCase
	for _, p := range normalize.Builtins() { // every provider's Sample, signed by its own Sign
		tests = append(tests, sendCase{[]string{"-url", base, p.ID}, 0, "200 OK"})
	}
	tests = append(tests, []sendCase{
		{[]string{"-url", base, "tencent-css", file}, 0, "/v1/callbacks/tencent-css/<token>"},
		{[]string{"-url", base, "no-such-provider"}, 2, ""},
		{[]string{"-url", base}, 2, ""},
	}...)
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"send"}, tt.args...), &stdout, &stderr); code != tt.code {
			t.Errorf("send %v: exit %d, want %d\n%s%s", tt.args, code, tt.code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), tt.out) {
			t.Errorf("send %v: %q does not say %q", tt.args, stdout.String(), tt.out)
		}
		if strings.Contains(stdout.String()+stderr.String(), tencentToken) {
			t.Errorf("send %v printed the URL token", tt.args)
		}
	}
	// A wrong secret here gets the bridge's 401 and exit 1.
	t.Setenv("CALLBRIDGE_NETEASE_NERTC_APP_SECRET", "not-the-secret")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"send", "-url", base, "netease-nertc"}, &stdout, &stderr); code != 1 || !strings.Contains(stdout.String(), "401") {
		t.Errorf("wrong secret: exit %d, %s", code, stdout.String())
	}
	want := eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("tencent-css")), fixtures(t, "tencent-css")["314-task-exit.json"])
	for _, p := range normalize.Builtins() {
		want += eventCount(t, p, p.Sample)
	}
	if n := len(streamMessages(t, b.natsURL(t), "CALLBACKS")); n != want {
		t.Errorf("%d events on the stream, want %d", n, want)
	}
}

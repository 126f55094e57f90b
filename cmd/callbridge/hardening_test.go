package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// SIGTERM while the broker is still being reached is a clean stop: exit 0 (SPEC §7).
func TestSIGTERMWhileConnecting(t *testing.T) {
	clearEnv(t)
	listen := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	t.Setenv("CALLBRIDGE_LISTEN", listen)
	t.Setenv("CALLBRIDGE_NATS_URL", "nats://127.0.0.1:"+strconv.Itoa(testenv.FreePort(t))) // nobody there
	t.Setenv("CALLBRIDGE_ALLOW_UNSIGNED", "true")
	code := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { code <- run([]string{"serve"}, io.Discard, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bridge never served /healthz while connecting")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d, want 0; log:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
}

// The body limit is checked against the broker's message limit: a limit that was set and does
// not fit stops start-up (exit 2); the default is lowered to fit.
func TestBodyLimitFitsTheBroker(t *testing.T) {
	srv := testenv.JetStream(t, testenv.Port(testenv.FreePort(t))) // max_payload 1 MiB, the server's default
	t.Cleanup(srv.Shutdown)
	env := map[string]string{"CALLBRIDGE_NATS_URL": srv.ClientURL(), "CALLBRIDGE_ALLOW_UNSIGNED": "true"}

	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
	t.Setenv("CALLBRIDGE_MAX_BODY_BYTES", "1048576")
	var stderr bytes.Buffer
	if code := run([]string{"serve"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "CALLBRIDGE_MAX_BODY_BYTES") {
		t.Fatalf("a set limit over the broker's: exit %d, %s", code, stderr.String())
	}

	os.Unsetenv("CALLBRIDGE_MAX_BODY_BYTES")
	b, logs := startLogged(t, env)
	if !strings.Contains(logs.String(), "body limit lowered") {
		t.Errorf("default limit not lowered:\n%s", logs.String())
	}
	big := signed("netease-nertc", []byte(`{"eventType":503,"data":{"taskId":"t","pad":"`+strings.Repeat("p", 1040000)+`"}}`), time.Now())
	if status, _, reply := b.post(t, big); status != 413 {
		t.Errorf("a body that cannot fit the broker: %d %s, want 413", status, reply)
	}
}

// A misspelt variable is warned about, with the name it was probably meant to be.
func TestUnknownVariableWarned(t *testing.T) {
	env := signedEnv()
	env["CALLBRIDGE_MAX_INFLIGH"] = "10"
	for k, v := range env {
		t.Setenv(k, v)
	}
	_, logs := startLogged(t, env)
	if !strings.Contains(logs.String(), "CALLBRIDGE_MAX_INFLIGH (did you mean CALLBRIDGE_MAX_INFLIGHT?)") {
		t.Errorf("no warning:\n%s", logs.String())
	}
}

// replay ends when no broker answers, saying so.
func TestReplayWithoutBroker(t *testing.T) {
	old := replayConnectTimeout
	replayConnectTimeout = time.Second
	t.Cleanup(func() { replayConnectTimeout = old })
	clearEnv(t)
	t.Setenv("CALLBRIDGE_NATS_URL", "nats://127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"replay"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "no broker reachable") || time.Since(start) > 10*time.Second {
		t.Errorf("exit %d after %s: %s", code, time.Since(start), stderr.String())
	}
}

// A dead letter that does not record its verification is replayed as unverified, with an id its
// sender did not choose.
func TestReplayKeepsVerification(t *testing.T) {
	b := startBridge(t, signedEnv())
	js := jetStreamClient(t, b.natsURL(t))
	body := fixtures(t, "anyrtc")["1-103-broadcaster-join.json"]
	for _, verified := range []string{"true", ""} {
		m := nats.NewMsg(publish.DeadLetterSubject("anyrtc"))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, "letter-"+verified)
		if verified != "" {
			m.Header.Set(publish.VerifiedHeader, verified)
		}
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if replayed, kept, err := replayDeadLetters(context.Background(), replayConfig(t, b), normalize.BuiltinRegistry(), testLogger(), &out); err != nil || replayed != 2 || kept != 0 {
		t.Fatalf("replayed %d, kept %d, err %v\n%s", replayed, kept, err, out.String())
	}
	var verified, unverified int
	for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
		if !strings.HasPrefix(m.Subject(), "callbacks.anyrtc.") {
			continue
		}
		switch id := m.Headers().Get(jetstream.MsgIDHeader); {
		case strings.Contains(string(m.Data()), `"verified":"false"`) && id != "anyrtc/2000001428:4331:103":
			unverified++
		case !strings.Contains(string(m.Data()), `"verified"`) && id == "anyrtc/2000001428:4331:103":
			verified++
		default:
			t.Errorf("replayed event id %s: %s", id, m.Data())
		}
	}
	if verified != 1 || unverified != 1 {
		t.Errorf("%d verified and %d unverified events, want one of each", verified, unverified)
	}
}

// startLogged starts a bridge like startBridge, and returns its log.
func startLogged(t *testing.T, env map[string]string) (*runningBridge, *testenv.Log) {
	t.Helper()
	logs := &testenv.Log{}
	cfg, ln := testConfig(t, env)
	b, err := start(context.Background(), cfg, ln, newLogger(logs, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.stop() })
	return b, logs
}

// replayConfig is the environment's configuration pointed at b's embedded server, as replay
// run beside b would read it.
func replayConfig(t *testing.T, b *runningBridge) *config.Config {
	t.Helper()
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	cfg.NATSURL = b.natsURL(t)
	return cfg
}

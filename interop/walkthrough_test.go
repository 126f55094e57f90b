package interop

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/interop/kafkadev"
	"github.com/callbridge/callbridge/interop/rtcconsume"
)

// The Kafka half of docs/consuming.md, run as written there: what `go run ./cmd/kafkadev`
// starts (a kfake broker and an srfake registry), the callbridge binary with the walkthrough's
// environment, `callbridge send` of three providers, each signed as its provider signs, and
// rtcconsume's logic on callbacks.rtc.participant.joined. Every record must carry its schema id
// in the header, the id must resolve through the registry to the subject <topic>-value, and the
// value must validate: a bridge that stopped marking fails here.
func TestWalkthroughKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bridge; about a minute")
	}
	env, err := kafkadev.Start(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	bin := filepath.Join(t.TempDir(), "callbridge")
	build := exec.Command("go", "build", "-o", bin, "./cmd/callbridge")
	build.Dir = ".." // the bridge's own module: its dependencies are not all interop's
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	listen := freeAddr(t)
	bridgeEnv := append(env.BridgeEnv(rtcconsume.Header),
		"CALLBRIDGE_LISTEN="+listen, "CALLBRIDGE_DATA_DIR="+t.TempDir(), "CALLBRIDGE_SHUTDOWN_DELAY=0s",
		"CALLBRIDGE_LIVEKIT_API_KEY=devkey", "CALLBRIDGE_LIVEKIT_API_SECRET=secret-secret-secret-secret-secret",
		"CALLBRIDGE_AGORA_SECRET=agora-secret", "CALLBRIDGE_ZOOM_SECRET_TOKEN=zoom-secret-token")
	bridge := exec.Command(bin)
	bridge.Env = append(withoutCallbridge(os.Environ()), bridgeEnv...)
	log, _ := os.Create(filepath.Join(t.TempDir(), "bridge.log"))
	bridge.Stdout, bridge.Stderr = log, log
	if err := bridge.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		bridge.Process.Signal(os.Interrupt)
		bridge.Wait()
	}()
	waitReady(t, "http://"+listen+"/readyz", 3*time.Minute)
	providers := []string{"livekit", "agora", "zoom"}
	for _, p := range providers {
		send := exec.Command(bin, "send", p)
		send.Env = bridge.Env
		if out, err := send.CombinedOutput(); err != nil {
			t.Fatalf("callbridge send %s: %v\n%s", p, err, out)
		}
	}
	cfg := rtcconsume.Config{Brokers: []string{env.Broker}, Registry: env.Registry,
		Topics: []string{`callbacks\.rtc\.participant\.joined`}, Regex: true,
		Location: rtcconsume.Header, N: len(providers), Timeout: 30 * time.Second}
	seen := map[string]bool{}
	n, err := rtcconsume.Consume(context.Background(), cfg, func(r rtcconsume.Record) {
		t.Log(r)
		if r.ID == 0 || r.Location != rtcconsume.Header || !r.Valid || r.Subject != r.Topic+"-value" {
			t.Errorf("%s: id %d at the %s, subject %q, valid %v: %v", r.Topic, r.ID, r.Location, r.Subject, r.Valid, r.Err)
		}
		for _, p := range providers {
			if strings.Contains(string(r.Value), `"source":"/callbridge/`+p+`"`) {
				seen[p] = true
			}
		}
	})
	if err != nil || n != len(providers) || len(seen) != len(providers) {
		t.Fatalf("%d records, from %v, want one from each of %v (%v)", n, seen, providers, err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func withoutCallbridge(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CALLBRIDGE_") {
			out = append(out, kv)
		}
	}
	return out
}

func waitReady(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not 200 within %s: %v", url, within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// tailUntilEvent runs tailEvents against cfg and posts distinct signed callbacks to b until the
// tail prints one; it returns that line, decoded by the CloudEvents SDK.
func tailUntilEvent(t *testing.T, b *runningBridge, cfg *config.Config) cloudevents.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan []byte, 100)
	done := make(chan error, 1)
	go func() {
		done <- tailEvents(ctx, cfg, normalize.BuiltinRegistry(), testLogger(), publish.TailOptions{}, func(e []byte) error {
			lines <- append([]byte(nil), e...)
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tail: %v", err)
		}
	}()
	bodies := fixtures(t, "anyrtc")
	var names []string
	for name := range bodies {
		names = append(names, name)
	}
	sort.Strings(names)
	deadline := time.After(30 * time.Second)
	for i := 0; ; i++ {
		// The tail starts at "now": keep posting distinct events until one shows.
		if status, _, reply := b.post(t, signed("anyrtc", bodies[names[i%len(names)]], time.Now())); status != 200 {
			t.Fatalf("post: %d %s", status, reply)
		}
		select {
		case line := <-lines:
			var ev cloudevents.Event
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatalf("tail printed %s: %v", line, err)
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("tail printed an invalid event %s: %v", line, err)
			}
			return ev
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("tail printed nothing in 30 s")
		}
	}
}

// tailBridgeNATS starts a bridge publishing in content mode to its embedded JetStream, and the
// configuration a tail of it reads.
func tailBridgeNATS(t *testing.T, mode string) (*runningBridge, *config.Config) {
	t.Helper()
	env := signedEnv()
	env["CALLBRIDGE_CE_MODE"] = mode
	b := startBridge(t, env)
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	cfg.NATSURL = b.natsURL(t)
	return b, cfg
}

func TestTailNATS(t *testing.T) {
	for _, mode := range []string{"structured", "binary"} {
		t.Run(mode, func(t *testing.T) {
			b, cfg := tailBridgeNATS(t, mode)
			ev := tailUntilEvent(t, b, cfg)
			if ev.Extensions()["provider"] != "anyrtc" || ev.DataContentType() != "application/json" || len(ev.Data()) == 0 {
				t.Errorf("tailed event %s", ev)
			}
		})
	}
}

func TestTailKafka(t *testing.T) {
	c := testenv.Kafka(t)
	tailsAnyrtc(t, startBridge(t, kafkaEnv(c, "binary")))
}

// tailsAnyrtc checks that a tail configured as b (from the environment) prints b's events.
func tailsAnyrtc(t *testing.T, b *runningBridge) {
	t.Helper()
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	ev := tailUntilEvent(t, b, cfg)
	// anyRTC's event, or its canonical counterpart (provider rtc), whichever the tail met first.
	if p := ev.Extensions()["provider"]; (p != "anyrtc" && p != normalize.CanonicalID) || len(ev.Data()) == 0 {
		t.Errorf("tailed event %s", ev)
	}
}

// tailed is one line callbridge tail printed, with the attributes the tests filter on.
type tailed struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Type     string `json:"type"`
}

// tailCollect runs tailEvents with opts until it has printed want events, then a little longer
// for any more it should not print, and returns them all.
func tailCollect(t *testing.T, cfg *config.Config, opts publish.TailOptions, want int) []tailed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan []byte, 1000)
	done := make(chan error, 1)
	go func() {
		done <- tailEvents(ctx, cfg, normalize.BuiltinRegistry(), testLogger(), opts, func(e []byte) error {
			lines <- append([]byte(nil), e...)
			return nil
		})
	}()
	var got []tailed
	deadline, settle := time.After(30*time.Second), (<-chan time.Time)(nil)
	if want == 0 {
		settle = time.After(2 * time.Second)
	}
read:
	for {
		select {
		case line := <-lines:
			var ev tailed
			if err := json.Unmarshal(line, &ev); err != nil || ev.ID == "" {
				t.Fatalf("tail printed %s: %v", line, err)
			}
			got = append(got, ev)
			if len(got) == want {
				settle = time.After(time.Second)
			}
		case <-settle:
			break read
		case <-deadline:
			t.Fatalf("tail %+v printed %d events in 30 s, want %d: %+v", opts, len(got), want, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("tail: %v", err)
	}
	return got
}

// postTailFixtures posts up to n distinct signed callbacks of provider and returns how many, and
// how many events they make (canonical counterparts included).
func postTailFixtures(t *testing.T, b *runningBridge, provider string, n int) (posted, events int) {
	t.Helper()
	bodies := fixtures(t, provider)
	var names []string
	for name := range bodies {
		if !strings.HasPrefix(name, "unknown") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	names = names[:min(n, len(names))]
	p := normalize.BuiltinRegistry().Lookup([]byte(provider))
	for _, name := range names {
		if status, _, reply := b.post(t, signed(provider, bodies[name], time.Now())); status != 200 {
			t.Fatalf("post %s/%s: %d %s", provider, name, status, reply)
		}
		events += eventCount(t, p, bodies[name])
	}
	return len(names), events
}

// testTailHistory: events published before the tail started are printed with -all, from the
// given time with -since, and only those of a provider or a type with -provider and -type.
func testTailHistory(t *testing.T, b *runningBridge, cfg *config.Config) {
	nA, eA := postTailFixtures(t, b, "anyrtc", 3)
	time.Sleep(100 * time.Millisecond)
	mid := time.Now()
	time.Sleep(100 * time.Millisecond)
	nB, eB := postTailFixtures(t, b, "netease-nertc", 2)

	count := func(evs []tailed, keep func(tailed) bool) int {
		n := 0
		for _, ev := range evs {
			if keep(ev) {
				n++
			}
		}
		return n
	}
	of := func(provider string) func(tailed) bool {
		return func(ev tailed) bool { return ev.Provider == provider }
	}

	all := tailCollect(t, cfg, publish.TailOptions{All: true}, eA+eB)
	if len(all) != eA+eB || count(all, of("anyrtc")) != nA || count(all, of("netease-nertc")) != nB {
		t.Errorf("-all: %+v, want %d anyrtc and %d netease-nertc events and their %d canonical ones", all, nA, nB, eA+eB-nA-nB)
	}

	if got := tailCollect(t, cfg, publish.TailOptions{Since: mid}, eB); len(got) != eB || count(got, of("netease-nertc")) != nB {
		t.Errorf("-since: %+v, want the %d netease-nertc events and their canonical ones only", got, nB)
	}
	if got := tailCollect(t, cfg, publish.TailOptions{All: true, Providers: []string{normalize.CanonicalID}}, eA+eB-nA-nB); len(got) != eA+eB-nA-nB {
		t.Errorf("-provider rtc: %+v, want the %d canonical events", got, eA+eB-nA-nB)
	}

	if got := tailCollect(t, cfg, publish.TailOptions{All: true, Providers: []string{"anyrtc"}}, nA); len(got) != nA || count(got, of("anyrtc")) != nA {
		t.Errorf("-provider anyrtc: %+v, want the %d anyrtc events only", got, nA)
	}
	if got := tailCollect(t, cfg, publish.TailOptions{All: true, Providers: []string{"netease-nertc", "anyrtc"}}, nA+nB); len(got) != nA+nB {
		t.Errorf("-provider netease-nertc,anyrtc: %+v, want all %d", got, nA+nB)
	}

	typ := all[0].Type
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Provider != normalize.CanonicalID {
			typ = all[i].Type // a native type: the canonical ones are shared by both providers
		}
	}
	if got := tailCollect(t, cfg, publish.TailOptions{All: true, Types: []string{typ}}, 1); len(got) != 1 || got[0].Type != typ {
		t.Errorf("-type %s: %+v, want one event of that type", typ, got)
	}
	prefix := normalize.BuiltinRegistry().Lookup([]byte("netease-nertc")).TypePrefix
	for _, pattern := range []string{prefix + "*", strings.TrimSuffix(prefix, ".") + "*"} {
		if got := tailCollect(t, cfg, publish.TailOptions{All: true, Types: []string{pattern}}, nB); len(got) != nB || count(got, of("netease-nertc")) != nB {
			t.Errorf("-type %s: %+v, want the %d netease-nertc events only", pattern, got, nB)
		}
	}
	if got := tailCollect(t, cfg, publish.TailOptions{Since: mid, Providers: []string{"anyrtc"}}, 0); len(got) != 0 {
		t.Errorf("-since and -provider anyrtc: %+v, want none", got)
	}
}

func TestTailHistoryNATS(t *testing.T) {
	for _, mode := range []string{"structured", "binary"} {
		t.Run(mode, func(t *testing.T) {
			b, cfg := tailBridgeNATS(t, mode)
			testTailHistory(t, b, cfg)
		})
	}
}

// TestTailHistoryKafka runs in binary mode (ce_ headers); each tail joins a consumer group of
// its own, which takes seconds, so structured mode, which reads the JSON members as NATS
// does, is left to TestTailAttributes.
func TestTailHistoryKafka(t *testing.T) {
	c := testenv.Kafka(t)
	b := startBridge(t, kafkaEnv(c, "binary"))
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	testTailHistory(t, b, cfg)
}

// TestTailFlags: the flags parse as documented; a bad one, or an unknown provider, is the usage
// and exit 2.
func TestTailFlags(t *testing.T) {
	clearEnv(t)
	now := time.Now()
	var stdout, stderr bytes.Buffer
	opts, _, ok := tailFlags([]string{"-since", "10m", "-provider", "anyrtc,agora", "-provider", "livekit", "-type", "a.b.*", "-type", "x,y"}, now, &stdout, &stderr)
	if !ok || !opts.Since.Equal(now.Add(-10*time.Minute)) || opts.All ||
		strings.Join(opts.Providers, " ") != "anyrtc agora livekit" || strings.Join(opts.Types, " ") != "a.b.* x y" {
		t.Errorf("tailFlags: %+v %v (%s)", opts, ok, stderr.String())
	}
	if opts, _, ok := tailFlags([]string{"-all"}, now, &stdout, &stderr); !ok || !opts.All || !opts.Since.IsZero() {
		t.Errorf("tailFlags -all: %+v %v", opts, ok)
	}
	for _, args := range [][]string{{"-x"}, {"-since", "soon"}, {"-since", "-5m"}, {"-all", "-since", "1m"}, {"-provider", ""}, {"-provider", "a,,b"}, {"extra"}, {"-all", "extra"}, {"-provider", "nosuch"}} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append([]string{"tail"}, args...), &stdout, &stderr); code != 2 || stdout.Len() != 0 {
			t.Errorf("tail %v: exit %d, stdout %q, stderr %q; want 2", args, code, stdout.String(), stderr.String())
		}
	}
	stdout.Reset()
	if code := run([]string{"tail", "-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-since DURATION") {
		t.Errorf("tail -h: exit %d, %q", code, stdout.String())
	}
}

package loadgen

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

// clearEnv unsets every CALLBRIDGE_* and OTEL_* variable for the test: config reads only what
// the test sets.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CALLBRIDGE_") || strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestSchedule(t *testing.T) {
	mix := []*benchProvider{{weight: 2}, {weight: 1}, {weight: 1}}
	if got := schedule(mix); string(got) != string([]uint8{0, 1, 2, 0}) && string(got) != string([]uint8{0, 1, 0, 2}) {
		t.Errorf("schedule 2:1:1 = %v", got)
	}
}

// TestBenchSupplyFresh: requests older than the freshness bound are never handed out; the
// signer replaces them, and what it hands out verifies.
func TestBenchSupplyFresh(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBRIDGE_ANYRTC_SECRET", "s")
	cfg, err := config.Load(bridge.ProviderSpecs())
	if err != nil {
		t.Fatal(err)
	}
	mix, err := parseMix("anyrtc", cfg, normalize.BuiltinRegistry(), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	const maxAge = 100 * time.Millisecond
	s := newSupply(mix, maxAge, 4, 8)
	if err := s.fill(); err != nil {
		t.Fatal(err)
	}
	go s.signer()
	defer s.stop()
	time.Sleep(2 * maxAge)
	src := &reqSource{s: s}
	ids := map[string]bool{}
	for range 20 {
		r, ok := src.next(time.Now())
		if !ok {
			t.Fatal("supply stopped")
		}
		if age := time.Since(src.signed); age > maxAge {
			t.Fatalf("handed out a request signed %v ago", age)
		}
		var body struct{ NoticeID string }
		if err := json.Unmarshal(r.body, &body); err != nil || ids[body.NoticeID] || !strings.HasPrefix(body.NoticeID, "bench-"+s.run+"-") {
			t.Fatalf("noticeId %q repeated or malformed (%v)", body.NoticeID, err)
		}
		ids[body.NoticeID] = true
		c := normalize.Callback{Body: r.body, Header: headerMap(r.header), Received: time.Now()}
		if _, err := normalize.AnyRTC.Verify(&c, &normalize.Auth{Secret: []byte("s"), MaxSkew: 5 * time.Minute}); err != nil {
			t.Fatalf("does not verify: %v", err)
		}
	}
	if s.dropped.Load() == 0 {
		t.Error("no stale chunk was dropped")
	}
}

type headerMap []normalize.Header

func (h headerMap) Peek(key string) []byte {
	for _, kv := range h {
		if strings.EqualFold(kv.Key, key) {
			return []byte(kv.Value)
		}
	}
	return nil
}

// Every provider that says which fields make its event id gets, from bench, callbacks signed as
// it signs them that its own Run accepts, each with an event id of its own: a provider added to
// the registry is benchmarked without an edit to bench, and so is a generic source.
func TestBenchDistinctEveryProvider(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBRIDGE_WEBHOOK_SOURCES", "orders")
	cfg, err := config.Load(bridge.ProviderSpecs())
	if err != nil {
		t.Fatal(err)
	}
	registry, err := bridge.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range registry.All() {
		if len(p.Distinct) == 0 {
			t.Logf("%s: no Distinct fields; bench refuses it", p.ID)
			continue
		}
		t.Run(p.ID, func(t *testing.T) {
			mix, err := parseMix(p.ID, cfg, registry, "http://127.0.0.1:1")
			if err != nil {
				t.Fatal(err)
			}
			auth, err := bridge.ProviderAuth(cfg, p)
			if err != nil {
				t.Fatal(err)
			}
			auth.AllowUnsigned, auth.MaxSkew = true, 5*time.Minute
			chunk, err := newSupply(mix, time.Minute, 8, 8).sign(8, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, r := range chunk.reqs {
				c := normalize.Callback{Body: r.body, Header: headerMap(r.header), Received: time.Now()}
				var ev normalize.Event
				if _, err := p.Run(&c, &auth, true, &ev); err != nil {
					t.Fatalf("%s\n%s", err, r.body)
				}
				if ids[string(ev.ID)] {
					t.Fatalf("id %s twice", ev.ID)
				}
				ids[string(ev.ID)] = true
			}
		})
	}
}

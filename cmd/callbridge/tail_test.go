package main

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// tailUntilEvent runs tailEvents against cfg and posts distinct signed callbacks to b until the
// tail prints one; it returns that line, decoded by the CloudEvents SDK.
func tailUntilEvent(t *testing.T, b *runningBridge, cfg *config.Config) cloudevents.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan []byte, 100)
	done := make(chan error, 1)
	go func() {
		done <- tailEvents(ctx, cfg, normalize.BuiltinRegistry(), testLogger(), func(e []byte) error {
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

func TestTailNATS(t *testing.T) {
	for _, mode := range []string{"structured", "binary"} {
		t.Run(mode, func(t *testing.T) {
			env := signedEnv()
			env["CALLBRIDGE_CE_MODE"] = mode
			b := startBridge(t, env)
			cfg, err := config.Load(providerSpecs())
			if err != nil {
				t.Fatal(err)
			}
			cfg.NATSURL = b.natsURL(t)
			ev := tailUntilEvent(t, b, cfg)
			if ev.Extensions()["provider"] != "anyrtc" || ev.DataContentType() != "application/json" || len(ev.Data()) == 0 {
				t.Errorf("tailed event %s", ev)
			}
		})
	}
}

func TestTailKafka(t *testing.T) {
	c := testenv.Kafka(t)
	b := startBridge(t, kafkaEnv(c, "binary"))
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	ev := tailUntilEvent(t, b, cfg)
	if ev.Extensions()["provider"] != "anyrtc" || len(ev.Data()) == 0 {
		t.Errorf("tailed event %s", ev)
	}
}

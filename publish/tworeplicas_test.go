package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/internal/testenv"
)

// Two replicas, one event (SPEC §10): the same provider retry reaching two bridges at once is
// stored once, and both answer 200. Two sinks, each with its own connection, publish the same
// event at the same moment, many times over, on one server and on an R3 stream of a three-node
// cluster (where the second of two concurrent publishes may be answered 409/10158 while the
// first is replicated: waited out, then a duplicate PubAck). Every publish must succeed and the
// stream must hold each id once.
func TestTwoReplicasOneEvent(t *testing.T) {
	tests := []struct {
		name     string
		servers  int
		replicas int
		events   int
	}{
		{"one server", 1, 1, 400},
		{"R3 on three servers", 3, 3, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var urls []string
			if tt.servers == 1 {
				urls = []string{testenv.JetStream(t).ClientURL()}
			} else {
				for _, s := range testenv.JetStreamCluster(t, tt.servers) {
					urls = append(urls, s.ClientURL())
				}
			}
			// Each sink on its own server where there are several: a leader and a follower.
			a, b := replicaSink(t, urls[0], tt.replicas), replicaSink(t, urls[len(urls)-1], tt.replicas)
			failures := publishPairs(a, b, tt.events)
			for _, f := range failures {
				t.Error(f)
			}
			checkStoredOnce(t, a.js, tt.events, tt.replicas)
			if tt.servers > 1 {
				checkReplicaSettings(t, urls[0], a.js)
			}
		})
	}
}

func replicaSink(t *testing.T, url string, replicas int) *NATS {
	t.Helper()
	cfg := externalConfig(url)
	cfg.Replicas, cfg.CheckReplicas, cfg.Timeout = replicas, true, 5*time.Second
	var s *NATS
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// A second sink may find the stream the first created not yet current on its server.
		if s, err = NewNATS(context.Background(), cfg); err == nil || !Retriable(err) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// publishPairs has a and b publish each of n events at the same moment, eight events at a time,
// and returns what failed.
func publishPairs(a, b *NATS, n int) []string {
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ev := event(fmt.Sprintf("pair-%d", i), fmt.Sprintf("room%d", i%16))
				start := make(chan struct{})
				errs := make(chan error, 2)
				for _, s := range []*NATS{a, b} {
					go func() { <-start; errs <- s.Publish(ev) }()
				}
				close(start)
				for range 2 {
					if err := <-errs; err != nil {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("event %d: %v", i, err))
						mu.Unlock()
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return failures
}

// checkStoredOnce reads the whole stream and checks that it holds n messages, each id once, on
// the given number of replicas.
func checkStoredOnce(t *testing.T, js jetstream.JetStream, n, replicas int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	str, err := js.Stream(ctx, "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	c, err := str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	// Read until n messages came, or fetches came back empty for five seconds (an ordered
	// consumer on a replicated stream may take a moment to deliver its first).
	for read, empty := 0, 0; read < n && empty < 5; {
		batch, err := c.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			seen[m.Headers().Get(nats.MsgIdHdr)]++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			t.Logf("fetch: %v", err)
		}
		if got == 0 {
			empty++
		}
		read += got
	}
	info, err := str.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(n) || len(seen) != n {
		t.Errorf("the stream holds %d messages, %d distinct ids, want %d of each", info.State.Msgs, len(seen), n)
	}
	for id, k := range seen {
		if k != 1 || !strings.HasPrefix(id, "anyrtc/pair-") {
			t.Errorf("id %q stored %d times", id, k)
		}
	}
	if info.Config.Replicas != replicas || replicas > 1 && (info.Cluster == nil || len(info.Cluster.Replicas) != replicas-1) {
		t.Errorf("the stream has %d replicas (%+v), want %d", info.Config.Replicas, info.Cluster, replicas)
	}
}

// checkReplicaSettings: on the cluster whose R3 stream exists, CALLBRIDGE_NATS_REPLICAS=1 set
// is refused naming the stream's count (exit 2); once the stream is gone, more replicas than
// servers are an error naming the variable that start-up retries (ErrNotReady: a cluster may
// be one whose servers are still joining).
func checkReplicaSettings(t *testing.T, url string, js jetstream.JetStream) {
	t.Helper()
	for _, c := range []struct {
		replicas int
		want     string
	}{
		{1, `CALLBRIDGE_NATS_REPLICAS="1": stream CALLBACKS exists with 3 replicas`},
		{5, `CALLBRIDGE_NATS_REPLICAS="5": the NATS servers cannot place stream CALLBACKS`},
	} {
		if c.replicas == 5 {
			if err := js.DeleteStream(context.Background(), "CALLBACKS"); err != nil {
				t.Fatal(err)
			}
		}
		cfg := externalConfig(url)
		cfg.Replicas, cfg.CheckReplicas = c.replicas, true
		s, err := NewNATS(context.Background(), cfg)
		var serr *SettingError
		ok := errors.As(err, &serr) && c.replicas == 1 || Retriable(err) && c.replicas == 5
		if !ok || !strings.Contains(err.Error(), c.want) {
			if s != nil {
				s.Close(context.Background())
			}
			t.Errorf("R%d: %v, want a %s error with %q", c.replicas, err, map[bool]string{true: "SettingError", false: "retriable"}[c.replicas == 1], c.want)
		}
	}
}

package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/callbridge/callbridge/internal/kfakefail"
	"github.com/callbridge/callbridge/internal/testenv"
)

// failProduce makes c answer the next n produce requests with code on every partition (before
// anything is appended), and counts the produce requests c sees.
func failProduce(c *kfake.Cluster, code int16, n int64) *atomic.Int64 {
	var seen atomic.Int64
	kfakefail.Produce(c, func(i int64) int16 {
		seen.Store(i)
		if i > n {
			return 0
		}
		return code
	})
	return &seen
}

// TestKafkaRetriesWhatPasses: produce errors that a leadership move or a short quorum explains
// are retried within the publish timeout, past kafka-go's own three attempts, and the event is
// then stored once; an error that does not pass is answered at once; one that lasts past the
// timeout is answered (503) once the timeout is spent.
func TestKafkaRetriesWhatPasses(t *testing.T) {
	tests := []struct {
		name     string
		err      kafka.Error
		failures int64 // produce requests answered with err first
		stored   bool
		minTries int64 // produce requests seen, at least
		maxTries int64 // and at most (0: no bound)
	}{
		{"not leader for partition", kafka.NotLeaderForPartition, 5, true, 6, 0},
		{"leader not available", kafka.LeaderNotAvailable, 5, true, 6, 0},
		{"not enough replicas", kafka.NotEnoughReplicas, 5, true, 6, 0},
		{"request timed out", kafka.RequestTimedOut, 5, true, 6, 0},
		// The last try may be cut by the deadline: that error, or the broker's, is a 503.
		{"not enough replicas past the timeout", kafka.NotEnoughReplicas, 1 << 30, false, 4, 0}, // more than kafka-go's own 3
		{"not authorized: not retried", kafka.TopicAuthorizationFailed, 1 << 30, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testenv.Kafka(t, kfake.SeedTopics(3, createdTopic, deadTopic))
			cfg := kafkaConfig(c)
			cfg.Timeout = 1500 * time.Millisecond
			k := newKafka(t, cfg)
			seen := failProduce(c, int16(tt.err), tt.failures)
			start := time.Now()
			err := k.Publish(event("evt-1", "room1"))
			took := time.Since(start)
			switch {
			case tt.stored && err != nil:
				t.Fatalf("publish: %v after %s, want it stored", err, took)
			case !tt.stored && !errors.Is(err, tt.err) && !(tt.failures > tt.maxTries && errors.Is(err, context.DeadlineExceeded)):
				t.Fatalf("publish: %v, want %v", err, tt.err)
			}
			if n := seen.Load(); n < tt.minTries || tt.maxTries > 0 && n > tt.maxTries {
				t.Errorf("%d produce requests, want at least %d (at most %d; 0: no bound)", n, tt.minTries, tt.maxTries)
			}
			if tt.stored {
				if r := consume(t, c.ListenAddrs(), 1, createdTopic); testenv.KafkaEvent(t, r[0]).ID() != "evt-1" {
					t.Errorf("stored %s", testenv.KafkaEvent(t, r[0]).ID())
				}
			}
		})
	}
}

// Partition leaders move between three brokers while callbacks are published: the old leader
// answers NOT_LEADER_FOR_PARTITION until the writer's metadata names the new one; every
// publish is acknowledged and every event is stored.
func TestKafkaLeadershipMoves(t *testing.T) {
	c := testenv.Kafka(t, kfake.NumBrokers(3), kfake.SeedTopics(3, createdTopic, deadTopic))
	cfg := kafkaConfig(c)
	cfg.Timeout = 5 * time.Second
	k := newKafka(t, cfg)
	stop := make(chan struct{})
	var moves sync.WaitGroup
	moves.Add(1)
	go func() {
		defer moves.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			for p := int32(0); p < 3; p++ {
				if err := c.MoveTopicPartition(createdTopic, p, (c.LeaderFor(createdTopic, p)+1)%3); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	const n = 60
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				if err := k.Publish(event(fmt.Sprintf("move-%d", i), fmt.Sprintf("room%d", i%10))); err != nil {
					failed.Add(1)
					t.Errorf("publish %d: %v", i, err)
				}
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(stop)
	moves.Wait()
	ids := map[string]int{}
	for _, r := range consume(t, c.ListenAddrs(), n, createdTopic) {
		ids[testenv.KafkaEvent(t, r).ID()]++
	}
	if len(ids) != n || failed.Load() != 0 {
		t.Errorf("%d distinct events stored of %d, %d publishes failed", len(ids), n, failed.Load())
	}
}

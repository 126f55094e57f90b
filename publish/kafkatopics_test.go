package publish

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/internal/testenv"
)

// With CreateTopics, every distinct undocumented code used to create a topic, without bound.
// Past MaxTopics (CALLBRIDGE_KAFKA_MAX_TOPICS) a callback for a new topic fails, transient (503,
// never dropped), with one log line naming the setting; topics it created before still take
// events, and the known topics never counted.
func TestKafkaMaxTopics(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.MaxTopics = 2
	logs := new(testenv.Log)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	k := newKafka(t, cfg)
	if err := k.Publish(event("known", "room1")); err != nil { // a known topic
		t.Fatal(err)
	}
	for _, code := range []string{"1", "2"} {
		if err := k.Publish(unknownCode("u"+code, code)); err != nil {
			t.Fatalf("unknown.%s, within the bound: %v", code, err)
		}
	}
	for range 3 {
		err := k.Publish(unknownCode("u3", "3"))
		if !errors.Is(err, ErrTopicLimit) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNameTooLong) {
			t.Fatalf("a third new topic: %v, want ErrTopicLimit (transient)", err)
		}
	}
	if n := strings.Count(logs.String(), "CALLBRIDGE_KAFKA_MAX_TOPICS"); n != 1 {
		t.Errorf("%d log lines name CALLBRIDGE_KAFKA_MAX_TOPICS, want 1 (rate-limited):\n%s", n, logs)
	}
	if got := topicPartitions(t, c, "callbacks.anyrtc.unknown.3"); len(got) != 0 {
		t.Errorf("created %v past the bound", got)
	}
	if err := k.Publish(unknownCode("u1-again", "1")); err != nil {
		t.Errorf("a topic created within the bound: %v", err)
	}
	if err := k.DeadLetter("anyrtc", []byte("x"), "r"); err != nil { // a known topic
		t.Errorf("dead letter: %v", err)
	}
	if err := k.Ready(); err != nil {
		t.Errorf("the bound made the sink not ready: %v", err)
	}
	consume(t, c.ListenAddrs(), 2, "callbacks.anyrtc.unknown.1")
}

// Live fails once the sink is closed: it can never publish again.
func TestKafkaLiveAfterClose(t *testing.T) {
	k := newKafka(t, kafkaConfig(testenv.Kafka(t)))
	if err := k.Live(); err != nil {
		t.Fatal(err)
	}
	k.Close(context.Background())
	if !errors.Is(k.Live(), ErrClosed) {
		t.Errorf("Live after Close: %v, want ErrClosed", k.Live())
	}
}

package publish

import (
	"context"
	"errors"
	"testing"
)

// Live fails once the sink is closed: it can never publish again.
func TestKafkaLiveAfterClose(t *testing.T) {
	k := newKafka(t, kafkaConfig(startKafka(t)))
	if err := k.Live(); err != nil {
		t.Fatal(err)
	}
	k.Close(context.Background())
	if !errors.Is(k.Live(), ErrClosed) {
		t.Errorf("Live after Close: %v, want ErrClosed", k.Live())
	}
}

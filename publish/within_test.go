package publish

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/callbridge/callbridge/internal/testenv"
)

// PublishWithin on NATS, against a stream that never acknowledges (a plain subscriber that does
// not answer): the acknowledgement timeout, and the election retries with it, stop at d when d
// is shorter than the sink's own timeout, and at the sink's own when d is longer. The bounds say
// which deadline ended the publish; they are not a performance figure.
func TestNATSPublishWithin(t *testing.T) {
	for _, tt := range []struct {
		name  string
		own   time.Duration // the sink's timeout (CALLBRIDGE_PUBLISH_TIMEOUT)
		d     time.Duration
		below time.Duration // the publish returned before this
	}{
		{name: "shorter than the sink's", own: 3 * time.Second, d: 600 * time.Millisecond, below: 3 * time.Second},
		{name: "longer than the sink's is the sink's", own: time.Second, d: 10 * time.Second, below: 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, url := newFakeStreamSink(t, tt.own)
			f := &fakeStream{script: []string{replySilent}}
			f.listen(t, url)
			start := time.Now()
			err := s.PublishWithin(event("within-1", "room1"), tt.d)
			took := time.Since(start)
			if !errors.Is(err, errAckTimeout) {
				t.Fatalf("PublishWithin(%s) on a silent stream: %v, want the acknowledgement timeout", tt.d, err)
			}
			if took >= tt.below {
				t.Errorf("PublishWithin(%s) with the sink's timeout %s returned after %s, want before %s", tt.d, tt.own, took, tt.below)
			}
			if ids, _ := f.tries(); len(ids) == 0 {
				t.Error("the stream saw no try")
			}
		})
	}
}

// PublishWithin on Kafka, against a broker that takes the produce request and never answers:
// the write ends at d, shorter than the sink's own timeout, and says so.
func TestKafkaPublishWithin(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.Timeout = 3 * time.Second
	k := newKafka(t, cfg)
	var hang atomic.Bool
	defer hang.Store(false) // so that closing the sink does not wait for the hung batch
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		return nil, nil, hang.Load() // handled without an answer while hanging
	})
	if err := k.PublishWithin(event("before", "room1"), time.Second); err != nil {
		t.Fatalf("PublishWithin on an answering broker: %v", err)
	}
	hang.Store(true)
	const d = 600 * time.Millisecond
	start := time.Now()
	err := k.PublishWithin(event("hung", "room1"), d)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PublishWithin on a hung broker: %v, want the deadline exceeded", err)
	}
	if took >= cfg.Timeout {
		t.Errorf("PublishWithin(%s) returned after %s, want before the sink's timeout %s", d, took, cfg.Timeout)
	}
}

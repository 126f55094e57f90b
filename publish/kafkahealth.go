package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkaCheckInterval is how often the sink asks the brokers whether they answer, for Ready.
const kafkaCheckInterval = 2 * time.Second

type writeFailure struct {
	err error
	at  time.Time
}

// writeFailureHold is how long a failed write keeps the sink not ready even though the brokers
// answer a check: long enough for /readyz to show it, short enough not to hold traffic off a
// sink whose next write would succeed.
const writeFailureHold = time.Second

// ping is a round trip to a broker: kafka-go answers metadata requests from its cache, so
// ApiVersions, which always goes to the broker, is what proves that one answers.
func (k *Kafka) ping(ctx context.Context) error {
	res, err := k.client.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	if err == nil && res.Error != nil {
		err = res.Error
	}
	return err
}

// check asks the brokers whether they answer, every kafkaCheckInterval while they do, faster
// while they do not (a connection broken by a restart fails once before it is redialled), and
// at once when a write failed, until Close.
func (k *Kafka) check() {
	defer close(k.done)
	t := time.NewTimer(kafkaCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		case <-k.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), min(k.cfg.Timeout, kafkaCheckInterval))
		err := k.ping(ctx)
		cancel()
		was := k.checkErr.Load()
		if err != nil {
			err = fmt.Errorf("%w: kafka brokers %s do not answer: %v", ErrNotReady, k.Brokers(), err)
			k.checkErr.Store(&err)
			if was == nil {
				k.cfg.Logger.Warn("kafka brokers unreachable", "brokers", k.Brokers(), "error", err)
			}
			t.Reset(kafkaCheckInterval / 4)
			continue
		}
		k.checkErr.Store(nil)
		if was != nil {
			k.cfg.Logger.Info("kafka brokers reachable again", "brokers", k.Brokers())
		}
		if f := k.writeErr.Load(); f != nil {
			if time.Since(f.at) >= writeFailureHold {
				k.writeErr.CompareAndSwap(f, nil)
			}
			t.Reset(kafkaCheckInterval / 4)
			continue
		}
		t.Reset(kafkaCheckInterval)
	}
}

// Ready returns nil while the brokers answer, no write has failed for want of them since they
// last did, and (with a schema registry) every known topic's value schema is registered.
func (k *Kafka) Ready() error {
	if e := k.checkErr.Load(); e != nil {
		return *e
	}
	if f := k.writeErr.Load(); f != nil {
		return f.err
	}
	if k.sr != nil {
		return k.sr.ready()
	}
	return nil
}

package publish

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// On a replicated Kafka cluster a write meets answers that pass: while a partition's leadership
// moves (a broker restarted, a preferred leader elected) the old leader answers
// NOT_LEADER_FOR_PARTITION and the partition may be LEADER_NOT_AVAILABLE; with acks=all a
// leader whose followers fell out of the in-sync set answers NOT_ENOUGH_REPLICAS (nothing
// written) or NOT_ENOUGH_REPLICAS_AFTER_APPEND, and a slow quorum REQUEST_TIMED_OUT (the
// leader may hold the records). kafka-go's writer retries these MaxAttempts times within a
// second or so; writeRetrying goes on, with backoff, until CALLBRIDGE_PUBLISH_TIMEOUT, so that a
// leadership move is not answered 503. SPEC §10, docs/delivery.md: a retry after an answer that
// may follow an append (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND, a lost
// connection) can store the event twice; both copies carry the same CloudEvents source and id.

// kafkaMetadataTTL is how old kafka-go's view of partition leaders may get: a moved leader is
// found within it.
const kafkaMetadataTTL = time.Second

// writeRetrying writes msgs, again while the answer is one that passes and ctx's deadline
// leaves room for another try.
func (k *Kafka) writeRetrying(ctx context.Context, msgs []kafka.Message) error {
	err := k.writer.WriteMessages(ctx, msgs...)
	for attempt := 0; err != nil && retriableWrite(err); attempt++ {
		pause := backoff(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause+retryMinAttempt {
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return err
		}
		err = k.writer.WriteMessages(ctx, msgs...)
	}
	return err
}

// retriableWrite reports whether err is a broker's answer that passes (kafka-go's Temporary),
// other than a missing topic, which writeFailed explains instead. A broker that does not answer
// at all is not waited for (SPEC §2: broker unreachable, 503 now).
func retriableWrite(err error) bool {
	var werr kafka.WriteErrors
	if errors.As(err, &werr) && len(werr) == 1 && werr[0] != nil {
		err = werr[0]
	}
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Temporary() && kerr != kafka.UnknownTopicOrPartition
}

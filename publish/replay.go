package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

// StoredDeadLetter is a dead letter read back from the broker.
type StoredDeadLetter struct {
	Provider string
	Body     []byte
	Reason   string
	At       time.Time // when it was stored
	Verified bool      // VerifiedHeader is "true": the body was authenticated when it arrived
}

// DeadLetters calls take for every dead letter stored when it is called, oldest first. A letter
// take accepts (returns nil for) is deleted from the stream; one it refuses stays for the next
// replay. It returns how many were taken.
func (s *NATS) DeadLetters(ctx context.Context, take func(StoredDeadLetter) error) (taken int, err error) {
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", s.cfg.Stream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	last := info.State.LastSeq
	for seq := info.State.FirstSeq; seq <= last; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(deadLetterPrefix+">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && m.Sequence > last) {
			return taken, nil
		}
		if err != nil {
			return taken, err
		}
		seq = m.Sequence + 1
		dl := StoredDeadLetter{Provider: strings.TrimPrefix(m.Subject, deadLetterPrefix), Body: m.Data, Reason: m.Header.Get(ReasonHeader), At: m.Time,
			Verified: m.Header.Get(VerifiedHeader) == "true"}
		if take(dl) != nil {
			continue
		}
		if err := stream.DeleteMsg(ctx, m.Sequence); err != nil {
			return taken, fmt.Errorf("delete replayed dead letter %d: %w", m.Sequence, err)
		}
		taken++
	}
	return taken, nil
}

// DeadLetters calls take for every dead letter on the dead-letter topics that the consumer group
// callbridge-replay has not read yet, oldest first per partition, until none has arrived for
// idle. Kafka cannot delete a record: one that take refuses is skipped by the group (it stays
// in the topic; reset the group's offsets to read it again). It returns how many were taken.
func (k *Kafka) DeadLetters(ctx context.Context, idle time.Duration, take func(StoredDeadLetter) error) (taken int, err error) {
	topics := k.knownTopics(true)
	if len(topics) == 0 {
		return 0, errors.New("no dead-letter topics")
	}
	r := k.reader("callbridge-replay", topics, kafka.FirstOffset)
	defer r.Close()
	for {
		fetchCtx, cancel := context.WithTimeout(ctx, idle)
		m, err := r.FetchMessage(fetchCtx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return taken, nil // nothing more within idle
			}
			return taken, err
		}
		dl := StoredDeadLetter{Provider: strings.TrimPrefix(m.Topic, deadLetterPrefix), Body: m.Value, At: m.Time}
		for _, h := range m.Headers {
			switch h.Key {
			case ReasonHeader:
				dl.Reason = string(h.Value)
			case VerifiedHeader:
				dl.Verified = string(h.Value) == "true"
			}
		}
		if take(dl) == nil {
			taken++
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			return taken, err
		}
	}
}

// knownTopics lists the topics known to exist: the dead-letter ones, or all the others.
func (k *Kafka) knownTopics(deadLetters bool) []string {
	var topics []string
	k.mu.RLock()
	defer k.mu.RUnlock()
	for t := range k.topics {
		if strings.HasPrefix(t, deadLetterPrefix) == deadLetters {
			topics = append(topics, t)
		}
	}
	return topics
}

// reader is a consumer-group reader on topics with the sink's connection settings.
func (k *Kafka) reader(group string, topics []string, start int64) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:     k.cfg.Brokers,
		GroupID:     group,
		GroupTopics: topics,
		StartOffset: start,
		Dialer:      &kafka.Dialer{ClientID: k.cfg.ClientID, TLS: k.transport.TLS, SASLMechanism: k.transport.SASL, Timeout: k.cfg.Timeout},
	})
}

package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

// Tail calls emit with every event published to the stream from now on, as CloudEvents JSON
// (binary-mode messages are put back together), until ctx ends. Dead letters are skipped: they
// are raw provider bodies, not events.
func (s *NATS) Tail(ctx context.Context, emit func(event []byte) error) error {
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.cfg.Stream, err)
	}
	c, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return fmt.Errorf("consumer on %s: %w", s.cfg.Stream, err)
	}
	msgs, err := c.Messages()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); msgs.Stop() }()
	for {
		m, err := msgs.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if strings.HasPrefix(m.Subject(), deadLetterPrefix) {
			continue
		}
		h := m.Headers()
		event, err := structured(m.Data(), "ce-", func(yield func(k, v string)) {
			for k, vs := range h {
				if len(vs) > 0 {
					yield(k, vs[0])
				}
			}
		})
		if err == nil {
			err = emit(event)
		}
		if err != nil {
			return err
		}
	}
}

// Tail calls emit with every event written from now on to the known topics but the dead
// letters, as CloudEvents JSON, until ctx ends. It reads as a consumer group of its own, so it
// takes nothing from the deployment's consumers.
func (k *Kafka) Tail(ctx context.Context, emit func(event []byte) error) error {
	topics := k.knownTopics(false)
	if len(topics) == 0 {
		return errors.New("no topics to read: tail follows the topics of documented events, which a template with {subject} does not name")
	}
	var id [8]byte
	rand.Read(id[:])
	r := k.reader("callbridge-tail-"+hex.EncodeToString(id[:]), topics, kafka.LastOffset)
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		event, err := structured(m.Value, "ce_", func(yield func(k, v string)) {
			for _, h := range m.Headers {
				yield(h.Key, string(h.Value))
			}
		})
		if err == nil {
			err = emit(event)
		}
		if err != nil {
			return err
		}
	}
}

// structured returns the CloudEvents JSON of one message: the value itself in structured mode,
// or in binary mode the prefixed headers as attributes and the value as data.
func structured(value []byte, prefix string, headers func(yield func(k, v string))) ([]byte, error) {
	event := map[string]any{}
	binary := false
	headers(func(k, v string) {
		switch {
		case k == prefix+"specversion":
			binary = true
			event["specversion"] = v
		case k == prefix+"verified" && v == "false":
			event["verified"] = false
		case strings.HasPrefix(k, prefix):
			event[k[len(prefix):]] = v
		case k == "content-type":
			if _, set := event["datacontenttype"]; !set {
				event["datacontenttype"] = v
			}
		}
	})
	if !binary {
		return value, nil
	}
	if !json.Valid(value) {
		return nil, fmt.Errorf("binary-mode message %v: data is not JSON", event["id"])
	}
	event["data"] = json.RawMessage(value)
	return json.Marshal(event)
}

package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"
)

// createTopics creates topics with the configured partitions and replication; a topic that
// exists already is not an error.
func (k *Kafka) createTopics(ctx context.Context, topics ...string) error {
	partitions, replication := k.cfg.Partitions, k.cfg.Replication
	if partitions <= 0 {
		partitions = -1 // the broker's num.partitions
	}
	if replication <= 0 {
		replication = -1 // the broker's default.replication.factor (Kafka 2.4 and later)
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication})
	}
	res, err := k.client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create kafka topics %s: %w", strings.Join(topics, ", "), err)
	}
	var failed []string
	for _, t := range topics {
		err := res.Errors[t]
		switch {
		case err == nil:
			k.cfg.Logger.Info("kafka topic created", "topic", t, "partitions", partitions, "replication", replication)
		case errors.Is(err, kafka.TopicAlreadyExists):
		default:
			failed = append(failed, t+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("create kafka topics: %s", strings.Join(failed, "; "))
	}
	return nil
}

// topic returns the interned name of a topic known to exist, creating it first with
// CreateTopics. Without CreateTopics an unknown topic is left for the write to check.
func (k *Kafka) topic(ctx context.Context, name []byte) (string, error) {
	k.mu.RLock()
	t, ok := k.topics[string(name)]
	k.mu.RUnlock()
	if ok {
		return t, nil
	}
	t = string(name)
	if !k.cfg.CreateTopics {
		return t, nil
	}
	// Concurrent first uses may both ask; the second gets TopicAlreadyExists, which is fine.
	if err := k.createTopics(ctx, t); err != nil {
		return "", err
	}
	k.mu.Lock()
	k.topics[t] = t
	k.mu.Unlock()
	return t, nil
}

// AppendKafkaTopic appends name with every byte Kafka does not allow in a topic name (outside
// [a-zA-Z0-9._-]) replaced by '_'. A name over Kafka's 249 bytes is cut and ends in a hash of the
// whole name, so distinct long names stay distinct. dst and name may be the same slice.
func AppendKafkaTopic(dst, name []byte) []byte {
	start := len(dst)
	for _, c := range name {
		if !kafkaTopicByte(c) {
			c = '_'
		}
		dst = append(dst, c)
	}
	if len(dst)-start <= maxTopicLen {
		return dst
	}
	sum := sha256.Sum256(dst[start:])
	const hashLen = 16
	dst = append(dst[:start+maxTopicLen-hashLen-1], '-')
	return hex.AppendEncode(dst, sum[:hashLen/2])
}

func kafkaTopicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

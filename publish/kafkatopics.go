package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

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
		return fmt.Errorf("create kafka topics %s: %w", topicList(topics), err)
	}
	var failed []string
	for _, t := range topics {
		err := res.Errors[t]
		switch {
		case err == nil:
			k.cfg.Logger.Info("kafka topic created", "topic", nameExcerpt([]byte(t), len(t)), "partitions", partitions, "replication", replication)
		case errors.Is(err, kafka.TopicAlreadyExists):
		default:
			failed = append(failed, nameExcerpt([]byte(t), len(t))+": "+err.Error())
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
	if err := k.admit(t); err != nil {
		return "", err
	}
	// Concurrent first uses may both ask; the second gets TopicAlreadyExists, which is fine.
	if err := k.createTopics(ctx, t); err != nil {
		k.mu.Lock()
		if _, exists := k.topics[t]; !exists {
			delete(k.created, t) // the slot is not used after all
		}
		k.mu.Unlock()
		return "", err
	}
	k.mu.Lock()
	k.topics[t] = t
	k.mu.Unlock()
	return t, nil
}

// remember records a topic the writes found to exist, up to maxKnownTopics.
func (k *Kafka) remember(topic string) {
	k.mu.RLock()
	_, known := k.topics[topic]
	full := len(k.topics) >= maxKnownTopics
	k.mu.RUnlock()
	if !known && !full {
		k.mu.Lock()
		k.topics[topic] = topic
		delete(k.missing, topic)
		k.mu.Unlock()
	}
}

// topicMissing answers a write to a topic the broker does not have: deleted under us (created
// again on the next use, with CreateTopics), or never created (logged once per topic).
func (k *Kafka) topicMissing(err error, topic, name string) error {
	k.mu.Lock()
	delete(k.topics, topic)
	_, logged := k.missing[topic]
	if !logged && !k.cfg.CreateTopics && len(k.missing) < 1024 {
		k.missing[topic] = struct{}{}
	}
	k.mu.Unlock()
	if k.cfg.CreateTopics {
		return fmt.Errorf("publish to %s: %w", name, err)
	}
	err = fmt.Errorf("topic %s does not exist; create it or set CALLBRIDGE_KAFKA_CREATE_TOPICS=true", name)
	if !logged { // once per topic: the caller logs every failed callback too
		k.cfg.Logger.Error(err.Error())
	}
	return err
}

// defaultMaxTopics is CALLBRIDGE_KAFKA_MAX_TOPICS' default.
const defaultMaxTopics = 512

// ErrTopicLimit refuses an event for a topic the sink would have to create past
// CALLBRIDGE_KAFKA_MAX_TOPICS. It is transient (503: the provider retries, and the event is
// never dropped): raising the setting, or creating the topic, lets it through.
var ErrTopicLimit = errors.New("kafka topic not created: CALLBRIDGE_KAFKA_MAX_TOPICS reached")

// admit reserves one of the MaxTopics slots for creating topic t, or refuses it: every distinct
// undocumented code would otherwise create a topic, without bound. A topic created before (and
// deleted since) keeps its slot.
func (k *Kafka) admit(t string) error {
	k.mu.Lock()
	_, again := k.created[t]
	full := !again && len(k.created) >= k.cfg.MaxTopics
	if !full {
		k.created[t] = struct{}{}
	}
	k.mu.Unlock()
	if !full {
		return nil
	}
	k.limit.refused(k.cfg.Logger, k.cfg.MaxTopics, t)
	return fmt.Errorf("%w (%d topics created beyond the known ones); %s needs one", ErrTopicLimit, k.cfg.MaxTopics, nameExcerpt([]byte(t), len(t)))
}

// topicLimitLog logs refusals past MaxTopics at most once a minute, with how many there were.
type topicLimitLog struct {
	mu      sync.Mutex
	last    time.Time
	refusal int
}

func (l *topicLimitLog) refused(logger *slog.Logger, max int, topic string) {
	l.mu.Lock()
	l.refusal++
	n := l.refusal
	due := time.Since(l.last) >= time.Minute
	if due {
		l.last, l.refusal = time.Now(), 0
	}
	l.mu.Unlock()
	if due {
		logger.Error("kafka topic not created: CALLBRIDGE_KAFKA_MAX_TOPICS reached; callbacks for new topics get 503 until it is raised or the topics exist",
			"max_topics", max, "topic", nameExcerpt([]byte(topic), len(topic)), "refused", n)
	}
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

// topicList names topics for an error, each as an excerpt.
func topicList(topics []string) string {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = nameExcerpt([]byte(t), len(t))
	}
	return strings.Join(names, ", ")
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

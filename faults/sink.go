package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Stored is what the sink holds: every event message's provider/id (its provider extension and
// CloudEvent id: an id is unique only within its source), in stream order (several per event
// when duplicated), and anything that is not one of our events.
type Stored struct {
	Keys        []string
	DeadLetters int
	Undecodable int // not a structured CloudEvent with an id and a provider
	Mismatched  int // JetStream: Nats-Msg-Id is not provider/id (SPEC §4)
}

// ReadJetStream reads every message of stream at url with an ordered consumer, from the first
// to the last sequence the stream reports.
func ReadJetStream(ctx context.Context, url, stream string) (*Stored, error) {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	str, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := str.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", stream, err)
	}
	out := &Stored{}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return out, nil
	}
	cons, err := str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, fmt.Errorf("ordered consumer on %s: %w", stream, err)
	}
	var seq uint64
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("fetch from %s after sequence %d of %d: %w", stream, seq, last, err)
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			seq = md.Sequence.Stream
			if strings.HasPrefix(m.Subject(), "callbacks.deadletter.") {
				out.DeadLetters++
				continue
			}
			key, err := jsonKey(m.Data())
			if err != nil {
				out.Undecodable++
				continue
			}
			if h := m.Headers().Get(jetstream.MsgIDHeader); h != key {
				out.Mismatched++
			}
			out.Keys = append(out.Keys, key)
		}
		if err := batch.Error(); err != nil && err != nats.ErrTimeout && err != jetstream.ErrNoMessages {
			return nil, err
		}
		if seq >= last {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read up to sequence %d of %d: %w", seq, last, ctx.Err())
		}
	}
}

// ReadKafka reads every partition of every topic starting with prefix from the start up to the
// end offsets listed before reading.
func ReadKafka(ctx context.Context, broker, prefix string) (*Stored, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	end, want, left, err := kafkaEnds(ctx, cl, prefix)
	if err != nil {
		return nil, err
	}
	out := &Stored{}
	if left == 0 {
		return out, nil
	}
	cl.AddConsumePartitions(want)
	if err := consumeToEnd(ctx, cl, end, left, out); err != nil {
		return nil, err
	}
	return out, nil
}

// kafkaEnds lists the end offsets of the partitions of the topics that start with prefix: end,
// by topic and partition, for the left partitions that hold anything, and want, the same
// partitions read from their start.
func kafkaEnds(ctx context.Context, cl *kgo.Client, prefix string) (end map[string]map[int32]int64, want map[string]map[int32]kgo.Offset, left int, err error) {
	meta := kmsg.NewPtrMetadataRequest()
	mres, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("metadata: %w", err)
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	for _, t := range mres.Topics {
		if t.Topic == nil || !strings.HasPrefix(*t.Topic, prefix) {
			continue
		}
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = *t.Topic
		for _, p := range t.Partitions {
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Partition = p.Partition
			lp.Timestamp = -1 // the end
			lt.Partitions = append(lt.Partitions, lp)
		}
		lo.Topics = append(lo.Topics, lt)
	}
	if len(lo.Topics) == 0 {
		return nil, nil, 0, nil
	}
	lres, err := lo.RequestWith(ctx, cl)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("list offsets: %w", err)
	}
	end = map[string]map[int32]int64{}
	want = map[string]map[int32]kgo.Offset{}
	for _, t := range lres.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return nil, nil, 0, fmt.Errorf("list offsets %s/%d: error code %d", t.Topic, p.Partition, p.ErrorCode)
			}
			if p.Offset <= 0 {
				continue
			}
			if end[t.Topic] == nil {
				end[t.Topic] = map[int32]int64{}
				want[t.Topic] = map[int32]kgo.Offset{}
			}
			end[t.Topic][p.Partition] = p.Offset
			want[t.Topic][p.Partition] = kgo.NewOffset().AtStart()
			left++
		}
	}
	return end, want, left, nil
}

// consumeToEnd reads the left partitions the client consumes up to their end offsets, into out.
func consumeToEnd(ctx context.Context, cl *kgo.Client, end map[string]map[int32]int64, left int, out *Stored) error {
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("read kafka: %d partitions not read to their end: %w", left, ctx.Err())
		}
		fs.EachError(func(t string, p int32, err error) {
			if err != nil && ctx.Err() == nil {
				// transient: the client retries
				_ = err
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if strings.HasPrefix(r.Topic, "callbacks.deadletter.") {
				out.DeadLetters++
			} else if key, err := jsonKey(r.Value); err != nil {
				out.Undecodable++
			} else {
				out.Keys = append(out.Keys, key)
			}
			if r.Offset+1 == end[r.Topic][r.Partition] {
				left--
			}
		})
	}
	return nil
}

// jsonKey reads a structured-mode CloudEvent's identity: provider/id, from its "provider"
// extension and its "id".
func jsonKey(b []byte) (string, error) {
	var v struct {
		ID       *string `json:"id"`
		Provider *string `json:"provider"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	if v.ID == nil || v.Provider == nil {
		return "", errors.New("no id or provider member")
	}
	return *v.Provider + "/" + *v.ID, nil
}

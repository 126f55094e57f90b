package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

// TailOptions choose where Tail starts and which events it passes on.
type TailOptions struct {
	All       bool      // from the first stored message
	Since     time.Time // when not zero (and not All): from the first message stored at or after it
	Providers []string  // when not empty: only events of these providers
	Types     []string  // when not empty: only events of these types; see TypeMatches
}

// TypeMatches says whether the CloudEvents type typ matches pattern: the same type, or, for a
// pattern ending in '*' or '.', a type that starts with what comes before the '*' (or with
// the pattern up to and including its '.').
func TypeMatches(pattern, typ string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(typ, prefix)
	}
	if strings.HasSuffix(pattern, ".") {
		return strings.HasPrefix(typ, pattern)
	}
	return typ == pattern
}

// filters says whether o passes on only some events.
func (o *TailOptions) filters() bool { return len(o.Providers) > 0 || len(o.Types) > 0 }

// match says whether an event of provider and typ passes o's filters.
func (o *TailOptions) match(provider, typ string) bool {
	ok := len(o.Providers) == 0
	for _, p := range o.Providers {
		ok = ok || p == provider
	}
	if !ok || len(o.Types) == 0 {
		return ok
	}
	for _, t := range o.Types {
		if TypeMatches(t, typ) {
			return true
		}
	}
	return false
}

// attributes reads provider and type of one message: from the prefixed headers in binary mode
// (ce-provider, ce-type on NATS; ce_provider, ce_type on Kafka), otherwise from the members of
// the structured event.
func attributes(value []byte, prefix string, headers func(yield func(k, v string))) (provider, typ string) {
	binary := false
	headers(func(k, v string) {
		switch k {
		case prefix + "specversion":
			binary = true
		case prefix + "provider":
			provider = v
		case prefix + "type":
			typ = v
		}
	})
	if binary {
		return provider, typ
	}
	var ev struct {
		Provider string `json:"provider"`
		Type     string `json:"type"`
	}
	json.Unmarshal(value, &ev) // a message that is not an event matches no filter
	return ev.Provider, ev.Type
}

// providerSubjects are the subjects of providers' events under t, when t's subject starts with
// literal tokens and then {provider} as a whole token: a filter the server applies, so a tail
// of one provider does not read the whole stream. ok is false for any other template.
func providerSubjects(t *Template, providers []string) (subjects []string, ok bool) {
	if t == nil || len(providers) == 0 {
		return nil, false
	}
	prefix := ""
	for i, p := range t.parts {
		switch {
		case p.placeholder == "":
			prefix += p.lit
			continue
		case p.placeholder != "provider" || (prefix != "" && !strings.HasSuffix(prefix, ".")):
			return nil, false
		}
		rest := ""
		if i+1 < len(t.parts) {
			next := t.parts[i+1]
			if next.placeholder != "" || !strings.HasPrefix(next.lit, ".") {
				return nil, false
			}
			rest = ".>"
		}
		for _, id := range providers {
			if id == "" || strings.ContainsAny(id, ".*> \t") {
				return nil, false
			}
			subjects = append(subjects, prefix+id+rest)
		}
		return subjects, true
	}
	return nil, false
}

// Tail calls emit with every event published to the stream from where opts says (from now on
// by default) that passes opts' filters, as CloudEvents JSON (binary-mode messages are put back
// together), until ctx ends. Dead letters are skipped: they are raw provider bodies, not
// events. A provider filter is a subject filter when the template allows it.
func (s *NATS) Tail(ctx context.Context, opts TailOptions, emit func(event []byte) error) error {
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.cfg.Stream, err)
	}
	cc := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	switch {
	case opts.All:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	case !opts.Since.IsZero():
		since := opts.Since
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	if subjects, ok := providerSubjects(s.cfg.Template, opts.Providers); ok {
		cc.FilterSubjects = subjects
	}
	c, err := stream.OrderedConsumer(ctx, cc)
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
		headers := func(yield func(k, v string)) {
			for k, vs := range h {
				if len(vs) > 0 {
					yield(k, vs[0])
				}
			}
		}
		if opts.filters() && !opts.match(attributes(m.Data(), "ce-", headers)) {
			continue
		}
		event, err := structured(m.Data(), "ce-", headers)
		if err == nil {
			err = emit(event)
		}
		if err != nil {
			return err
		}
	}
}

// Tail calls emit with every event written to the known topics but the dead letters, from
// where opts says (from now on by default), that passes opts' filters, as CloudEvents JSON,
// until ctx ends. It reads as a consumer group of its own, so it takes nothing from the
// deployment's consumers. With opts.Since the group starts at the offsets the broker gives for
// that time (committed before it joins); should that fail it starts at the earliest offset,
// and what the broker stored before opts.Since is skipped either way.
func (k *Kafka) Tail(ctx context.Context, opts TailOptions, emit func(event []byte) error) error {
	topics := k.knownTopics(false)
	if len(topics) == 0 {
		return errors.New("no topics to read: tail follows the topics of documented events, which a template with {subject} does not name")
	}
	var id [8]byte
	rand.Read(id[:])
	start := kafka.LastOffset
	if opts.All || !opts.Since.IsZero() {
		start = kafka.FirstOffset
	}
	group := "callbridge-tail-" + hex.EncodeToString(id[:])
	if !opts.All && !opts.Since.IsZero() {
		if err := k.commitOffsetsAt(ctx, group, topics, opts.Since); err != nil {
			// Still right, only slower: the group starts at the earliest offset and the
			// messages from before opts.Since are skipped as they are read.
			k.cfg.Logger.Warn("tail: no offsets for the time; reading from the earliest", "error", err)
		}
	}
	r := k.reader(group, topics, start)
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !opts.All && !opts.Since.IsZero() && m.Time.Before(opts.Since) {
			continue
		}
		headers := func(yield func(k, v string)) {
			for _, h := range m.Headers {
				yield(h.Key, string(h.Value))
			}
		}
		value := withoutSchemaID(m.Value) // CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION=prefix
		if opts.filters() && !opts.match(attributes(value, "ce_", headers)) {
			continue
		}
		event, err := structured(value, "ce_", headers)
		if err == nil {
			err = emit(event)
		}
		if err != nil {
			return err
		}
	}
}

// commitOffsetsAt commits for group, before any member joins it, the offset of every partition
// of topics that the broker gives for since (the end of the partition, where nothing is as
// recent), so that the group starts there. A partition left out (a topic that does not exist
// yet) starts at the reader's start offset.
func (k *Kafka) commitOffsetsAt(ctx context.Context, group string, topics []string, since time.Time) error {
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return err
	}
	at, last := map[string][]kafka.OffsetRequest{}, map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			continue
		}
		for _, p := range t.Partitions {
			at[t.Name] = append(at[t.Name], kafka.TimeOffsetOf(p.ID, since))
			last[t.Name] = append(last[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	if len(at) == 0 {
		return nil
	}
	found, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: at})
	if err != nil {
		return err
	}
	ends, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: last})
	if err != nil {
		return err
	}
	end := map[string]map[int]int64{}
	for topic, ps := range ends.Topics {
		end[topic] = map[int]int64{}
		for _, p := range ps {
			if p.Error == nil && p.LastOffset >= 0 {
				end[topic][p.Partition] = p.LastOffset
			}
		}
	}
	commits := map[string][]kafka.OffsetCommit{}
	for topic, ps := range found.Topics {
		for _, p := range ps {
			if p.Error != nil {
				continue
			}
			offset, ok := end[topic][p.Partition]
			for o := range p.Offsets { // the first offset at or after since; -1 when there is none
				if o >= 0 {
					offset, ok = o, true
				}
			}
			if ok {
				commits[topic] = append(commits[topic], kafka.OffsetCommit{Partition: p.Partition, Offset: offset})
			}
		}
	}
	res, err := k.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: commits})
	if err != nil {
		return err
	}
	for topic, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("commit %s[%d]: %w", topic, p.Partition, p.Error)
			}
		}
	}
	return nil
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

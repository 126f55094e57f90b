// Package rtcconsume is a registry-aware Kafka consumer, the logic of interop/cmd/rtcconsume: it
// reads topics (a list, or regular expressions) from their start with franz-go, finds each
// record's schema id (the header __value_schema_id or the Confluent wire format's 5-byte prefix),
// fetches the schema by id with franz-go's sr client (cached per id), and validates the value
// with it (santhosh-tekuri/jsonschema). It is a worked example for the documentation and a test
// tool, independent of callbridge's own code.
package rtcconsume

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// HeaderName is the record header that carries the value's schema id, as Confluent names it.
const HeaderName = "__value_schema_id"

// Locations of the schema id.
const (
	Header = "header" // the header HeaderName: 0x00, then the id in 4 big-endian bytes
	Prefix = "prefix" // the value starts with 0x00 and the id in 4 big-endian bytes
	Auto   = "auto"   // the header if the record has one, else the prefix
)

// Config says what to read and from where.
type Config struct {
	Brokers  []string
	Registry string        // the schema registry's base URL
	Topics   []string      // topic names, or regular expressions if Regex
	Regex    bool          // Topics are regular expressions (franz-go's ConsumeRegex)
	Location string        // Header, Prefix or Auto
	N        int           // stop after N records; 0: at Timeout only
	Timeout  time.Duration // stop after this long; 0: never
}

// Record is what was found about one record.
type Record struct {
	Topic    string
	ID       int    // the schema id; 0 if none was found
	Subject  string // the subject holding the schema: <topic>-value if it is one of them
	Valid    bool   // the value validates against the schema
	Err      error  // why it is not valid, or why no schema was found
	Value    []byte // the value without the prefix
	Location string // where the id was found
}

// String is the line the command prints: topic, schema id, where it was, subject, valid or
// invalid, value.
func (r Record) String() string {
	verdict := "valid"
	if !r.Valid {
		verdict = "INVALID(" + strings.ReplaceAll(fmt.Sprint(r.Err), "\n", " ") + ")"
	}
	var compact bytes.Buffer
	value := string(r.Value)
	if json.Compact(&compact, r.Value) == nil {
		value = compact.String()
	}
	return fmt.Sprintf("%s id=%d in=%s subject=%s %s %s", r.Topic, r.ID, r.Location, r.Subject, verdict, value)
}

// LooksLikeRegex tells whether a topic argument is a regular expression rather than a name.
func LooksLikeRegex(topic string) bool {
	return strings.ContainsAny(topic, `\*+?[]()|^$`)
}

// Consume reads records until cfg.N were read, cfg.Timeout passed or ctx is done, and calls
// each for every one. It returns how many were read.
func Consume(ctx context.Context, cfg Config, each func(Record)) (int, error) {
	switch cfg.Location {
	case Header, Prefix, Auto:
	default:
		return 0, fmt.Errorf("location %q: want header, prefix or auto", cfg.Location)
	}
	if cfg.Regex {
		for _, t := range cfg.Topics {
			if _, err := regexp.Compile(t); err != nil {
				return 0, fmt.Errorf("topic regex %q: %w", t, err)
			}
		}
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.MetadataMinAge(250 * time.Millisecond), kgo.MetadataMaxAge(time.Second)}
	if cfg.Regex {
		opts = append(opts, kgo.ConsumeRegex())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	reg, err := sr.NewClient(sr.URLs(cfg.Registry))
	if err != nil {
		return 0, err
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	r := &resolver{reg: reg, schemas: map[int]*jsonschema.Schema{}, subjects: map[int][]string{}}
	n := 0
	for (cfg.N == 0 || n < cfg.N) && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				return n, fmt.Errorf("fetch %s: %w", fe.Topic, fe.Err)
			}
		}
		for _, rec := range fetches.Records() {
			if cfg.N != 0 && n == cfg.N {
				break
			}
			each(r.check(ctx, rec, cfg.Location))
			n++
		}
	}
	return n, nil
}

// resolver fetches schemas and their subjects by id, once each.
type resolver struct {
	reg      *sr.Client
	schemas  map[int]*jsonschema.Schema
	subjects map[int][]string
}

func (r *resolver) check(ctx context.Context, rec *kgo.Record, location string) Record {
	out := Record{Topic: rec.Topic, Value: rec.Value}
	mark, where := markOf(rec, location)
	out.Location = where
	var serde sr.ConfluentHeader
	id, rest, err := serde.DecodeID(mark)
	if err != nil {
		out.Err = fmt.Errorf("no schema id at the %s: %w", where, err)
		return out
	}
	out.ID = id
	if where == Prefix {
		out.Value = rest
	}
	s, err := r.schema(ctx, id)
	if err != nil {
		out.Err = err
		return out
	}
	out.Subject = r.subject(ctx, id, rec.Topic+"-value")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Value))
	if err != nil {
		out.Err = fmt.Errorf("value is not JSON: %w", err)
		return out
	}
	out.Err = s.Validate(doc)
	out.Valid = out.Err == nil
	return out
}

// markOf is where the record's schema id is: the header's value, or the record's value.
func markOf(rec *kgo.Record, location string) ([]byte, string) {
	if location != Prefix {
		for _, h := range rec.Headers {
			if h.Key == HeaderName {
				return h.Value, Header
			}
		}
		if location == Header {
			return nil, Header
		}
	}
	return rec.Value, Prefix
}

func (r *resolver) schema(ctx context.Context, id int) (*jsonschema.Schema, error) {
	if s, ok := r.schemas[id]; ok {
		return s, nil
	}
	got, err := r.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	if got.Type != sr.TypeJSON {
		return nil, fmt.Errorf("schema %d is %s, not JSON", id, got.Type)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(got.Schema))
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	url := fmt.Sprintf("mem:///schemas/ids/%d.json", id)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	r.schemas[id] = s
	return s, nil
}

// subject is want if the schema id is registered under it, else the subjects that hold it.
func (r *resolver) subject(ctx context.Context, id int, want string) string {
	subjects, ok := r.subjects[id]
	if !ok {
		subjects, _ = r.reg.SubjectsByID(ctx, id)
		r.subjects[id] = subjects
	}
	if slices.Contains(subjects, want) {
		return want
	}
	if len(subjects) == 0 {
		return "?"
	}
	return strings.Join(subjects, ",")
}

package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/callbridge/callbridge/contract"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// The Kafka schema registry (SPEC §9) checked with an independent client: the Kafka sink
// registers its value schemas in franz-go's srfake (an in-process Confluent-compatible
// registry) and publishes every golden event; franz-go's sr client then reads each record's
// schema id where the location puts it (the header or the Confluent wire format's prefix, both
// decoded with sr.ConfluentHeader), fetches the schema by id, finds it is the subject
// <topic>-value's latest, and validates the value with it (santhosh-tekuri/jsonschema).
//
// The topics are those of srProviders only: srfake compares a new schema with every one it
// holds, and all providers' hundreds of structured schemas take it minutes.
func TestSchemaRegistryIndependentClient(t *testing.T) {
	for _, tc := range []struct{ mode, location string }{
		{"structured", publish.SchemaIDHeader}, {"binary", publish.SchemaIDPrefix},
		{"binary", publish.SchemaIDHeader}, {"structured", publish.SchemaIDPrefix},
	} {
		t.Run(tc.mode+"-"+tc.location, func(t *testing.T) {
			mode, _ := publish.ParseMode(tc.mode)
			reg := srfake.New()
			defer reg.Close()
			c := testenv.Kafka(t)
			k := schemaRegistryKafka(t, c.ListenAddrs(), reg.URL(), mode, tc.location)
			published := 0
			for _, ev := range goldenEvents(t, srProviders) {
				if err := k.Publish(ev); err != nil {
					t.Fatalf("publish %s: %v", ev.Type, err)
				}
				published++
			}
			client, err := sr.NewClient(sr.URLs(reg.URL()))
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, client, readAll(t, c.ListenAddrs(), published), tc.location)
		})
	}
}

func schemaRegistryKafka(t *testing.T, brokers []string, url string, mode publish.Mode, location string) *publish.Kafka {
	t.Helper()
	tmpl, _ := publish.ParseTemplate("callbacks.{provider}.{eventtype}")
	key, _ := publish.ParseTemplate("{subject}")
	registry := normalize.BuiltinRegistry()
	all, fallback, err := contract.ValueSchemas(registry, tmpl, mode == publish.Structured)
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string][]byte{}
	var known []string
	for topic, s := range all {
		if srProviders[strings.Split(topic, ".")[1]] {
			topics[topic] = s
			known = append(known, topic)
		}
	}
	k, err := publish.NewKafka(context.Background(), publish.KafkaConfig{
		Brokers: brokers, RequiredAcks: "all", Compression: "none", ClientID: "callbridge-interop",
		Template: tmpl, KeyTemplate: key, Mode: mode, CreateTopics: true, Partitions: 1, Replication: -1,
		KnownTopics: known, MaxTopics: 4096,
		BatchTimeout: 2 * time.Millisecond, BatchSize: 100, Timeout: 5 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		SchemaRegistry: &publish.SchemaRegistryConfig{URL: url, Location: location, Schemas: topics, Fallback: fallback},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close(context.Background()) })
	deadline := time.Now().Add(30 * time.Second)
	for k.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", k.Ready())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return k
}

// srProviders are the providers whose events TestSchemaRegistryIndependentClient publishes: three
// providers, and rtc, the canonical RTC events every provider's goldens make.
var srProviders = map[string]bool{"daily": true, "getstream": true, "anyrtc": true, normalize.CanonicalID: true}

// goldenEvents are the golden events of providers, read back as events.
func goldenEvents(t *testing.T, providers map[string]bool) []*normalize.Event {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "*", "golden", "*.json"))
	registry := normalize.BuiltinRegistry()
	var out []*normalize.Event
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ev := &normalize.Event{}
		if err := normalize.ParseStructured(raw, ev, registry); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if providers[ev.Provider] {
			out = append(out, ev)
		}
	}
	if len(out) < 30 {
		t.Fatalf("%d goldens", len(out))
	}
	return out
}

func readAll(t *testing.T, brokers []string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeRegex(), kgo.ConsumeTopics(`callbacks\..*`),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var records []*kgo.Record
	for len(records) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { records = append(records, r) })
	}
	if len(records) != want {
		t.Fatalf("%d records read back, want %d", len(records), want)
	}
	return records
}

// checkRecords resolves each record's schema through client and validates its value with it.
func checkRecords(t *testing.T, client *sr.Client, records []*kgo.Record, location string) {
	t.Helper()
	ctx := context.Background()
	schemas := map[int]*jsonschema.Schema{}
	var serde sr.ConfluentHeader
	for _, r := range records {
		mark, marks := r.Value, 0
		for _, h := range r.Headers {
			if h.Key == publish.ValueSchemaIDHeader {
				mark, marks = h.Value, marks+1
			}
		}
		if (location == publish.SchemaIDHeader) != (marks == 1) {
			t.Fatalf("%s: %d %s headers with the id at the %s", r.Topic, marks, publish.ValueSchemaIDHeader, location)
		}
		id, rest, err := serde.DecodeID(mark)
		if err != nil {
			t.Fatalf("%s: no schema id at the %s: %v (%.20q)", r.Topic, location, err, mark)
		}
		value := r.Value
		if location == publish.SchemaIDPrefix {
			value = rest
		} else if len(rest) != 0 {
			t.Errorf("%s: header %x is longer than the id", r.Topic, mark)
		}
		latest, err := client.SchemaByVersion(ctx, r.Topic+"-value", -1)
		if err != nil || latest.ID != id {
			t.Errorf("%s: marked %d, subject %s-value's latest %d (%v)", r.Topic, id, r.Topic, latest.ID, err)
		}
		s, ok := schemas[id]
		if !ok {
			got, err := client.SchemaByID(ctx, id)
			if err != nil || got.Type != sr.TypeJSON {
				t.Fatalf("%s: schema %d: %v, type %v", r.Topic, id, err, got.Type)
			}
			s = compileText(t, id, got.Schema)
			schemas[id] = s
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(value))
		if err != nil {
			t.Fatalf("%s: value is not JSON: %v", r.Topic, err)
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s: value fails schema %d: %v", r.Topic, id, err)
		}
	}
	strict := 0 // schemas that refuse a value no event has: not all permissive
	for _, s := range schemas {
		if s.Validate("not an event") != nil {
			strict++
		}
	}
	if strict < len(schemas)/2 {
		t.Errorf("%d of %d schemas refuse a bare string", strict, len(schemas))
	}
	t.Logf("%d records, %d schemas", len(records), len(schemas))
	if len(schemas) < 12 {
		t.Errorf("%d distinct schemas, want one per documented type of the declared providers", len(schemas))
	}
}

func compileText(t *testing.T, id int, text string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		t.Fatalf("schema %d: %v", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	url := fmt.Sprintf("mem:///schemas/%d.json", id)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema %d is not a valid schema: %v", id, err)
	}
	return s
}

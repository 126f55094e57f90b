package publish

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// srConfig is kafkaConfig with a schema registry at reg: the known event topic's schema, and a
// fallback for any other.
func srConfig(c KafkaConfig, reg *testenv.SchemaRegistry, location string) KafkaConfig {
	c.SchemaRegistry = &SchemaRegistryConfig{
		URL: reg.URL, Location: location,
		Schemas:  map[string][]byte{createdTopic: []byte(`{"type":"object","title":"created"}`), deadTopic: []byte(`{}`)},
		Fallback: []byte(`{"title":"any"}`),
	}
	return c
}

func waitSinkReady(t *testing.T, k *Kafka, want bool) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := k.Ready()
		if (err == nil) == want {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready() = %v after 10s", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every event is marked with its topic's schema id, in the header or the prefix; a topic first
// met at run time is registered with the fallback schema on first use; dead letters are not
// marked (nor their topics registered).
func TestKafkaSchemaRegistryMarks(t *testing.T) {
	for _, location := range []string{SchemaIDHeader, SchemaIDPrefix} {
		t.Run(location, func(t *testing.T) {
			c := testenv.Kafka(t)
			reg := testenv.NewSchemaRegistry(t)
			metrics := prometheus.NewRegistry()
			cfg := srConfig(kafkaConfig(c), reg, location)
			cfg.SchemaRegistry.Registerer = metrics
			k := newKafka(t, cfg)
			waitSinkReady(t, k, true)
			other := event("b", "room1")
			other.EventType = []byte("rtc.unknown.code")
			for _, ev := range []*normalize.Event{event("a", "room1"), other} {
				if err := k.Publish(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := k.DeadLetter("anyrtc", []byte("raw"), "why"); err != nil {
				t.Fatal(err)
			}
			for topic, want := range map[string]string{createdTopic: `{"type":"object","title":"created"}`, "callbacks.anyrtc.rtc.unknown.code": `{"title":"any"}`} {
				r := consume(t, c.ListenAddrs(), 1, topic)[0]
				id, data := schemaMark(t, r.Value, r.Headers, location)
				if latest, _ := reg.Latest(topic + "-value"); int(id) != latest {
					t.Errorf("%s: marked %d, the subject's latest is %d", topic, id, latest)
				}
				if s, _ := reg.Schema(int(id)); s != want {
					t.Errorf("%s: schema %d is %s, want %s", topic, id, s, want)
				}
				if !strings.HasPrefix(string(data), `{"specversion":"1.0"`) {
					t.Errorf("%s: value after the mark %.60s", topic, data)
				}
			}
			r := consume(t, c.ListenAddrs(), 1, deadTopic)[0]
			if _, marked := header(r, ValueSchemaIDHeader); marked || string(r.Value) != "raw" || reg.Posts(deadTopic+"-value") != 0 {
				t.Errorf("dead letter marked: value %q headers %v", r.Value, r.Headers)
			}
			if n := gathered(t, metrics, "callbridge_schema_registry_failures_total"); n != 0 {
				t.Errorf("%v failures counted", n)
			}
			if n := gathered(t, metrics, "callbridge_schema_registry_pending_topics"); n != 0 {
				t.Errorf("pending topics: %v", n)
			}
		})
	}
}

// schemaMark reads the schema id and the data of a record, as location puts them.
func schemaMark(t *testing.T, value []byte, headers []kgo.RecordHeader, location string) (uint32, []byte) {
	t.Helper()
	mark := value
	if location == SchemaIDHeader {
		mark = nil
		for _, h := range headers {
			if h.Key == ValueSchemaIDHeader {
				mark = h.Value
			}
		}
		if len(mark) != 5 {
			t.Fatalf("header %s: %x, want 5 bytes", ValueSchemaIDHeader, mark)
		}
	}
	if len(mark) < 5 || mark[0] != 0 {
		t.Fatalf("no Confluent schema id: %x", mark[:min(len(mark), 5)])
	}
	if location == SchemaIDPrefix {
		value = value[5:]
	}
	return binary.BigEndian.Uint32(mark[1:5]), value
}

// A registry that is down at start keeps the sink not ready and refuses events with a transient
// error (never a permanent one), until it answers; a refusal (409) does the same, naming the
// subject, until it is lifted.
func TestKafkaSchemaRegistryUnavailable(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	reg.Down(true)
	var log testenv.Log
	cfg := srConfig(kafkaConfig(c), reg, SchemaIDHeader)
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	metrics := prometheus.NewRegistry()
	cfg.SchemaRegistry.Registerer = metrics
	k := newKafka(t, cfg)
	err := waitSinkReady(t, k, false)
	if !errors.Is(err, ErrSchemaNotRegistered) {
		t.Fatalf("Ready() = %v", err)
	}
	err = k.Publish(event("a", "room1"))
	if !errors.Is(err, ErrSchemaNotRegistered) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNameTooLong) {
		t.Fatalf("publish with the registry down: %v", err)
	}
	// A run-time topic tries the registry at once, and fails as transiently.
	other := event("b", "room1")
	other.EventType = []byte("rtc.unknown.code")
	if err := k.Publish(other); !errors.Is(err, ErrSchemaNotRegistered) {
		t.Fatalf("new topic with the registry down: %v", err)
	}

	reg.Refuse(createdTopic+"-value", true)
	reg.Down(false)
	time.Sleep(2 * time.Second) // a few rounds of the background registration
	if err := k.Ready(); !errors.Is(err, ErrSchemaNotRegistered) || !strings.Contains(err.Error(), "409") {
		t.Fatalf("Ready() with a refusal: %v", err)
	}
	if !strings.Contains(log.String(), "subject="+createdTopic+"-value") || !strings.Contains(log.String(), "incompatible") {
		t.Errorf("the log does not name the refused subject:\n%s", log.String())
	}
	if err := k.Publish(event("c", "room1")); !errors.Is(err, ErrSchemaNotRegistered) {
		t.Fatalf("publish refused by the registry: %v", err)
	}
	if n := gathered(t, metrics, "callbridge_schema_registry_failures_total"); n < 2 {
		t.Errorf("failures counted: %v", n)
	}
	if n := gathered(t, metrics, "callbridge_schema_registry_pending_topics"); n != 1 {
		t.Errorf("pending topics: %v", n)
	}

	reg.Refuse(createdTopic+"-value", false)
	waitSinkReady(t, k, true)
	if err := k.Publish(event("d", "room1")); err != nil {
		t.Fatal(err)
	}
	r := consume(t, c.ListenAddrs(), 1, createdTopic)[0]
	if id, _ := schemaMark(t, r.Value, r.Headers, SchemaIDHeader); id == 0 {
		t.Errorf("id %d", id)
	}
}

func TestSchemaRegistrySettings(t *testing.T) {
	for _, cfg := range []SchemaRegistryConfig{{URL: "registry:8081"}, {URL: "http://r:8081", Location: "body"}} {
		if _, err := newSchemaRegistry(cfg, time.Second, slog.Default(), func(s string) string { return s }); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// Basic authentication: the right credentials register; wrong ones keep the sink not ready,
// saying which settings to check, and the password is never in what it says.
func TestKafkaSchemaRegistryBasicAuth(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	reg.RequireBasicAuth("bridge", "s3cret")
	for _, password := range []string{"s3cret", "wrong-pass"} {
		cfg := srConfig(kafkaConfig(c), reg, SchemaIDHeader)
		cfg.SchemaRegistry.Username, cfg.SchemaRegistry.Password = "bridge", password
		k := newKafka(t, cfg)
		if password == "s3cret" {
			waitSinkReady(t, k, true)
			continue
		}
		time.Sleep(500 * time.Millisecond)
		err := k.Ready()
		if err == nil || !strings.Contains(err.Error(), "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_USERNAME") || strings.Contains(err.Error(), password) {
			t.Errorf("wrong password: Ready() = %v", err)
		}
	}
}

// An https registry is verified with the CA file, and refused without it.
func TestKafkaSchemaRegistryTLS(t *testing.T) {
	c := testenv.Kafka(t)
	reg, ca := testenv.NewSchemaRegistryTLS(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, files := range []*TLSFiles{{CAFile: caFile}, nil} {
		cfg := srConfig(kafkaConfig(c), reg, SchemaIDHeader)
		cfg.SchemaRegistry.TLS = files
		k := newKafka(t, cfg)
		if files != nil {
			waitSinkReady(t, k, true)
			continue
		}
		time.Sleep(500 * time.Millisecond)
		if err := k.Ready(); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("without the CA: Ready() = %v", err)
		}
	}
}

func TestWithoutSchemaID(t *testing.T) {
	for in, want := range map[string]string{"\x00\x00\x00\x00\x07{}": "{}", "{}": "{}", "\x00\x01": "\x00\x01", "": ""} {
		if got := string(withoutSchemaID([]byte(in))); got != want {
			t.Errorf("withoutSchemaID(%q) = %q, want %q", in, got, want)
		}
	}
}

package main

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// playTopic is the topic of netease-nertc's 503-play-started.json.
const playTopic = "callbacks.netease-nertc.cloudplayer.play.started"

func schemaRegistryEnv(c *kfake.Cluster, reg *testenv.SchemaRegistry, location string) map[string]string {
	env := kafkaEnv(c, "structured")
	env["CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL"] = reg.URL
	env["CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION"] = location
	return env
}

// markedID is the schema id r is marked with, where location puts it; 0: not marked.
func markedID(t *testing.T, r *kgo.Record, location string) uint32 {
	t.Helper()
	mark := r.Value
	if location == publish.SchemaIDHeader {
		mark = []byte(recordHeader(r, publish.ValueSchemaIDHeader))
	}
	if len(mark) < 5 || mark[0] != 0 {
		return 0
	}
	return binary.BigEndian.Uint32(mark[1:5])
}

// A registry that is down when the bridge starts: /readyz 503 and a callback 503 (never 4xx),
// then the registry comes up: ready, and the provider's retry is published marked with the id
// of the subject's latest schema.
func TestKafkaSchemaRegistryDownThenUp(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	reg.Down(true)
	b := startBridge(t, schemaRegistryEnv(c, reg, publish.SchemaIDHeader))
	body := fixtures(t, "netease-nertc")["503-play-started.json"]
	waitReady(t, b, 503)
	status, h, reply := b.post(t, signed("netease-nertc", body, time.Now()))
	if status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("registry down: %d Retry-After=%q %s", status, h.Get("Retry-After"), reply)
	}

	reg.Down(false)
	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("registry up: %d %s", status, reply)
	}
	r := nativeRecords(kafkaRecords(t, c, eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("netease-nertc")), body)))
	if len(r) != 1 || r[0].Topic != playTopic {
		t.Fatalf("%d records, want the retry only", len(r))
	}
	latest, _ := reg.Latest(playTopic + "-value")
	if id := markedID(t, r[0], publish.SchemaIDHeader); id == 0 || int(id) != latest {
		t.Errorf("marked %d, the subject's latest is %d", id, latest)
	}
	if s, _ := reg.Schema(latest); !strings.Contains(s, `"specversion"`) || !strings.Contains(s, `"data"`) {
		t.Errorf("the structured value schema: %.200s", s)
	}
}

// A registry that refuses a topic's schema (409): /readyz stays 503, the log names the subject,
// and the topic's callbacks get 503, never a 4xx; the other topics are registered and marked.
func TestKafkaSchemaRegistryRefuses(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	reg.Refuse(playTopic+"-value", true)
	b, logs := startLogged(t, schemaRegistryEnv(c, reg, publish.SchemaIDPrefix))
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), playTopic+"-value"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not name the refused subject:\n%s", logs.String())
		}
	}
	time.Sleep(time.Second) // the other subjects registered meanwhile
	waitReady(t, b, 503)
	if !strings.Contains(logs.String(), "409") {
		t.Errorf("the log does not say 409:\n%s", logs.String())
	}
	body := fixtures(t, "netease-nertc")["503-play-started.json"]
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 503 {
		t.Fatalf("refused topic: %d %s", status, reply)
	}
	other := fixtures(t, "anyrtc")["1-103-broadcaster-join.json"]
	if status, _, reply := b.post(t, signed("anyrtc", other, time.Now())); status != 200 {
		t.Fatalf("a registered topic: %d %s", status, reply)
	}
	// every event the callback makes (its canonical counterpart too), then the native one
	r := nativeRecords(kafkaRecords(t, c, eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("anyrtc")), other)))
	latest, _ := reg.Latest(r[0].Topic + "-value")
	if len(r) != 1 || int(markedID(t, r[0], publish.SchemaIDPrefix)) != latest || latest == 0 {
		t.Errorf("%d records; %s marked %d, latest %d", len(r), r[0].Topic, markedID(t, r[0], publish.SchemaIDPrefix), latest)
	}
}

// Buffer mode: a callback buffered while the registry is down is answered 200, and forwarded
// marked once the registry answers (the mark is made when the sink sends, not when the buffer
// stores).
func TestKafkaSchemaRegistryBuffered(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	reg.Down(true)
	env := schemaRegistryEnv(c, reg, publish.SchemaIDPrefix)
	env["CALLBRIDGE_ACK_MODE"] = "buffer"
	b := startBridge(t, env)
	body := fixtures(t, "netease-nertc")["503-play-started.json"]
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("buffered: %d %s", status, reply)
	}
	time.Sleep(500 * time.Millisecond)
	reg.Down(false)
	// Registered once the sink connected and created its topics: kafkaRecords' consumer finds
	// the topics that exist when it starts.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := reg.Latest(playTopic + "-value"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never registered")
		}
	}
	r := nativeRecords(kafkaRecords(t, c, eventCount(t, normalize.BuiltinRegistry().Lookup([]byte("netease-nertc")), body)))
	latest, _ := reg.Latest(playTopic + "-value")
	if len(r) != 1 || int(markedID(t, r[0], publish.SchemaIDPrefix)) != latest || latest == 0 {
		t.Errorf("%d records; marked %d, latest %d", len(r), markedID(t, r[0], publish.SchemaIDPrefix), latest)
	}
	if !strings.HasPrefix(string(r[0].Value[5:]), `{"specversion"`) {
		t.Errorf("value after the prefix: %.40s", r[0].Value[5:])
	}
}

// callbridge tail reads events whose value carries the schema id prefix as the events they are.
func TestTailKafkaSchemaIDPrefix(t *testing.T) {
	c := testenv.Kafka(t)
	reg := testenv.NewSchemaRegistry(t)
	b := startBridge(t, schemaRegistryEnv(c, reg, publish.SchemaIDPrefix))
	waitReady(t, b, 200)
	tailsAnyrtc(t, b)
}

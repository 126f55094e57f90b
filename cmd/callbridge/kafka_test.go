package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

func kafkaEnv(c *kfake.Cluster, mode string) map[string]string {
	env := signedEnv()
	env["CALLBRIDGE_SINK"] = "kafka"
	env["CALLBRIDGE_KAFKA_BROKERS"] = strings.Join(c.ListenAddrs(), ",")
	env["CALLBRIDGE_KAFKA_CREATE_TOPICS"] = "true"
	env["CALLBRIDGE_CE_MODE"] = mode
	return env
}

// kafkaRecords reads every record on the callbacks.* topics, waiting for want of them and then a
// little longer for any more.
func kafkaRecords(t *testing.T, c *kfake.Cluster, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeRegex(), kgo.ConsumeTopics(`callbacks\..*`),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records, want %d", len(out), want)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	more, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(more).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// nativeRecords are the records of rs that are not canonical events (see nativeMsgs).
func nativeRecords(rs []*kgo.Record) []*kgo.Record {
	var out []*kgo.Record
	for _, r := range rs {
		if !strings.HasPrefix(r.Topic, canonicalPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func hasHeader(r *kgo.Record, key string) bool {
	for _, h := range r.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}

func recordHeader(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// subjectKey is the default key template's rendering of a subject: the subject itself.
func subjectKey(s string) string {
	return s // the subject as it is: a key is bytes, and an empty one is no key
}

// TestKafkaEndToEnd posts every fixture of every provider once, signed, to a bridge publishing to
// Kafka, and reads the topics back: one record per event posted, on callbacks.<provider>.<eventtype>,
// keyed by the subject, decoding with the CloudEvents SDK's Kafka binding to the golden event.
func TestKafkaEndToEnd(t *testing.T) {
	for _, mode := range []string{"structured", "binary"} {
		t.Run(mode, func(t *testing.T) {
			c := testenv.Kafka(t)
			b := startBridge(t, kafkaEnv(c, mode))
			now := time.Now()
			want := map[string]request{} // golden file → the request posted
			posted := map[string]int{}   // provider → events posted
			total := 0
			for _, p := range normalize.Builtins() {
				for name, body := range fixtures(t, p.ID) {
					r := b.postFixture(t, p.ID, name, body, now)
					if !strings.HasPrefix(name, "probe") {
						for i, g := range goldensOf(p, name) {
							posted[[]string{p.ID, normalize.CanonicalID}[i]]++
							total++
							want[g] = r
						}
					}
				}
			}

			// Kafka has no deduplication: 314-task-start-signed.json and 314-task-start.json are
			// one event, posted twice, so two records with one id.
			records := kafkaRecords(t, c, total)
			t.Logf("%d events posted, %d records read back", total, len(records))
			if len(records) != total {
				t.Fatalf("%d records, want one per event posted: %d", len(records), total)
			}
			byID := map[string]cloudevents.Event{}
			perProvider := map[string]int{}
			for _, r := range records {
				ev := testenv.KafkaEvent(t, r)
				provider, _ := ev.Extensions()["provider"].(string)
				perProvider[provider]++
				// Kafka names hold [a-zA-Z0-9._-]: any other byte of the event type becomes '_'.
				wantTopic := strings.Map(func(r rune) rune {
					if r == '.' || r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
						return r
					}
					return '_'
				}, "callbacks."+provider+"."+strings.TrimPrefix(ev.Type(), typePrefix(ev.Type())))
				if r.Topic != wantTopic {
					t.Errorf("%s: topic %s, want %s", ev.ID(), r.Topic, wantTopic)
				}
				if pk, ok := ev.Extensions()["partitionkey"].(string); ok {
					if string(r.Key) != pk {
						t.Errorf("%s: key %q, partitionkey %q", ev.ID(), r.Key, pk)
					}
				} else if string(r.Key) != subjectKey(ev.Subject()) {
					t.Errorf("%s: key %q, subject %q", ev.ID(), r.Key, ev.Subject())
				}
				if ev.Extensions()["traceparent"] != testTraceParent {
					t.Errorf("%s: traceparent not carried: %v", r.Topic, ev.Extensions())
				}
				if _, ok := ev.Extensions()["verified"]; ok {
					t.Errorf("%s: signed callback marked unverified", r.Topic)
				}
				if mode == "structured" {
					if ct := recordHeader(r, "content-type"); ct != "application/cloudevents+json; charset=UTF-8" || len(r.Headers) != 1 {
						t.Errorf("%s: headers %v", r.Topic, r.Headers)
					}
					var m map[string]any
					if err := json.Unmarshal(r.Value, &m); err != nil || m["id"] != ev.ID() {
						t.Errorf("%s: value is not the JSON event: %s", r.Topic, r.Value)
					}
				} else {
					for h, v := range map[string]string{
						"content-type": "application/json", "ce_specversion": "1.0", "ce_id": ev.ID(),
						"ce_source": ev.Source(), "ce_type": ev.Type(), "ce_subject": ev.Subject(),
						"ce_time": ev.Time().UTC().Format("2006-01-02T15:04:05.000Z"), "ce_provider": provider,
						"ce_providereventtype": ev.Extensions()["providereventtype"].(string),
					} {
						if h == "ce_subject" && v == "" {
							if hasHeader(r, h) {
								t.Errorf("%s: event without a subject has a ce_subject header", r.Topic)
							}
							continue // an event of an undocumented kind may name no entity
						}
						if got := recordHeader(r, h); got != v || v == "" {
							t.Errorf("%s: header %s = %q, want %q", r.Topic, h, got, v)
						}
					}
					if !bytes.Equal(r.Value, ev.Data()) {
						t.Errorf("%s: value is not data: %s", r.Topic, r.Value)
					}
				}
				byID[ev.ID()] = ev
			}
			for provider, n := range posted {
				if perProvider[provider] != n {
					t.Errorf("%s: %d records, %d events posted", provider, perProvider[provider], n)
				}
			}
			for golden, r := range want {
				compareGolden(t, byID, golden, r)
			}
		})
	}
}

// TestKafkaBrokerDown stops the Kafka broker under a running bridge: callbacks get 503 with
// Retry-After and /readyz 503; when the broker is back (same port, same data), both recover.
func TestKafkaBrokerDown(t *testing.T) {
	dir := t.TempDir()
	c := testenv.Kafka(t, kfake.DataDir(dir))
	port := c.ListenAddrs()[0]
	b := startBridge(t, kafkaEnv(c, "structured"))
	body := fixtures(t, "netease-nertc")["503-play-started.json"]

	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("broker up: %d %s", status, reply)
	}
	c.Close()
	waitReady(t, b, 503)
	status, h, reply := b.post(t, signed("netease-nertc", body, time.Now()))
	if status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("broker down: %d Retry-After=%q %s", status, h.Get("Retry-After"), reply)
	}

	c = testenv.Kafka(t, kfake.DataDir(dir), kfake.Ports(mustPort(t, port)))
	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("broker back: %d %s", status, reply)
	}
	// Two records of one event: before the outage and the provider's retry after it.
	records := nativeRecords(kafkaRecords(t, c, 2))
	if len(records) != 2 || testenv.KafkaEvent(t, records[0]).ID() != testenv.KafkaEvent(t, records[1]).ID() {
		t.Errorf("%d records, want the event twice", len(records))
	}
}

// Without CALLBRIDGE_KAFKA_CREATE_TOPICS the topics must exist: start-up fails naming them.
func TestKafkaMissingTopics(t *testing.T) {
	c := testenv.Kafka(t)
	env := kafkaEnv(c, "structured")
	delete(env, "CALLBRIDGE_KAFKA_CREATE_TOPICS")
	cfg, ln := testConfig(t, env)
	b, err := start(context.Background(), cfg, ln, testLogger())
	if err == nil {
		b.stop()
		t.Fatal("started without its topics")
	}
	t.Logf("start-up error: %v", err)
	for _, w := range []string{"callbacks.netease-nertc.cloudplayer.play.started", "callbacks.deadletter.tencent-css", "CALLBRIDGE_KAFKA_CREATE_TOPICS=true"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is more than one line: %q", err)
	}
	// The listener was released.
	if conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Errorf("still listening on %s after a failed start", ln.Addr())
	}
}

// The bridge started before its Kafka: /readyz and callbacks answer 503 until the brokers
// answer, then the bridge connects without a restart.
func TestKafkaStartBeforeBroker(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	env := signedEnv()
	env["CALLBRIDGE_SINK"] = "kafka"
	env["CALLBRIDGE_KAFKA_BROKERS"] = fmt.Sprintf("127.0.0.1:%d", port)
	env["CALLBRIDGE_KAFKA_CREATE_TOPICS"] = "true"
	addr, started := startAsync(t, env)
	early := &runningBridge{addr: addr}
	waitReady(t, early, 503)
	body := fixtures(t, "netease-nertc")["503-play-started.json"]
	if status, _, _ := early.post(t, signed("netease-nertc", body, time.Now())); status != 503 {
		t.Fatalf("callback before Kafka is up: %d", status)
	}
	testenv.Kafka(t, kfake.Ports(port))
	b := <-started
	if b == nil {
		t.FailNow()
	}
	defer b.stop()
	waitReady(t, b, 200)
	if status, _, reply := b.post(t, signed("netease-nertc", body, time.Now())); status != 200 {
		t.Fatalf("after Kafka came up: %d %s", status, reply)
	}
}

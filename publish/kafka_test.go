package publish

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

const (
	createdTopic = "callbacks.anyrtc.rtc.channel.created"
	deadTopic    = "callbacks.deadletter.anyrtc"
)

// kafkaConfig is the production defaults against c.
func kafkaConfig(c *kfake.Cluster) KafkaConfig {
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	key, _ := ParseTemplate("{subject}")
	return KafkaConfig{
		Brokers:      c.ListenAddrs(),
		RequiredAcks: "all",
		Compression:  "none",
		ClientID:     "callbridge-test",
		Template:     tmpl,
		KeyTemplate:  key,
		Mode:         Structured,
		CreateTopics: true,
		Partitions:   3,
		Replication:  -1,
		KnownTopics:  []string{createdTopic, deadTopic},
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    100,
		Timeout:      2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func newKafka(t testing.TB, cfg KafkaConfig) *Kafka {
	t.Helper()
	k, err := NewKafka(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return k
}

// consume reads want records from topics (every topic when none is named) from the start, and
// then checks for a short while that no more arrive.
func consume(t testing.TB, addrs []string, want int, topics ...string) []*kgo.Record {
	t.Helper()
	opts := []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}
	if len(topics) == 0 {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records from %v, want %d", len(out), topics, want)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	if len(out) != want {
		t.Fatalf("read %d records, want %d", len(out), want)
	}
	return out
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func TestKafkaPublishModes(t *testing.T) {
	for _, mode := range []Mode{Structured, Binary} {
		name := map[Mode]string{Structured: "structured", Binary: "binary"}[mode]
		t.Run(name, func(t *testing.T) {
			c := testenv.Kafka(t)
			cfg := kafkaConfig(c)
			cfg.Mode = mode
			k := newKafka(t, cfg)
			sent := []*normalize.Event{event("a", "room1"), event("b", "room2"), event("c", "room1")}
			sent[2].TraceParent = []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			sent[2].Unverified = true
			for _, ev := range sent {
				if err := k.Publish(ev); err != nil {
					t.Fatal(err)
				}
			}
			byID := map[string]*kgo.Record{}
			for _, r := range consume(t, c.ListenAddrs(), len(sent), createdTopic) {
				got := testenv.KafkaEvent(t, r)
				byID[got.ID()] = r
			}
			partitionOf := map[string]int32{}
			for _, want := range sent {
				r := byID[string(want.ID)]
				if r == nil {
					t.Fatalf("event %s not read back", want.ID)
				}
				got := testenv.KafkaEvent(t, r)
				if r.Topic != createdTopic || string(r.Key) != string(want.Subject) {
					t.Errorf("%s: topic %s key %q", want.ID, r.Topic, r.Key)
				}
				if p, ok := partitionOf[string(r.Key)]; ok && p != r.Partition {
					t.Errorf("key %s in partitions %d and %d", r.Key, p, r.Partition)
				}
				partitionOf[string(r.Key)] = r.Partition
				if got.Type() != string(want.Type) || got.Subject() != string(want.Subject) || got.Source() != string(want.Source) ||
					!got.Time().Equal(want.Time) || !bytes.Equal(got.Data(), want.Data) || got.DataContentType() != "application/json" {
					t.Errorf("%s: decoded %s", want.ID, got)
				}
				if got.Extensions()["provider"] != "anyrtc" || got.Extensions()["providereventtype"] != "101" {
					t.Errorf("%s: extensions %v", want.ID, got.Extensions())
				}
				if want.Unverified && fmt.Sprint(got.Extensions()["verified"]) != "false" {
					t.Errorf("%s: verified=false not carried: %v", want.ID, got.Extensions())
				}
				if len(want.TraceParent) > 0 && got.Extensions()["traceparent"] != string(want.TraceParent) {
					t.Errorf("%s: traceparent not carried: %v", want.ID, got.Extensions())
				}
				if d := time.Since(r.Timestamp); d < 0 || d > time.Minute {
					t.Errorf("%s: record time %s: want the write time", want.ID, r.Timestamp)
				}
				if _, ok := header(r, "Nats-Msg-Id"); ok {
					t.Errorf("%s: Nats-Msg-Id on a Kafka record", want.ID)
				}
				ct, _ := header(r, "content-type")
				if mode == Structured {
					if ct != "application/cloudevents+json; charset=UTF-8" || len(r.Headers) != 1 {
						t.Errorf("%s: structured headers %v", want.ID, r.Headers)
					}
					var env map[string]json.RawMessage
					if err := json.Unmarshal(r.Value, &env); err != nil || string(env["id"]) != strconv.Quote(string(want.ID)) {
						t.Errorf("%s: value is not the JSON event: %s", want.ID, r.Value)
					}
					continue
				}
				if ct != "application/json" || !bytes.Equal(r.Value, want.Data) {
					t.Errorf("%s: binary content-type %q value %s", want.ID, ct, r.Value)
				}
				wantHeaders := map[string]string{
					"ce_specversion": "1.0", "ce_id": string(want.ID), "ce_source": "/callbridge/anyrtc",
					"ce_type": "io.anyrtc.rtc.channel.created", "ce_subject": string(want.Subject),
					"ce_time": "2024-04-12T05:33:20.000Z", "ce_provider": "anyrtc", "ce_providereventtype": "101",
				}
				for h, v := range wantHeaders {
					if got, ok := header(r, h); !ok || got != v {
						t.Errorf("%s: header %s = %q, want %q", want.ID, h, got, v)
					}
				}
			}
		})
	}
}

// The event is pooled by the caller: once Publish returned, scribbling over it must not change
// what was written.
func TestKafkaPublishCopies(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.Mode = Binary
	k := newKafka(t, cfg)
	ev := event("orig", "room1")
	if err := k.Publish(ev); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{ev.ID, ev.Subject, ev.Data, ev.Source, ev.Type} {
		for i := range b {
			b[i] = 'X'
		}
	}
	r := consume(t, c.ListenAddrs(), 1, createdTopic)[0]
	if id, _ := header(r, "ce_id"); id != "orig" || string(r.Key) != "room1" || string(r.Value) != `{"channelName":"room1"}` {
		t.Errorf("record changed after Publish returned: key %q value %s id %q", r.Key, r.Value, id)
	}
}

// Concurrent publishers share the writer and its batches; every one is acknowledged, and one
// subject's events stay in one partition.
func TestKafkaConcurrent(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := k.Publish(event(fmt.Sprint(i), fmt.Sprintf("room%d", i%7))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	partitionOf := map[string]int32{}
	used := map[int32]bool{}
	for _, r := range consume(t, c.ListenAddrs(), 300, createdTopic) {
		if p, ok := partitionOf[string(r.Key)]; ok && p != r.Partition {
			t.Errorf("key %s in partitions %d and %d", r.Key, p, r.Partition)
		}
		partitionOf[string(r.Key)] = r.Partition
		used[r.Partition] = true
	}
	if len(used) < 2 {
		t.Errorf("7 keys all in partitions %v: not hashed", used)
	}
}

// topicPartitions asks the cluster (through a client of its own, so no cache) for topics.
func topicPartitions(t *testing.T, c *kfake.Cluster, topics ...string) map[string]int {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(c.ListenAddrs()...), Transport: &kafka.Transport{}}
	defer cl.Transport.(*kafka.Transport).CloseIdleConnections()
	res, err := cl.Metadata(context.Background(), &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tp := range res.Topics {
		if tp.Error == nil {
			out[tp.Name] = len(tp.Partitions)
		}
	}
	return out
}

func TestKafkaCreateTopics(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	got := topicPartitions(t, c, createdTopic, deadTopic)
	if got[createdTopic] != 3 || got[deadTopic] != 3 {
		t.Fatalf("known topics after start: %v, want both with 3 partitions", got)
	}
	// An event code the documentation does not know: its topic is created on first use.
	ev := event("u1", "room1")
	ev.EventType, ev.Type = []byte("unknown.9.9"), []byte("io.anyrtc.unknown.9.9")
	if err := k.Publish(ev); err != nil {
		t.Fatal(err)
	}
	if got := topicPartitions(t, c, "callbacks.anyrtc.unknown.9.9"); got["callbacks.anyrtc.unknown.9.9"] != 3 {
		t.Errorf("unknown topic not created with 3 partitions: %v", got)
	}
	if err := k.Publish(ev); err != nil { // the second use finds it
		t.Fatal(err)
	}
	consume(t, c.ListenAddrs(), 2, "callbacks.anyrtc.unknown.9.9")
	// A second sink on the same cluster finds the known topics and creates nothing.
	newKafka(t, kafkaConfig(c))
}

func TestKafkaTopicsNotCreated(t *testing.T) {
	t.Run("known topic missing", func(t *testing.T) {
		c := testenv.Kafka(t, kfake.SeedTopics(1, createdTopic))
		cfg := kafkaConfig(c)
		cfg.CreateTopics = false
		cfg.KnownTopics = append(cfg.KnownTopics, "callbacks.anyrtc.rtc.channel.destroyed")
		k, err := NewKafka(context.Background(), cfg)
		if err == nil {
			k.Close(context.Background())
			t.Fatal("started without its topics")
		}
		msg := err.Error()
		if !strings.Contains(msg, deadTopic) || !strings.Contains(msg, "callbacks.anyrtc.rtc.channel.destroyed") ||
			strings.Contains(msg, createdTopic+",") || !strings.Contains(msg, "CALLBRIDGE_KAFKA_CREATE_TOPICS") || strings.Contains(msg, "\n") {
			t.Errorf("error %q: want one line naming the two missing topics only", msg)
		}
		if errors.Is(err, ErrNotReady) {
			t.Errorf("a missing topic is not an unreachable broker: %v", err)
		}
		if got := topicPartitions(t, c, deadTopic); len(got) != 0 {
			t.Errorf("created %v without CreateTopics", got)
		}
	})
	t.Run("unknown topic written", func(t *testing.T) {
		c := testenv.Kafka(t, kfake.SeedTopics(1, createdTopic, deadTopic))
		cfg := kafkaConfig(c)
		cfg.CreateTopics = false
		k := newKafka(t, cfg)
		if err := k.Publish(event("a", "room1")); err != nil {
			t.Fatal(err)
		}
		ev := event("b", "room1")
		ev.EventType = []byte("unknown.9.9")
		start := time.Now()
		err := k.Publish(ev)
		if err == nil || !strings.Contains(err.Error(), "topic callbacks.anyrtc.unknown.9.9 does not exist") ||
			!strings.Contains(err.Error(), "CALLBRIDGE_KAFKA_CREATE_TOPICS=true") {
			t.Fatalf("err %v, want the missing topic named", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("missing topic answered after %s", d)
		}
		if err := k.Ready(); err != nil {
			t.Errorf("a missing topic made the sink not ready: %v", err)
		}
		if got := topicPartitions(t, c, "callbacks.anyrtc.unknown.9.9"); len(got) != 0 {
			t.Errorf("created %v without CreateTopics", got)
		}
	})
}

func TestKafkaDeadLetter(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	body := []byte(`{"eventType":503,"data":`)
	if err := k.DeadLetter("anyrtc", body, "body is not a JSON object"); err != nil {
		t.Fatal(err)
	}
	body[0] = 'X' // the caller's buffer is reused
	r := consume(t, c.ListenAddrs(), 1, deadTopic)[0]
	reason, _ := header(r, ReasonHeader)
	verified, _ := header(r, VerifiedHeader)
	if string(r.Value) != `{"eventType":503,"data":` || reason != "body is not a JSON object" || verified != "true" || r.Key != nil || len(r.Headers) != 2 {
		t.Errorf("dead letter: key %q value %s headers %v", r.Key, r.Value, r.Headers)
	}
	// A provider without a known topic (not in KnownTopics): created on first use.
	if err := k.DeadLetter("tencent-css", []byte("x"), "r"); err != nil {
		t.Fatal(err)
	}
	consume(t, c.ListenAddrs(), 1, "callbacks.deadletter.tencent-css")
}

func TestAppendKafkaTopic(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct{ in, want string }{
		{"callbacks.netease-nertc.cloudplayer.play.started", "callbacks.netease-nertc.cloudplayer.play.started"},
		{"events.rtmp://a_b/c_d", "events.rtmp___a_b_c_d"},
		{"events.房间", "events.______"},
		{"a+b=c@d,e", "a_b_c_d_e"},
		{"ok_-.09AZaz", "ok_-.09AZaz"},
	}
	for _, tt := range tests {
		if got := string(AppendKafkaTopic(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
		}
		b := []byte(tt.in) // in place
		if got := string(AppendKafkaTopic(b[:0], b)); got != tt.want {
			t.Errorf("%q in place: %q, want %q", tt.in, got, tt.want)
		}
	}
	a := string(AppendKafkaTopic(nil, []byte("events."+long)))
	b := string(AppendKafkaTopic(nil, []byte("events."+long+"y")))
	if len(a) != maxTopicLen || len(b) != maxTopicLen || a == b || !strings.HasPrefix(a, "events.xxx") {
		t.Errorf("long names: %d %q / %d %q", len(a), a, len(b), b)
	}
	if a != string(AppendKafkaTopic(nil, []byte("events."+long))) {
		t.Error("a long name is not cut the same way twice")
	}
}

// A {subject} template: the payload value loses its dots and its length past maxToken (Template)
// and every byte Kafka does not allow (the Kafka pass); the topic is created on first use. The
// key is the value itself, bounded the same way.
func TestKafkaSubjectTopic(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.Template, _ = ParseTemplate("events.{provider}.{subject}")
	cfg.KnownTopics = nil
	k := newKafka(t, cfg)
	tests := []struct{ subject, topic string }{
		{"rtmp://a.b/c d", "events.anyrtc.rtmp___a_b_c_d"},
		{"room1", "events.anyrtc.room1"},
		{"房间", "events.anyrtc.______"},
		{strings.Repeat("s", 300), "events.anyrtc." + string(appendToken(nil, []byte(strings.Repeat("s", 300)), false, maxToken))},
	}
	for _, tt := range tests {
		if err := k.Publish(event("id-"+tt.subject[:1], tt.subject)); err != nil {
			t.Fatalf("%q: %v", tt.subject, err)
		}
		r := consume(t, c.ListenAddrs(), 1, tt.topic)[0]
		wantKey := string(appendKeyPart(nil, []byte(tt.subject), maxToken)) // the value, not a token
		if string(r.Key) != wantKey {
			t.Errorf("%q: key %q, want %q", tt.subject, r.Key, wantKey)
		}
		if ev := testenv.KafkaEvent(t, r); ev.Subject() != tt.subject {
			t.Errorf("%q: subject in the event %q", tt.subject, ev.Subject())
		}
	}
}

func TestKafkaSettings(t *testing.T) {
	c := testenv.Kafka(t)
	for _, tt := range []struct {
		acks string
		want kafka.RequiredAcks
	}{{"all", kafka.RequireAll}, {"one", kafka.RequireOne}, {"none", kafka.RequireNone}} {
		t.Run("acks="+tt.acks, func(t *testing.T) {
			cfg := kafkaConfig(c)
			cfg.RequiredAcks = tt.acks
			k := newKafka(t, cfg)
			if k.writer.RequiredAcks != tt.want || k.writer.Async || k.writer.AllowAutoTopicCreation {
				t.Errorf("writer acks %v async %v auto-create %v", k.writer.RequiredAcks, k.writer.Async, k.writer.AllowAutoTopicCreation)
			}
			if err := k.Publish(event("acks-"+tt.acks, "room1")); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, comp := range []string{"gzip", "snappy", "lz4", "zstd"} {
		t.Run("compression="+comp, func(t *testing.T) {
			cfg := kafkaConfig(c)
			cfg.Compression = comp
			cfg.Template, _ = ParseTemplate("compressed." + comp)
			cfg.KnownTopics = nil
			k := newKafka(t, cfg)
			if err := k.Publish(event("c-"+comp, "room1")); err != nil {
				t.Fatal(err)
			}
			if ev := testenv.KafkaEvent(t, consume(t, c.ListenAddrs(), 1, "compressed."+comp)[0]); ev.ID() != "c-"+comp {
				t.Errorf("read back %s", ev.ID())
			}
		})
	}
	k := newKafka(t, kafkaConfig(c))
	if k.writer.BatchTimeout != 2*time.Millisecond || k.writer.BatchSize != 100 || k.writer.WriteTimeout != 2*time.Second {
		t.Errorf("batch timeout %s size %d write timeout %s", k.writer.BatchTimeout, k.writer.BatchSize, k.writer.WriteTimeout)
	}
	for _, bad := range []func(*KafkaConfig){
		func(c *KafkaConfig) { c.RequiredAcks = "two" },
		func(c *KafkaConfig) { c.Compression = "brotli" },
		func(c *KafkaConfig) { c.SASLMechanism = "gssapi" },
		func(c *KafkaConfig) { c.Brokers = nil },
	} {
		cfg := kafkaConfig(c)
		bad(&cfg)
		if k, err := NewKafka(context.Background(), cfg); err == nil {
			k.Close(context.Background())
			t.Errorf("accepted %+v", cfg)
		}
	}
	for _, m := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		if mech, err := kafkaSASL(m, "u", "p"); err != nil || mech == nil || !strings.EqualFold(mech.Name(), strings.ReplaceAll(m, "plain", "PLAIN")) {
			t.Errorf("SASL %s: %v %v", m, mech, err)
		}
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 to dir/ca.pem and returns it for a
// server.
func selfSigned(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TLS with our CA file and each SASL mechanism, against a cluster that requires them.
func TestKafkaTLSAndSASL(t *testing.T) {
	dir := t.TempDir()
	cert := selfSigned(t, dir)
	for _, mech := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		t.Run(mech, func(t *testing.T) {
			c := testenv.Kafka(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
				kfake.EnableSASL(), kfake.Superuser(strings.ToUpper(mech), "bridge", "s3cret"))
			cfg := kafkaConfig(c)
			cfg.TLS = &TLSFiles{CAFile: filepath.Join(dir, "ca.pem")}
			cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword = mech, "bridge", "s3cret"
			k := newKafka(t, cfg)
			if err := k.Publish(event("tls-"+mech, "room1")); err != nil {
				t.Fatal(err)
			}
			cfg.SASLPassword = "wrong"
			if k, err := NewKafka(context.Background(), cfg); err == nil {
				k.Close(context.Background())
				t.Error("started with a wrong password")
			} else {
				t.Logf("wrong password: %v", err)
			}
			cfg.SASLPassword, cfg.TLS = "s3cret", &TLSFiles{} // the system roots do not know our CA
			if k, err := NewKafka(context.Background(), cfg); err == nil {
				k.Close(context.Background())
				t.Error("started with an unverified broker certificate")
			} else {
				t.Logf("unknown CA: %v", err)
				if errors.Is(err, ErrNotReady) {
					t.Errorf("a certificate that does not verify is not an unreachable broker: %v", err)
				}
			}
		})
	}
}

// Brokers that do not answer at start-up: an error wrapping ErrNotReady, within the timeout.
func TestKafkaStartUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	start := time.Now()
	_, err := NewKafka(context.Background(), KafkaConfig{Brokers: []string{addr}, Template: tmpl, KeyTemplate: tmpl, Timeout: time.Second})
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), addr) {
		t.Errorf("err %v, want ErrNotReady naming %s", err, addr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// The cluster stops: a write fails within the timeout and the sink turns not ready; the cluster
// comes back on the same port with its data: ready again, and writes succeed.
func TestKafkaBrokerDown(t *testing.T) {
	dir := t.TempDir()
	c := testenv.Kafka(t, kfake.DataDir(dir))
	port := c.ListenAddrs()[0][strings.LastIndexByte(c.ListenAddrs()[0], ':')+1:]
	cfg := kafkaConfig(c)
	cfg.Timeout = time.Second
	k := newKafka(t, cfg)
	if err := k.Publish(event("before", "room1")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	start := time.Now()
	err := k.Publish(event("during", "room1"))
	if err == nil {
		t.Fatal("write to a stopped cluster succeeded")
	}
	d := time.Since(start)
	t.Logf("write to the stopped cluster failed after %s: %v", d, err)
	if d > cfg.Timeout+500*time.Millisecond {
		t.Errorf("failed write took %s, timeout %s", d, cfg.Timeout)
	}
	if k.Ready() == nil {
		t.Error("ready after a write failed for want of the brokers")
	}
	if err := k.DeadLetter("anyrtc", []byte("x"), "r"); err == nil {
		t.Error("dead letter to a stopped cluster succeeded")
	}
	// The check the failure woke finds the brokers down: writes now fail at once.
	for deadline := time.Now().Add(2 * time.Second); ; {
		start := time.Now()
		err := k.Publish(event("during", "room1"))
		if errors.Is(err, ErrNotReady) && time.Since(start) < 50*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still wait for a cluster known to be down: %v after %s", err, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}

	p, _ := strconv.Atoi(port)
	c2 := testenv.Kafka(t, kfake.DataDir(dir), kfake.Ports(p))
	deadline := time.Now().Add(10 * time.Second)
	for k.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 10s after the cluster came back: %v", k.Ready())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ready %s after the cluster came back", time.Since(deadline.Add(-10*time.Second)))
	if err := k.Publish(event("after", "room1")); err != nil {
		t.Fatalf("after the cluster came back: %v", err)
	}
	ids := map[string]bool{}
	for _, r := range consume(t, c2.ListenAddrs(), 2, createdTopic) {
		ids[testenv.KafkaEvent(t, r).ID()] = true
	}
	if !ids["before"] || !ids["after"] {
		t.Errorf("read back %v", ids)
	}
}

// A broker that takes the connection but never answers a produce request: the write fails
// within the timeout and the sink is not ready until the broker answers again.
func TestKafkaBrokerHangs(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.Timeout = time.Second
	k := newKafka(t, cfg)
	var hang atomic.Bool
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		return nil, nil, hang.Load() // handled without an answer while hanging
	})
	if err := k.Publish(event("before", "room1")); err != nil {
		t.Fatal(err)
	}
	hang.Store(true)
	start := time.Now()
	err := k.Publish(event("hung", "room1"))
	d := time.Since(start)
	t.Logf("write to a hung broker failed after %s: %v", d, err)
	if err == nil || d > cfg.Timeout+500*time.Millisecond {
		t.Fatalf("write to a hung broker: %v after %s (timeout %s)", err, d, cfg.Timeout)
	}
	if k.Ready() == nil {
		t.Error("ready right after a write timed out")
	}
	hang.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := k.Publish(event("after", "room1"))
		if err == nil && k.Ready() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery once the broker answers: publish %v, ready %v", err, k.Ready())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkKafkaPublish is the broker round trip per event through kfake, in-process. parallel:
// concurrent callers sharing the writer's batches; single: one caller at a time, where
// BatchTimeout is the latency floor (2ms, ours, against kafka-go's default 1s).
func BenchmarkKafkaPublish(b *testing.B) {
	c := testenv.Kafka(b, kfake.SeedTopics(3, createdTopic, deadTopic))
	for _, bc := range []struct {
		name     string
		batch    time.Duration
		parallel bool
	}{
		{"parallel/batch=50us", 50 * time.Microsecond, true},
		{"parallel/batch=200us", 200 * time.Microsecond, true},
		{"parallel/batch=500us", 500 * time.Microsecond, true},
		{"parallel/batch=2ms", 2 * time.Millisecond, true},
		{"parallel/batch=1s", time.Second, true},
		{"single/batch=50us", 50 * time.Microsecond, false},
		{"single/batch=200us", 200 * time.Microsecond, false},
		{"single/batch=500us", 500 * time.Microsecond, false},
		{"single/batch=2ms", 2 * time.Millisecond, false},
		{"single/batch=1s", time.Second, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := kafkaConfig(c)
			cfg.BatchTimeout = bc.batch
			cfg.Timeout = 10 * time.Second
			k := newKafka(b, cfg)
			var n atomic.Int64
			publish := func(ev *normalize.Event, id []byte) {
				i := n.Add(1)
				ev.ID = strconv.AppendInt(id[:0], i, 10)
				ev.Subject = strconv.AppendInt(append(ev.Subject[:0], "room"...), i%16, 10)
				if err := k.Publish(ev); err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !bc.parallel {
				ev, id := event("", "room"), make([]byte, 0, 20)
				for range b.N {
					publish(ev, id)
				}
				return
			}
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				ev, id := event("", "room"), make([]byte, 0, 20)
				for pb.Next() {
					publish(ev, id)
				}
			})
		})
	}
}

// Known topics are named as Publish names them: a template with bytes Kafka does not allow.
func TestKafkaKnownTopicsSanitised(t *testing.T) {
	c := testenv.Kafka(t)
	cfg := kafkaConfig(c)
	cfg.Template, _ = ParseTemplate("cb/{provider}/{eventtype}")
	cfg.KnownTopics = []string{"cb/anyrtc/rtc.channel.created"}
	k := newKafka(t, cfg)
	if got := topicPartitions(t, c, "cb_anyrtc_rtc.channel.created"); got["cb_anyrtc_rtc.channel.created"] != 3 {
		t.Fatalf("known topic not created under its Kafka name: %v", got)
	}
	if err := k.Publish(event("a", "room1")); err != nil {
		t.Fatal(err)
	}
	consume(t, c.ListenAddrs(), 1, "cb_anyrtc_rtc.channel.created")
}

// A topic deleted under a running sink is created again (CreateTopics): the write that finds it
// gone fails, the next one succeeds.
func TestKafkaTopicDeleted(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	if err := k.Publish(event("a", "room1")); err != nil {
		t.Fatal(err)
	}
	cl := &kafka.Client{Addr: kafka.TCP(c.ListenAddrs()...), Transport: &kafka.Transport{}}
	defer cl.Transport.(*kafka.Transport).CloseIdleConnections()
	res, err := cl.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{createdTopic}})
	if err != nil || res.Errors[createdTopic] != nil {
		t.Fatal(err, res.Errors)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		err := k.Publish(event(fmt.Sprint("b", i), "room1"))
		if err == nil {
			t.Logf("written again after %d failed attempts", i)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic not recreated: %v", err)
		}
	}
	if err := k.Ready(); err != nil {
		t.Errorf("not ready: %v", err)
	}
}

// A message over the batch limit is refused by the client; the brokers are fine, so is the sink.
func TestKafkaMessageTooLarge(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	ev := event("big", "room1")
	ev.Data = []byte(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	err := k.Publish(ev)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "over the 1048576") {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	if err := k.DeadLetter("anyrtc", make([]byte, 1<<20+1), "r"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("dead letter of 1 MiB: %v, want ErrTooLarge", err)
	}
	if err := k.Ready(); err != nil {
		t.Errorf("a message too large made the sink not ready: %v", err)
	}
	if err := k.Publish(event("small", "room1")); err != nil {
		t.Fatal(err)
	}
}

// Close may be called from several goroutines (shutdown and a failing server at once).
func TestKafkaCloseConcurrently(t *testing.T) {
	c := testenv.Kafka(t)
	k := newKafka(t, kafkaConfig(c))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := k.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
	}
	wg.Wait()
}

package interop

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// saramaEvent reads a record as the CloudEvents SDK's Kafka binding (kafka_sarama) does.
func saramaEvent(t *testing.T, r *kgo.Record) cloudevents.Event {
	t.Helper()
	cm := &sarama.ConsumerMessage{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}
	for _, h := range r.Headers {
		cm.Headers = append(cm.Headers, &sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	ev, err := binding.ToEvent(context.Background(), kafka_sarama.NewMessageFromConsumerMessage(cm))
	if err != nil {
		t.Fatalf("%s: not a CloudEvent: %v\nheaders %v\nvalue %s", r.Topic, err, r.Headers, r.Value)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("%s: invalid CloudEvent: %v", r.Topic, err)
	}
	return *ev
}

// TestKafkaSDKBinding: what the Kafka sink writes, in either content mode, the CloudEvents SDK's
// own Kafka binding reads as the event published; and testenv.KafkaEvent, which the service's
// tests decode records with (so that its module need not require sarama), reads the same event.
func TestKafkaSDKBinding(t *testing.T) {
	for _, mode := range []publish.Mode{publish.Structured, publish.Binary} {
		t.Run(map[publish.Mode]string{publish.Structured: "structured", publish.Binary: "binary"}[mode], func(t *testing.T) {
			c := testenv.Kafka(t)
			tmpl, _ := publish.ParseTemplate("callbacks.{provider}.{eventtype}")
			key, _ := publish.ParseTemplate("{subject}")
			k, err := publish.NewKafka(context.Background(), publish.KafkaConfig{
				Brokers: c.ListenAddrs(), RequiredAcks: "all", Compression: "none", ClientID: "callbridge-interop",
				Template: tmpl, KeyTemplate: key, Mode: mode, CreateTopics: true, Partitions: 1, Replication: -1,
				BatchTimeout: 2 * time.Millisecond, BatchSize: 100, Timeout: 5 * time.Second,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close(context.Background())
			want := &normalize.Event{
				ID: []byte("ev-1"), Source: []byte("/callbridge/anyrtc"), Type: []byte("io.anyrtc.rtc.channel.created"),
				EventType: []byte("rtc.channel.created"), Subject: []byte("room1"), Time: time.Unix(1712900000, 0),
				Provider: "anyrtc", ProviderEventType: []byte("101"), Data: []byte(`{"channelName":"room1"}`),
				TraceParent: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Unverified: true,
			}
			if err := k.Publish(want); err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("callbacks.anyrtc.rtc.channel.created"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var records []*kgo.Record
			for len(records) == 0 && ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { records = append(records, r) })
			}
			if len(records) != 1 {
				t.Fatalf("%d records read back, want 1", len(records))
			}
			got := saramaEvent(t, records[0])
			if got.ID() != "ev-1" || got.Type() != string(want.Type) || got.Source() != string(want.Source) ||
				got.Subject() != "room1" || !got.Time().Equal(want.Time) || string(got.Data()) != string(want.Data) ||
				got.DataContentType() != "application/json" {
				t.Errorf("the SDK's Kafka binding read %s", got)
			}
			if ext := got.Extensions(); ext["provider"] != "anyrtc" || ext["providereventtype"] != "101" ||
				ext["traceparent"] != string(want.TraceParent) || ext["verified"] != false && ext["verified"] != "false" {
				t.Errorf("extensions %v", ext)
			}
			if ours := testenv.KafkaEvent(t, records[0]); !reflect.DeepEqual(ours, got) {
				t.Errorf("testenv.KafkaEvent and the SDK's binding disagree:\n%s\n%s", ours, got)
			}
		})
	}
}

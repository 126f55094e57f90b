package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// A dead letter that normalises now is published and removed; one that still fails stays, with
// its reason printed; a second replay finds only the failing ones.
func TestReplayNATS(t *testing.T) {
	b := startBridge(t, signedEnv())
	noTask := signed("netease-nertc", []byte(`{"eventType":503,"data":{"channelId":1}}`), time.Now())
	if status, _, _ := b.post(t, noTask); status != 400 {
		t.Fatalf("bad body: %d", status)
	}
	sink := b.sink.(*publish.NATS)
	// As if an older build had refused it: it normalises today.
	if err := sink.DeadLetter("netease-nertc", fixtures(t, "netease-nertc")["503-play-started.json"], "data.taskId: missing (older build)"); err != nil {
		t.Fatal(err)
	}
	if err := sink.DeadLetter("agora-rtc", []byte(`{}`), "no such provider"); err != nil {
		t.Fatal(err)
	}
	cfg := replayConfig(t, b)
	var out bytes.Buffer
	replayed, kept, err := replayDeadLetters(context.Background(), cfg, normalize.BuiltinRegistry(), testLogger(), &out)
	if err != nil || replayed != 1 || kept != 2 {
		t.Fatalf("replayed %d, kept %d, err %v\n%s", replayed, kept, err, out.String())
	}
	for _, want := range []string{"replayed: netease-nertc com.netease.nertc.cloudplayer.play.started", "data.taskId: missing", `unknown provider "agora-rtc"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	count := map[string]int{}
	for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
		count[m.Subject()]++
	}
	if count["callbacks.netease-nertc.cloudplayer.play.started"] != 1 || count["callbacks.deadletter.netease-nertc"] != 1 || count["callbacks.deadletter.agora-rtc"] != 1 {
		t.Errorf("stream after replay: %v", count)
	}
	if replayed, kept, err := replayDeadLetters(context.Background(), cfg, normalize.BuiltinRegistry(), testLogger(), &out); err != nil || replayed != 0 || kept != 2 {
		t.Errorf("second replay: replayed %d, kept %d, err %v", replayed, kept, err)
	}
}

func TestReplayKafka(t *testing.T) {
	c := testenv.Kafka(t)
	b := startBridge(t, kafkaEnv(c, "structured"))
	sink := b.sink.(*publish.Kafka)
	if err := sink.DeadLetter("anyrtc", fixtures(t, "anyrtc")["1-103-broadcaster-join.json"], "older build"); err != nil {
		t.Fatal(err)
	}
	if err := sink.DeadLetter("anyrtc", []byte(`{"productId":1}`), "eventType: missing"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	replayed, kept, err := replayDeadLetters(context.Background(), cfg, normalize.BuiltinRegistry(), testLogger(), &out)
	if err != nil || replayed != 1 || kept != 1 {
		t.Fatalf("replayed %d, kept %d, err %v\n%s", replayed, kept, err, out.String())
	}
	records := kafkaRecords(t, c, 3) // the two dead letters and the replayed event
	events := 0
	for _, r := range records {
		if r.Topic == "callbacks.anyrtc.rtc.broadcaster.joined" {
			events++
			if ev := testenv.KafkaEvent(t, r); ev.ID() != "2000001428:4331:103" {
				t.Errorf("replayed event id %s", ev.ID())
			}
		}
	}
	if events != 1 {
		t.Errorf("%d replayed events on Kafka, want 1", events)
	}
	// The group has moved past both letters.
	if replayed, kept, err := replayDeadLetters(context.Background(), cfg, normalize.BuiltinRegistry(), testLogger(), &out); err != nil || replayed != 0 || kept != 0 {
		t.Errorf("second replay: replayed %d, kept %d, err %v", replayed, kept, err)
	}
}

// A generic source's dead letter is replayed like a built-in provider's: replay reads the same
// registry as the bridge (before, it knew only the built-ins and kept every source's letter as
// "unknown provider").
func TestReplayGenericSource(t *testing.T) {
	env := map[string]string{
		"CALLBRIDGE_WEBHOOK_SOURCES":                   "orders",
		"CALLBRIDGE_WEBHOOK_ORDERS_SCHEME":             "hmac-sha256",
		"CALLBRIDGE_WEBHOOK_ORDERS_SECRET":             "orders-secret",
		"CALLBRIDGE_WEBHOOK_ORDERS_SIGNATURE_HEADER":   "X-Orders-Signature",
		"CALLBRIDGE_WEBHOOK_ORDERS_TYPE":               "json:type",
		"CALLBRIDGE_WEBHOOK_ORDERS_SIGNATURE_ENCODING": "hex",
	}
	b := startBridge(t, env)
	if err := b.sink.DeadLetter("orders", []byte(`{"type":"order.paid","data":{"id":"o_1"}}`), "older build"); err != nil {
		t.Fatal(err)
	}
	cfg := replayConfig(t, b)
	registry, err := bridge.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if replayed, kept, err := replayDeadLetters(context.Background(), cfg, registry, testLogger(), &out); err != nil || replayed != 1 || kept != 0 {
		t.Fatalf("replayed %d, kept %d, err %v\n%s", replayed, kept, err, out.String())
	}
	count := map[string]int{}
	for _, m := range streamMessages(t, b.natsURL(t), "CALLBACKS") {
		count[m.Subject()]++
	}
	if count["callbacks.orders.order.paid"] != 1 {
		t.Errorf("stream after replay: %v", count)
	}
}

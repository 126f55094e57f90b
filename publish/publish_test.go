package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		text    string
		wantErr string
		prefix  string
	}{
		{"callbacks.{provider}.{eventtype}", "", "callbacks."},
		{"{provider}.{type}", "", ""},
		{"events.{subject}", "", "events."},
		{"fixed", "", "fixed"},
		{"callbacks.x-{provider}.{eventtype}", "", "callbacks."},
		{"cb-{provider}.{eventtype}", "", ""},
		{"callbacks.{provider}.{event}", "unknown placeholder {event}", ""},
		{"callbacks.{provider", "unclosed placeholder", ""},
		{"", "empty template", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			tmpl, err := ParseTemplate(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.Prefix() != tt.prefix {
				t.Errorf("prefix %q, want %q", tmpl.Prefix(), tt.prefix)
			}
		})
	}
}

func TestTemplateSanitises(t *testing.T) {
	tmpl, err := ParseTemplate("x.{provider}.{eventtype}.{subject}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		subject, eventtype, want string
	}{
		{"room1", "rtc.broadcaster.joined", "x.anyrtc.rtc.broadcaster.joined.room1"},
		{"a.b", "rtc.x", "x.anyrtc.rtc.x.a_b"},
		{"a*b>c", "rtc.x", "x.anyrtc.rtc.x.a_b_c"},
		{"with space\ttab\nnl", "rtc.x", "x.anyrtc.rtc.x.with_space_tab_nl"},
		{"", "rtc.x", "x.anyrtc.rtc.x._"},
		{"rtmp://push.example.com/live/s1", "cdn.publish.started", "x.anyrtc.cdn.publish.started.rtmp://push_example_com/live/s1"},
		{"房间", "rtc.x", "x.anyrtc.rtc.x.房间"},
	}
	for _, tt := range tests {
		ev := &normalize.Event{Provider: "anyrtc", Subject: []byte(tt.subject), EventType: []byte(tt.eventtype)}
		if got := string(tmpl.Append(nil, ev)); got != tt.want {
			t.Errorf("subject %q: %q, want %q", tt.subject, got, tt.want)
		}
	}
}

// A payload value of any length contributes at most maxToken bytes to a subject or key, and
// distinct long values stay distinct.
func TestTemplateBoundsPayloadValues(t *testing.T) {
	tmpl, err := ParseTemplate("callbacks.{provider}.{subject}")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("s", 5000)
	subject := func(v string) string {
		return string(tmpl.Append(nil, &normalize.Event{Provider: "tencent-css", Subject: []byte(v)}))
	}
	key := func(v string) string {
		return string(tmpl.AppendKey(nil, &normalize.Event{Provider: "tencent-css", Subject: []byte(v)}))
	}
	prefix := "callbacks.tencent-css."
	for _, got := range []string{subject(long), key(long)} {
		if len(got) != len(prefix)+maxToken || !strings.HasPrefix(got, prefix+"sss") {
			t.Errorf("long value rendered as %d bytes: %.60q…", len(got), got)
		}
	}
	if subject(long) == subject(long+"t") || key(long) == key(long+"t") {
		t.Error("two long values render the same")
	}
	if got := subject(strings.Repeat("s", maxToken)); got != prefix+strings.Repeat("s", maxToken) {
		t.Errorf("a value of maxToken bytes was changed: %q", got)
	}
	// Keys keep what subjects may not hold; an empty value stays empty.
	if got := key("a.b c*"); got != prefix+"a.b c*" {
		t.Errorf("key %q", got)
	}
	if got := string(mustTemplate(t, "{subject}").AppendKey(nil, &normalize.Event{})); got != "" {
		t.Errorf("empty subject as a key: %q", got)
	}
}

func mustTemplate(t *testing.T, text string) *Template {
	t.Helper()
	tmpl, err := ParseTemplate(text)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// Templates that would start and then fail every callback are refused at start-up.
func TestTemplateChecks(t *testing.T) {
	tests := []struct {
		text       string
		subjectErr string // empty: valid as a NATS subject
		topicErr   string // empty: valid as a Kafka topic
	}{
		{"callbacks.{provider}.{eventtype}", "", ""},
		{"callbacks.x-{provider}.{eventtype}", "", ""},
		{"events.{subject}", "", ""},
		{"fixed.subject", "", ""},
		{"cb-{provider}.{eventtype}", "first subject token must be literal", ""},
		{"{provider}.{eventtype}", "first subject token must be literal", ""},
		{"callbacks..{provider}", "empty", ""},
		{"callbacks.{provider}.", "empty", ""},
		{".callbacks.{provider}", "empty", ""},
		{"callbacks.*.{provider}", "wildcard", "'*'"},
		{"callbacks.>", "wildcard", "'>'"},
		{"call backs.{provider}", "white space", "' '"},
		{"callbacks.a/{provider}", "", "'/'"},
	}
	for _, tt := range tests {
		tmpl := mustTemplate(t, tt.text)
		for _, c := range []struct {
			what, want string
			err        error
		}{{"subject", tt.subjectErr, tmpl.CheckSubject()}, {"topic", tt.topicErr, tmpl.CheckTopic()}} {
			if (c.err == nil) != (c.want == "") || (c.err != nil && !strings.Contains(c.err.Error(), c.want)) {
				t.Errorf("%q as a %s: %v, want %q", tt.text, c.what, c.err, c.want)
			}
		}
	}
}

func TestSubjectCovers(t *testing.T) {
	tests := []struct {
		filter, want string
		ok           bool
	}{
		{"callbacks.>", "callbacks.>", true},
		{">", "callbacks.>", true},
		{"callbacks.*", "callbacks.>", false},
		{"callbacks.>", "events.>", false},
		{"callbacks.deadletter.>", "callbacks.>", false},
		{"callbacks.*.>", "callbacks.x.>", true},
		{"a.b", "a.b", true},
		{"a.*", "a.b", true},
		{"a.b", "a.*", false},
	}
	for _, tt := range tests {
		if got := subjectCovers(tt.filter, tt.want); got != tt.ok {
			t.Errorf("subjectCovers(%q, %q) = %v", tt.filter, tt.want, got)
		}
	}
}

func newEmbedded(t testing.TB, cfg NATSConfig) *NATS {
	t.Helper()
	if cfg.Template == nil {
		cfg.Template, _ = ParseTemplate("callbacks.{provider}.{eventtype}")
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.EmbeddedListen = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Stream == "" {
		cfg.Stream = "CALLBACKS"
	}
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = time.Hour
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := NewNATS(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func event(id, subject string) *normalize.Event {
	return &normalize.Event{
		ID: []byte(id), Source: []byte("/callbridge/anyrtc"), Type: []byte("io.anyrtc.rtc.channel.created"),
		EventType: []byte("rtc.channel.created"), Subject: []byte(subject), Time: time.Unix(1712900000, 0),
		Provider: "anyrtc", ProviderEventType: []byte("101"), Data: []byte(`{"channelName":"room1"}`),
	}
}

func TestNATSPublishAndDedup(t *testing.T) {
	s := newEmbedded(t, NATSConfig{})
	for _, id := range []string{"a", "b", "a"} {
		if err := s.Publish(event(id, "room1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeadLetter("anyrtc", []byte("not json"), "body is not a JSON object"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	str, err := s.js.Stream(ctx, "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := str.Info(ctx)
	if info.State.Msgs != 3 {
		t.Errorf("%d messages, want 3 (a, b, the dead letter; the second a is a duplicate)", info.State.Msgs)
	}
	if info.Config.Duplicates != time.Hour || info.Config.Storage != jetstream.FileStorage {
		t.Errorf("stream config %+v", info.Config)
	}
	m, err := str.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "callbacks.anyrtc.rtc.channel.created" || m.Header.Get(jetstream.MsgIDHeader) != "a" {
		t.Errorf("message 1: %s %v", m.Subject, m.Header)
	}
	dl, _ := str.GetMsg(ctx, 3)
	if dl.Subject != "callbacks.deadletter.anyrtc" || string(dl.Data) != "not json" || dl.Header.Get(ReasonHeader) == "" {
		t.Errorf("dead letter: %s %q %v", dl.Subject, dl.Data, dl.Header)
	}
}

// In binary mode each message carries its own attributes and nothing of the one before: the
// publisher reuses one header map and the messages' buffers.
func TestNATSBinaryHeadersPerMessage(t *testing.T) {
	s := newEmbedded(t, NATSConfig{Mode: Binary})
	traced := event("traced", "room1")
	traced.TraceParent = []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	unverified := event("unverified", "")
	unverified.Unverified = true
	for _, ev := range []*normalize.Event{traced, unverified, event("plain", "room2")} {
		if err := s.Publish(ev); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	str, err := s.js.Stream(ctx, "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	for seq, want := range []map[string]string{
		{"Nats-Msg-Id": "traced", "ce-id": "traced", "ce-subject": "room1", "ce-traceparent": string(traced.TraceParent)},
		{"Nats-Msg-Id": "unverified", "ce-id": "unverified", "ce-verified": "false"},
		{"Nats-Msg-Id": "plain", "ce-id": "plain", "ce-subject": "room2"},
	} {
		m, err := str.GetMsg(ctx, uint64(seq+1))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got := m.Header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("message %d: %s = %q, want %q", seq+1, k, got, v)
			}
		}
		for _, k := range []string{"ce-traceparent", "ce-verified", "ce-subject"} {
			if _, ok := want[k]; !ok && m.Header.Get(k) != "" {
				t.Errorf("message %d: %s = %q, left over from an earlier message", seq+1, k, m.Header.Get(k))
			}
		}
		if string(m.Data) != `{"channelName":"room1"}` || m.Header.Get("ce-datacontenttype") != "application/json" {
			t.Errorf("message %d: data %q, headers %v", seq+1, m.Data, m.Header)
		}
	}
}

// An existing stream that does not hold our subjects is a start-up error, not silent loss.
func TestNATSStreamMismatch(t *testing.T) {
	dir := t.TempDir()
	s := newEmbedded(t, NATSConfig{DataDir: dir})
	url := s.ClientURL()
	nc, _ := nats.Connect(url)
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	_, err := NewNATS(context.Background(), NATSConfig{URL: url, Stream: "OTHER", Template: tmpl, Timeout: time.Second, DuplicateWindow: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "do not cover") {
		t.Fatalf("err %v, want a subjects mismatch", err)
	}
	// The same stream name with our subjects is accepted.
	if _, err := NewNATS(context.Background(), NATSConfig{URL: url, Stream: "CALLBACKS", Template: tmpl, Timeout: time.Second, DuplicateWindow: time.Hour}); err != nil {
		t.Fatal(err)
	}
}

// Concurrent publishers share the connection; every one is acknowledged, those that found the
// bound of pending publishes reached after waiting for room.
func TestNATSConcurrent(t *testing.T) {
	s := newEmbedded(t, NATSConfig{MaxPending: 8})
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Publish(event(fmt.Sprint(i), "room1")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	str, _ := s.js.Stream(context.Background(), "CALLBACKS")
	info, _ := str.Info(context.Background())
	if info.State.Msgs != 500 {
		t.Errorf("%d messages, want 500", info.State.Msgs)
	}
	if n := s.pub.pendingCount(); n != 0 {
		t.Errorf("%d publishes still pending", n)
	}
}

// BenchmarkNATSPublish is the broker round trip per event through the embedded JetStream file
// store, with concurrent callers pipelining over one connection.
// BenchmarkNATSPublish: one event to the embedded JetStream and its PubAck, 64 publishers, with
// the store synced on the server's interval (its default) and on every write
// (CALLBRIDGE_NATS_SYNC=always).
func BenchmarkNATSPublish(b *testing.B) {
	for _, sync := range []string{"2m", "always"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s := newEmbedded(b, NATSConfig{MaxPending: 8192, EmbeddedSync: sync})
			benchmarkPublish(b, s)
		})
	}
}

// BenchmarkBufferPublish: one event written to the buffer (fsynced) and acknowledged, 64
// publishers, the forwarder draining to an in-memory target meanwhile.
func BenchmarkBufferPublish(b *testing.B) {
	buf, err := NewBuffer(context.Background(), BufferConfig{
		DataDir: b.TempDir(), MaxBytes: 8 << 30, MaxAge: time.Hour, DuplicateWindow: time.Hour,
		Providers: normalize.BuiltinRegistry(),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, &recordingSink{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { buf.Close(context.Background()) })
	benchmarkPublish(b, buf)
}

func benchmarkPublish(b *testing.B, s Sink) {
	var n sync.Mutex
	i := 0
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			id := fmt.Sprint(i)
			n.Unlock()
			if err := s.Publish(event(id, "room1")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A binary-mode message is put back together as the structured event it came from.
func TestStructuredFromBinary(t *testing.T) {
	ev := event("id-1", "room1")
	ev.Unverified = true
	want := ev.AppendStructured(nil)
	for _, prefix := range []string{"ce-", "ce_"} {
		var headers [][2]string
		value := encode(nil, ev, Binary, prefix, func(k string, v []byte) { headers = append(headers, [2]string{k, string(v)}) })
		got, err := structured(value, prefix, func(yield func(k, v string)) {
			for _, h := range headers {
				yield(h[0], h[1])
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		json.Unmarshal(got, &g)
		json.Unmarshal(want, &w)
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: got %s\nwant %s", prefix, got, want)
		}
	}
	// Structured mode passes the value through.
	if got, _ := structured(want, "ce-", func(func(k, v string)) {}); string(got) != string(want) {
		t.Errorf("structured value changed: %s", got)
	}
}

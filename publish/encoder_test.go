package publish

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

// unknownCode is an anyRTC event whose undocumented code is code, as normalize names it.
func unknownCode(id, code string) *normalize.Event {
	ev := event(id, "room1")
	ev.Type = []byte("io.anyrtc.unknown." + code)
	ev.EventType = ev.Type[len("io.anyrtc."):]
	ev.ProviderEventType = []byte(code)
	return ev
}

// An undocumented code contributes at most maxEventType bytes to {eventtype} and to {type}
// after the provider's prefix (SPEC §4); distinct codes stay distinct; documented names are
// never cut. It used to go into the subject whole: a 5 000-byte code made a control line
// nats-server refused, closing the shared connection.
func TestTemplateBoundsEventType(t *testing.T) {
	long := strings.Repeat("7", 5000)
	for _, tc := range []struct{ template, prefix string }{
		{"callbacks.{provider}.{eventtype}", "callbacks.anyrtc."},
		{"events.{type}", "events.io.anyrtc."},
	} {
		tmpl := mustTemplate(t, tc.template)
		for _, render := range []func([]byte, *normalize.Event) []byte{tmpl.Append, tmpl.AppendKey} {
			a, b := render(nil, unknownCode("a", long)), render(nil, unknownCode("b", long+"8"))
			if len(a) != len(tc.prefix)+maxEventType || !bytes.HasPrefix(a, []byte(tc.prefix+"unknown.777")) {
				t.Errorf("%s: a 5000-byte code rendered as %d bytes: %.90q", tc.template, len(a), a)
			}
			if bytes.Equal(a, b) {
				t.Errorf("%s: two long codes render the same", tc.template)
			}
			if got := string(render(nil, unknownCode("c", "42"))); got != tc.prefix+"unknown.42" {
				t.Errorf("%s: a short code rendered as %q", tc.template, got)
			}
		}
	}
	for _, p := range normalize.Builtins() {
		for _, e := range p.Events {
			if len(e.Name) > maxEventType {
				t.Errorf("%s: %s is longer than maxEventType: it would be cut", p.ID, e.Name)
			}
		}
	}
}

// A rendered name over the broker's limit is ErrNameTooLong, never sent: the connection and the
// sink stay as they were.
func TestEncoderNameTooLong(t *testing.T) {
	// Nine payload values of maxToken bytes each: over 1 024 bytes however each is bounded.
	nine := "callbacks" + strings.Repeat(".{subject}", 9)
	ev := event("long-name", strings.Repeat("s", 200))
	m := newMessage()
	if err := NATSEncoder(mustTemplate(t, nine), Structured).Event(m, ev); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("NATS: %v, want ErrNameTooLong", err)
	}
	if err := KafkaEncoder(mustTemplate(t, "events.{subject}.{subject}"), mustTemplate(t, "{subject}"), Structured).Event(m, ev); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("Kafka: %v, want ErrNameTooLong", err)
	} else if len(err.Error()) > 400 {
		t.Errorf("the error quotes %d bytes: %s", len(err.Error()), err)
	}

	s := newEmbedded(t, NATSConfig{Template: mustTemplate(t, nine)})
	if err := s.Publish(ev); !errors.Is(err, ErrNameTooLong) {
		t.Fatalf("Publish: %v, want ErrNameTooLong", err)
	}
	if err := s.Publish(event("short", "room1")); err != nil || s.Live() != nil || s.Ready() != nil {
		t.Errorf("after ErrNameTooLong: publish %v, live %v, ready %v", err, s.Live(), s.Ready())
	}
	big := &Message{Subject: bytes.Repeat([]byte("s"), maxNATSSubject+1), Data: []byte("{}")}
	if err := s.Send(big); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("Send of a stored message with a long subject: %v, want ErrNameTooLong", err)
	}
}

// What the encoders write: the deduplication id scoped by provider, the headers per binding and
// mode, the Kafka key; and a Message survives the buffer's frame unchanged.
func TestEncoderMessages(t *testing.T) {
	ev := event("id-1", "room1")
	tmpl, key := mustTemplate(t, "callbacks.{provider}.{eventtype}"), mustTemplate(t, "{subject}")
	for _, tc := range []struct {
		enc     *Encoder
		key     string
		headers []string
	}{
		{NATSEncoder(tmpl, Structured), "", []string{"content-type"}},
		{NATSEncoder(tmpl, Binary), "", []string{"content-type", "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time", "ce-provider", "ce-providereventtype", "ce-datacontenttype"}},
		{KafkaEncoder(tmpl, key, Structured), "room1", []string{"content-type"}},
		{KafkaEncoder(tmpl, key, Binary), "room1", []string{"content-type", "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_provider", "ce_providereventtype"}},
	} {
		m := newMessage()
		if err := tc.enc.Event(m, ev); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range m.Headers {
			names = append(names, h.Key)
		}
		if string(m.Subject) != "callbacks.anyrtc.rtc.channel.created" || string(m.ID) != "anyrtc/id-1" || string(m.Key) != tc.key ||
			strings.Join(names, ",") != strings.Join(tc.headers, ",") {
			t.Errorf("subject %q id %q key %q headers %v", m.Subject, m.ID, m.Key, names)
		}
		var back Message
		if err := readFrame(appendFrame(nil, m), &back); err != nil {
			t.Fatal(err)
		}
		if !sameMessage(&back, m) || tc.enc.Size(&back) != tc.enc.Size(m) {
			t.Errorf("through a frame: %+v, want %+v", back, *m)
		}
		var cp Message
		cp.copyFrom(m)
		if !sameMessage(&cp, m) {
			t.Errorf("copy: %+v, want %+v", cp, *m)
		}
	}
	// Dead letters: scoped by provider, never an event's id.
	a, b := newMessage(), newMessage()
	enc := NATSEncoder(tmpl, Structured)
	enc.DeadLetter(a, "anyrtc", []byte("x"), "r")
	enc.DeadLetter(b, "agora", []byte("x"), "r")
	if bytes.Equal(a.ID, b.ID) || !bytes.HasPrefix(a.ID, []byte("deadletter:anyrtc:")) || string(a.Subject) != "callbacks.deadletter.anyrtc" {
		t.Errorf("dead letters: %s %q / %q", a.Subject, a.ID, b.ID)
	}
	for _, bad := range [][]byte{nil, []byte("{}"), append(append([]byte(nil), frameMagic...), 200)} {
		if err := readFrame(bad, &Message{}); !errors.Is(err, errUnreadable) {
			t.Errorf("frame %q: %v, want errUnreadable", bad, err)
		}
	}
}

func sameMessage(a, b *Message) bool {
	if string(a.Subject) != string(b.Subject) || string(a.ID) != string(b.ID) || string(a.Key) != string(b.Key) ||
		(a.Key == nil) != (b.Key == nil) || string(a.Data) != string(b.Data) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i].Key != b.Headers[i].Key || string(a.Headers[i].Value) != string(b.Headers[i].Value) {
			return false
		}
	}
	return true
}

package publish

import (
	"bytes"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

// FuzzTemplate: any template text either fails to parse or renders; a payload value never adds
// subject syntax to a NATS subject nor more than maxToken bytes to a subject or key, and a Kafka
// topic holds only the bytes Kafka allows.
func FuzzTemplate(f *testing.F) {
	f.Add("callbacks.{provider}.{eventtype}", "room1", "rtc.broadcaster.joined")
	f.Add("x.{subject}.{type}", "a.b*c>d e\tf", "unknown.42")
	f.Add("{subject}", "", "")
	f.Add("cb/{provider}/{subject", "rtmp://host/app", "cdn.publish.started")
	f.Fuzz(func(t *testing.T, text, subject, eventtype string) {
		tmpl, err := ParseTemplate(text)
		if err != nil {
			return
		}
		ev := &normalize.Event{Provider: "anyrtc", Subject: []byte(subject), EventType: []byte(eventtype), Type: []byte("io.anyrtc." + eventtype)}
		literal := &normalize.Event{Provider: "anyrtc", Subject: []byte("S"), EventType: []byte("E"), Type: []byte("T")}
		// Rendered with a harmless subject, every '.', '*', '>' comes from the template or our
		// own dotted names; the payload's subject must add none.
		base := tmpl.Append(nil, literal)
		got := tmpl.Append(nil, ev)
		count := func(b []byte) int {
			return bytes.Count(b, []byte(".")) + bytes.Count(b, []byte("*")) + bytes.Count(b, []byte(">"))
		}
		withEventType := &normalize.Event{Provider: "anyrtc", Subject: []byte("S"), EventType: ev.EventType, Type: ev.Type}
		if count(got) != count(tmpl.Append(nil, withEventType)) {
			t.Fatalf("subject %q added subject syntax: %q (template %q, base %q)", subject, got, text, base)
		}
		// A payload value adds at most maxToken bytes however long it is, as a token or a key.
		occurrences := strings.Count(text, "{subject}")
		for _, render := range []func([]byte, *normalize.Event) []byte{tmpl.Append, tmpl.AppendKey} {
			if n, short := len(render(nil, ev)), len(render(nil, withEventType)); n > short+occurrences*maxToken {
				t.Fatalf("subject of %d bytes rendered as %d bytes (%d with a one-byte subject)", len(subject), n, short)
			}
		}
		// Our own names are dotted names without empty tokens; with such names, a template that
		// passed CheckSubject renders none either, whatever the payload's subject.
		if tmpl.CheckSubject() == nil && bytes.Contains(tmpl.Append(nil, &normalize.Event{Provider: "anyrtc", Subject: []byte(subject), EventType: []byte("E"), Type: []byte("T")}), []byte("..")) {
			t.Fatalf("a template that passed CheckSubject rendered an empty token: %q", got)
		}
		topic := AppendKafkaTopic(nil, got)
		if len(topic) > maxTopicLen {
			t.Fatalf("topic of %d bytes", len(topic))
		}
		for _, c := range topic {
			if !kafkaTopicByte(c) {
				t.Fatalf("topic %q holds %q", topic, c)
			}
		}
	})
}

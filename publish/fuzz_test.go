package publish

import (
	"bytes"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

// FuzzTemplate: any template text either fails to parse or renders; a payload value never adds
// subject syntax to a NATS subject nor more than maxToken bytes to a subject or key, and a Kafka
// topic holds only the bytes Kafka allows. Each placeholder is also rendered alone and checked
// against its own bound (checkPlaceholders).
func FuzzTemplate(f *testing.F) {
	f.Add("callbacks.{provider}.{eventtype}", "room1", "rtc.broadcaster.joined")
	f.Add("x.{subject}.{type}", "a.b*c>d e\tf", "unknown.42")
	f.Add("{subject}", "", "")
	f.Add("cb/{provider}/{subject", "rtmp://host/app", "cdn.publish.started")
	f.Add("x.{eventtype}.{type}", "s", "unknown.a*b>c d\te\x7f")
	f.Add("callbacks.{provider}.{eventtype}", "s", "unknown."+strings.Repeat("x.", 2500))
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
		checkPlaceholders(t, ev)
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

// checkPlaceholders renders each placeholder of ev alone, as a subject token and as a key, and
// holds it to its bound:
//   - {provider} is our id, as it is;
//   - {subject} is a payload value: at most maxToken (128) bytes, as a token and as a key, and
//     as a token no subject syntax at all ('.', '*', '>', white space, control bytes);
//   - {eventtype} and {type} are our dotted names, an unknown code in them sanitised by
//     normalize: as a token they keep exactly the dots of the name (the hierarchy) and carry no
//     '*', '>', white space or control byte, whatever the event holds.
//
// Their length is not held here: SPEC §4 bounds an unknown code to 64 bytes of {eventtype} and
// {type}, and that bound, with its assertion, belongs to the change in publish.go that renders it.
func checkPlaceholders(t *testing.T, ev *normalize.Event) {
	t.Helper()
	render := func(name string, key bool) []byte {
		tmpl, err := ParseTemplate("{" + name + "}")
		if err != nil {
			t.Fatal(err)
		}
		if key {
			return tmpl.AppendKey(nil, ev)
		}
		return tmpl.Append(nil, ev)
	}
	if got := render("provider", false); string(got) != ev.Provider && (len(ev.Provider) <= maxToken || len(got) > maxToken) {
		t.Fatalf("{provider} rendered %q, want %q (cut to %d bytes when longer)", got, ev.Provider, maxToken)
	}
	for _, key := range []bool{false, true} {
		if got := render("subject", key); len(got) > maxToken {
			t.Fatalf("{subject} of %d bytes rendered in %d bytes (key %v), over %d", len(ev.Subject), len(got), key, maxToken)
		}
	}
	if got := render("subject", false); len(got) == 0 || bytes.ContainsFunc(got, subjectSyntax(true)) {
		t.Fatalf("{subject} %q rendered as %q: empty or with subject syntax", ev.Subject, got)
	}
	// Our own names keep their dots (the hierarchy) but never gain one, carry no wildcard or
	// white space, and an event type, which a sender chooses for an undocumented code,
	// contributes at most maxEventType bytes (SPEC §4).
	bounds := map[string]int{"eventtype": maxEventType, "type": maxToken + maxEventType}
	for name, v := range map[string][]byte{"eventtype": ev.EventType, "type": ev.Type} {
		got := render(name, false)
		if bytes.ContainsFunc(got, subjectSyntax(false)) || bytes.Count(got, []byte(".")) > bytes.Count(v, []byte(".")) {
			t.Fatalf("{%s} %q rendered as %q: wildcards, white space or dots not its own", name, v, got)
		}
		if len(got) > bounds[name] {
			t.Fatalf("{%s} of %d bytes rendered in %d bytes, over its bound of %d", name, len(v), len(got), bounds[name])
		}
		if len(v) > 0 && len(v) <= maxEventType && !bytes.ContainsFunc(v, subjectSyntax(false)) && !bytes.Equal(got, v) && name == "eventtype" {
			t.Fatalf("{eventtype} %q within its bound rendered as %q, want it unchanged", v, got)
		}
	}
}

// subjectSyntax reports the bytes a rendered value must not hold: wildcards, white space and
// control bytes, and with dots the '.' as well.
func subjectSyntax(dots bool) func(rune) bool {
	return func(r rune) bool {
		return r == '*' || r == '>' || r <= ' ' || r == 0x7f || (dots && r == '.')
	}
}

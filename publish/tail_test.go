package publish

import (
	"strings"
	"testing"
)

func TestTypeMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, typ string
		want         bool
	}{
		{"com.anyrtc.channel.create", "com.anyrtc.channel.create", true},
		{"com.anyrtc.channel", "com.anyrtc.channel.create", false},
		{"com.anyrtc.*", "com.anyrtc.channel.create", true},
		{"com.anyrtc.", "com.anyrtc.channel.create", true},
		{"com.anyrtc*", "com.anyrtcx.a", true},
		{"com.anyrtc.", "com.anyrtcx.a", false},
		{"*", "anything", true},
		{"com.agora.*", "com.anyrtc.channel.create", false},
	} {
		if got := TypeMatches(c.pattern, c.typ); got != c.want {
			t.Errorf("TypeMatches(%q, %q) = %v", c.pattern, c.typ, got)
		}
	}
}

// TestTailAttributes: the filters read provider and type in both content modes, from the
// headers NATS (ce-) and Kafka (ce_) carry in binary mode and from the JSON members in
// structured mode, and a message that is not an event matches no filter.
func TestTailAttributes(t *testing.T) {
	headers := func(kv ...string) func(yield func(k, v string)) {
		return func(yield func(k, v string)) {
			for i := 0; i < len(kv); i += 2 {
				yield(kv[i], kv[i+1])
			}
		}
	}
	structuredEvent := []byte(`{"specversion":"1.0","id":"1","source":"s","type":"com.anyrtc.channel.create","provider":"anyrtc","data":{"provider":"agora"}}`)
	for _, c := range []struct {
		name, prefix string
		value        []byte
		headers      func(yield func(k, v string))
		provider     string
		typ          string
	}{
		{"nats structured", "ce-", structuredEvent, headers("content-type", "application/cloudevents+json"), "anyrtc", "com.anyrtc.channel.create"},
		{"kafka structured", "ce_", structuredEvent, headers(), "anyrtc", "com.anyrtc.channel.create"},
		{"nats binary", "ce-", []byte(`{"provider":"agora"}`), headers("ce-specversion", "1.0", "ce-provider", "anyrtc", "ce-type", "com.anyrtc.x"), "anyrtc", "com.anyrtc.x"},
		{"kafka binary", "ce_", []byte(`{"provider":"agora"}`), headers("ce_specversion", "1.0", "ce_provider", "anyrtc", "ce_type", "com.anyrtc.x"), "anyrtc", "com.anyrtc.x"},
		{"not an event", "ce-", []byte(`not json`), headers(), "", ""},
	} {
		p, typ := attributes(c.value, c.prefix, c.headers)
		if p != c.provider || typ != c.typ {
			t.Errorf("%s: provider %q type %q, want %q %q", c.name, p, typ, c.provider, c.typ)
		}
	}

	opts := TailOptions{Providers: []string{"anyrtc", "agora"}, Types: []string{"com.anyrtc.channel.*", "com.agora.x"}}
	for _, c := range []struct {
		provider, typ string
		want          bool
	}{
		{"anyrtc", "com.anyrtc.channel.create", true},
		{"agora", "com.agora.x", true},
		{"anyrtc", "com.anyrtc.stream.publish", false},
		{"livekit", "com.anyrtc.channel.create", false},
		{"", "", false},
	} {
		if got := opts.match(c.provider, c.typ); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.provider, c.typ, got)
		}
	}
	if (&TailOptions{All: true}).filters() || !(&TailOptions{Types: []string{"x"}}).filters() {
		t.Error("filters")
	}
}

// TestProviderSubjects: a provider filter becomes a subject filter only where every subject of
// the provider's events, and no other, matches it.
func TestProviderSubjects(t *testing.T) {
	for text, want := range map[string]string{
		"callbacks.{provider}.{eventtype}":  "callbacks.anyrtc.> callbacks.agora.>",
		"callbacks.{provider}":              "callbacks.anyrtc callbacks.agora",
		"{provider}.{type}":                 "anyrtc.> agora.>",
		"a.b.{provider}.x.{subject}":        "a.b.anyrtc.> a.b.agora.>",
		"callbacks.{eventtype}.{provider}":  "",
		"callbacks.p{provider}.{eventtype}": "",
		"callbacks.{provider}{eventtype}":   "",
		"callbacks.{provider}-x":            "",
		"callbacks.{type}":                  "",
	} {
		tmpl, err := ParseTemplate(text)
		if err != nil {
			t.Fatal(err)
		}
		subjects, ok := providerSubjects(tmpl, []string{"anyrtc", "agora"})
		if got := strings.Join(subjects, " "); got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", text, got, ok, want)
		}
	}
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	if _, ok := providerSubjects(tmpl, nil); ok {
		t.Error("no providers: a subject filter")
	}
}

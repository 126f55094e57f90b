package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// ValueSchemas are the value schemas a Kafka schema registry holds for the topics tmpl names
// (SPEC §9, subject "<topic>-value"): the schema of the message value as published, so the
// CloudEvent's data in binary mode, and the structured event (the envelope with that data) in
// structured mode. Each is self-contained (draft-07, no reference to another file), as a
// registry takes it.
//
// A topic gets its event type's data schema when the template tells types apart ({eventtype}
// or {type}); a topic that holds several types (a template without them) also holds the
// provider's undocumented codes, so its schema is the permissive one. Topics are those
// publish.KnownTopics names but the dead letters (raw bodies, not registered); a template with
// {subject} names none in advance. Fallback is the schema of every other topic, met at run time
// (an undocumented code, a generic source): permissive data.
func ValueSchemas(reg *normalize.Registry, tmpl *publish.Template, structured bool) (topics map[string][]byte, fallback []byte, err error) {
	text := tmpl.String()
	perType := strings.Contains(text, "{eventtype}") || strings.Contains(text, "{type}")
	data := map[string][]byte{}
	if !strings.Contains(text, "{subject}") {
		for _, p := range reg.Publishers() {
			for _, e := range p.Events {
				ev := normalize.Event{Provider: p.ID, EventType: []byte(e.Name), Type: []byte(p.TypePrefix + e.Name)}
				topic := string(tmpl.Append(nil, &ev))
				s := permissive
				if perType {
					if s, err = EventSchema(p, e); err != nil {
						return nil, nil, err
					}
				}
				if prev, seen := data[topic]; seen && !bytes.Equal(prev, s) {
					s = permissive
				}
				data[topic] = s
			}
		}
	}
	topics = make(map[string][]byte, len(data))
	for topic, s := range data {
		if topics[topic], err = valueSchema(s, structured); err != nil {
			return nil, nil, fmt.Errorf("value schema of %s: %w", topic, err)
		}
	}
	if fallback, err = valueSchema(permissive, structured); err != nil {
		return nil, nil, err
	}
	return topics, fallback, nil
}

// valueSchema is the value schema of a message whose data has schema data: data itself in
// binary mode; in structured mode the envelope (the attributes, as envelopeSchema says) with
// data inlined as its "data" member.
func valueSchema(data []byte, structured bool) ([]byte, error) {
	if !structured {
		return data, nil
	}
	var inner map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&inner); err != nil {
		return nil, err
	}
	title, _ := inner["title"].(string)
	delete(inner, "$schema") // only the root names the meta-schema
	env := envelopeSchema()
	for i := range env {
		if env[i].k == "properties" {
			env[i].v = env[i].v.(obj).add("data", inner)
		}
	}
	head := obj{}.add("$schema", draft07).add("title", "structured CloudEvent: "+title).
		add("description", "a CloudEvent in structured content mode (application/cloudevents+json): the attributes, and data as its dataschema describes it")
	return marshal(append(head, env...))
}

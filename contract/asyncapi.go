package contract

import (
	"net/url"

	"fmt"
	"github.com/callbridge/callbridge/config"
	"slices"
	"strings"

	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// Sink is what the AsyncAPI document says of where events go: the configured sink and templates.
type Sink struct {
	Kind  string // "nats" or "kafka"
	Host  string // host:port of the broker (the first Kafka broker)
	Mode  string // CloudEvents content mode: "structured" or "binary"
	Topic string // CALLBRIDGE_TOPIC_TEMPLATE
	Key   string // CALLBRIDGE_KAFKA_KEY_TEMPLATE (Kafka)
	// SchemaID is where events carry their schema registry id (Kafka with
	// CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL): publish.SchemaIDHeader or SchemaIDPrefix; "": none.
	SchemaID string
	Version  string // the bridge's version, the document's info.version
}

// attributes says what each CloudEvents attribute and extension holds, in the order the bridge
// writes them (normalize.Event.EachAttribute); required ones are on every event.
var attributes = []struct {
	name, desc string
	required   bool
}{
	{"specversion", "CloudEvents version, 1.0", true},
	{"id", "the event's id: the provider's, or a hash of what identifies it; retries keep it", true},
	{"source", "/callbridge/<provider>[/<app id>]", true},
	{"type", "reverse-DNS event type, <provider prefix><eventtype>", true},
	{"subject", "the room, channel, stream or task the event is about, when the provider names one", false},
	{"time", "when the event happened, RFC 3339 with milliseconds, UTC", true},
	{"dataschema", "URL of the JSON Schema of data: <CALLBRIDGE_SCHEMA_BASE_URL>/<type>/v<major>.json", true},
	{"provider", "the provider's id", true},
	{"providereventtype", "the provider's own event code", true},
	{"traceparent", "W3C trace context of the callback, when it carried one", false},
	{"tracestate", "W3C trace state, with traceparent", false},
	{"causationid", "canonical RTC events only: the id of the native event this one was made from", false},
	{"partitionkey", "canonical RTC events only: <provider>:<app>:<room>, the Kafka key, so one room's events stay in order", false},
	{"verified", `"false" when the callback was accepted without a verified signature (report mode, unsigned by policy)`, false},
}

// AsyncAPI writes the AsyncAPI 3.0 document of the events of reg's providers as sink publishes
// them: a channel per provider (its subject or topic, the template's other placeholders as
// parameters), a message per documented event type and one for undocumented types, the
// CloudEvents attributes as headers in binary mode, the Kafka key, and each payload's schema by
// reference to the schema files beside the document.
func AsyncAPI(reg *normalize.Registry, sink Sink) ([]byte, error) {
	if _, err := publish.ParseTemplate(sink.Topic); err != nil {
		return nil, fmt.Errorf("topic template: %w", err)
	}
	channels, operations, messages := obj{}, obj{}, obj{}
	for _, p := range reg.Publishers() {
		ch, op, msgs := providerChannel(p, sink)
		channels = channels.add(p.ID, ch)
		operations = operations.add("publish-"+p.ID, op)
		messages = append(messages, msgs...)
		if p.ID == normalize.CanonicalID {
			continue // canonical events are derived from stored native ones: no dead letters
		}
		ch, op, msg := deadLetterChannel(p, sink)
		channels = channels.add(p.ID+".deadletter", ch)
		operations = operations.add("deadletter-"+p.ID, op)
		messages = messages.add(p.ID+".deadletter", msg)
	}
	doc := obj{}.add("asyncapi", "3.0.0").
		add("info", obj{}.add("title", "callbridge events").add("version", sink.Version).
			add("description", "CloudEvents 1.0 callbridge publishes from RTC and live-streaming providers' callbacks, "+sink.Mode+" content mode. Each payload's data is described by the JSON Schema its dataschema names; the schema files are beside this document (callbridge contract -out DIR) and served by the bridge at /schemas/.")).
		add("defaultContentType", contentType(sink)).
		add("servers", obj{}.add("broker", obj{}.add("host", sink.Host).add("protocol", sink.Kind))).
		add("channels", channels).
		add("operations", operations).
		add("components", obj{}.add("schemas", obj{}.add("CloudEvent", envelopeSchema())).add("messages", messages))
	var b strings.Builder
	b.WriteString("# The AsyncAPI document of callbridge's events, written by `callbridge contract`.\n")
	appendYAML(&b, doc, 0)
	return []byte(b.String()), nil
}

// providerChannel is p's channel, the operation that sends on it and the messages it carries.
func providerChannel(p *normalize.Provider, sink Sink) (channel, operation, messages obj) {
	address := strings.ReplaceAll(sink.Topic, "{provider}", p.ID)
	refs, opRefs := obj{}, []any{}
	names := make([]string, 0, len(p.Events))
	for _, e := range p.Events {
		if slices.Contains(names, e.Name) {
			continue // two codes of one meaning share their type (huawei-sparkrtc's record.over)
		}
		names = append(names, e.Name)
		id := p.TypePrefix + e.Name
		messages = messages.add(id, message(id, e.Meaning, SchemaPath(id, p.Major(e.Name)), sink, keyOf(p, sink)))
		refs = refs.add(e.Name, ref("#/components/messages/"+id))
		opRefs = append(opRefs, ref("#/channels/"+p.ID+"/messages/"+e.Name))
	}
	if p.ID != normalize.CanonicalID {
		undeclared := p.ID + ".undocumented"
		messages = messages.add(undeclared, message(p.TypePrefix+"*", "an event type "+p.ID+" does not document ("+p.Unknown+"), or any type of a generic source", PermissiveFile, sink, keyOf(p, sink)))
		refs = refs.add("undocumented", ref("#/components/messages/"+undeclared))
		opRefs = append(opRefs, ref("#/channels/"+p.ID+"/messages/undocumented"))
	}

	channel = obj{}.add("address", address).
		add("description", fmt.Sprintf("%s's events (CloudEvents types %s*)", p.ID, p.TypePrefix)).
		add("servers", []any{ref("#/servers/broker")})
	if params := parameters(address, p, names); len(params) > 0 {
		channel = channel.add("parameters", params)
	}
	channel = channel.add("messages", refs)
	operation = obj{}.add("action", "send").add("channel", ref("#/channels/"+p.ID)).
		add("summary", "the bridge publishes each "+p.ID+" callback it accepted, once the broker acknowledged it").
		add("messages", opRefs)
	return channel, operation, messages
}

// deadLetterChannel is where p's bodies that could not be normalised go (publish.DeadLetter):
// the body as it arrived, with the reason and the verification in headers.
func deadLetterChannel(p *normalize.Provider, sink Sink) (channel, operation, message obj) {
	id := p.ID + ".deadletter"
	channel = obj{}.add("address", publish.DeadLetterSubject(p.ID)).
		add("description", "bodies of "+p.ID+" callbacks that were authenticated but could not be normalised; callbridge replay publishes them again after a fix").
		add("servers", []any{ref("#/servers/broker")}).
		add("messages", obj{}.add("deadletter", ref("#/components/messages/"+id)))
	operation = obj{}.add("action", "send").add("channel", ref("#/channels/"+id)).
		add("summary", "the bridge keeps a body it answered 400, once the broker acknowledged it").
		add("messages", []any{ref("#/channels/" + id + "/messages/deadletter")})
	props := obj{}.add(publish.ReasonHeader, obj{}.add("type", "string").add("description", "why the body could not be normalised")).
		add(publish.VerifiedHeader, obj{}.add("type", "string").add("const", "true").add("description", "the body was authenticated when it arrived"))
	required := []string{publish.ReasonHeader, publish.VerifiedHeader}
	if sink.Kind == "nats" {
		props = props.add("Nats-Msg-Id", obj{}.add("type", "string").add("description", "the provider and a hash of the body: retries of one body are stored once"))
		required = append(required, "Nats-Msg-Id")
	}
	message = obj{}.add("name", id).add("summary", "a "+p.ID+" callback body as it arrived").
		add("contentType", "application/octet-stream").
		add("headers", obj{}.add("type", "object").add("properties", props).add("required", required)).
		add("payload", obj{}.add("description", "the raw body: JSON as the provider sent it, or the query string of a callback sent as GET"))
	return channel, operation, message
}

// parameters describes the template's placeholders left in address.
func parameters(address string, p *normalize.Provider, names []string) obj {
	params := obj{}
	if strings.Contains(address, "{eventtype}") {
		params = params.add("eventtype", obj{}.add("description", "the event type without the provider's prefix: "+strings.Join(names, ", ")+"; undocumented codes: "+p.Unknown).
			add("examples", names[:min(len(names), 3)]))
	}
	if strings.Contains(address, "{type}") {
		params = params.add("type", obj{}.add("description", "the CloudEvents type, "+p.TypePrefix+"<eventtype>"))
	}
	if strings.Contains(address, "{subject}") {
		params = params.add("subject", obj{}.add("description", "the event's subject: "+p.Subject+" (subject syntax replaced by _)"))
	}
	return params
}

// message is one event type's message: headers per content mode, the Kafka key, the payload.
// keyOf describes the Kafka key of p's messages: the key template's, or for the canonical events
// their partitionkey.
func keyOf(p *normalize.Provider, sink Sink) string {
	if p.ID == normalize.CanonicalID {
		return "the partitionkey attribute, <provider>:<app>:<room>: one room's events stay in one partition, in order"
	}
	return "CALLBRIDGE_KAFKA_KEY_TEMPLATE, " + sink.Key + "; no key when it renders empty"
}

func message(name, summary, schemaFile string, sink Sink, key string) obj {
	data := ref(schemaFile)
	payload := data
	if sink.Mode == "structured" {
		payload = obj{}.add("allOf", []any{ref("#/components/schemas/CloudEvent"),
			obj{}.add("type", "object").add("properties", obj{}.add("data", data))})
	}
	m := obj{}.add("name", name).add("summary", summary)
	if sink.SchemaID == publish.SchemaIDPrefix {
		m = m.add("description", "the value is preceded by the Confluent wire format's 5 bytes: byte 0, then the schema registry id of subject <topic>-value as 4 big-endian bytes; the payload below follows them")
	}
	m = m.add("contentType", contentType(sink)).add("headers", headers(sink)).add("payload", payload)
	if sink.Kind == "kafka" {
		m = m.add("bindings", obj{}.add("kafka", obj{}.
			add("key", obj{}.add("type", "string").add("description", key)).
			add("bindingVersion", "0.5.0")))
	}
	return m
}

// headers is the message headers' schema: the content type, NATS's deduplication id, and in
// binary mode every attribute as a header (ce- on NATS, ce_ on Kafka).
func headers(sink Sink) obj {
	props, required := obj{}, []string{"content-type"}
	props = props.add("content-type", obj{}.add("type", "string").add("const", contentType(sink)))
	if sink.Kind == "nats" {
		props = props.add("Nats-Msg-Id", obj{}.add("type", "string").add("description", "<provider>/<id>: JetStream's deduplication id"))
		required = append(required, "Nats-Msg-Id")
	}
	if sink.SchemaID == publish.SchemaIDHeader {
		props = props.add(publish.ValueSchemaIDHeader, obj{}.add("type", "string").
			add("description", "the schema registry id of subject <topic>-value: 5 bytes, byte 0 then the id as 4 big-endian bytes (Confluent's SchemaId encoding)"))
		required = append(required, publish.ValueSchemaIDHeader)
	}
	if sink.Mode == "binary" {
		prefix := "ce-"
		if sink.Kind == "kafka" {
			prefix = "ce_"
		}
		for _, a := range attributes {
			props = props.add(prefix+a.name, obj{}.add("type", "string").add("description", a.desc))
			if a.required {
				required = append(required, prefix+a.name)
			}
		}
		if sink.Kind == "nats" {
			props = props.add("ce-datacontenttype", obj{}.add("type", "string").add("const", normalize.DataContentType))
		}
	}
	return obj{}.add("type", "object").add("properties", props).add("required", required)
}

// envelopeSchema is the structured event's schema but data, which each message adds.
func envelopeSchema() obj {
	props, required := obj{}, []string{}
	for _, a := range attributes {
		props = props.add(a.name, obj{}.add("type", "string").add("description", a.desc))
		if a.required {
			required = append(required, a.name)
		}
	}
	props = props.add("datacontenttype", obj{}.add("type", "string").add("const", normalize.DataContentType))
	return obj{}.add("type", "object").add("properties", props).add("required", append(required, "datacontenttype", "data"))
}

func contentType(sink Sink) string {
	if sink.Mode == "structured" {
		return publish.StructuredContentType
	}
	return normalize.DataContentType
}

func ref(to string) obj { return obj{}.add("$ref", to) }

// SinkOf is the Sink cfg configures.
func SinkOf(cfg *config.Config, version string) Sink {
	s := Sink{Kind: cfg.Sink, Mode: cfg.CEMode, Topic: cfg.TopicTemplate, Key: cfg.KafkaKeyTemplate, Version: version}
	switch {
	case cfg.Sink == "kafka":
		s.Host, _, _ = strings.Cut(cfg.KafkaBrokers, ",")
		if cfg.KafkaSchemaRegistryURL != "" {
			s.SchemaID = cfg.KafkaSchemaIDLocation
		}
	case cfg.NATSURL != "":
		first, _, _ := strings.Cut(cfg.NATSURL, ",")
		if u, err := url.Parse(first); err == nil && u.Host != "" {
			first = u.Host // without a user or password the URL may carry
		}
		s.Host = first
	default:
		s.Host = cfg.EmbeddedNATSListen
	}
	return s
}

package testenv

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaEvent reads a Kafka record as a CloudEvent, structured or binary (the CloudEvents Kafka
// protocol binding), with the CloudEvents SDK's binding, format and spec packages, and checks it
// is valid. The record is read as the SDK's own Kafka binding (protocol/kafka_sarama, message.go)
// reads a consumer message, kafkatopic/kafkapartition/kafkaoffset extensions on a binary event
// included; interop/ checks that the two agree, so the service's module does not require sarama.
func KafkaEvent(t testing.TB, r *kgo.Record) cloudevents.Event {
	t.Helper()
	ev, err := binding.ToEvent(context.Background(), newRecordMessage(r))
	if err != nil {
		t.Fatalf("%s: not a CloudEvent: %v\nheaders %v\nvalue %s", r.Topic, err, r.Headers, r.Value)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("%s: invalid CloudEvent: %v", r.Topic, err)
	}
	return *ev
}

const cePrefix = "ce_"

var ceSpecs = spec.WithPrefix(cePrefix)

var (
	_ binding.Message               = (*recordMessage)(nil)
	_ binding.MessageMetadataReader = (*recordMessage)(nil)
)

// recordMessage is a binding.Message over a Kafka record.
type recordMessage struct {
	value   []byte
	headers map[string][]byte // keys lower-cased
	format  format.Format     // structured
	version spec.Version      // binary
}

func newRecordMessage(r *kgo.Record) *recordMessage {
	m := &recordMessage{value: r.Value, headers: make(map[string][]byte, len(r.Headers)+3)}
	var contentType string
	for _, h := range r.Headers {
		k := strings.ToLower(h.Key)
		if k == "content-type" {
			contentType = string(h.Value)
		}
		m.headers[k] = h.Value
	}
	m.headers[cePrefix+"kafkaoffset"] = []byte(strconv.FormatInt(r.Offset, 10))
	m.headers[cePrefix+"kafkapartition"] = []byte(strconv.FormatInt(int64(r.Partition), 10))
	m.headers[cePrefix+"kafkatopic"] = []byte(r.Topic)
	if f := format.Lookup(contentType); f != nil {
		m.format = f
	} else {
		m.version = ceSpecs.Version(string(m.headers[ceSpecs.PrefixedSpecVersionName()]))
	}
	return m
}

func (m *recordMessage) ReadEncoding() binding.Encoding {
	switch {
	case m.version != nil:
		return binding.EncodingBinary
	case m.format != nil:
		return binding.EncodingStructured
	}
	return binding.EncodingUnknown
}

func (m *recordMessage) ReadStructured(ctx context.Context, w binding.StructuredWriter) error {
	if m.format == nil {
		return binding.ErrNotStructured
	}
	return w.SetStructuredEvent(ctx, m.format, bytes.NewReader(m.value))
}

func (m *recordMessage) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	if m.version == nil {
		return binding.ErrNotBinary
	}
	for k, v := range m.headers {
		var err error
		switch {
		case strings.HasPrefix(k, cePrefix):
			if attr := m.version.Attribute(k); attr != nil {
				err = w.SetAttribute(attr, string(v))
			} else {
				err = w.SetExtension(strings.TrimPrefix(k, cePrefix), string(v))
			}
		case k == "content-type":
			err = w.SetAttribute(m.version.AttributeFromKind(spec.DataContentType), string(v))
		}
		if err != nil {
			return err
		}
	}
	if m.value != nil {
		return w.SetData(bytes.NewReader(m.value))
	}
	return nil
}

func (m *recordMessage) GetAttribute(k spec.Kind) (spec.Attribute, any) {
	if attr := m.version.AttributeFromKind(k); attr != nil {
		return attr, string(m.headers[attr.PrefixedName()])
	}
	return nil, nil
}

func (m *recordMessage) GetExtension(name string) any {
	return string(m.headers[cePrefix+name])
}

func (m *recordMessage) Finish(error) error { return nil }

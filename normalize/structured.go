package normalize

import (
	"fmt"
	"time"
)

// ParseStructured reads an event written by AppendStructured back into ev, which must be Reset:
// the buffer stores events in the structured format and hands them to the sink again when it
// forwards. The event's provider must be in reg (its type prefix gives EventType).
func ParseStructured(b []byte, ev *Event, reg *Registry) error {
	var f structuredFields
	if err := eachMember(b, f.collect); err != nil {
		return fmt.Errorf("stored event is not a JSON object: %w", err)
	}
	var err error
	if ev.ID, err = ev.storedString("id", f.id, true); err != nil {
		return err
	}
	if ev.Source, err = ev.storedString("source", f.source, true); err != nil {
		return err
	}
	if ev.Type, err = ev.storedString("type", f.typ, true); err != nil {
		return err
	}
	if ev.Subject, err = ev.storedString("subject", f.subject, false); err != nil {
		return err
	}
	if ev.ProviderEventType, err = ev.storedString("providereventtype", f.code, true); err != nil {
		return err
	}
	if ev.DataSchema, err = ev.storedString("dataschema", f.schema, false); err != nil {
		return err
	}
	if ev.TraceParent, err = ev.storedString("traceparent", f.parent, false); err != nil {
		return err
	}
	if ev.TraceState, err = ev.storedString("tracestate", f.state, false); err != nil {
		return err
	}
	if ev.CausationID, err = ev.storedString("causationid", f.causation, false); err != nil {
		return err
	}
	if ev.PartitionKey, err = ev.storedString("partitionkey", f.partition, false); err != nil {
		return err
	}
	name, err := ev.storedString("provider", f.provider, true)
	if err != nil {
		return err
	}
	p := reg.Lookup(name)
	if p == nil && string(name) == CanonicalID {
		p = &RTC
	}
	if p == nil {
		return fmt.Errorf("stored event's provider %q is unknown", name)
	}
	ev.Provider = p.ID
	if len(ev.Type) < len(p.TypePrefix) || string(ev.Type[:len(p.TypePrefix)]) != p.TypePrefix {
		return fmt.Errorf("stored event's type %q lacks its provider's prefix %s", ev.Type, p.TypePrefix)
	}
	ev.EventType = ev.Type[len(p.TypePrefix):]
	when, err := ev.storedString("time", f.tm, true)
	if err != nil {
		return err
	}
	if ev.Time, err = time.Parse(time.RFC3339Nano, string(when)); err != nil {
		return fmt.Errorf("stored event's time: %w", err)
	}
	switch v, _ := ev.storedString("verified", f.verified, false); {
	case v == nil:
	case string(v) == "false":
		ev.Unverified = true
	default:
		return fmt.Errorf("stored event's verified is %q, not \"false\"", v)
	}
	if !f.dataSeen {
		return fmt.Errorf("stored event has no data")
	}
	ev.data = append(ev.data[:0], f.data...)
	ev.Data = ev.data
	return nil
}

// structuredFields are the members of a stored event, as ParseStructured reads them.
type structuredFields struct {
	id, source, typ, subject, tm, schema, provider, code, parent, state, verified, data []byte
	causation, partition                                                                []byte
	dataSeen                                                                            bool
}

func (f *structuredFields) collect(m member) {
	switch string(m.key) {
	case "id":
		f.id = m.val
	case "source":
		f.source = m.val
	case "type":
		f.typ = m.val
	case "subject":
		f.subject = m.val
	case "time":
		f.tm = m.val
	case "dataschema":
		f.schema = m.val
	case "provider":
		f.provider = m.val
	case "providereventtype":
		f.code = m.val
	case "traceparent":
		f.parent = m.val
	case "tracestate":
		f.state = m.val
	case "verified":
		f.verified = m.val
	case "causationid":
		f.causation = m.val
	case "partitionkey":
		f.partition = m.val
	case "data":
		f.data, f.dataSeen = m.val, true
	}
}

// storedString keeps the string member name of a stored event, raw, in ev; nil when raw is
// absent and not required.
func (ev *Event) storedString(name string, raw []byte, required bool) ([]byte, error) {
	if raw == nil {
		if required {
			return nil, fmt.Errorf("stored event has no %s", name)
		}
		return nil, nil
	}
	text, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || raw[0] != '"' {
		return nil, fmt.Errorf("stored event's %s is not a string", name)
	}
	kept := ev.keep(text)
	ev.scratch = scratch
	return kept, nil
}

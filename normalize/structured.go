package normalize

import (
	"fmt"
	"time"
)

// ParseStructured reads an event written by AppendStructured back into ev, which must be Reset:
// the buffer stores events in the structured format and hands them to the sink again when it
// forwards. The event's provider must be in reg (its type prefix gives EventType).
func ParseStructured(b []byte, ev *Event, reg *Registry) error {
	var id, source, typ, subject, tm, provider, code, parent, state, verified, data []byte
	var dataSeen bool
	err := eachMember(b, func(m member) {
		switch string(m.key) {
		case "id":
			id = m.val
		case "source":
			source = m.val
		case "type":
			typ = m.val
		case "subject":
			subject = m.val
		case "time":
			tm = m.val
		case "provider":
			provider = m.val
		case "providereventtype":
			code = m.val
		case "traceparent":
			parent = m.val
		case "tracestate":
			state = m.val
		case "verified":
			verified = m.val
		case "data":
			data, dataSeen = m.val, true
		}
	})
	if err != nil {
		return fmt.Errorf("stored event is not a JSON object: %w", err)
	}
	str := func(name string, raw []byte, required bool) ([]byte, error) {
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
	if ev.ID, err = str("id", id, true); err != nil {
		return err
	}
	if ev.Source, err = str("source", source, true); err != nil {
		return err
	}
	if ev.Type, err = str("type", typ, true); err != nil {
		return err
	}
	if ev.Subject, err = str("subject", subject, false); err != nil {
		return err
	}
	if ev.ProviderEventType, err = str("providereventtype", code, true); err != nil {
		return err
	}
	if ev.TraceParent, err = str("traceparent", parent, false); err != nil {
		return err
	}
	if ev.TraceState, err = str("tracestate", state, false); err != nil {
		return err
	}
	name, err := str("provider", provider, true)
	if err != nil {
		return err
	}
	p := reg.Lookup(name)
	if p == nil {
		return fmt.Errorf("stored event's provider %q is unknown", name)
	}
	ev.Provider = p.ID
	if len(ev.Type) < len(p.TypePrefix) || string(ev.Type[:len(p.TypePrefix)]) != p.TypePrefix {
		return fmt.Errorf("stored event's type %q lacks its provider's prefix %s", ev.Type, p.TypePrefix)
	}
	ev.EventType = ev.Type[len(p.TypePrefix):]
	when, err := str("time", tm, true)
	if err != nil {
		return err
	}
	if ev.Time, err = time.Parse(time.RFC3339Nano, string(when)); err != nil {
		return fmt.Errorf("stored event's time: %w", err)
	}
	switch v, _ := str("verified", verified, false); {
	case v == nil:
	case string(v) == "false":
		ev.Unverified = true
	default:
		return fmt.Errorf("stored event's verified is %q, not \"false\"", v)
	}
	if !dataSeen {
		return fmt.Errorf("stored event has no data")
	}
	ev.data = append(ev.data[:0], data...)
	ev.Data = ev.data
	return nil
}

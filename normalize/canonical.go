package normalize

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Canonical RTC events (SPEC §9): one vocabulary shared by every provider, so that a pipeline
// counts participants or recording minutes across providers with one query. A provider declares
// in its own file, as a Canonical value, which of its native events has a counterpart and where
// each common field comes from; Derive (canonicalderive.go) makes the counterpart from the
// native event's data as published. The vocabulary itself is RTC, a Provider value that declares
// the canonical types and their data like any provider, so that schemas, the AsyncAPI document,
// dataschema and Kafka's known topics cover it by the same code.

// CanonicalID is the {provider} the canonical events are published under
// (callbacks.rtc.<entity>.<verb>), and the scope of their deduplication ids (rtc/<id>). No
// provider or generic source may take it.
const CanonicalID = "rtc"

// CanonicalPrefix is the type prefix of the canonical events.
const CanonicalPrefix = "io.callbridge.rtc."

// The canonical types, each an {eventtype}: <entity>.<verb>.
const (
	RoomStarted        = "room.started"
	RoomEnded          = "room.ended"
	ParticipantJoined  = "participant.joined"
	ParticipantLeft    = "participant.left"
	ParticipantRole    = "participant.role_changed"
	StreamPublished    = "stream.published"
	StreamUnpublished  = "stream.unpublished"
	RecordingStarted   = "recording.started"
	RecordingFileReady = "recording.file_ready"
	RecordingEnded     = "recording.ended"
	RecordingFailed    = "recording.failed"
	RelayStarted       = "relay.started"
	RelayStateChanged  = "relay.state_changed"
	RelayEnded         = "relay.ended"
)

// Canonical is a provider's mapping to the canonical events: for each of its native events (by
// EventDef Name) that has a counterpart, one or more Mappings, the first whose condition holds
// chosen. A native event without a Mapping has no counterpart.
type Canonical struct {
	// Base are the sources every Mapping shares (the room, the app, the sequence); a Mapping's
	// own Set for the same field wins.
	Base []Set
	// Events holds the mappings by native event Name.
	Events map[string][]Mapping
	// Gaps says, for the docs, what the provider does not report that the vocabulary has (TRTC
	// sends no unpublish when a participant leaves the room).
	Gaps string
}

// Mapping makes one canonical event of Type from a native event.
type Mapping struct {
	Type string // a canonical type: ParticipantJoined, …
	// If, when set, chooses this Mapping only when the native data's member at If.Path has one
	// of If.Values (a string's text, a number as written); the value AnyValue matches any.
	If  *Cond
	Set []Set
}

// Cond is a Mapping's condition.
type Cond struct {
	Path   string
	Values []string
}

// AnyValue, among a Cond's Values, matches any value but "" (and null, an object or an array,
// which match nothing): the Mapping applies when the member is there (a video recorded from a
// live input, not an upload).
const AnyValue = "*"

// Set gives one canonical field its value: the native data's member at From (a dotted path,
// "list[].name" for an array of strings, a last segment "list[0]" for an array's first element),
// or the constant Value.
type Set struct {
	To    string // a canonical field: "room_id", "recording.task_id", "recording.files"
	From  string
	Value string
	// Values maps a native value (its text) to the field's: role, reason, track.kind,
	// relay.direction, recording.status. A native value it lacks is "other" for reason (with
	// reason_native kept), and leaves any other field out.
	Values map[string]string
	// Unit is the native unit of a duration_s read from From: "s" (the default) or "ms".
	Unit string
}

// canonicalKind is how Derive writes a canonical field.
type canonicalKind uint8

const (
	kindText  canonicalKind = iota // a string: an id as text, never a float
	kindEnum                       // a string from Set.Values (or Set.Value)
	kindSecs                       // a number of seconds
	kindTexts                      // an array of strings
)

// canonicalField is one field of the vocabulary, in the order data is written.
type canonicalField struct {
	name   string // dotted: "recording.task_id"
	kind   canonicalKind
	entity string // "" for the common fields, else the one entity whose events may carry it
}

// canonicalFields are the fields a Set may name (at most maxPaths: Derive finds their values in
// one pass), in the order Derive writes them; provider,
// occurred_at, native_type and reason_native are written by Derive itself.
var canonicalFields = []canonicalField{
	{"app_id", kindText, ""},
	{"room_id", kindText, ""},
	{"room_session_id", kindText, ""},
	{"participant_id", kindText, ""},
	{"participant_session_id", kindText, ""},
	{"role", kindEnum, ""},
	{"reason", kindEnum, ""},
	{"duration_s", kindSecs, ""},
	{"provider_sequence", kindText, ""},
	{"track.id", kindText, "stream"},
	{"track.kind", kindEnum, "stream"},
	{"track.name", kindText, "stream"},
	{"recording.task_id", kindText, "recording"},
	{"recording.status", kindText, "recording"},
	{"recording.files", kindTexts, "recording"},
	{"recording.error", kindText, "recording"},
	{"relay.task_id", kindText, "relay"},
	{"relay.direction", kindEnum, "relay"},
	{"relay.url", kindText, "relay"},
	{"relay.state", kindText, "relay"},
	{"relay.error", kindText, "relay"},
}

// The enums of the vocabulary: a Set's Values (and Value) for these fields must be among them.
var canonicalEnums = map[string][]string{
	"role":            {"host", "audience", "participant", "bot"},
	"reason":          {"left", "timeout", "kicked", "replaced", "room_ended", "server", "join_failed", "other"},
	"track.kind":      {"audio", "video", "screen", "data"},
	"relay.direction": {"push", "pull"},
}

// Has reports whether p maps any native event to a canonical one.
func (c *Canonical) Has() bool { return c != nil && len(c.Events) > 0 }

// Types returns the canonical types the native event name maps to, in declaration order: the
// docs' table and the tests read it.
func (c *Canonical) Types(name string) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, m := range c.Events[name] {
		out = append(out, m.Type)
	}
	return out
}

// CheckCanonical refuses a mapping that does not hold: a native event p does not document, a
// type or field outside the vocabulary (or of another entity), an enum value it lacks, a
// constant that is not plain text, a unit other than s or ms on duration_s, and, when p declares
// its data, a From or If path it does not declare for that event.
func CheckCanonical(p *Provider) error {
	c := p.Canonical
	if c == nil {
		return nil
	}
	for _, s := range c.Base {
		if err := checkSet(p, "", "", s); err != nil {
			return err
		}
	}
	for name, ms := range c.Events {
		if findEventName(p.Events, name) == nil {
			return fmt.Errorf("%s: canonical mapping for %q, which is not one of its events", p.ID, name)
		}
		for _, m := range ms {
			if findEventName(RTC.Events, m.Type) == nil {
				return fmt.Errorf("%s %s: %q is not a canonical type", p.ID, name, m.Type)
			}
			if m.If != nil && (len(m.If.Values) == 0 || !declaredPath(p, name, m.If.Path)) {
				return fmt.Errorf("%s %s: condition on %q: a declared path and at least one value", p.ID, name, m.If.Path)
			}
			for _, s := range m.Set {
				if err := checkSet(p, name, m.Type, s); err != nil {
					return err
				}
			}
			for _, s := range c.Base {
				if slices.ContainsFunc(m.Set, func(o Set) bool { return o.To == s.To }) || !entityOf(s.To, m.Type) {
					continue // the mapping's own Set wins; another entity's field does not apply
				}
				if err := checkSet(p, name, m.Type, s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkSet checks one Set of p's mapping of native event name to canonical type typ ("" for
// Base, checked against every type).
func checkSet(p *Provider, name, typ string, s Set) error {
	where := fmt.Sprintf("%s %s → %s: %s", p.ID, name, typ, s.To)
	var f *canonicalField
	for i := range canonicalFields {
		if canonicalFields[i].name == s.To {
			f = &canonicalFields[i]
		}
	}
	switch {
	case f == nil:
		return fmt.Errorf("%s is not a canonical field", where)
	case typ != "" && !entityOf(s.To, typ):
		return fmt.Errorf("%s belongs to %s events", where, f.entity)
	case (s.From == "") == (s.Value == ""):
		return fmt.Errorf("%s: exactly one of From and Value", where)
	case s.Unit != "" && (s.To != "duration_s" || (s.Unit != "s" && s.Unit != "ms")):
		return fmt.Errorf("%s: unit %q (s or ms, on duration_s only)", where, s.Unit)
	case s.Value != "" && !plainText(s.Value):
		return fmt.Errorf("%s: constant %q is not plain text", where, s.Value)
	case strings.Contains(strings.TrimSuffix(s.From, "[0]"), "[0]"):
		return fmt.Errorf("%s: %q: [0] only ends a path", where, s.From)
	case s.From != "" && name != "" && !declaredPath(p, name, s.From):
		return fmt.Errorf("%s: %q is not declared in %s's data", where, s.From, name)
	}
	if enum, ok := canonicalEnums[s.To]; ok {
		for _, v := range append(slices.Collect(maps.Values(s.Values)), s.Value) {
			if v != "" && !slices.Contains(enum, v) {
				return fmt.Errorf("%s: %q is not one of %v", where, v, enum)
			}
		}
	}
	return nil
}

// entityOf reports whether canonical field to may appear in an event of canonical type typ: a
// common field in every one, an entity's in that entity's.
func entityOf(to, typ string) bool {
	for _, f := range canonicalFields {
		if f.name == to {
			return f.entity == "" || strings.HasPrefix(typ, f.entity+".")
		}
	}
	return false
}

// declaredPath reports whether path is declared in the data of p's event name, or p declares
// nothing (a permissive provider's paths are checked by its goldens alone).
func declaredPath(p *Provider, name, path string) bool {
	if !p.Declared() {
		return true
	}
	path = strings.ReplaceAll(path, "[0]", "[]") // the first element is declared as any element
	fs := p.DataFields(name)
	if len(fs) == 0 {
		return true // data itself is an open object (Qiniu Pili's: the user's console Vars)
	}
	for _, f := range fs {
		if f.Path == path || f.Path == strings.TrimSuffix(path, "[]") {
			return true
		}
	}
	// Below an open object (declared without members: an echoed request), any path is.
	for i := strings.IndexByte(path, '.'); i >= 0; i = nextDot(path, i) {
		object, members := false, false
		for _, f := range fs {
			object = object || (f.Path == path[:i] && f.Type == TObject)
			members = members || strings.HasPrefix(f.Path, path[:i+1])
		}
		if object && !members {
			return true
		}
	}
	return false
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func findEventName(defs []EventDef, name string) *EventDef {
	for i := range defs {
		if defs[i].Name == name {
			return &defs[i]
		}
	}
	return nil
}

// plainText: printable ASCII that JSON writes as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Event is one CloudEvents 1.0 envelope. Its byte slices point into the callback body or into the
// Event's own buffers, so an Event is valid until Reset or until the body is reused; Events are
// meant to be pooled.
type Event struct {
	ID                []byte
	Source            []byte // "/callbridge/<provider>[/<app id>]"
	Type              []byte // reverse-DNS type, e.g. com.netease.nertc.cloudplayer.play.started
	EventType         []byte // Type without the provider prefix, used in topics
	Subject           []byte
	Time              time.Time
	Provider          string
	ProviderEventType []byte // the native code, e.g. "503"
	TraceParent       []byte
	TraceState        []byte
	Unverified        bool   // the signature check failed in report mode, or the callback was unsigned
	DataSchema        []byte // URL of the JSON Schema of Data (DataSchemas.Set); empty: none
	// CausationID and PartitionKey are set on a canonical event (Canonical.Derive) only: the id
	// of the native event it was made from, and <provider>:<app>:<room>, its Kafka key.
	CausationID  []byte
	PartitionKey []byte
	Data         []byte // compact JSON

	arena   []byte // storage for the small fields above
	data    []byte // storage for Data
	scratch []byte // working space: decoded strings, hash input
}

// Reset empties e for reuse, keeping its buffers.
func (e *Event) Reset() {
	arena, data, scratch := e.arena[:0], e.data[:0], e.scratch[:0]
	*e = Event{arena: arena, data: data, scratch: scratch}
}

// keep copies parts into e's arena and returns the joined copy. When the arena is full a new one
// is started rather than grown, so slices handed out earlier stay valid.
func (e *Event) keep(parts ...[]byte) []byte { return keepParts(e, parts) }

func (e *Event) keepString(parts ...string) []byte { return keepParts(e, parts) }

func keepParts[T ~string | ~[]byte](e *Event, parts []T) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if cap(e.arena)-len(e.arena) < n {
		e.arena = make([]byte, 0, max(512, 2*cap(e.arena), n))
	}
	start := len(e.arena)
	for _, p := range parts {
		e.arena = append(e.arena, p...)
	}
	return e.arena[start:len(e.arena):len(e.arena)]
}

// keepInt stores the decimal form of v in e's arena.
func (e *Event) keepInt(v int64) []byte {
	var b [20]byte
	return e.keep(strconv.AppendInt(b[:0], v, 10))
}

// setType sets Type and EventType from the provider's type prefix and a short name.
func (e *Event) setType(prefix, name string) {
	e.Type = e.keepString(prefix, name)
	e.EventType = e.Type[len(prefix):]
}

// setUnknownType names an event code the provider's table does not hold: "unknown.<code>", with
// the code sanitised so it cannot add subject tokens.
func (e *Event) setUnknownType(prefix string, code []byte) {
	start := len(prefix)
	e.Type = e.keep([]byte(prefix), []byte("unknown."), code)
	for i := start + len("unknown."); i < len(e.Type); i++ {
		if !tokenSafe(e.Type[i]) {
			e.Type[i] = '_'
		}
	}
	e.EventType = e.Type[start:]
}

func tokenSafe(c byte) bool {
	return c > ' ' && c != '.' && c != '*' && c != '>' && c < 0x7f
}

// setSource sets Source to /callbridge/<provider>[/<app>].
func (e *Event) setSource(app []byte) {
	if len(app) == 0 {
		e.Source = e.keep([]byte("/callbridge/"), []byte(e.Provider))
		return
	}
	e.Source = e.keep([]byte("/callbridge/"), []byte(e.Provider), []byte("/"), app)
}

// hashID sets ID to a hash of the event's identity: the provider, the native code and the
// parts given, each length-prefixed so that no two different identities share an input.
func (e *Event) hashID(parts ...[]byte) {
	// Built after what scratch holds: a part may be a string decoded there.
	start := len(e.scratch)
	b := appendIdentityPart(e.scratch, []byte(e.Provider))
	b = appendIdentityPart(b, e.ProviderEventType)
	for _, p := range parts {
		b = appendIdentityPart(b, p)
	}
	e.scratch = b[:start]
	sum := sha256.Sum256(b[start:])
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	e.ID = e.keep(id[:])
}

// setProviderID sets ID to an id the provider chose, when it is safe to use as it is: printable
// ASCII without spaces, at most maxPlainID bytes. Any other is hashed: NATS headers trim spaces
// and turn CR/LF into spaces ("x b", "x\nb" and " x b " would share a Nats-Msg-Id), and a long
// one would not fit a header.
func (e *Event) setProviderID(id []byte) {
	if plainID(id) {
		e.ID = e.keep(id)
		return
	}
	e.hashID([]byte("provider id"), id)
}

// maxPlainID is the longest provider id used as it is.
const maxPlainID = 128

func plainID(id []byte) bool {
	if len(id) == 0 || len(id) > maxPlainID {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// MarkUnverified marks an event accepted without a verified signature (report mode, unsigned by
// policy, or a dead letter replayed without its verification) and gives it an id the sender
// cannot choose: a hash of everything the event says, under a label of its own. A forged
// callback then never occupies the deduplication slot of a genuine one, while retries of one
// unverified callback still share an id.
func (e *Event) MarkUnverified() {
	e.Unverified = true
	e.hashID([]byte("unverified"), e.ID, e.Type, e.Source, e.Subject, e.Data)
}

func appendIdentityPart(dst, p []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(p)), 10)
	dst = append(dst, ':')
	return append(dst, p...)
}

// setTime sets Time from a provider timestamp read by intValue, when there is one, it is after
// 1970 (providers write 0 for "no time", which is not 1970-01-01) and it lies in the years
// RFC 3339 can write; it reports whether it did, so callers can fall through their list of
// time fields to the receipt time.
func (e *Event) setTime(v int64, ok bool) bool {
	if !ok || v <= 0 {
		return false
	}
	t := unixTime(v)
	if y := t.Year(); y < 1 || y > 9999 {
		return false
	}
	e.Time = t
	return true
}

// unixTime reads a provider timestamp that may be seconds or milliseconds: values of 10^11 and
// more are milliseconds (10^11 seconds is the year 5138).
func unixTime(v int64) time.Time {
	if v >= 1e11 || v <= -1e11 {
		return time.UnixMilli(v).UTC()
	}
	return time.Unix(v, 0).UTC()
}

// AppendStructured appends the event in the CloudEvents JSON format (structured content mode).
func (e *Event) AppendStructured(dst []byte) []byte {
	dst = append(dst, `{"specversion":"1.0","id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, e.Source)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, e.Type)
	if len(e.Subject) > 0 {
		dst = append(dst, `,"subject":`...)
		dst = appendString(dst, e.Subject)
	}
	dst = append(dst, `,"time":"`...)
	dst = e.AppendTime(dst)
	dst = append(dst, `","datacontenttype":"`+DataContentType+`"`...)
	if len(e.DataSchema) > 0 {
		dst = append(dst, `,"dataschema":`...)
		dst = appendString(dst, e.DataSchema)
	}
	dst = append(dst, `,"provider":"`...)
	dst = append(dst, e.Provider...)
	dst = append(dst, `","providereventtype":`...)
	dst = appendString(dst, e.ProviderEventType)
	if len(e.TraceParent) > 0 {
		dst = append(dst, `,"traceparent":`...)
		dst = appendString(dst, e.TraceParent)
		if len(e.TraceState) > 0 {
			dst = append(dst, `,"tracestate":`...)
			dst = appendString(dst, e.TraceState)
		}
	}
	if len(e.CausationID) > 0 {
		dst = append(dst, `,"causationid":`...)
		dst = appendString(dst, e.CausationID)
		dst = append(dst, `,"partitionkey":`...)
		dst = appendString(dst, e.PartitionKey)
	}
	if e.Unverified {
		// A string, as binary mode must carry it: consumers see the same value in both modes.
		dst = append(dst, `,"verified":"false"`...)
	}
	dst = append(dst, `,"data":`...)
	dst = append(dst, e.Data...)
	return append(dst, '}')
}

// EachAttribute calls set for every context attribute and extension but datacontenttype (which
// protocol bindings carry as their content-type header) and data, each as the string the binary
// content mode writes: the order and values of AppendStructured.
func (e *Event) EachAttribute(set func(name string, value []byte)) {
	var t [32]byte
	set("specversion", []byte("1.0"))
	set("id", e.ID)
	set("source", e.Source)
	set("type", e.Type)
	if len(e.Subject) > 0 {
		set("subject", e.Subject)
	}
	set("time", e.AppendTime(t[:0]))
	if len(e.DataSchema) > 0 {
		set("dataschema", e.DataSchema)
	}
	set("provider", []byte(e.Provider))
	set("providereventtype", e.ProviderEventType)
	if len(e.TraceParent) > 0 {
		set("traceparent", e.TraceParent)
		if len(e.TraceState) > 0 {
			set("tracestate", e.TraceState)
		}
	}
	if len(e.CausationID) > 0 {
		set("causationid", e.CausationID)
		set("partitionkey", e.PartitionKey)
	}
	if e.Unverified {
		set("verified", []byte("false"))
	}
}

// DataContentType is the media type of Data.
const DataContentType = "application/json"

// AppendTime appends Time in RFC 3339 with milliseconds, in UTC: 2024-04-12T05:33:20.123Z.
// Written out by hand: time.AppendFormat parses its layout on every call.
func (e *Event) AppendTime(dst []byte) []byte {
	t := e.Time.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z')
}

func appendDigits(dst []byte, v, width int) []byte {
	var b [4]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}

// setTypeFrom sets the type for the native code ev.ProviderEventType from the provider's table
// defs, or the unknown type when defs has no row for it.
func (ev *Event) setTypeFrom(defs []EventDef, prefix string) {
	if def := findEvent(defs, ev.ProviderEventType); def != nil {
		ev.setType(prefix, def.Name)
	} else {
		ev.setUnknownType(prefix, ev.ProviderEventType)
	}
}

// findEvent returns the table row for a native code.
func findEvent(defs []EventDef, code []byte) *EventDef {
	for i := range defs {
		if defs[i].Code == string(code) {
			return &defs[i]
		}
	}
	return nil
}

// setDataWithout sets the event's data to the object of the members ms without those named drop:
// a send time, which changes on every resend, so that the data of a resend is the same.
func (ev *Event) setDataWithout(ms []member, drop ...string) {
	d := append(ev.data[:0], '{')
members:
	for _, m := range ms {
		for _, k := range drop {
			if string(m.key) == k {
				continue members
			}
		}
		d = appendMember(d, m)
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
}

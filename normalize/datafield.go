package normalize

import "strconv"

// The event contract (SPEC §9): what each event's data holds, declared in the provider's own
// file, and the dataschema attribute that names the JSON Schema made from it. The schemas
// themselves are written by package contract, which reads these declarations; nothing here
// depends on it.

// Field declares one member of an event's data as published. A provider declares the members
// all its events share in Provider.Data and each event's own in Provider.EventData, under the
// event's Name. An object whose members are declared is closed (a member not declared fails
// the schema, so the goldens catch drift); an object declared without members is open.
type Field struct {
	// Path is the member's dotted path in data, "[]" after a name stepping into an array's
	// items: "payload.details.fileList[].fileName". Every step before the last is declared too.
	Path string
	// Type is the member's JSON type: string, integer, number, boolean, object or array; two
	// joined by "|" (string|integer) for a member a provider writes either way, null among them
	// (string|null) for one it writes as null when it has no value.
	Type string
	Unit string // of a quantity: "s", "ms", "us", "bytes", "kbps", "px"; "" for none
	Desc string
	// Required: present in every event of its type that the provider documents.
	Required bool
	// BigID: a 64-bit id. As a JSON number (Type integer) it can exceed 2^53, which readers
	// that parse numbers as doubles round; the schema says so. As a string it is exact.
	BigID bool
	// Enum, when set, are the only values of a string member.
	Enum []string
}

// under returns copies of fs with their paths below prefix: under("payload", f) declares
// payload.<f.Path>; under("files[]", f) a member of the items of array files.
func under(prefix string, fs ...Field) []Field {
	out := make([]Field, len(fs))
	for i, f := range fs {
		f.Path = prefix + "." + f.Path
		out[i] = f
	}
	return out
}

// Field types, as JSON Schema names them.
const (
	TString  = "string"
	TInteger = "integer"
	TNumber  = "number"
	TBool    = "boolean"
	TObject  = "object"
	TArray   = "array"
	// TNull, joined with another type (string|null), for a member a provider writes as null
	// when it has no value.
	TNull = "null"
)

// Declared reports whether p declares its events' data. Events of a provider that does not, of
// a code its table lacks (unknown.<code>) and of generic sources get a permissive schema.
func (p *Provider) Declared() bool { return p.Data != nil || p.EventData != nil }

// DataFields returns the declared fields of the data of p's event name (an EventDef's Name):
// the provider's common fields, then the event's own.
func (p *Provider) DataFields(name string) []Field {
	own := p.EventData[name]
	return append(append(make([]Field, 0, len(p.Data)+len(own)), p.Data...), own...)
}

// FirstMajor is the major version every event type's schema starts at. A change of a field's
// meaning or type is a new major, named in the dataschema URL and declared in Provider.Majors;
// the schemas of earlier majors stay served (package contract keeps them in its history).
const FirstMajor = 1

// Major is the current major of the data schema of p's event name (an EventDef's Name):
// p.Majors[name], or FirstMajor when it declares none.
func (p *Provider) Major(name string) int {
	if m := p.Majors[name]; m > FirstMajor {
		return m
	}
	return FirstMajor
}

// SchemaFile is the path of the schema of event type typ at major, below the schema base URL
// and in `callbridge contract`'s output: <type>/v<major>.json.
func SchemaFile(typ string, major int) string {
	return typ + "/v" + strconv.Itoa(major) + ".json"
}

// DataSchemas sets each event's dataschema: <base>/<type>/v<major>.json, the URL made once per
// documented type at start-up; an undocumented code's or a generic source's type is written into
// the event's own buffers (percent-encoded), so neither allocates per event.
type DataSchemas struct {
	base  []byte            // without a trailing '/'
	known map[string][]byte // by CloudEvents type
}

// NewDataSchemas returns the dataschema URLs below base (an absolute URL) of every documented
// event type of reg's providers, each at its current major; an undocumented code's is at
// FirstMajor (its schema is permissive, and stays so).
func NewDataSchemas(base string, reg *Registry) *DataSchemas {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	d := &DataSchemas{base: []byte(base), known: map[string][]byte{}}
	for _, p := range reg.Publishers() {
		for _, e := range p.Events {
			typ := p.TypePrefix + e.Name
			d.known[typ] = []byte(base + "/" + SchemaFile(typ, p.Major(e.Name)))
		}
	}
	return d
}

// Set sets ev.DataSchema for ev's type. A nil d sets none.
func (d *DataSchemas) Set(ev *Event) {
	if d == nil {
		return
	}
	if u, ok := d.known[string(ev.Type)]; ok {
		ev.DataSchema = u
		return
	}
	ev.DataSchema = ev.keepSchemaURL(d.base, ev.Type)
}

// firstMajorFile ends the URL of a type's first schema.
var firstMajorFile = []byte("/v" + strconv.Itoa(FirstMajor) + ".json")

// keepSchemaURL keeps base/<typ, percent-encoded>/v1.json in e's arena.
func (e *Event) keepSchemaURL(base, typ []byte) []byte {
	n := len(base) + 1 + len(firstMajorFile)
	for _, c := range typ {
		n++
		if !urlUnreserved(c) {
			n += 2
		}
	}
	if cap(e.arena)-len(e.arena) < n {
		e.arena = make([]byte, 0, max(512, 2*cap(e.arena), n))
	}
	start := len(e.arena)
	b := append(append(e.arena, base...), '/')
	for _, c := range typ {
		if urlUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
	}
	e.arena = append(b, firstMajorFile...)
	return e.arena[start:len(e.arena):len(e.arena)]
}

// urlUnreserved reports a byte RFC 3986 lets a path carry as it is.
func urlUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

package normalize

// Output completes normalised events for publishing, the same way for every path that publishes
// one (ingest, and the replay of dead letters): it sets the dataschema and derives the canonical
// counterpart. It is made once from the Registry and is safe for concurrent use.
type Output struct {
	schemas   *DataSchemas
	canonical bool
}

// NewOutput returns the Output of reg's events, their dataschema below schemaBase.
func NewOutput(schemaBase string, reg *Registry) *Output {
	return &Output{schemas: NewDataSchemas(schemaBase, reg), canonical: reg.Canonical()}
}

// Events sets ev's dataschema and, when the canonical events are on and p maps ev, makes its
// counterpart in canon; it appends what is to be published to dst, in order: ev, then canon.
// The caller answers the provider only once every one is stored, so that a 200 means both are
// (SPEC §9), and a retry makes the same ids. A nil o publishes ev alone, without a dataschema.
func (o *Output) Events(p *Provider, ev, canon *Event, dst []*Event) []*Event {
	dst = append(dst, ev)
	if o == nil {
		return dst
	}
	o.schemas.Set(ev)
	if o.canonical && p.Canonical.Derive(ev, canon) {
		o.schemas.Set(canon)
		dst = append(dst, canon)
	}
	return dst
}

package normalize

import "fmt"

// Builtins returns the providers callbridge knows, one line per provider: adding a provider is
// its file, its testdata folder and its line here. The slice is new on every call; the Provider
// values are declarations and are never changed after start-up.
func Builtins() []*Provider {
	return []*Provider{
		&NetEaseNERTC,
		&AnyRTC,
		&TencentCSS,
		&Agora,
		&TencentTRTC,
		&VolcengineRTC,
		&AlibabaLive,
		&LiveKit,
		&Zego,
		&RongcloudRTC,
		&HuaweiLive,
		&Mux,
		&CloudflareStream,
		&GetStream,
		&HuaweiSparkRTC,
		&Zoom,
		&Daily,
		&VolcengineLive,
		&QiniuPili,
		&VonageVideo,
		&SRS,
		&OvenMediaEngine,
		&AWSIVS,
	}
}

// Registry is every provider one bridge serves: the built-in providers and the generic sources
// of its configuration (SPEC §6a), as one value. The command builds it once at start-up and
// hands the same value to every stage that needs a provider — ingest's routes, the dead-letter
// replay, send, bench, the docs — so no stage can see only half of it. A Registry is read-only
// once built and safe for concurrent use.
type Registry struct {
	list      []*Provider
	canonical bool // the canonical RTC events are published (CALLBRIDGE_CANONICAL)
}

// NewRegistry returns the registry of ps, in their order (built-ins first, by convention), with
// the canonical RTC events on (see WithCanonical). Two entries with one id are an error (a
// generic source cannot shadow a built-in provider), and so are the canonical events' id, rtc,
// and a canonical mapping that does not hold (CheckCanonical).
func NewRegistry(ps ...*Provider) (*Registry, error) {
	seen := map[string]bool{CanonicalID: true}
	for _, p := range ps {
		if seen[p.ID] {
			if p.ID == CanonicalID {
				return nil, fmt.Errorf("provider id %q is the canonical RTC events' own", p.ID)
			}
			return nil, fmt.Errorf("provider id %q is registered twice", p.ID)
		}
		seen[p.ID] = true
		if err := CheckCanonical(p); err != nil {
			return nil, err
		}
	}
	return &Registry{list: append([]*Provider(nil), ps...), canonical: true}, nil
}

// WithCanonical returns a copy of r that publishes the canonical RTC events when on.
func (r *Registry) WithCanonical(on bool) *Registry {
	c := *r
	c.canonical = on
	return &c
}

// Canonical reports whether the canonical RTC events are published.
func (r *Registry) Canonical() bool { return r.canonical }

// Publishers returns every entry whose events are published: All, and RTC, the canonical
// vocabulary, when the canonical events are on. Schemas, the AsyncAPI document, dataschema and
// Kafka's known topics read it; routes read All. The caller must not modify the slice.
func (r *Registry) Publishers() []*Provider {
	if !r.canonical {
		return r.list
	}
	return append(r.list[:len(r.list):len(r.list)], &RTC)
}

// BuiltinRegistry is the registry of the built-in providers alone: for tools and tests that run
// without a configuration.
func BuiltinRegistry() *Registry {
	r, err := NewRegistry(Builtins()...)
	if err != nil {
		panic(err) // two built-ins with one id: a bug in Builtins
	}
	return r
}

// All returns every entry, in registration order. The caller must not modify the slice.
func (r *Registry) All() []*Provider { return r.list }

// Lookup returns the entry with the given id, or nil.
func (r *Registry) Lookup(id []byte) *Provider {
	for _, p := range r.list {
		if p.ID == string(id) {
			return p
		}
	}
	return nil
}

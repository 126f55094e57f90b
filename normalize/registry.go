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
	list []*Provider
}

// NewRegistry returns the registry of ps, in their order (built-ins first, by convention). Two
// entries with one id are an error: a generic source cannot shadow a built-in provider.
func NewRegistry(ps ...*Provider) (*Registry, error) {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if seen[p.ID] {
			return nil, fmt.Errorf("provider id %q is registered twice", p.ID)
		}
		seen[p.ID] = true
	}
	return &Registry{list: append([]*Provider(nil), ps...)}, nil
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

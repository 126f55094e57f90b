package normalize

import (
	"testing"
	"time"
)

// BenchmarkCallback measures the request-path work of one callback per provider: verify the
// signature on the raw bytes, normalise, encode the structured CloudEvent into a reused buffer.
// Each provider's sample is signed as its sender does (SignFor), with the default options,
// received a second after it was sent.
func BenchmarkCallback(b *testing.B) {
	sent := time.Unix(1712900000, 0)
	schemas := NewDataSchemas("http://localhost:8080/schemas", BuiltinRegistry())
	for _, p := range Builtins() {
		b.Run(p.ID, func(b *testing.B) {
			opts, err := p.Options(nil)
			if err != nil {
				b.Fatal(err)
			}
			auth := Auth{Secret: []byte("secret"), MaxSkew: 5 * time.Minute, Options: opts}
			body, headers, err := signFor(p, p.Sample, &auth, sent)
			if err != nil {
				b.Fatal(err)
			}
			posted := testCallback(p, body, headers, sent)
			h := byteHeaders{}
			for _, kv := range append(append([]Header{{"Host", testHost}}, p.SampleHeaders...), headers...) {
				h.set(kv.Key, kv.Value)
			}
			var c Callback
			var ev Event
			buf := make([]byte, 0, 4096)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				c.Reset()
				ev.Reset()
				c.Body, c.Header, c.Received = body, h, sent.Add(time.Second)
				c.Method, c.URI = posted.Method, posted.URI
				if _, err := p.Run(&c, &auth, true, &ev); err != nil {
					b.Fatal(err)
				}
				schemas.Set(&ev)
				buf = ev.AppendStructured(buf[:0])
			}
		})
	}
}

// byteHeaders is a Headers that, like fasthttp's, hands out stored bytes without allocating.
type byteHeaders map[string][]byte

func (h byteHeaders) set(key, value string) { h[string(lower(nil, key))] = []byte(value) }

func (h byteHeaders) Peek(key string) []byte {
	var buf [64]byte
	return h[string(lower(buf[:0], key))]
}

func lower(dst []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// BenchmarkCanonical measures what a canonical event adds to a callback whose sample has one
// (SPEC §9): derive it from the native event, set its dataschema and encode it. Against
// BenchmarkCallback of the same provider it is the request-path cost of CALLBRIDGE_CANONICAL=on
// before the broker; bench/baseline.sh measures the whole, broker round trip included.
func BenchmarkCanonical(b *testing.B) {
	out := NewOutput("http://localhost:8080/schemas", BuiltinRegistry())
	for _, p := range Builtins() {
		var ev, canon Event
		if err := p.Envelope(&Callback{Body: p.Sample, Header: HeaderMap{}, Received: time.Unix(1712900000, 0)}, &ev); err != nil {
			continue // a sample that needs its headers (none does today): nothing to measure
		}
		if len(out.Events(p, &ev, &canon, nil)) < 2 {
			continue
		}
		b.Run(p.ID, func(b *testing.B) {
			var dst [2]*Event
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				evs := out.Events(p, &ev, &canon, dst[:0])
				buf = evs[1].AppendStructured(buf[:0])
			}
		})
	}
}

package loadgen

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

// benchProvider is one provider of the mix: how to make a distinct callback of it and where to
// send it.
type benchProvider struct {
	p      *normalize.Provider
	weight int
	url    string // with the URL token when one is configured
	path   string // the same without scheme and host, for wrk
	auth   normalize.Auth
	tmpl   []tmplPart // the provider's Sample with holes in the fields that make the event id
}

// tmplPart is literal text followed by a hole (holeNone after the last).
type tmplPart struct {
	lit  string
	hole string
}

const holeNone = ""

func splitTemplate(t string) []tmplPart {
	var parts []tmplPart
	for {
		i, hole := -1, holeNone
		for _, h := range []string{holeID} {
			if j := strings.Index(t, h); j >= 0 && (i < 0 || j < i) {
				i, hole = j, h
			}
		}
		if i < 0 {
			return append(parts, tmplPart{lit: t})
		}
		parts = append(parts, tmplPart{lit: t[:i], hole: hole})
		t = t[i+len(hole):]
	}
}

// holeID is the placeholder in a template for the event's distinct id.
const holeID = "@@ID@@"

// distinct marks the provider's Distinct fields of a decoded Sample as holes for the event's
// distinct id: the provider says which of its fields make the event id (see
// normalize.Provider.Distinct), so a provider added to the registry is benchmarked without an
// edit here. A step through a string holding a JSON object goes into it (SNS's Message).
func distinct(paths []string) func(top map[string]any) error {
	return func(top map[string]any) error {
		for _, path := range paths {
			obj := top
			keys := strings.Split(path, ".")
			var embedded []func() error // strings holding JSON on the way, written back last first
			for _, k := range keys[:len(keys)-1] {
				next, ok := obj[k].(map[string]any)
				if text, isString := obj[k].(string); isString {
					// A string holding a JSON object (SNS's Message): the path goes into it.
					dec := json.NewDecoder(strings.NewReader(text))
					dec.UseNumber()
					ok = dec.Decode(&next) == nil && next != nil
					parent, key, inner := obj, k, next
					embedded = append(embedded, func() error {
						b, err := json.Marshal(inner)
						parent[key] = string(b)
						return err
					})
				}
				if !ok {
					return fmt.Errorf("the sample has no object %q on the way to %s", k, path)
				}
				obj = next
			}
			obj[keys[len(keys)-1]] = holeID
			for i := len(embedded) - 1; i >= 0; i-- {
				if err := embedded[i](); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// parseMix reads -providers: "anyrtc,netease-nertc:2,tencent-css" (weight 1 unless given).
func parseMix(spec string, cfg *config.Config, registry *normalize.Registry, base string) ([]*benchProvider, error) {
	var mix []*benchProvider
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, w, hasWeight := strings.Cut(item, ":")
		weight := 1
		if hasWeight {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 || n > 1000 {
				return nil, fmt.Errorf("-providers: weight of %s must be an integer 1..1000, got %q", name, w)
			}
			weight = n
		}
		p := registry.Lookup([]byte(name))
		if p == nil {
			return nil, fmt.Errorf("-providers: unknown provider %q", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("-providers: %s given twice", name)
		}
		seen[name] = true
		if len(p.Distinct) == 0 {
			return nil, fmt.Errorf("-providers: %s does not say which fields of its callbacks make the event id (Provider.Distinct)", p.ID)
		}
		tmpl, err := template(p.Sample, distinct(p.Distinct))
		if err != nil {
			return nil, fmt.Errorf("%s sample: %v", p.ID, err)
		}
		settings := cfg.Providers[p.ID]
		auth, err := bridge.ProviderAuth(cfg, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p.ID, err)
		}
		path := "/v1/callbacks/" + p.ID
		if settings.URLToken != "" {
			path += "/" + settings.URLToken
		}
		mix = append(mix, &benchProvider{
			p:      p,
			weight: weight,
			url:    base + path,
			path:   path,
			auth:   auth,
			tmpl:   splitTemplate(tmpl),
		})
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("-providers: none given")
	}
	return mix, nil
}

func template(sample []byte, set func(map[string]any) error) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(sample))
	dec.UseNumber() // large ids stay exact
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return "", err
	}
	if err := set(top); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(top); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// schedule spreads the providers by weight, smoothly (nginx's weighted round robin): for
// 2:1:1, a b a c, not a a b c.
func schedule(mix []*benchProvider) []uint8 {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	current := make([]int, len(mix))
	out := make([]uint8, 0, total)
	for range total {
		best := 0
		for i, m := range mix {
			current[i] += m.weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		out = append(out, uint8(best))
	}
	return out
}

// benchReq is one signed callback, ready to send.
type benchReq struct {
	prov   uint8
	body   []byte
	header []normalize.Header
}

// reqChunk is a run of requests signed at the same moment.
type reqChunk struct {
	signed time.Time
	reqs   []benchReq
}

// supply makes the distinct signed requests: ahead of the run, then on a goroutine of its own
// while it runs (signing is never on a connection's path). Requests are used once: every one
// is a new event. A chunk older than maxAge (well inside the bridge's signature window) is dropped
// rather than sent: its ids are never used, and fresh ones are signed instead.
type supply struct {
	mix    []*benchProvider
	order  []uint8
	run    string // makes this run's ids distinct from every other run's
	maxAge time.Duration
	chunk  int

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []*reqChunk
	queued   int // requests in queue
	target   int // requests to keep queued
	minQueue int
	taken    int // requests handed out since the last adjustment
	stopped  bool
	want     chan struct{}

	seq      uint64 // next sequence number (signer only)
	signErr  error
	signed   atomic.Uint64
	signCPU  atomic.Int64 // ns of the signer thread's CPU while the run is measured
	dropped  atomic.Uint64
	starved  atomic.Uint64
	measured atomic.Bool
}

func newSupply(mix []*benchProvider, maxAge time.Duration, chunk, minQueue int) *supply {
	var b [4]byte
	rand.Read(b[:])
	s := &supply{
		mix:      mix,
		order:    schedule(mix),
		run:      hex.EncodeToString(b[:]),
		maxAge:   maxAge,
		chunk:    chunk,
		target:   minQueue,
		minQueue: minQueue,
		want:     make(chan struct{}, 1),
	}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// sign makes the next n requests, signed at now.
func (s *supply) sign(n int, now time.Time) (*reqChunk, error) {
	c := &reqChunk{signed: now, reqs: make([]benchReq, n)}
	for i := range c.reqs {
		seq := s.seq
		s.seq++
		prov := s.order[seq%uint64(len(s.order))]
		bp := s.mix[prov]
		body := make([]byte, 0, 512)
		for _, part := range bp.tmpl {
			body = append(body, part.lit...)
			switch part.hole {
			case holeID: // bench-<run>-<seq>
				body = strconv.AppendUint(append(append(append(body, "bench-"...), s.run...), '-'), seq, 10)
			}
		}
		_, signed, header, err := bp.p.SignFor(bp.url, body, &bp.auth, now)
		if err != nil {
			return nil, fmt.Errorf("sign %s: %v", bp.p.ID, err)
		}
		c.reqs[i] = benchReq{prov: prov, body: signed, header: header}
	}
	s.signed.Add(uint64(n))
	return c, nil
}

// fill signs until target requests are queued; before the run, on the caller's goroutine.
func (s *supply) fill() error {
	for s.queued < s.target {
		c, err := s.sign(s.chunk, time.Now())
		if err != nil {
			return err
		}
		s.queue = append(s.queue, c)
		s.queued += len(c.reqs)
	}
	return nil
}

// signer keeps the queue full and fresh until stop. Its OS thread is its own, so the CPU it
// spends signing can be told apart from the rest of the tool's.
func (s *supply) signer() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		before, _ := threadCPU()
		now := time.Now()
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		for len(s.queue) > 0 && now.Sub(s.queue[0].signed) > s.maxAge {
			s.queued -= len(s.queue[0].reqs)
			s.queue = s.queue[1:]
			s.dropped.Add(1)
		}
		if el := now.Sub(last); el >= time.Second {
			// Keep two seconds of what the connections took in the last one queued.
			rate := float64(s.taken) / el.Seconds()
			s.target = max(s.minQueue, int(2*rate))
			s.taken, last = 0, now
		}
		need := s.queued < s.target
		s.mu.Unlock()
		if need {
			c, err := s.sign(s.chunk, now)
			s.mu.Lock()
			if err != nil {
				s.signErr, s.stopped = err, true
			} else {
				s.queue = append(s.queue, c)
				s.queued += len(c.reqs)
			}
			s.cond.Broadcast()
			s.mu.Unlock()
		}
		if after, ok := threadCPU(); ok && s.measured.Load() {
			s.signCPU.Add(int64(after - before))
		}
		if need {
			continue
		}
		select {
		case <-s.want:
		case <-tick.C:
		}
	}
}

// take hands out a chunk of fresh requests, waiting for the signer when it fell behind; nil
// once stopped.
func (s *supply) take() *reqChunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stopped {
			return nil
		}
		now := time.Now()
		for len(s.queue) > 0 {
			c := s.queue[0]
			s.queue = s.queue[1:]
			s.queued -= len(c.reqs)
			if now.Sub(c.signed) > s.maxAge {
				s.dropped.Add(1)
				continue
			}
			s.taken += len(c.reqs)
			select {
			case s.want <- struct{}{}:
			default:
			}
			return c
		}
		s.starved.Add(1)
		select {
		case s.want <- struct{}{}:
		default:
		}
		s.cond.Wait()
	}
}

func (s *supply) stop() {
	s.mu.Lock()
	s.stopped = true
	s.cond.Broadcast()
	s.mu.Unlock()
	select {
	case s.want <- struct{}{}:
	default:
	}
}

// reqSource is one connection's view of the supply: the rest of its current chunk.
type reqSource struct {
	s      *supply
	cur    []benchReq
	signed time.Time
}

func (r *reqSource) next(now time.Time) (*benchReq, bool) {
	if len(r.cur) == 0 || now.Sub(r.signed) > r.s.maxAge {
		c := r.s.take()
		if c == nil {
			return nil, false
		}
		r.cur, r.signed = c.reqs, c.signed
	}
	req := &r.cur[0]
	r.cur = r.cur[1:]
	return req, true
}

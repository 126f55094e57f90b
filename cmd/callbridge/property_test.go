package main

// The property test: random sequences of valid, invalid and hostile callbacks from every
// registry entry (each built-in provider and generic sources) through the real server, in both
// ack modes, and the sink read back. Properties: every 200 is stored exactly once by provider and
// id; nothing answered otherwise is stored as an event; a permanent failure is never 5xx; the
// status is what the provider's own code decides; the bridge is ready, live and publishing
// afterwards. Hostile variants are made from each provider's Sample and its declared paths
// (Provider.Distinct, Provider.Code), so a provider added to the registry is covered as it is.

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

var propertySeed = flag.Int64("property.seed", 0, "seed of TestProperty's random sequences (0: from the clock)")

// propMaxBody is the bridge's CALLBRIDGE_MAX_BODY_BYTES in the property test.
const propMaxBody = 65536

func TestProperty(t *testing.T) {
	seed := *propertySeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000_000
	}
	t.Logf("seed %d", seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("TestProperty failed with seed %d; again with: go test ./cmd/callbridge -run TestProperty -property.seed=%d", seed, seed)
		}
	})
	for i, run := range []struct {
		mode string
		lax  bool
	}{{"broker", false}, {"broker", true}, {"buffer", false}, {"buffer", true}} {
		name := run.mode + "/enforce"
		if run.lax {
			name = run.mode + "/report-or-unsigned"
		}
		t.Run(name, func(t *testing.T) { runProperty(t, name, seed+int64(i), run.mode == "buffer", run.lax) })
	}
}

// propRun is one bridge and the sequence sent to it.
type propRun struct {
	t       *testing.T
	b       *runningBridge
	rng     *rand.Rand
	client  *http.Client
	sent    []*sentCallback
	pool    []*sentCallback // valid callbacks answered 200: what a retry repeats
	found   findings
	failed5 int // answers 5xx or none
}

func runProperty(t *testing.T, name string, seed int64, buffer, lax bool) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	entries := propEntries(t, rng, lax)
	env := propertyEnv(entries, lax)
	var sinkURL string
	if buffer {
		ns := testenv.JetStream(t)
		t.Cleanup(ns.Shutdown) // after the bridge stops
		env["CALLBRIDGE_ACK_MODE"] = "buffer"
		env["CALLBRIDGE_NATS_URL"] = ns.ClientURL()
		sinkURL = ns.ClientURL()
	}
	b := startBridge(t, env)
	if !buffer {
		sinkURL = b.natsURL(t)
	}
	checkEntriesAreTheRegistry(t, entries, b.registry)
	r := &propRun{t: t, b: b, rng: rng, client: &http.Client{Timeout: 10 * time.Second},
		found: findings{prefix: fmt.Sprintf("[%s, seed %d] ", name, seed)}}
	g := &ids{rng: rng, seed: seed}
	var cases []*propCase
	for _, e := range entries {
		auth, err := bridge.ProviderAuth(b.cfg, e.p)
		if err != nil {
			t.Fatal(err)
		}
		e.auth, e.enforce = auth, b.cfg.Providers[e.p.ID].Verify != "report"
		e.output = normalize.NewOutput(b.cfg.SchemaBaseURL, b.registry)
		cases = append(cases, e.cases(g, propMaxBody)...)
	}
	rng.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	r.sequence(cases)
	r.afterwards(entries, g)
	acked, _ := ackedEvents(r.sent)
	checkSink(&r.found, r.sent, awaitSink(t, sinkURL, acked, b))
	if _, detail := probe(b, "/readyz"); buffer && strings.Contains(detail, "forwarding stopped") {
		r.found.add("forwarding", "SPEC §7: forwarding stopped, although the sink was up all along: /readyz says "+strconv.Quote(detail), "")
	}
	r.found.report(t)
	t.Logf("%d requests to %d entries in %s", len(r.sent), len(entries), time.Since(start).Round(time.Millisecond))
}

// propertyEnv configures every entry's secret and settings as its policy says, and the
// generic sources; unsigned callbacks are allowed only in a lax run.
func propertyEnv(entries []*propEntry, lax bool) map[string]string {
	env := map[string]string{
		"CALLBRIDGE_ALLOW_UNSIGNED": strconv.FormatBool(lax),
		"CALLBRIDGE_MAX_BODY_BYTES": strconv.Itoa(propMaxBody),
		// A buffer whose forwarding died waits this long for it when the bridge stops.
		"CALLBRIDGE_SHUTDOWN_TIMEOUT": "3s",
	}
	var sources string
	for _, s := range propSources {
		if sources != "" {
			sources += ","
		}
		sources += s.name
	}
	env["CALLBRIDGE_WEBHOOK_SOURCES"] = sources
	for _, e := range entries {
		// A generic source's settings say how it works; a provider's go with its secret.
		if e.vars.Env != "" || e.policy != unsignedOK {
			for k, v := range e.settings {
				env[e.vars.VarName(k)] = v
			}
		}
		if e.policy != unsignedOK {
			env[e.vars.VarName(e.vars.SecretVar)] = e.secret
		}
		if e.policy == reported {
			env[e.vars.VarName("VERIFY")] = "report"
		}
	}
	return env
}

// sequence sends the cases in order. A retry repeats a valid callback answered 200 before it
// (any entry's); one that comes before any waits at the back. After an answer 5xx or none, the
// run goes on only while /readyz says 200, and stops at the fifth.
func (r *propRun) sequence(cases []*propCase) {
	for len(cases) > 0 {
		c := cases[0]
		cases = cases[1:]
		s := &sentCallback{c: c, seq: len(r.sent) + 1}
		if c.body == nil && c.raw == nil {
			if len(r.pool) == 0 {
				if !hasNew(cases) {
					return // nothing valid was acknowledged: reported already
				}
				cases = append(cases, c)
				continue
			}
			r.retry(s)
		} else {
			var err error
			if s.req, s.note, err = c.build(time.Now()); err != nil {
				r.t.Fatalf("%s: Sign: %v", s, err)
			}
		}
		r.send(s)
		if s.status == http.StatusOK && c.class == valid {
			r.pool = append(r.pool, s)
		}
		if s.err != nil && !s.c.mayCut || s.status >= 500 {
			r.failed5++
			if st := waitProbe(r.b, "/readyz", 3*time.Second); st != http.StatusOK || r.failed5 >= 5 {
				r.found.add("stopped", fmt.Sprintf("sequence stopped after %s (/readyz %d, %d answers 5xx or none); %d callbacks not sent", s, st, r.failed5, len(cases)), "")
				return
			}
		}
	}
}

func hasNew(cases []*propCase) bool {
	for _, c := range cases {
		if c.body != nil || c.raw != nil {
			return true
		}
	}
	return false
}

// retry fills s with a repeat of an acknowledged callback: the same request, or signed again a
// second later as a provider's retry is.
func (r *propRun) retry(s *sentCallback) {
	orig := r.pool[r.rng.IntN(len(r.pool))]
	s.note = fmt.Sprintf("of %s", orig)
	s.c = &propCase{e: orig.c.e, name: s.c.name, class: valid, want: s.c.want, body: orig.c.body, resign: s.c.resign}
	s.req = orig.req
	if s.c.resign {
		var err error
		if s.req, _, err = s.c.build(time.Now().Add(time.Second)); err != nil {
			r.t.Fatalf("%s: Sign: %v", s, err)
		}
	}
}

// send posts s.req and records the answer and the provider's verdict on it.
func (r *propRun) send(s *sentCallback) {
	r.sent = append(r.sent, s)
	resp, err := r.client.Do(s.req.httpRequest(r.t, r.b.addr.String()))
	if err != nil {
		s.err = err
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.status, s.reply = resp.StatusCode, string(body)
	}
	if s.c.want == nil || !contains(s.c.want, http.StatusRequestEntityTooLarge) {
		s.v = s.c.e.oracle(s.req)
	}
	if p := s.answerProblem(); p != "" {
		r.found.add(fmt.Sprintf("answer %s %d %v", s.c.name, s.status, s.err != nil), fmt.Sprintf("%s: %s", s, p), fmt.Sprintf("%s #%d", s.c.e.p.ID, s.seq))
	}
}

// afterwards: the bridge is live and ready, and every entry's normal callback is still answered
// 200 (and, with the rest, found in the sink).
func (r *propRun) afterwards(entries []*propEntry, g *ids) {
	if st := probeStatus(r.b, "/healthz"); st != http.StatusOK {
		r.found.add("healthz", fmt.Sprintf("/healthz %d after the sequence, want 200", st), "")
	}
	if st := waitProbe(r.b, "/readyz", 3*time.Second); st != http.StatusOK {
		r.found.add("readyz", fmt.Sprintf("/readyz %d after the sequence, want 200", st), "")
	}
	for _, e := range entries {
		c := &propCase{e: e, name: "normal callback afterwards", class: valid, want: []int{200}, body: e.distinctBody(g, g.next())}
		s := &sentCallback{c: c, seq: len(r.sent) + 1}
		var err error
		if s.req, s.note, err = c.build(time.Now()); err != nil {
			r.t.Fatalf("%s: Sign: %v", s, err)
		}
		r.send(s)
	}
}

// waitProbe polls GET path until it answers 200 or d has passed; it returns the last status.
func waitProbe(b *runningBridge, path string, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		st := probeStatus(b, path)
		if st == http.StatusOK || time.Now().After(deadline) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkEntriesAreTheRegistry: the entries driven are exactly the running bridge's registry, so
// an entry added to it cannot go untested.
func checkEntriesAreTheRegistry(t *testing.T, entries []*propEntry, registry *normalize.Registry) {
	t.Helper()
	var driven, served []string
	for _, e := range entries {
		driven = append(driven, e.p.ID)
	}
	for _, p := range registry.All() {
		served = append(served, p.ID)
	}
	if !slices.Equal(driven, served) {
		t.Fatalf("the property test drives %v, the bridge serves %v", driven, served)
	}
}

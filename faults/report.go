package faults

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of one scenario.
type Report struct {
	Scenario string
	Sink     string

	Sent       int // distinct callbacks tried at least once
	Attempts   int // requests, retries included
	Acked      int // distinct callbacks answered 200 at least once
	GaveUp     int // distinct callbacks never answered 200 after all their tries
	Abandoned  int // tries not made because the run's time bound ended
	Delivered  int // distinct ids of ours in the sink
	Lost       int // acknowledged but not in the sink
	Duplicates int // sink messages beyond the first for an id
	Unacked    int // in the sink but never answered 200 (at least once: allowed)
	Foreign    int // ids in the sink we never sent
	Stored     *Stored
	Statuses   map[int]int // answers by status, over all attempts
	No503RA    int         // 503 answers without Retry-After
	Errors     map[ErrClass]int
	Resets     int           // Errors[reset] + Errors[closed]: a connection dropped under a request
	MaxGap     time.Duration // longest time between two consecutive 200 answers
	Recovery   time.Duration // from the fault's end to the first 200 for a request sent after it; -1: none
	ReadyDown  time.Duration // from the fault's start to the first /readyz that is not 200; -1: none
	ReadyUp    time.Duration // from the fault's end to /readyz 200 for good (0: it already was); -1: not 200 at the end
	// ReadyFaultDown of ReadyFaultSamples /readyz probes between the fault's start and end were
	// not 200.
	ReadyFaultDown, ReadyFaultSamples int
	LostIDs                           []string
	AckedBy, LostBy                   map[string]int // Acked and Lost by provider (or generic source)
	Notes                             []string
	LatencyP99                        time.Duration // of 200 answers, from sending to the answer
	// AckP99 and AckMax: from a callback's scheduled time to its first 200, retries and time
	// queued behind busy connections included: the delay a provider sees.
	AckP99, AckMax time.Duration
	ConnClose      int // answers carrying Connection: close
	// SilentCloses counts the connections of a replaced bridge (first used before
	// Timeline.Replaced) whose last answer did not carry Connection: close: the server closed
	// them without announcing it, which a client can see as a reset when it sends at that moment.
	SilentCloses, OldConns int
	Fault                  string // what was done, for the table
	FaultAt, End           time.Time

	attempts []Attempt // every request, for AnsweredBetween
}

// AnsweredBetween counts the requests sent in [from, to): all of them, and those answered 200.
func (r *Report) AnsweredBetween(from, to time.Time) (ok, all int) {
	for _, a := range r.attempts {
		if !a.Sent.Before(from) && a.Sent.Before(to) {
			all++
			if a.Status == http.StatusOK {
				ok++
			}
		}
	}
	return ok, all
}

// Timeline marks a fault: it started at Start and was cleared (the process was back) at End.
type Timeline struct {
	Start, End time.Time
	// Replaced, when set, is when a new bridge process was started in place of the old one:
	// connections first used before it were the old process's.
	Replaced time.Time
}

// Analyse joins the driver's record with what the sink holds.
func Analyse(name, sink string, d *Driver, st *Stored, tl Timeline, readyz *Prober) *Report {
	cbs, atts, abandoned := d.Results()
	r := &Report{Scenario: name, Sink: sink, Stored: st, Statuses: map[int]int{}, Errors: map[ErrClass]int{},
		AckedBy: map[string]int{}, LostBy: map[string]int{},
		Abandoned: abandoned, Attempts: len(atts), Recovery: -1, ReadyDown: -1, ReadyUp: -1,
		FaultAt: tl.Start, End: tl.End, attempts: atts}
	t := r.countAttempts(len(cbs), atts, tl)
	r.countConns(atts, tl)
	r.setLatencies(t)
	r.countDelivery(cbs, st, t)
	if readyz != nil {
		r.readReadyz(readyz, tl)
	}
	return r
}

// tally is what Analyse learns of each callback from its attempts, by callback index, and the
// times of the 200 answers.
type tally struct {
	acked, tried []bool
	ackAt        []time.Duration // from the callback's scheduled time to its first 200
	oks          []time.Time     // when each 200 came
	lat          []time.Duration // of each 200, from sending to the answer
}

// countAttempts counts the answers by status and error, and the time to recover after the fault.
func (r *Report) countAttempts(n int, atts []Attempt, tl Timeline) *tally {
	t := &tally{acked: make([]bool, n), ackAt: make([]time.Duration, n), tried: make([]bool, n)}
	for _, a := range atts {
		t.tried[a.Callback] = true
		if a.Status != 0 {
			r.Statuses[a.Status]++
		} else {
			r.Errors[a.Err]++
		}
		if a.Status == http.StatusServiceUnavailable && !a.RetryAfter {
			r.No503RA++
		}
		if a.Status == http.StatusOK {
			if !t.acked[a.Callback] || a.Done.Sub(a.Due) < t.ackAt[a.Callback] {
				t.ackAt[a.Callback] = a.Done.Sub(a.Due)
			}
			t.acked[a.Callback] = true
			t.oks = append(t.oks, a.Done)
			t.lat = append(t.lat, a.Done.Sub(a.Sent))
			if !tl.End.IsZero() && !a.Sent.Before(tl.End) {
				if rec := a.Done.Sub(tl.End); r.Recovery < 0 || rec < r.Recovery {
					r.Recovery = rec
				}
			}
		}
	}
	r.Resets = r.Errors[ErrReset] + r.Errors[ErrClosed]
	return t
}

// countConns counts the answers carrying Connection: close and, when the bridge was replaced,
// the old process's connections and those of them it closed without announcing it.
func (r *Report) countConns(atts []Attempt, tl Timeline) {
	type connUse struct {
		first time.Time
		last  Attempt
	}
	conns := map[string]*connUse{}
	for _, a := range atts {
		if a.ConnClose {
			r.ConnClose++
		}
		if a.Conn == "" {
			continue
		}
		c := conns[a.Conn]
		if c == nil {
			c = &connUse{first: a.Sent}
			conns[a.Conn] = c
		}
		if a.Sent.Before(c.first) {
			c.first = a.Sent
		}
		if !a.Sent.Before(c.last.Sent) {
			c.last = a
		}
	}
	if !tl.Replaced.IsZero() {
		for _, c := range conns {
			if c.first.Before(tl.Replaced) {
				r.OldConns++
				if c.last.Status != 0 && !c.last.ConnClose {
					r.SilentCloses++
				}
			}
		}
	}
}

// setLatencies sets the longest gap between 200s and the 99th percentiles of the latency and of
// the delay to a callback's first 200.
func (r *Report) setLatencies(t *tally) {
	oks, lat := t.oks, t.lat
	sort.Slice(oks, func(i, j int) bool { return oks[i].Before(oks[j]) })
	for i := 1; i < len(oks); i++ {
		r.MaxGap = max(r.MaxGap, oks[i].Sub(oks[i-1]))
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.LatencyP99 = lat[len(lat)*99/100]
	}
	var acks []time.Duration
	for i := range t.acked {
		if t.acked[i] {
			acks = append(acks, t.ackAt[i])
		}
	}
	if len(acks) > 0 {
		slices.Sort(acks)
		r.AckP99, r.AckMax = acks[len(acks)*99/100], acks[len(acks)-1]
	}
}

// countDelivery joins the callbacks tried with the sink's keys: sent, acknowledged, delivered,
// duplicated, lost and foreign.
func (r *Report) countDelivery(cbs []Callback, st *Stored, t *tally) {
	acked := t.acked
	ours := map[string]int{}
	for i, c := range cbs {
		if !t.tried[i] {
			continue
		}
		r.Sent++
		if c.CEID != "" {
			for _, key := range c.Keys() {
				ours[key] = i
			}
		}
		if acked[i] {
			r.Acked++
			r.AckedBy[c.Provider]++
		} else {
			r.GaveUp++
		}
	}
	seen := map[string]int{}
	for _, key := range st.Keys {
		seen[key]++
	}
	for id, n := range seen {
		r.Duplicates += n - 1
		i, ok := ours[id]
		if !ok {
			r.Foreign++
			continue
		}
		r.Delivered++
		if !acked[i] {
			r.Unacked++
		}
	}
	for i, c := range cbs {
		if !acked[i] {
			continue
		}
		for _, key := range c.Keys() { // a 200 means the native event and its canonical one
			if seen[key] == 0 {
				r.Lost++
				r.LostBy[c.Provider]++
				if len(r.LostIDs) < 20 {
					r.LostIDs = append(r.LostIDs, key)
				}
			}
		}
	}
}

// readReadyz reads the /readyz probes: when it first failed after the fault's start, how many
// probes during the fault failed, and when it was ready again for good after the fault's end.
func (r *Report) readReadyz(readyz *Prober, tl Timeline) {
	samples := readyz.Samples()
	if !tl.Start.IsZero() {
		r.ReadyDown = readyz.FirstAfter(tl.Start, func(s int) bool { return s != http.StatusOK })
		for _, s := range samples {
			if !s.At.Before(tl.Start) && (tl.End.IsZero() || s.At.Before(tl.End)) {
				r.ReadyFaultSamples++
				if s.Status != http.StatusOK {
					r.ReadyFaultDown++
				}
			}
		}
	}
	// Ready again: the first sample of the final run of 200s, if it began after End.
	if !tl.End.IsZero() && len(samples) > 0 && samples[len(samples)-1].Status == http.StatusOK {
		i := len(samples) - 1
		for i > 0 && samples[i-1].Status == http.StatusOK {
			i--
		}
		r.ReadyUp = max(0, samples[i].At.Sub(tl.End))
	}
}

// byProvider writes counts by provider, in the order of the names: "anyrtc 10, faults-hooks 3".
func byProvider(n map[string]int) string {
	var names []string
	for p := range n {
		names = append(names, p)
	}
	slices.Sort(names)
	var parts []string
	for _, p := range names {
		parts = append(parts, fmt.Sprintf("%s %d", p, n[p]))
	}
	return strings.Join(parts, ", ")
}

func dur(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	switch {
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func (r *Report) statuses() string {
	var keys []int
	for k := range r.Statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", r.Statuses[k], k))
	}
	return strings.Join(parts, " ")
}

// otherErrs are the transport errors that are not a connection dropped under a request (Resets).
var otherErrs = []ErrClass{ErrRefused, ErrUnaccepted, ErrTimeout, ErrOther}

func (r *Report) errors() string {
	var parts []string
	for _, k := range append([]ErrClass{ErrReset, ErrClosed}, otherErrs...) {
		if n := r.Errors[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

// String is a multi-line summary for the test log.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n", r.Scenario, r.Sink, r.Fault)
	fmt.Fprintf(&b, "  sent %d, attempts %d, acknowledged %d (%s), gave up %d, abandoned %d\n", r.Sent, r.Attempts, r.Acked, byProvider(r.AckedBy), r.GaveUp, r.Abandoned)
	fmt.Fprintf(&b, "  sink: %d messages, delivered %d distinct, LOST %d, duplicates %d, unacknowledged but stored %d, foreign %d, dead letters %d, undecodable %d, id/Nats-Msg-Id mismatches %d\n",
		len(r.Stored.Keys), r.Delivered, r.Lost, r.Duplicates, r.Unacked, r.Foreign, r.Stored.DeadLetters, r.Stored.Undecodable, r.Stored.Mismatched)
	fmt.Fprintf(&b, "  answers: %s; 503 without Retry-After %d; transport errors: %s\n", r.statuses(), r.No503RA, r.errors())
	fmt.Fprintf(&b, "  recovery %s, longest gap between 200s %s, /readyz first not-200 %s after the fault began (%d of %d probes during the fault), 200 for good %s after its end\n",
		dur(r.Recovery), dur(r.MaxGap), dur(r.ReadyDown), r.ReadyFaultDown, r.ReadyFaultSamples, dur(r.ReadyUp))
	fmt.Fprintf(&b, "  p99 latency of a 200 answer %s; schedule to acknowledgement (queueing and retries included) p99 %s, max %s\n",
		dur(r.LatencyP99), dur(r.AckP99), dur(r.AckMax))
	if !r.End.IsZero() || r.ConnClose > 0 {
		fmt.Fprintf(&b, "  answers with Connection: close %d", r.ConnClose)
		if r.OldConns > 0 {
			fmt.Fprintf(&b, "; connections of the replaced bridge %d, closed without Connection: close on their last answer %d", r.OldConns, r.SilentCloses)
		}
		b.WriteString("\n")
	}
	if len(r.LostIDs) > 0 {
		fmt.Fprintf(&b, "  lost (%s), first %d: %s\n", byProvider(r.LostBy), len(r.LostIDs), strings.Join(r.LostIDs, " "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

// WriteTable writes reports as a Markdown table.
func WriteTable(w io.Writer, reports []*Report) {
	fmt.Fprintln(w, "| scenario | sink | fault | sent | acked | delivered | lost | dupes | gave up | answers | 503 w/o Retry-After | resets (reset+closed) | other transport errors | recovery | longest 200 gap | /readyz not-200 after (probes not-200 during fault) | /readyz 200 for good after | time to 200 p99 / max |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range reports {
		otherText := "0"
		var parts []string
		for _, k := range otherErrs {
			if n := r.Errors[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k))
			}
		}
		if len(parts) > 0 {
			otherText = strings.Join(parts, ", ")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | **%d** | %d | %d | %s | %d | %d | %s | %s | %s | %s | %s | %s / %s |\n",
			r.Scenario, r.Sink, r.Fault, r.Sent, r.Acked, r.Delivered, r.Lost, r.Duplicates, r.GaveUp, r.statuses(), r.No503RA,
			r.Resets, otherText, dur(r.Recovery), dur(r.MaxGap), fmt.Sprintf("%s (%d/%d)", dur(r.ReadyDown), r.ReadyFaultDown, r.ReadyFaultSamples), dur(r.ReadyUp), dur(r.AckP99), dur(r.AckMax))
	}
}

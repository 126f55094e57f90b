package faults

// One scenario's run (load, fault, the sink read back) and the checks of the SPEC's contract
// that the scenarios share.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"
)

// scenario is one run: load on b, fault injected at p.faultAt into the load (it returns the
// fault's timeline), then the sink read back until every acknowledged event is there or settle
// has passed (buffer mode forwards after the answer; broker mode has nothing to wait for).
type scenario struct {
	name, sink, fault string
	b                 *Bridge
	p                 params
	inject            func() Timeline
	read              func(context.Context) (*Stored, error)
	settle            time.Duration
	// mirrors are more bridges in front of the same broker (DriverConfig.Mirrors); fanout sends
	// every try to b and all of them at once.
	mirrors []*Bridge
	fanout  bool
}

func (s scenario) run(t *testing.T) *Report {
	t.Helper()
	nonce := make([]byte, 4)
	rand.Read(nonce)
	d := NewDriver(DriverConfig{
		BaseURL: s.b.URL(), Senders: loadMix(), Rate: s.p.rate, Duration: s.p.load,
		Conns: s.p.conns, Timeout: 15 * time.Second, Retry: s.p.retry,
		Prefix: s.name + "-" + hex.EncodeToString(nonce), Fanout: s.fanout,
	})
	for _, m := range s.mirrors {
		d.cfg.Mirrors = append(d.cfg.Mirrors, m.URL())
	}
	readyz := StartProber(s.b.URL()+"/readyz", 100*time.Millisecond)
	defer readyz.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-time.After(time.Until(start.Add(s.p.faultAt))):
	case <-done:
	}
	tl := s.inject()
	<-done
	readyz.Stop()

	_, atts, _ := d.Results()
	ackedIDs := map[string]bool{}
	cbs, _, _ := d.Results()
	for _, a := range atts {
		if a.Status == http.StatusOK {
			for _, key := range cbs[a.Callback].Keys() {
				ackedIDs[key] = true
			}
		}
	}
	st := s.await(t, ackedIDs)
	r := Analyse(s.name, s.sink, d, st, tl, readyz)
	r.Fault = s.fault
	t.Log("\n" + r.String())
	reportsMu.Lock()
	reports = append(reports, r)
	reportsMu.Unlock()
	return r
}

// await reads the sink until it holds every acknowledged event or settle has passed. With a
// settle (buffer mode) it also stops once the buffer is empty and the sink has not grown for
// two reads a second apart: nothing is left to forward, so what is missing now stays missing.
func (s scenario) await(t *testing.T, acked map[string]bool) *Stored {
	t.Helper()
	deadline := time.Now().Add(s.settle)
	last, drained := -1, 0
	for {
		rctx, rcancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := s.read(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("reading the sink: %v", err)
		}
		have := map[string]bool{}
		for _, key := range st.Keys {
			have[key] = true
		}
		missing := 0
		for key := range acked {
			if !have[key] {
				missing++
			}
		}
		if n, err := s.b.Metric("callbridge_buffer_messages", ""); s.settle > 0 && err == nil && n == 0 && len(st.Keys) == last {
			drained++
		} else {
			drained = 0
		}
		if missing == 0 || drained >= 2 || time.Now().After(deadline) {
			return st
		}
		last = len(st.Keys)
		time.Sleep(time.Second)
	}
}

// check* are the SPEC's contract; each failure names the clause.

func checkNoLoss(t *testing.T, r *Report) {
	t.Helper()
	for _, s := range loadMix() {
		if r.AckedBy[s.Provider.ID] == 0 {
			t.Errorf("no callback of %s was acknowledged: the scenario tested nothing of it", s.Provider.ID)
		}
	}
	if r.Lost != 0 {
		t.Errorf("SPEC §2/§7: %d acknowledged callbacks are not in the sink (%s; first: %v)", r.Lost, byProvider(r.LostBy), r.LostIDs)
	}
	if r.Stored.Undecodable != 0 || r.Foreign != 0 {
		t.Errorf("the sink holds %d undecodable and %d foreign events", r.Stored.Undecodable, r.Foreign)
	}
}

func checkNoJetStreamDuplicates(t *testing.T, r *Report) {
	t.Helper()
	if r.Duplicates != 0 {
		t.Errorf("SPEC §2: a retry of an acknowledged event is not stored twice on JetStream; %d duplicates", r.Duplicates)
	}
	if r.Stored.Mismatched != 0 {
		t.Errorf("SPEC §4: %d of %d messages have a Nats-Msg-Id that is not <provider>/<id>", r.Stored.Mismatched, len(r.Stored.Keys))
	}
}

func checkRetryAfter(t *testing.T, r *Report) {
	t.Helper()
	if r.No503RA != 0 {
		t.Errorf("SPEC §2: %d of %d 503 answers lack Retry-After", r.No503RA, r.Statuses[503])
	}
	for s, n := range r.Statuses {
		if s != http.StatusOK && s != http.StatusServiceUnavailable {
			t.Errorf("SPEC §2: %d answers %d; a broker or bridge fault is answered 503 + Retry-After", n, s)
		}
	}
}

func checkNoTransportErrors(t *testing.T, r *Report) {
	t.Helper()
	if n := r.Attempts - sum(r.Statuses); n != 0 {
		t.Errorf("%d requests got no HTTP answer (%s) although the bridge process stayed up", n, r.errors())
	}
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

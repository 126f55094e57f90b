package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

// verdict is what the provider's own code (IsProbe, Verify, Normalize, under the bridge's
// settings) decides for a request: the oracle the bridge's answer and the sink are held to.
type verdict struct {
	status   int // 0: no verdict (refused before the provider sees it)
	probe    bool
	keys     []string // provider/id of the events (the native one, its canonical counterpart), when status is 200 and it is not a probe
	verified bool     // authenticated: a 400 dead-letters the body
	reason   string
	reply    string // the body of a 200: the provider's answer to this callback
}

// callbackBody is what the bridge hands the provider: the body, or a GET's query string.
func (r request) callbackBody() []byte {
	if r.method == http.MethodGet {
		_, q, _ := strings.Cut(r.path, "?")
		return []byte(q)
	}
	return r.body
}

func (e *propEntry) oracle(r request) verdict {
	if path, _, _ := strings.Cut(r.path, "?"); e.tokenRoute() && path != "/v1/callbacks/"+e.p.ID+"/"+e.secret {
		return verdict{status: http.StatusNotFound, reason: "not the URL token"}
	}
	c := normalize.Callback{Body: r.callbackBody(), Header: peekHeader(r.header), Received: time.Now(),
		Method: []byte(r.method), URI: []byte(r.path)}
	if reply, probe, err := e.p.Probe(&c, &e.auth, nil); probe {
		switch err := err.(type) {
		case nil:
			return verdict{status: http.StatusOK, probe: true, reply: string(reply)}
		case *normalize.AuthError:
			return verdict{status: http.StatusUnauthorized, probe: true, reason: err.Reason}
		case *normalize.PayloadError:
			return verdict{status: http.StatusBadRequest, probe: true, reason: err.Error()}
		}
		panic(err)
	}
	var ev, canon normalize.Event
	_, err := e.p.Run(&c, &e.auth, e.enforce, &ev)
	switch err := err.(type) {
	case nil:
		var keys []string
		for _, ev := range e.output.Events(e.p, &ev, &canon, nil) {
			keys = append(keys, ev.Provider+"/"+string(ev.ID))
		}
		return verdict{status: http.StatusOK, keys: keys, verified: !ev.Unverified, reply: string(e.p.ReplyFor(&c))}
	case *normalize.AuthError:
		return verdict{status: http.StatusUnauthorized, reason: err.Reason}
	case *normalize.PayloadError:
		return verdict{status: http.StatusBadRequest, verified: !ev.Unverified, reason: err.Error()}
	}
	panic(err)
}

// sentCallback is one request of a run and its answer.
type sentCallback struct {
	c      *propCase
	seq    int
	req    request
	note   string // how it was built, when not as the case says
	status int    // 0: no answer
	err    error
	reply  string
	v      verdict
}

func (s *sentCallback) String() string {
	name := s.c.name
	if s.note != "" {
		name += " (" + s.note + ")"
	}
	return fmt.Sprintf("%s [%s] %q #%d", s.c.e.p.ID, s.c.e.policy, name, s.seq)
}

// answerProblem checks one answer: never 5xx or none (the broker is up: a permanent failure must
// not be 503, and nothing transient happens); a status the case allows; the provider's own
// verdict.
func (s *sentCallback) answerProblem() string {
	switch {
	case s.err != nil && s.c.mayCut:
		return ""
	case s.err != nil:
		return fmt.Sprintf("no answer: %v", s.err)
	case s.status >= 500:
		return fmt.Sprintf("answered %d %s: never 5xx here (the broker is up; a permanent failure must not be 503)", s.status, excerptOf(s.reply))
	case s.c.want != nil && !contains(s.c.want, s.status):
		return fmt.Sprintf("answered %d %s, want %v (the provider's own code says %d %s)", s.status, excerptOf(s.reply), s.c.want, s.v.status, s.v.reason)
	case s.status == http.StatusOK && s.v.status == http.StatusOK && s.reply != s.v.reply:
		return fmt.Sprintf("answered 200 %s, but the provider answers %s", excerptOf(s.reply), excerptOf(s.v.reply))
	case s.v.status == 0 || s.status == s.v.status:
		return ""
	case s.c.class == hostile && s.v.status == http.StatusOK && (s.status == http.StatusBadRequest || s.status == http.StatusRequestEntityTooLarge):
		return "" // SPEC §4: an event the broker can never take is refused for good
	}
	return fmt.Sprintf("answered %d %s, but the provider's own code says %d %s", s.status, excerptOf(s.reply), s.v.status, s.v.reason)
}

func contains(set []int, v int) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

func excerptOf(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// sinkContent is what the stream holds: events by provider/id, the dead letters' bodies by
// provider, and messages whose Nats-Msg-Id is not provider/id.
type sinkContent struct {
	events    map[string]int
	letters   map[string]map[string]bool
	badMsgIDs []string
	total     int
}

func readSink(t *testing.T, url string) sinkContent {
	t.Helper()
	s := sinkContent{events: map[string]int{}, letters: map[string]map[string]bool{}}
	for _, m := range streamMessages(t, url, "CALLBACKS") {
		s.total++
		if p, ok := strings.CutPrefix(m.Subject(), "callbacks.deadletter."); ok {
			if s.letters[p] == nil {
				s.letters[p] = map[string]bool{}
			}
			s.letters[p][string(m.Data())] = true
			continue
		}
		var ce struct{ ID, Provider string }
		if err := json.Unmarshal(m.Data(), &ce); err != nil || ce.ID == "" {
			s.badMsgIDs = append(s.badMsgIDs, fmt.Sprintf("%s: not a structured CloudEvent (%v)", m.Subject(), err))
			continue
		}
		key := ce.Provider + "/" + ce.ID
		s.events[key]++
		if got := m.Headers().Get(jetstream.MsgIDHeader); got != key {
			s.badMsgIDs = append(s.badMsgIDs, fmt.Sprintf("%s: Nats-Msg-Id %q, want %q", m.Subject(), got, key))
		}
	}
	return s
}

// awaitSink reads the sink once every event acknowledged is there. In buffer mode it waits for
// the forwarder while it makes progress: until the buffer is empty and the stream stopped
// growing for a second, or the stream stopped growing for 3 s (the sink is up all along: a
// forwarder that stalls that long is stuck), or 10 s.
func awaitSink(t *testing.T, url string, acked map[string][]*sentCallback, b *runningBridge) sinkContent {
	t.Helper()
	const poll = 250 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	last := -1
	var still time.Duration
	for {
		s := readSink(t, url)
		missing := 0
		for key := range acked {
			if s.events[key] == 0 {
				missing++
			}
		}
		if s.total == last {
			still += poll
		} else {
			still = 0
		}
		drained := still >= time.Second && bufferedMessages(b) == 0
		if missing == 0 || drained || still >= 3*time.Second || time.Now().After(deadline) {
			return s
		}
		last = s.total
		time.Sleep(poll)
	}
}

// bufferedMessages is the bridge's callbridge_buffer_messages, 0 when it has none (broker mode).
func bufferedMessages(b *runningBridge) float64 {
	resp, err := http.Get("http://" + b.addr.String() + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, "callbridge_buffer_messages "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// checkSink holds the sink to the answers: every event answered 200 is there exactly once by
// provider and id, with Nats-Msg-Id provider/id (SPEC §4); nothing else is there as an event;
// every authenticated body answered 400 is dead-lettered, and nothing else is. Each kind of
// failure is one line per entry, naming the first request (in sending order) it happened to.
func checkSink(f *findings, sent []*sentCallback, s sinkContent) {
	acked, predicted := ackedEvents(sent)
	perEntry := map[string]int{}
	for _, ss := range acked {
		perEntry[ss[0].c.e.p.ID]++
	}
	for _, key := range bySeq(acked) {
		ss := acked[key]
		id := ss[0].c.e.p.ID
		switch n := s.events[key]; {
		case n == 0:
			f.add("lost "+id, fmt.Sprintf("%s: answered 200, but %s is not in the sink (%d events of %s acknowledged in all)", ss[0], key, perEntry[id], id), "")
		case n > 1:
			f.add("twice "+id, fmt.Sprintf("%s: answered 200, and %s is in the sink %d times", ss[0], key, n), "")
		}
	}
	var foreign []string
	for key := range s.events {
		if acked[key] == nil && predicted[key] == nil {
			foreign = append(foreign, key)
		}
	}
	sort.Strings(foreign)
	for _, key := range foreign {
		f.add("foreign", fmt.Sprintf("event %s is in the sink, but no request of this run makes it", key), "")
	}
	for _, key := range bySeq(predicted) {
		if ss := predicted[key]; acked[key] == nil && s.events[key] > 0 {
			f.add("unacked "+ss[0].c.e.p.ID, fmt.Sprintf("%s: answered %d, but its event %s is in the sink", ss[0], ss[0].status, key), "")
		}
	}
	for i, line := range s.badMsgIDs {
		if i < 3 {
			f.add("msgid", "SPEC §4: "+line, "")
		} else {
			f.add("msgid", "", "")
		}
	}
	checkLetters(f, sent, s.letters)
}

// bySeq returns m's keys in the order their first request was sent.
func bySeq(m map[string][]*sentCallback) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]][0].seq < m[keys[j]][0].seq })
	return keys
}

// ackedEvents returns the requests answered 200 whose event the provider's code names, by
// provider/id, and every request whose event it names, whatever the answer.
func ackedEvents(sent []*sentCallback) (acked, predicted map[string][]*sentCallback) {
	acked, predicted = map[string][]*sentCallback{}, map[string][]*sentCallback{}
	for _, s := range sent {
		if s.v.status != http.StatusOK || s.v.probe {
			continue
		}
		for _, key := range s.v.keys {
			predicted[key] = append(predicted[key], s)
			if s.status == http.StatusOK {
				acked[key] = append(acked[key], s)
			}
		}
	}
	return acked, predicted
}

// checkLetters: SPEC §2 dead-letters an authenticated body answered 400, raw but for its
// credentials (Provider.Redact); §6 only those.
func checkLetters(f *findings, sent []*sentCallback, letters map[string]map[string]bool) {
	want := map[string]map[string]*sentCallback{}
	for _, s := range sent {
		if s.status == http.StatusBadRequest && s.v.verified {
			id := s.c.e.p.ID
			if want[id] == nil {
				want[id] = map[string]*sentCallback{}
			}
			body := string(s.c.e.p.Redact(s.req.callbackBody()))
			want[id][body] = s
			if !letters[id][body] {
				f.add("noletter", fmt.Sprintf("%s: authenticated and answered 400, but its body is not dead-lettered", s), fmt.Sprintf("%s %q #%d", id, s.c.name, s.seq))
			}
		}
	}
	var stray []string
	for id, bodies := range letters {
		for body := range bodies {
			if want[id][body] == nil {
				stray = append(stray, fmt.Sprintf("a dead letter of %s that no authenticated request answered 400 sent: %s", id, excerptOf(body)))
			}
		}
	}
	sort.Strings(stray)
	for _, line := range stray {
		f.add("letter", line, "")
	}
}

// findings collects a run's failures: one line per kind, naming the others like it.
type findings struct {
	prefix string
	order  []string
	first  map[string]string
	others map[string][]string // who else, when named
	count  map[string]int
}

// add records a failure of kind; who names it among others of its kind ("" to count it only).
func (f *findings) add(kind, line, who string) {
	if f.first == nil {
		f.first, f.others, f.count = map[string]string{}, map[string][]string{}, map[string]int{}
	}
	if _, ok := f.first[kind]; !ok {
		f.order = append(f.order, kind)
		f.first[kind] = line
	} else if who != "" {
		f.others[kind] = append(f.others[kind], who)
	}
	f.count[kind]++
}

func (f *findings) report(t *testing.T) {
	t.Helper()
	for _, kind := range f.order {
		line := f.prefix + f.first[kind]
		if o := f.others[kind]; len(o) > 8 {
			line += fmt.Sprintf(" (the same for %s and %d more)", strings.Join(o[:8], ", "), len(o)-8)
		} else if len(o) > 0 {
			line += " (the same for " + strings.Join(o, ", ") + ")"
		} else if n := f.count[kind]; n > 1 {
			line += fmt.Sprintf(" (and %d more like it)", n-1)
		}
		t.Error(line)
	}
}

// probeStatus is the status of GET path, 0 when there is no answer.
func probeStatus(b *runningBridge, path string) int {
	st, _ := probe(b, path)
	return st
}

// probe returns the status and the body of GET path; status 0 when there is no answer.
func probe(b *runningBridge, path string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.addr.String()+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

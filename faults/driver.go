package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	neturl "net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

// DriverConfig is an open-loop load: callbacks scheduled at a fixed rate, whatever the answers.
type DriverConfig struct {
	BaseURL string // the bridge, http://127.0.0.1:port
	// Senders make the callbacks: the n-th is Senders[n % len(Senders)]'s (list one several
	// times to weigh it).
	Senders  []Sender
	Rate     float64       // new callbacks per second
	Duration time.Duration // how long new callbacks are scheduled
	Conns    int           // keep-alive connections (requests in flight at most)
	Timeout  time.Duration // per request
	// Retry is the provider's schedule: after a failed try (not 200, or no answer) the callback
	// is sent again after Retry[0], then Retry[1]... with a fresh notifyMs and signature, as
	// anyRTC and Agora do (three more tries within about 30 s). Nil: no retries.
	Retry []time.Duration
	// Prefix makes the callbacks' distinct values (anyRTC's noticeId) unique to a run.
	Prefix string
	// Mirrors are more bridges (http://127.0.0.1:port) behind the same broker. Without Fanout
	// the callbacks are spread over BaseURL and the mirrors, one each in turn, as a Service
	// spreads them over pods; with Fanout every try goes to all of them at the same moment, as
	// one provider retry reaching two pods at once, and counts as answered 200 when one did.
	Mirrors []string
	Fanout  bool
	// NoCanonical: the bridges run with CALLBRIDGE_CANONICAL=off. By default (on, as the bridge
	// defaults) a callback whose event has a canonical counterpart must find both in the sink.
	NoCanonical bool
}

// Sender is one provider of the load: its n-th distinct callback, signed by the provider's own
// Sign as the provider would sign it.
type Sender struct {
	Provider *normalize.Provider
	Auth     normalize.Auth
	Body     func(n int, distinct string) []byte // the same for every try of a callback
}

// AnyRTCSender sends anyRTC "broadcaster joined" callbacks signed with the bridge's
// CALLBRIDGE_ANYRTC_SECRET; the noticeId is the distinct value.
func AnyRTCSender(secret []byte) Sender {
	return Sender{Provider: &normalize.AnyRTC, Auth: normalize.Auth{Secret: secret, MaxSkew: 5 * time.Minute}, Body: anyRTCBody}
}

func anyRTCBody(n int, notice string) []byte {
	now := time.Now()
	return fmt.Appendf(nil, `{"noticeId":%q,"productId":1,"eventType":103,"notifyMs":0,"payload":{"channelName":"room%d","uid":%d,"platform":7,"ts":%d,"channelSId":"c%08d","uSId":"u%08d"}}`,
		notice, n%64, 100000+n, now.Unix(), n%64, n)
}

// WebhookSource is the generic source (SPEC §6a) the load includes: a Standard Webhooks
// sender, its events' subject the room. WebhookEnv configures it on the bridge.
const WebhookSource = "faults-hooks"

var webhookSettings = map[string]string{"SUBJECT": "json:data.room"}

// WebhookEnv is the bridge's configuration of WebhookSource with secret (whsec_<base64>).
func WebhookEnv(secret string) map[string]string {
	spec := config.ProviderSpec{ID: WebhookSource, Env: config.SourceEnv(WebhookSource)}
	env := map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": WebhookSource, spec.VarName("SECRET"): secret}
	for k, v := range webhookSettings {
		env[spec.VarName(k)] = v
	}
	return env
}

// WebhookSender sends WebhookSource's callbacks, as configured by WebhookEnv with secret: every
// try of one callback has the same body, hence the same webhook-id (Sign derives it from the
// body), with a fresh timestamp and signature.
func WebhookSender(secret string) Sender {
	p, err := normalize.NewWebhook(WebhookSource, webhookSettings, []byte(secret))
	if err != nil {
		panic(err) // our own settings
	}
	body := func(n int, distinct string) []byte {
		return fmt.Appendf(nil, `{"type":"room.participant.joined","timestamp":%q,"data":{"id":%q,"room":"room%d","seq":%d}}`,
			time.Now().UTC().Format(time.RFC3339Nano), distinct, n%64, n)
	}
	return Sender{Provider: p, Auth: normalize.Auth{Secret: []byte(secret), MaxSkew: 5 * time.Minute}, Body: body}
}

// Attempt is one request: one try of one callback.
type Attempt struct {
	Callback   int
	Try        int       // 0 first, 1.. retries
	Due        time.Time // when the callback's first try was scheduled
	Sent, Done time.Time // Done: answer read or error
	Status     int       // 0: no answer
	RetryAfter bool      // a Retry-After header was present
	Err        ErrClass  // when Status is 0
	ErrText    string
	ConnClose  bool   // the answer carried Connection: close
	Conn       string // the connection's local address, when one was obtained
	NewConn    bool   // the connection was dialled for this request, not kept alive from another
}

// ErrClass sorts transport errors. A reset or a connection closed before the answer on a
// kept-alive connection is what SPEC §7 forbids during a drain; a refused connection is what a
// client sees while no process listens, and an unaccepted one what it sees when it dialled as a
// listener closed: the kernel resets the connections still in the closed socket's backlog,
// which no process ever accepted.
type ErrClass string

const (
	ErrNone    ErrClass = ""
	ErrReset   ErrClass = "reset"   // ECONNRESET
	ErrClosed  ErrClass = "closed"  // EOF before the answer: closed without Connection: close
	ErrRefused ErrClass = "refused" // ECONNREFUSED
	// ErrUnaccepted: reset or closed before any answer on a connection dialled for this request.
	ErrUnaccepted ErrClass = "unaccepted"
	ErrTimeout    ErrClass = "timeout"
	ErrOther      ErrClass = "other"
)

// classifyTry is classify for a try whose connection was dialled for it (newConn) or kept
// alive from an earlier one.
func classifyTry(err error, newConn bool) ErrClass {
	c := classify(err)
	if newConn && (c == ErrReset || c == ErrClosed) {
		return ErrUnaccepted
	}
	return c
}

func classify(err error) ErrClass {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return ErrReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "server closed idle connection"):
		return ErrClosed
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout
	}
	return ErrOther
}

// Callback is one distinct callback the driver sends: its provider (or generic source), the
// distinct value written into it (anyRTC's noticeId) and the CloudEvent id the bridge gives it
// (computed with normalize, the bridge's own code).
type Callback struct {
	Provider string
	NoticeID string
	CEID     string
	// CanonicalID is the id of the event's canonical counterpart (provider rtc), "" for none.
	CanonicalID string
	sender      *Sender
	body        []byte
}

// Key is the event's identity in the sink, provider/id: SPEC §4's Nats-Msg-Id. A CloudEvent id
// is unique only within its source.
func (c Callback) Key() string { return c.Provider + "/" + c.CEID }

// Keys are the keys of every event the callback makes: Key, and its canonical counterpart's.
func (c Callback) Keys() []string {
	if c.CanonicalID == "" {
		return []string{c.Key()}
	}
	return []string{c.Key(), normalize.CanonicalID + "/" + c.CanonicalID}
}

// Driver sends the load and records every attempt.
type Driver struct {
	cfg       DriverConfig
	clients   []*http.Client
	mu        sync.Mutex
	callbacks []Callback
	attempts  []Attempt
	abandoned int // tries not made because the run's time bound ended
	start     time.Time
	pending   sync.WaitGroup
	queue     chan job
	stopped   atomic.Bool
}

type job struct {
	cb, try int
	due     time.Time // of the first try
}

// NewDriver prepares a driver; Run sends.
func NewDriver(cfg DriverConfig) *Driver {
	if cfg.Conns <= 0 {
		cfg.Conns = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	// One client, hence one keep-alive connection, per sender: like a provider's pool of
	// workers, every connection is in use all the time (one shared pool would hand out its most
	// recently used connection and leave the others idle).
	d := &Driver{cfg: cfg}
	for range cfg.Conns {
		tr := &http.Transport{
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			DialContext:         (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		}
		d.clients = append(d.clients, &http.Client{Transport: tr, Timeout: cfg.Timeout})
	}
	return d
}

// Bound is the longest Run can take: the schedule, the retries and the request timeouts, plus
// slack for a queue that built up during an outage.
func (d *Driver) Bound() time.Duration {
	var r time.Duration
	for _, x := range d.cfg.Retry {
		r += x + d.cfg.Timeout
	}
	return d.cfg.Duration + d.cfg.Timeout + r + 60*time.Second
}

// Start is when Run began scheduling.
func (d *Driver) Start() time.Time { return d.start }

// Run schedules Rate*Duration callbacks, each at its time, and returns when every one has been
// answered 200 or has used its tries, or when Bound has passed.
func (d *Driver) Run(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.Bound())
	defer cancel()
	n := int(d.cfg.Rate * d.cfg.Duration.Seconds())
	d.queue = make(chan job, n*(1+len(d.cfg.Retry))+d.cfg.Conns)
	d.callbacks = make([]Callback, 0, n)
	d.start = time.Now()
	var workers sync.WaitGroup
	for _, client := range d.clients {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range d.queue {
				d.do(ctx, client, j)
				d.pending.Done()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / d.cfg.Rate)
	for i := 0; i < n; i++ {
		due := d.start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			select {
			case <-time.After(w):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		d.mu.Lock()
		s := &d.cfg.Senders[i%len(d.cfg.Senders)]
		d.callbacks = append(d.callbacks, Callback{Provider: s.Provider.ID, NoticeID: fmt.Sprintf("%s:%d", d.cfg.Prefix, i), sender: s})
		d.mu.Unlock()
		d.pending.Add(1)
		d.queue <- job{cb: i, due: due}
	}
	done := make(chan struct{})
	go func() { d.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.stopped.Store(true) // retries still sleeping count as abandoned
		<-done
	}
	close(d.queue)
	workers.Wait()
}

// headers adapts a []normalize.Header to normalize.Headers.
type headers []normalize.Header

func (h headers) Peek(k string) []byte {
	for _, x := range h {
		if strings.EqualFold(x.Key, k) {
			return []byte(x.Value)
		}
	}
	return nil
}

// posted is the callback the bridge reads when method url (a POST's) carries body and hdrs.
func posted(url, method string, body []byte, hdrs []normalize.Header, now time.Time) normalize.Callback {
	c := normalize.Callback{Body: body, Header: headers(hdrs), Received: now, Method: []byte(method)}
	if u, err := neturl.Parse(url); err == nil {
		c.URI = []byte(u.EscapedPath())
		c.Header = append(headers{{Key: "Host", Value: u.Host}}, hdrs...)
	}
	return c
}

func (d *Driver) do(ctx context.Context, client *http.Client, j job) {
	if ctx.Err() != nil || d.stopped.Load() {
		d.mu.Lock()
		d.abandoned++
		d.mu.Unlock()
		return
	}
	d.mu.Lock()
	cb := &d.callbacks[j.cb]
	s := cb.sender
	if cb.body == nil {
		cb.body = s.Body(j.cb, cb.NoticeID)
	}
	raw := cb.body
	d.mu.Unlock()
	// Every try is signed afresh: anyRTC's notifyMs is the send time, so a retry differs in
	// notifyMs and signature but keeps noticeId.
	now := time.Now()
	url := d.cfg.BaseURL + "/v1/callbacks/" + s.Provider.ID
	method, body, hdrs, err := s.Provider.SignFor(url, raw, &s.Auth, now)
	if err != nil {
		panic(err) // our own body
	}
	if j.try == 0 {
		var ev normalize.Event
		c := posted(url, method, body, hdrs, now)
		if _, err := s.Provider.Run(&c, &s.Auth, true, &ev); err != nil {
			panic(fmt.Sprintf("%s: our callback does not verify: %v", s.Provider.ID, err))
		}
		var canon normalize.Event
		hasCanon := !d.cfg.NoCanonical && s.Provider.Canonical.Derive(&ev, &canon)
		d.mu.Lock()
		d.callbacks[j.cb].CEID = string(ev.ID)
		if hasCanon {
			d.callbacks[j.cb].CanonicalID = string(canon.ID)
		}
		d.mu.Unlock()
	}
	urls := append([]string{d.cfg.BaseURL}, d.cfg.Mirrors...)
	if !d.cfg.Fanout {
		urls = urls[j.cb%len(urls) : j.cb%len(urls)+1]
	}
	results := make(chan Attempt, len(urls))
	for _, url := range urls {
		go func() { results <- d.try(ctx, client, url, j, s.Provider.ID, method, body, hdrs, now) }()
	}
	ok := false
	for range urls {
		a := <-results
		ok = ok || a.Status == http.StatusOK
		d.mu.Lock()
		d.attempts = append(d.attempts, a)
		d.mu.Unlock()
	}
	if ok || j.try >= len(d.cfg.Retry) {
		return
	}
	delay := d.cfg.Retry[j.try]
	d.pending.Add(1)
	next := job{cb: j.cb, try: j.try + 1, due: j.due}
	time.AfterFunc(delay, func() { d.queue <- next })
}

// try sends one request of try j to the bridge at url (its base), as SignFor made it. A mirror
// gets the request signed for the first bridge: a provider signing the request line (Qiniu)
// would refuse it there, and the suite's senders sign the body only.
func (d *Driver) try(ctx context.Context, client *http.Client, url string, j job, provider, method string, body []byte, hdrs []normalize.Header, now time.Time) Attempt {
	a := Attempt{Callback: j.cb, Try: j.try, Due: j.due, Sent: now}
	url += "/v1/callbacks/" + provider
	var reqBody io.Reader = bytes.NewReader(body)
	if method == http.MethodGet { // the callback is its query string
		url, reqBody = url+"?"+string(body), nil
	}
	req, err := http.NewRequestWithContext(ctx, method, url, reqBody)
	if err != nil {
		panic(err)
	}
	for _, h := range hdrs {
		req.Header.Set(h.Key, h.Value)
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		a.Conn, a.NewConn = info.Conn.LocalAddr().String(), !info.Reused
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		a.Status = resp.StatusCode
		a.RetryAfter = resp.Header.Get("Retry-After") != ""
		a.ConnClose = resp.Close
	} else {
		a.Err, a.ErrText = classifyTry(err, a.NewConn), err.Error()
	}
	a.Done = time.Now()
	return a
}

// Results returns the callbacks and every attempt, in the order they finished.
func (d *Driver) Results() ([]Callback, []Attempt, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Callback(nil), d.callbacks...), append([]Attempt(nil), d.attempts...), d.abandoned
}

// Prober polls a path (normally /readyz) and records each answer's status (0: no answer).
type Prober struct {
	mu      sync.Mutex
	samples []Sample
	cancel  context.CancelFunc
	done    chan struct{}
}

// Sample is one probe.
type Sample struct {
	At     time.Time
	Status int
}

// StartProber polls url every interval until Stop.
func StartProber(url string, interval time.Duration) *Prober {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Prober{cancel: cancel, done: make(chan struct{})}
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			at := time.Now()
			status := 0
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
				status = resp.StatusCode
			} else if ctx.Err() != nil {
				return // cut short by Stop: not an answer of the bridge's
			}
			p.mu.Lock()
			p.samples = append(p.samples, Sample{at, status})
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// Stop ends the polling.
func (p *Prober) Stop() {
	p.cancel()
	<-p.done
}

// Samples returns what was recorded.
func (p *Prober) Samples() []Sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sample(nil), p.samples...)
}

// FirstAfter returns how long after from the first sample matching ok came, or -1.
func (p *Prober) FirstAfter(from time.Time, ok func(status int) bool) time.Duration {
	for _, s := range p.Samples() {
		if !s.At.Before(from) && ok(s.Status) {
			return s.At.Sub(from)
		}
	}
	return -1
}

package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsPublisher publishes to JetStream and matches every acknowledgement to its publish. It takes
// the place of the client's jetstream.PublishMsgAsync on the hot path, which under 64
// concurrent callbacks cost a third of the bridge's CPU (BENCHMARKS.md, "profile"): a future
// with two channels and a timer per message, a random reply token, a PubAck decoded with
// encoding/json, and a goroutine hop to hand the future back. Here:
//
//   - a caller registers its publish under a sequence number, queues the message and waits on
//     one channel for the outcome: acknowledged, refused, timed out or failed to send;
//   - one goroutine publishes whatever has queued since it last ran, back to back, so that the
//     client's flusher finds many messages buffered: one write system call per six or so
//     callbacks instead of one per two when each callback publishes from its own goroutine;
//   - a message travels as a pooled Message, its bytes in buffers of its own: no string, header
//     map or nats.Msg is made per message;
//   - acknowledgements arrive on one subscription, to a reply subject whose last token is the
//     sequence number; a PubAck that names a stream and has no error is a success without
//     decoding it (a duplicate is a success too: the event is stored), anything else is decoded;
//   - a sweeper fails what is still unacknowledged at its deadline.
//
// The order of publishes is the order in which callers queued them.
type jsPublisher struct {
	nc      *nats.Conn
	sub     *nats.Subscription
	prefix  string // reply subjects are prefix + decimal sequence number
	timeout time.Duration
	max     int // publishes awaiting their outcome at most; more wait for room until their deadline

	seq atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]*pubWait
	queued  []*Message
	spare   []*Message // the publishing goroutine's previous batch, reused
	closing bool
	idle    chan struct{} // closed when closing and nothing is pending
	space   chan struct{} // closed when a publish finishes while callers wait for room; nil: none wait

	wake chan struct{}
	stop chan struct{}
	done sync.WaitGroup

	// The publishing goroutine's own: what it hands the client for one message at a time.
	msg    nats.Msg
	header nats.Header
	values [][1]string
	reply  []byte
}

// pubWait is one caller waiting for its outcome. It is pooled: the caller returns it once it
// has the outcome, and only the one who deletes it from pending sends on result.
type pubWait struct {
	result   chan error // capacity 1
	deadline int64      // unix ns
}

var pubWaits = sync.Pool{New: func() any { return &pubWait{result: make(chan error, 1)} }}

// errAckTimeout is an acknowledgement that did not come within the publish timeout.
var errAckTimeout = errors.New("no acknowledgement within the publish timeout")

// errTooManyPending refuses a publish that found max publishes awaiting their outcome until its
// deadline: the broker is slower than the callbacks arrive.
var errTooManyPending = errors.New("too many publishes awaiting acknowledgement")

func newJSPublisher(nc *nats.Conn, timeout time.Duration, max int) (*jsPublisher, error) {
	p := &jsPublisher{
		nc:      nc,
		prefix:  nc.NewInbox() + ".",
		timeout: timeout,
		max:     max,
		pending: make(map[uint64]*pubWait, max),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		header:  make(nats.Header, 16),
	}
	sub, err := nc.Subscribe(p.prefix+"*", p.onAck)
	if err != nil {
		return nil, fmt.Errorf("subscribe to acknowledgements: %w", err)
	}
	// Acknowledgements are never dropped for being slow to handle: a dropped one would time out
	// a publish that the stream holds.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	p.sub = sub
	p.done.Add(2)
	go p.run()
	go p.sweep(p.sweepInterval())
	return p, nil
}

// publish sends msg and waits for JetStream's acknowledgement; msg belongs to the publisher
// from the call on (it is recycled once sent). A nil error means the stream holds the message.
func (p *jsPublisher) publish(msg *Message) error {
	return p.publishUntil(msg, time.Now().Add(p.timeout).UnixNano())
}

// publishUntil is publish with the acknowledgement awaited until deadline (unix ns) rather than
// for the publisher's timeout: one attempt of several within the publish timeout.
func (p *jsPublisher) publishUntil(msg *Message, deadline int64) error {
	id := p.seq.Add(1)
	msg.seq = id
	w := pubWaits.Get().(*pubWait)
	w.deadline = deadline

	p.mu.Lock()
	if err := p.room(w.deadline); err != nil {
		p.mu.Unlock()
		pubWaits.Put(w)
		msg.recycle()
		return err
	}
	p.pending[id] = w
	p.queued = append(p.queued, msg)
	first := len(p.queued) == 1
	p.mu.Unlock()
	if first {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	err := <-w.result
	pubWaits.Put(w)
	return err
}

// room returns nil once fewer than max publishes are pending, waiting for that until deadline.
// p.mu is held, and held again when it returns.
func (p *jsPublisher) room(deadline int64) error {
	var t *time.Timer
	for {
		switch {
		case p.closing:
			return ErrClosed
		case len(p.pending) < p.max:
			return nil
		}
		if p.space == nil {
			p.space = make(chan struct{})
		}
		space := p.space
		p.mu.Unlock()
		if t == nil {
			t = time.NewTimer(time.Until(time.Unix(0, deadline)))
			defer t.Stop()
		}
		select {
		case <-space:
			p.mu.Lock()
		case <-t.C:
			p.mu.Lock()
			return errTooManyPending
		}
	}
}

// run publishes what has queued, until stop.
func (p *jsPublisher) run() {
	defer p.done.Done()
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			return
		}
		runtime.Gosched()
		p.mu.Lock()
		batch := p.queued
		p.queued, p.spare = p.spare[:0], nil
		p.mu.Unlock()
		for i, msg := range batch {
			if err := p.send(msg); err != nil {
				p.finish(msg.seq, err)
			}
			msg.recycle()
			batch[i] = nil
		}
		p.mu.Lock()
		p.spare = batch[:0]
		p.mu.Unlock()
	}
}

// send hands m to the client, which copies it into its write buffer before it returns: the
// strings made here without copying (bytesString) live only for this call. m.ID is the
// Nats-Msg-Id.
func (p *jsPublisher) send(m *Message) error {
	clear(p.header)
	if n := len(m.Headers) + 1; n > len(p.values) {
		p.values = append(p.values, make([][1]string, n-len(p.values))...)
	}
	if len(m.ID) > 0 {
		p.values[0][0] = bytesString(m.ID)
		p.header[jetstream.MsgIDHeader] = p.values[0][:]
	}
	for i, h := range m.Headers {
		p.values[i+1][0] = bytesString(h.Value)
		p.header[h.Key] = p.values[i+1][:]
	}
	p.reply = strconv.AppendUint(append(p.reply[:0], p.prefix...), m.seq, 10)
	p.msg = nats.Msg{Subject: bytesString(m.Subject), Reply: bytesString(p.reply), Header: p.header, Data: m.Data}
	err := p.nc.PublishMsg(&p.msg)
	p.msg = nats.Msg{}
	clear(p.values)
	return err
}

// bytesString is b as a string, without a copy: only for a string used while b stays as it is.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// onAck runs on the subscription's goroutine for every acknowledgement.
func (p *jsPublisher) onAck(m *nats.Msg) {
	if len(m.Subject) <= len(p.prefix) {
		return
	}
	id, err := strconv.ParseUint(m.Subject[len(p.prefix):], 10, 64)
	if err != nil {
		return
	}
	p.finish(id, ackError(m))
}

// ackError is nil for a PubAck and the reason for anything else.
func ackError(m *nats.Msg) error {
	data := m.Data
	if len(data) == 0 {
		if m.Header.Get("Status") == "503" {
			return jetstream.ErrNoStreamResponse // no stream holds the subject
		}
		return jetstream.ErrInvalidJSAck
	}
	if isPlainPubAck(data) {
		return nil
	}
	var resp struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return jetstream.ErrInvalidJSAck
	}
	if resp.Error != nil {
		return resp.Error
	}
	if resp.Stream == "" {
		return jetstream.ErrInvalidJSAck
	}
	return nil
}

// isPlainPubAck reports whether data is exactly what the server writes for a stored message:
// {"stream":"NAME","seq":N} or the same with ,"duplicate":true (a retry the stream already
// holds: stored all the same). Anything else (an error, a domain) is decoded; this only spares
// the common case encoding/json's allocations. FuzzAckError holds it to decoding's verdict.
func isPlainPubAck(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte(`{"stream":"`))
	if !ok {
		return false
	}
	name := 0
	for name < len(rest) && rest[name] != '"' && rest[name] != '\\' && rest[name] >= 0x20 {
		name++
	}
	if name == 0 {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest[name:], []byte(`","seq":`)); !ok {
		return false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits == 0 || digits > 1 && rest[0] == '0' {
		return false // JSON numbers have no leading zeros
	}
	rest = rest[digits:]
	return string(rest) == "}" || string(rest) == `,"duplicate":true}`
}

// finish hands err to the caller waiting on id, unless someone already did.
func (p *jsPublisher) finish(id uint64, err error) {
	p.mu.Lock()
	w, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
		p.signalRoom()
	}
	p.mu.Unlock()
	if ok {
		w.result <- err
	}
}

// signalRoom wakes callers waiting for room, and closes idle once closing and nothing is
// pending. p.mu is held.
func (p *jsPublisher) signalRoom() {
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
	if p.closing && len(p.pending) == 0 && p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
}

// sweepInterval is how often the sweeper looks for publishes past their deadline: a tenth of
// the timeout, between 10 ms and 100 ms.
func (p *jsPublisher) sweepInterval() time.Duration {
	return min(max(p.timeout/10, 10*time.Millisecond), 100*time.Millisecond)
}

// sweep fails publishes past their deadline with errAckTimeout, until stop.
func (p *jsPublisher) sweep(every time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	var late []*pubWait
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			late = late[:0]
			p.mu.Lock()
			for id, w := range p.pending {
				if w.deadline <= now.UnixNano() {
					delete(p.pending, id)
					late = append(late, w)
				}
			}
			p.signalRoom()
			p.mu.Unlock()
			for i, w := range late {
				w.result <- errAckTimeout
				late[i] = nil
			}
		}
	}
}

// pendingCount is how many publishes await their outcome.
func (p *jsPublisher) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// close refuses new publishes, waits until every pending one has its outcome (acknowledged,
// or failed at its deadline) or until give ends, and stops. Publishes still pending then get
// ErrClosed. It returns how many those were.
func (p *jsPublisher) close(give <-chan struct{}) int {
	p.mu.Lock()
	p.closing = true
	idle := make(chan struct{})
	p.idle = idle
	p.signalRoom()
	p.mu.Unlock()
	select {
	case <-idle:
	case <-give:
	}
	close(p.stop)
	p.done.Wait()
	p.sub.Unsubscribe()
	p.mu.Lock()
	left := len(p.pending)
	for id, w := range p.pending {
		delete(p.pending, id)
		w.result <- ErrClosed
	}
	p.mu.Unlock()
	return left
}

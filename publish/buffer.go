package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbridge/callbridge/normalize"
)

// Buffer is the Sink of CALLBRIDGE_ACK_MODE=buffer (SPEC §7): Publish returns once the event is
// written, and fsynced, to a JetStream file store in the data directory, run by an embedded
// nats-server that listens on no port; a forwarder then hands every buffered event to the target
// sink, in order per subject (or topic and key), at least once, retrying with backoff and jitter
// while the target fails. What is buffered survives a crash: the forwarder deletes an event from
// the buffer only after the target acknowledged it, so after a restart it forwards again from the
// oldest event it had not finished.
//
// Durability: the buffer server runs with sync_always, so nats-server fsyncs each message as it
// writes it, before the acknowledgement that makes Publish return. nats-server offers no public
// call to sync a group of messages at once, and a hand-made group commit would be a log of our
// own, which this is meant not to be; BENCHMARKS.md measures what the per-message sync costs.
//
// Bounds: CALLBRIDGE_BUFFER_MAX_BYTES (the stream refuses what would exceed it) and
// CALLBRIDGE_BUFFER_MAX_AGE (while the oldest unforwarded event is older, the buffer refuses new
// ones). Either way Publish fails with ErrBufferFull and the caller answers 503: the buffer never
// drops an event it acknowledged.
type Buffer struct {
	cfg    BufferConfig
	target Sink
	srv    *server.Server
	unlock func()
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	bufs   sync.Pool

	full      atomic.Pointer[error] // set while a bound is reached
	fullBytes atomic.Bool           // the size bound was reached and the buffer has not drained since
	closing   atomic.Bool
	dead      atomic.Bool
	forwardOK atomic.Pointer[error] // the last forward's failure; nil while forwarding works
	stats     atomic.Pointer[bufferStats]

	fwd     *forwarder
	stop    chan struct{} // closes the forwarder's reader and the poller
	workers sync.WaitGroup
	metrics bufferMetrics
}

// BufferConfig configures a Buffer.
type BufferConfig struct {
	DataDir         string
	MaxBytes        int64         // size of the buffer on disk, at most
	MaxAge          time.Duration // age of the oldest unforwarded event, at most
	DuplicateWindow time.Duration // provider retries of a buffered event are stored once
	Timeout         time.Duration // local write acknowledgement deadline
	MaxPayload      int32         // the buffer server's message limit
	Lanes           int           // forwarding goroutines; events of one order key share one; 0: 32
	// OrderKey renders what must keep its order at the target: the subject, or the topic and
	// key (the target's templates). nil: one lane, everything in buffer order.
	OrderKey func(dst []byte, ev *normalize.Event) []byte
	// Providers is the bridge's registry, which reads a stored event's provider back.
	Providers *normalize.Registry
	Logger    *slog.Logger
	Registry  prometheus.Registerer // the buffer's metrics; nil: none
}

// ErrBufferFull is returned while the buffer holds CALLBRIDGE_BUFFER_MAX_BYTES or its oldest
// event is older than CALLBRIDGE_BUFFER_MAX_AGE: transient, the provider retries.
var ErrBufferFull = errors.New("buffer full")

const (
	bufferStream       = "CALLBRIDGE_BUFFER"
	bufferEventSubject = "buffer.event"
	bufferLetterSubj   = "buffer.deadletter"
	// Headers of a buffered dead letter.
	bufferProviderHeader = "Callbridge-Provider"
)

type bufferStats struct {
	messages, bytes uint64
	oldest          time.Time // of the oldest unforwarded event; zero when empty
}

// NewBuffer opens (or creates) the buffer in cfg.DataDir and starts forwarding to target, which
// may not be connected yet: the forwarder retries until it is.
func NewBuffer(ctx context.Context, cfg BufferConfig, target Sink) (*Buffer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	b := &Buffer{cfg: cfg, target: target, stop: make(chan struct{})}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	b.unlock = unlock
	b.srv, err = server.NewServer(&server.Options{
		ServerName: "callbridge-buffer",
		DontListen: true, // in-process only: the buffer is this process's, not a broker
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: cfg.MaxPayload,
	})
	if err != nil {
		unlock()
		return nil, fmt.Errorf("buffer: %w", err)
	}
	b.srv.Start()
	if !b.srv.ReadyForConnections(10 * time.Second) {
		b.shutdown()
		return nil, errors.New("buffer: the embedded server did not start")
	}
	b.nc, err = nats.Connect("", nats.InProcessServer(b.srv), nats.Name("callbridge-buffer"),
		nats.MaxReconnects(-1), nats.ReconnectBufSize(-1),
		nats.ClosedHandler(func(*nats.Conn) {
			if !b.closing.Load() {
				b.dead.Store(true)
				b.cfg.Logger.Error("buffer connection closed for good; /healthz now fails so that the process is restarted")
			}
		}))
	if err != nil {
		b.shutdown()
		return nil, fmt.Errorf("buffer: connect: %w", err)
	}
	b.js, err = jetstream.New(b.nc, jetstream.WithPublishAsyncTimeout(cfg.Timeout))
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b.stream, err = b.js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
			Name:        bufferStream,
			Description: "callbacks acknowledged and not yet forwarded, written by callbridge",
			Subjects:    []string{bufferEventSubject, bufferLetterSubj},
			Storage:     jetstream.FileStorage,
			Duplicates:  cfg.DuplicateWindow,
			MaxBytes:    cfg.MaxBytes,
			Discard:     jetstream.DiscardNew, // refuse new ones: never drop an acknowledged one
		})
		cancel()
	}
	if err != nil {
		b.shutdown()
		return nil, fmt.Errorf("buffer: stream: %w", err)
	}
	b.metrics = newBufferMetrics(cfg.Registry, b)
	if err := b.poll(ctx); err != nil {
		b.shutdown()
		return nil, fmt.Errorf("buffer: %w", err)
	}
	if st := b.stats.Load(); st.messages > 0 {
		cfg.Logger.Info("buffer holds events from before the restart; forwarding them", "messages", st.messages, "bytes", st.bytes)
	}
	b.fwd = newForwarder(b)
	b.workers.Add(2)
	go b.fwd.run()
	go b.pollLoop()
	return b, nil
}

func (b *Buffer) getBuf() *[]byte {
	if p, ok := b.bufs.Get().(*[]byte); ok {
		return p
	}
	p := make([]byte, 0, 2048)
	return &p
}

// Publish writes ev to the buffer and returns once it is fsynced.
func (b *Buffer) Publish(ev *normalize.Event) error {
	buf := b.getBuf()
	data := ev.AppendStructured((*buf)[:0])
	msg := &nats.Msg{Subject: bufferEventSubject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{string(ev.ID)}}}
	err := b.write(msg)
	*buf = data[:0]
	if err == nil {
		b.bufs.Put(buf)
	}
	return err
}

// DeadLetter writes a dead letter to the buffer; the forwarder hands it to the target's
// DeadLetter.
func (b *Buffer) DeadLetter(provider string, body []byte, reason string) error {
	sum := sha256.Sum256(body)
	return b.write(&nats.Msg{
		Subject: bufferLetterSubj,
		Data:    append([]byte(nil), body...),
		Header: nats.Header{
			jetstream.MsgIDHeader: []string{"deadletter-" + hex.EncodeToString(sum[:16])},
			bufferProviderHeader:  []string{provider},
			ReasonHeader:          []string{headerValue(reason)},
		},
	})
}

func (b *Buffer) write(msg *nats.Msg) error {
	if e := b.full.Load(); e != nil {
		return *e
	}
	f, err := b.js.PublishMsgAsync(msg)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("%w: %d bytes, over the buffer's limit of %d", ErrTooLarge, len(msg.Data), b.nc.MaxPayload())
		}
		return fmt.Errorf("buffer: %w", err)
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		if strings.Contains(err.Error(), server.ErrMaxBytes.Error()) {
			b.metrics.refused.Inc()
			full := fmt.Errorf("%w: it holds CALLBRIDGE_BUFFER_MAX_BYTES (%d bytes)", ErrBufferFull, b.cfg.MaxBytes)
			b.fullBytes.Store(true) // until it drains below the low-water mark
			b.full.Store(&full)
			return full
		}
		return fmt.Errorf("buffer write: %w", err)
	}
}

// Ready returns nil while the buffer accepts events, whatever the target's state.
func (b *Buffer) Ready() error {
	if b.dead.Load() {
		return ErrClosed
	}
	if e := b.full.Load(); e != nil {
		return *e
	}
	return nil
}

// Detail says how forwarding goes, for /readyz.
func (b *Buffer) Detail() string {
	st := b.stats.Load()
	if e := b.forwardOK.Load(); e != nil {
		return fmt.Sprintf("buffering, forwarding stopped (%v); %d events buffered", *e, st.messages)
	}
	return fmt.Sprintf("buffering and forwarding; %d events buffered", st.messages)
}

// Live returns an error once the buffer's connection is closed for good.
func (b *Buffer) Live() error {
	if b.dead.Load() {
		return ErrClosed
	}
	return nil
}

// MessageLimit is the smaller of the buffer's and the target's: what is buffered must be
// forwardable.
func (b *Buffer) MessageLimit() int {
	limit := int(b.nc.MaxPayload())
	if t := b.target.MessageLimit(); t > 0 && t < limit {
		limit = t
	}
	return limit
}

// Close forwards what it can until ctx is nearly done, leaves the rest on disk for the next
// start, and closes the buffer and the target.
func (b *Buffer) Close(ctx context.Context) error {
	if !b.closing.CompareAndSwap(false, true) {
		return nil
	}
	// Stop writes first (the HTTP server is closed by now), then let the forwarder empty the
	// buffer while there is time, keeping a moment to close everything.
	deadline, hasDeadline := ctx.Deadline()
	drain := ctx
	if hasDeadline {
		var cancel context.CancelFunc
		drain, cancel = context.WithDeadline(ctx, deadline.Add(-min(time.Second, time.Until(deadline)/4)))
		defer cancel()
	}
	left := b.fwd.drain(drain)
	close(b.stop)
	b.fwd.halt()
	b.workers.Wait()
	b.fwd.purge() // what was forwarded while stopping
	if left > 0 {
		b.cfg.Logger.Warn("buffer not empty at shutdown: the rest is forwarded after the next start", "messages", left)
	} else {
		b.cfg.Logger.Info("buffer forwarded everything before shutdown")
	}
	terr := b.target.Close(ctx)
	b.shutdown()
	return terr
}

func (b *Buffer) shutdown() {
	b.closing.Store(true)
	if b.nc != nil {
		b.nc.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	if b.unlock != nil {
		b.unlock()
	}
}

// bufferPollInterval is how often the buffer's size and age are read, for the bounds, the
// metrics and Detail.
const bufferPollInterval = time.Second

func (b *Buffer) pollLoop() {
	defer b.workers.Done()
	t := time.NewTicker(bufferPollInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), bufferPollInterval)
			if err := b.poll(ctx); err != nil {
				b.cfg.Logger.Warn("buffer state not readable", "error", err)
			}
			cancel()
		}
	}
}

// poll reads the buffer's size and age and sets or clears the bounds.
func (b *Buffer) poll(ctx context.Context) error {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return err
	}
	st := &bufferStats{messages: info.State.Msgs, bytes: info.State.Bytes}
	if st.messages > 0 {
		st.oldest = info.State.FirstTime
	}
	b.stats.Store(st)
	var full error
	switch {
	case b.cfg.MaxAge > 0 && !st.oldest.IsZero() && time.Since(st.oldest) > b.cfg.MaxAge:
		full = fmt.Errorf("%w: its oldest event waits since %s, longer than CALLBRIDGE_BUFFER_MAX_AGE (%s)", ErrBufferFull, st.oldest.UTC().Format(time.RFC3339), b.cfg.MaxAge)
	case b.cfg.MaxBytes > 0 && (int64(st.bytes) >= b.cfg.MaxBytes || (b.fullBytes.Load() && int64(st.bytes) > b.cfg.MaxBytes/10*9)):
		// Full until it drains to 90 %: accepting again at the first free byte would refuse
		// and accept by turns.
		full = fmt.Errorf("%w: it holds CALLBRIDGE_BUFFER_MAX_BYTES (%d bytes)", ErrBufferFull, b.cfg.MaxBytes)
		b.fullBytes.Store(true)
	default:
		b.fullBytes.Store(false)
	}
	was := b.full.Load()
	switch {
	case full != nil:
		b.full.Store(&full)
		if was == nil {
			b.cfg.Logger.Warn("buffer full: new callbacks get 503 until it drains", "reason", full)
		}
	case was != nil:
		b.full.Store(nil)
		b.cfg.Logger.Info("buffer accepts callbacks again")
	}
	return nil
}

// forwarder reads the buffer in order and hands each entry to the lane of its order key; a lane
// forwards its entries one at a time, retrying the head until the target takes it, so entries of
// one subject (or topic and key) reach the target in the order they were buffered. Entries are
// deleted from the buffer (a purge up to the lowest unfinished one) once the target acknowledged
// every entry before them.
type forwarder struct {
	b     *Buffer
	lanes []chan bufferEntry
	seed  maphash.Seed
	quit  chan struct{} // lanes stop retrying
	wg    sync.WaitGroup

	mu      sync.Mutex
	pending []uint64            // sequences handed to lanes, in order
	done    map[uint64]struct{} // finished, not yet at the head of pending
	floor   uint64              // every sequence up to it is finished
	purged  uint64              // the buffer holds nothing below purged
	last    uint64              // the highest sequence read
	failing error               // the failure that stopped forwarding, nil while it works
}

type bufferEntry struct {
	seq    uint64
	stored time.Time
	msg    jetstream.Msg
}

// laneDepth bounds the entries waiting in one lane: together with the lanes, what the forwarder
// holds in memory however large the buffer is.
const laneDepth = 64

func newForwarder(b *Buffer) *forwarder {
	f := &forwarder{b: b, seed: maphash.MakeSeed(), quit: make(chan struct{}), done: map[uint64]struct{}{}}
	f.lanes = make([]chan bufferEntry, b.cfg.Lanes)
	for i := range f.lanes {
		f.lanes[i] = make(chan bufferEntry, laneDepth)
		f.wg.Add(1)
		go f.lane(f.lanes[i])
	}
	return f
}

// run reads the buffer with an ordered consumer from its first entry, until the buffer stops.
func (f *forwarder) run() {
	defer f.b.workers.Done()
	defer func() {
		for _, l := range f.lanes {
			close(l)
		}
	}()
	purge := time.NewTicker(200 * time.Millisecond)
	defer purge.Stop()
	for {
		cons, err := f.b.stream.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{bufferEventSubject, bufferLetterSubj},
			DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:    f.resumeFrom(),
		})
		if err == nil {
			err = f.read(cons, purge.C)
		}
		if err == nil {
			return // stopping
		}
		f.b.cfg.Logger.Warn("buffer reader restarting", "error", err)
		select {
		case <-f.b.stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// resumeFrom is the first sequence not yet handed to a lane.
func (f *forwarder) resumeFrom() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.last+1, f.purged, 1)
}

func (f *forwarder) read(cons jetstream.Consumer, purgeTick <-chan time.Time) error {
	var key []byte
	for {
		select {
		case <-f.b.stop:
			return nil
		case <-purgeTick:
			f.purge()
			continue
		default:
		}
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			seq := meta.Sequence.Stream
			f.mu.Lock()
			if seq <= f.last {
				f.mu.Unlock()
				continue // read again after a reader restart
			}
			f.last = seq
			f.pending = append(f.pending, seq)
			f.mu.Unlock()
			key = f.b.orderKey(key[:0], m)
			lane := f.lanes[maphash.Bytes(f.seed, key)%uint64(len(f.lanes))]
			select {
			case lane <- bufferEntry{seq: seq, stored: meta.Timestamp, msg: m}:
			case <-f.b.stop:
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if n == 0 { // caught up: wait a moment, purging what was forwarded
			select {
			case <-f.b.stop:
				return nil
			case <-purgeTick:
				f.purge()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// orderKey is what must keep its order: the target's subject (or topic and key) for an event,
// the provider's dead-letter subject for a letter.
func (b *Buffer) orderKey(dst []byte, m jetstream.Msg) []byte {
	if m.Subject() == bufferLetterSubj {
		return append(dst, m.Headers().Get(bufferProviderHeader)...)
	}
	var ev normalize.Event
	if b.cfg.OrderKey != nil && normalize.ParseStructured(m.Data(), &ev, b.cfg.Providers) == nil {
		return b.cfg.OrderKey(dst, &ev)
	}
	return dst // one lane for what cannot be told apart
}

// lane forwards its entries in order.
func (f *forwarder) lane(in <-chan bufferEntry) {
	defer f.wg.Done()
	var ev normalize.Event
	for e := range in {
		select {
		case <-f.quit:
			return // stopping: what is left stays buffered
		default:
		}
		wait := 100 * time.Millisecond
		for {
			err := f.forward(&ev, e)
			if err == nil {
				f.b.metrics.forwardSeconds.Observe(time.Since(e.stored).Seconds())
				f.finished(e.seq, nil)
				break
			}
			if errors.Is(err, ErrTooLarge) || errors.Is(err, errUnreadable) {
				// It can never be forwarded, and holding it would stop every entry behind it.
				f.b.metrics.forwardErrors.Inc()
				f.b.cfg.Logger.Error("buffered entry can never be forwarded: dropped", "seq", e.seq, "error", err)
				f.finished(e.seq, nil)
				break
			}
			f.b.metrics.forwardErrors.Inc()
			f.finished(0, err)
			// Backoff with full jitter, so that lanes do not retry in step.
			select {
			case <-f.quit:
				return
			case <-time.After(wait/2 + rand.N(wait/2+1)):
			}
			wait = min(2*wait, 10*time.Second)
		}
	}
}

var errUnreadable = errors.New("buffered entry unreadable")

func (f *forwarder) forward(ev *normalize.Event, e bufferEntry) error {
	m := e.msg
	if m.Subject() == bufferLetterSubj {
		h := m.Headers()
		return f.b.target.DeadLetter(h.Get(bufferProviderHeader), m.Data(), h.Get(ReasonHeader))
	}
	ev.Reset()
	if err := normalize.ParseStructured(m.Data(), ev, f.b.cfg.Providers); err != nil {
		return fmt.Errorf("%w: %v", errUnreadable, err)
	}
	return f.b.target.Publish(ev)
}

// finished records that seq (0: none) was forwarded, or that forwarding failed with err, and
// logs when forwarding stops and resumes.
func (f *forwarder) finished(seq uint64, err error) {
	f.mu.Lock()
	was := f.failing
	if err != nil {
		f.failing = err
	} else {
		f.failing = nil
		f.done[seq] = struct{}{}
		for len(f.pending) > 0 {
			if _, ok := f.done[f.pending[0]]; !ok {
				break
			}
			delete(f.done, f.pending[0])
			f.floor = f.pending[0]
			f.pending = f.pending[1:]
		}
	}
	f.mu.Unlock()
	switch {
	case err != nil && was == nil:
		f.b.forwardOK.Store(&err)
		f.b.cfg.Logger.Warn("forwarding stopped: buffering until the sink takes events again", "error", err)
	case err == nil && was != nil:
		f.b.forwardOK.Store(nil)
		f.b.cfg.Logger.Info("forwarding resumed")
	}
}

// purge deletes from the buffer every entry up to the floor.
func (f *forwarder) purge() {
	f.mu.Lock()
	upTo := f.floor + 1
	if len(f.pending) == 0 {
		upTo = f.last + 1 // everything read is forwarded
	}
	already := f.purged
	f.mu.Unlock()
	if upTo <= already || upTo <= 1 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := f.b.stream.Purge(ctx, jetstream.WithPurgeSequence(upTo)); err != nil {
		f.b.cfg.Logger.Warn("buffer purge failed; forwarded entries may be forwarded again after a restart", "error", err)
		return
	}
	f.mu.Lock()
	f.purged = max(f.purged, upTo)
	f.mu.Unlock()
}

// drain waits until everything buffered is forwarded, or ctx ends; it returns what is left.
func (f *forwarder) drain(ctx context.Context) uint64 {
	for {
		f.purge()
		ictx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := f.b.stream.Info(ictx)
		cancel()
		if err == nil && info.State.Msgs == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return 1
			}
			return info.State.Msgs
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// halt stops the lanes (after the reader closed them) and waits for them.
func (f *forwarder) halt() {
	close(f.quit)
	f.wg.Wait()
}

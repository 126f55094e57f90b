package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// nats-server that listens on no port; a forwarder then hands every buffered entry to the target
// sink, in order per subject (or topic and key), at least once, retrying with backoff and jitter
// while the target fails. What is buffered survives a crash: the forwarder deletes an entry from
// the buffer only after the target acknowledged it, so after a restart it forwards again from the
// oldest entry it had not finished.
//
// Publish never needs a provider, and neither does forwarding: an event (or dead letter) is
// rendered at the door by the target's Encoder, and the whole Message (subject or topic, key,
// deduplication id, headers, value) is stored as a frame. So a callback is refused at the door
// when the target could never take it (ErrNameTooLong; ErrTooLarge over the target's message
// limit once it is known), and forwarding sends what was stored, as it was stored.
//
// Nothing acknowledged is ever dropped: an entry the target can never take (ErrTooLarge,
// ErrNameTooLong, an unreadable entry) is moved to the buffer's dead stream
// (BUFFER_DEAD, subject buffer.dead) with the reason in a header, counted and logged,
// and kept there (README: reading and recovering it). A move that fails is retried like a
// transient failure.
//
// Durability: the buffer server runs with sync_always, so nats-server fsyncs each message as it
// writes it, before the acknowledgement that makes Publish return. nats-server offers no public
// call to sync a group of messages at once, and a hand-made group commit would be a log of our
// own, which this is meant not to be; BENCHMARKS.md measures what the per-message sync costs.
//
// Bounds: CALLBRIDGE_BUFFER_MAX_BYTES (the stream refuses what would exceed it) and
// CALLBRIDGE_BUFFER_MAX_AGE (while the oldest unforwarded event is older, the buffer refuses new
// ones). Either way Publish fails with ErrBufferFull and the caller answers 503.
type Buffer struct {
	cfg        BufferConfig
	target     Target
	limit      int // the largest frame the buffer stores
	srv        *server.Server
	unlock     func()
	nc         *nats.Conn
	js         jetstream.JetStream
	stream     jetstream.Stream // what waits to be forwarded
	deadStream jetstream.Stream // what the target can never take, kept
	bufs       sync.Pool

	full      atomic.Pointer[error] // set while a bound is reached
	fullBytes atomic.Bool           // the size bound was reached and the buffer has not drained since
	closing   atomic.Bool
	lost      atomic.Bool           // the buffer's own connection closed for good
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
	MaxPayload      int32         // the largest entry the buffer stores; 0: 1 MiB
	Lanes           int           // forwarding goroutines; entries of one order key share one; 0: 32
	// Encoder renders what is buffered as the target takes it: the target's kind, templates
	// and content mode. Required.
	Encoder *Encoder
	// Legacy reads an event stored by a version before the buffer stored rendered Messages (a
	// structured CloudEvent on subject buffer.event) into ev, which is Reset; the Encoder then
	// renders it. The command supplies it (normalize.ParseStructured): publish needs no
	// registry. nil, or an entry it refuses: the entry goes to the dead stream.
	Legacy   func(data []byte, ev *normalize.Event) error
	Logger   *slog.Logger
	Registry prometheus.Registerer // the buffer's metrics; nil: none
}

// ErrBufferFull is returned while the buffer holds CALLBRIDGE_BUFFER_MAX_BYTES or its oldest
// event is older than CALLBRIDGE_BUFFER_MAX_AGE: transient, the provider retries.
var ErrBufferFull = errors.New("buffer full")

const (
	bufferStream     = "CALLBRIDGE_BUFFER"
	bufferMsgSubject = "buffer.msg" // a Message frame (appendFrame)
	// Written by the previous version, read still (BufferConfig.Legacy).
	bufferEventSubject = "buffer.event"
	bufferLetterSubj   = "buffer.deadletter"
	// Headers of a dead letter written by the previous version.
	bufferProviderHeader = "Callbridge-Provider"

	// BufferDeadStream holds what the target can never take, on BufferDeadSubject, never purged.
	BufferDeadStream  = "BUFFER_DEAD"
	BufferDeadSubject = "buffer.dead"
	// Headers of a dead entry: why the target cannot take it, the buffer subject it was stored on
	// (buffer.msg: a frame; the previous version's buffer.event or buffer.deadletter), and the
	// subject or topic it was for, when it could be read.
	BufferDeadReasonHeader  = "Callbridge-Buffer-Dead-Reason"
	BufferDeadFromHeader    = "Callbridge-Buffer-From"
	BufferDeadSubjectHeader = "Callbridge-Buffer-Target"

	// bufferHeadroom is what the buffer server takes beyond the largest entry: a dead entry's
	// headers.
	bufferHeadroom = 8 << 10
)

type bufferStats struct {
	messages, bytes uint64
	oldest          time.Time // of the oldest unforwarded event; zero when empty
	dead            uint64    // entries in the dead stream
}

// NewBuffer opens (or creates) the buffer in cfg.DataDir and starts forwarding to target, which
// may not be connected yet: the forwarder retries until it is.
func NewBuffer(ctx context.Context, cfg BufferConfig, target Target) (*Buffer, error) {
	if cfg.Encoder == nil {
		return nil, errors.New("buffer: no encoder for the target")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 1 << 20
	}
	b := &Buffer{cfg: cfg, target: target, limit: int(cfg.MaxPayload), stop: make(chan struct{})}
	if err := b.open(); err != nil {
		return nil, err
	}
	if err := b.createStreams(ctx); err != nil {
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
	if st := b.stats.Load(); st.dead > 0 {
		cfg.Logger.Warn("the buffer's dead stream holds entries the broker could not take (docs/delivery.md, buffer mode)", "stream", BufferDeadStream, "messages", st.dead)
	}
	b.fwd = newForwarder(b)
	b.workers.Add(2)
	go b.fwd.run()
	go b.pollLoop()
	return b, nil
}

// open locks the data directory, starts the buffer's server and connects to it.
func (b *Buffer) open() error {
	unlock, err := lockDataDir(b.cfg.DataDir)
	if err != nil {
		return err
	}
	b.unlock = unlock
	b.srv, err = server.NewServer(&server.Options{
		ServerName: "callbridge-buffer",
		DontListen: true, // in-process only: the buffer is this process's, not a broker
		JetStream:  true,
		StoreDir:   b.cfg.DataDir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: b.cfg.MaxPayload + bufferHeadroom,
	})
	if err != nil {
		unlock()
		return fmt.Errorf("buffer: %w", err)
	}
	b.srv.Start()
	if !b.srv.ReadyForConnections(10 * time.Second) {
		b.shutdown()
		return errors.New("buffer: the embedded server did not start")
	}
	b.nc, err = nats.Connect("", nats.InProcessServer(b.srv), nats.Name("callbridge-buffer"),
		nats.MaxReconnects(-1), nats.ReconnectBufSize(-1),
		nats.ClosedHandler(func(*nats.Conn) {
			if !b.closing.Load() {
				b.lost.Store(true)
				b.cfg.Logger.Error("buffer connection closed for good; /healthz now fails so that the process is restarted")
			}
		}))
	if err != nil {
		b.shutdown()
		return fmt.Errorf("buffer: connect: %w", err)
	}
	return nil
}

// createStreams creates (or updates) the buffer's stream and its dead stream. The dead stream is
// a stream of its own so that purging the buffer by sequence never touches it.
func (b *Buffer) createStreams(ctx context.Context) error {
	var err error
	b.js, err = jetstream.New(b.nc, jetstream.WithPublishAsyncTimeout(b.cfg.Timeout))
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b.stream, err = b.js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
		Name:        bufferStream,
		Description: "callbacks acknowledged and not yet forwarded, written by callbridge",
		Subjects:    []string{bufferMsgSubject, bufferEventSubject, bufferLetterSubj},
		Storage:     jetstream.FileStorage,
		Duplicates:  b.cfg.DuplicateWindow,
		MaxBytes:    b.cfg.MaxBytes,
		Discard:     jetstream.DiscardNew, // refuse new ones: never drop an acknowledged one
	})
	if err != nil {
		return err
	}
	b.deadStream, err = b.js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
		Name:        BufferDeadStream,
		Description: "buffered callbacks the broker can never take (too large, name too long, unreadable), kept by callbridge for an operator",
		Subjects:    []string{BufferDeadSubject},
		Storage:     jetstream.FileStorage,
		Duplicates:  b.cfg.DuplicateWindow, // an entry moved again after a crash is kept once
	})
	return err
}

func (b *Buffer) getBuf() *[]byte {
	if p, ok := b.bufs.Get().(*[]byte); ok {
		return p
	}
	p := make([]byte, 0, 2048)
	return &p
}

// PublishWithin is Publish (publish.Within): the buffer's answer waits for its own fsync'd
// write, never for the broker, so a provider's shorter timeout does not apply to it.
func (b *Buffer) PublishWithin(ev *normalize.Event, _ time.Duration) error { return b.Publish(ev) }

// Publish renders ev with the target's Encoder and stores the Message; it returns once the
// write is fsynced. ErrNameTooLong and ErrTooLarge (over the target's limit, once known, or the
// buffer's) are permanent: the target could never take the event.
func (b *Buffer) Publish(ev *normalize.Event) error {
	m := newMessage()
	defer m.recycle()
	if err := b.cfg.Encoder.Event(m, ev); err != nil {
		return err
	}
	return b.store(m)
}

// DeadLetter renders a dead letter with the target's Encoder and stores it like an event.
func (b *Buffer) DeadLetter(provider string, body []byte, reason string) error {
	m := newMessage()
	defer m.recycle()
	if err := b.cfg.Encoder.DeadLetter(m, provider, body, reason); err != nil {
		return err
	}
	return b.store(m)
}

// store writes m as a frame, deduplicated by its id.
func (b *Buffer) store(m *Message) error {
	if limit := b.target.MessageLimit(); limit > 0 {
		if size := b.cfg.Encoder.Size(m); size > limit {
			return fmt.Errorf("%w: %d bytes for %s, over the broker's message limit of %d", ErrTooLarge, size, nameExcerpt(m.Subject, len(m.Subject)), limit)
		}
	}
	buf := b.getBuf()
	data := appendFrame((*buf)[:0], m)
	var err error
	if len(data) > b.limit {
		err = fmt.Errorf("%w: %d bytes, over the buffer's limit of %d", ErrTooLarge, len(data), b.limit)
	} else {
		err = b.write(&nats.Msg{Subject: bufferMsgSubject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{string(m.ID)}}})
	}
	*buf = data[:0]
	if err == nil {
		b.bufs.Put(buf)
	}
	return err
}

func (b *Buffer) write(msg *nats.Msg) error {
	if e := b.full.Load(); e != nil {
		return *e
	}
	f, err := b.js.PublishMsgAsync(msg)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("%w: %d bytes, over the buffer's limit of %d", ErrTooLarge, len(msg.Data), b.limit)
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
	if b.lost.Load() {
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
	var dead string
	if st.dead > 0 {
		dead = fmt.Sprintf("; %d kept in %s (the broker cannot take them)", st.dead, BufferDeadStream)
	}
	if e := b.forwardOK.Load(); e != nil {
		return fmt.Sprintf("buffering, forwarding stopped (%v); %d events buffered%s", *e, st.messages, dead)
	}
	return fmt.Sprintf("buffering and forwarding; %d events buffered%s", st.messages, dead)
}

// Live returns an error once the buffer's connection, or the target's, is closed for good: the
// process must be restarted either way (SPEC §7: /healthz follows every connection the bridge
// needs).
func (b *Buffer) Live() error {
	if b.lost.Load() {
		return ErrClosed
	}
	if err := b.target.Live(); err != nil {
		return fmt.Errorf("the buffer's broker: %w", err)
	}
	return nil
}

// MessageLimit is the smaller of the buffer's and the target's: what is buffered must be
// forwardable.
func (b *Buffer) MessageLimit() int {
	limit := b.limit
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

// poll reads the buffer's size and age (and its dead stream's size) and sets or clears the
// bounds.
func (b *Buffer) poll(ctx context.Context) error {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return err
	}
	dead, err := b.deadStream.Info(ctx)
	if err != nil {
		return err
	}
	st := &bufferStats{messages: info.State.Msgs, bytes: info.State.Bytes, dead: dead.State.Msgs}
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

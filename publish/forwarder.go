package publish

import (
	"context"
	"errors"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

// forwarder reads the buffer in order and hands each entry to the lane of its order key (the
// stored subject or topic, and key); a lane forwards its entries one at a time, retrying the head
// until the target takes it or it is moved to the dead stream, so entries of one subject (or
// topic and key) reach the target in the order they were buffered. Entries are deleted from the
// buffer (a purge up to the lowest unfinished one) once every entry before them is finished.
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

// bufferEntry is one stored entry on its way: the Message to send, or why it cannot be read.
type bufferEntry struct {
	seq    uint64
	stored time.Time
	raw    jetstream.Msg
	msg    *Message // nil when unreadable
	err    error    // why it can never be forwarded, when msg is nil
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
			FilterSubjects: []string{bufferMsgSubject, bufferEventSubject, bufferLetterSubj},
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
	var legacy normalize.Event // the previous version's entries are read into it
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
			e := bufferEntry{seq: seq, stored: meta.Timestamp, raw: m}
			e.msg, e.err = f.b.decode(m, &legacy)
			key = orderKey(key[:0], e.msg)
			lane := f.lanes[maphash.Bytes(f.seed, key)%uint64(len(f.lanes))]
			select {
			case lane <- e:
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

// orderKey is what must keep its order at the target: the subject, or the topic and key. An
// entry that cannot be read has none (it is only moved to the dead stream).
func orderKey(dst []byte, m *Message) []byte {
	if m == nil {
		return dst
	}
	return append(append(append(dst, m.Subject...), 0), m.Key...)
}

// lane forwards its entries in order.
func (f *forwarder) lane(in <-chan bufferEntry) {
	defer f.wg.Done()
	for e := range in {
		select {
		case <-f.quit:
			return // stopping: what is left stays buffered
		default:
		}
		if !f.deliver(e) {
			return
		}
	}
}

// deliver hands e to the target, or moves it to the dead stream when the target can never take
// it, retrying whichever failed with backoff and full jitter (so that lanes do not retry in
// step) until one succeeds. It returns false when the lanes stop first: e stays buffered.
func (f *forwarder) deliver(e bufferEntry) bool {
	wait := 100 * time.Millisecond
	never := e.err // set once the target can never take e: from then on only the move is retried
	for {
		var err error
		if never == nil {
			if err = f.b.target.Send(e.msg); err == nil {
				f.b.metrics.forwardSeconds.Observe(time.Since(e.stored).Seconds())
				f.finished(e.seq, nil)
				return true
			}
			f.b.metrics.forwardErrors.Inc()
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNameTooLong) {
				never = err
			}
		}
		if never != nil {
			if err = f.b.bury(e, never); err == nil {
				f.finished(e.seq, nil)
				return true
			}
		}
		f.finished(0, err)
		select {
		case <-f.quit:
			return false
		case <-time.After(wait/2 + rand.N(wait/2+1)):
		}
		wait = min(2*wait, 10*time.Second)
	}
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

// purge deletes from the buffer every entry up to the floor. The dead stream is a stream of its
// own: a purge never touches it.
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

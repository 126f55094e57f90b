package publish

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// natsPingInterval is how often the client pings the server; two unanswered pings make it drop
// the connection and reconnect.
const natsPingInterval = 2 * time.Second

// natsProbeInterval is how often the sink checks that the server answers, for Ready: a hung
// server (SIGSTOP, a full disk, a lost leader) keeps its TCP connection open, so being connected
// says little.
const natsProbeInterval = time.Second

var errAcksTimingOut = fmt.Errorf("%w: acknowledgements are timing out", ErrNotReady)

// natsHealth is what Ready and Live read: state kept by the connection's handlers, the probe and
// the publishes, so that neither waits on the client's lock.
type natsHealth struct {
	connected atomic.Bool
	dead      atomic.Bool // closed for good, not by us
	closing   atomic.Bool // our own Close
	probeErr  atomic.Pointer[error]
	// Send times (unix ns) of the newest acknowledged publish, and of the newest one whose
	// acknowledgement timed out after it: only a timeout newer than every ack says the broker
	// is not answering now. (Publishes sent before a reconnect time out after it, while new
	// ones are acknowledged: they must not flip readiness back.) failSent is cleared by a newer
	// ack, or by the probe once JetStream answers it.
	okSent, failSent atomic.Int64
	// badSince is when state first reported what it still reports (unix ns); 0: nothing.
	badSince atomic.Int64

	wake       chan struct{}
	stop, done chan struct{}
}

func (h *natsHealth) acked(sent int64) {
	for ok := h.okSent.Load(); sent > ok && !h.okSent.CompareAndSwap(ok, sent); ok = h.okSent.Load() {
	}
	if f := h.failSent.Load(); f != 0 && sent > f {
		h.failSent.CompareAndSwap(f, 0)
	}
}

func (h *natsHealth) ackTimedOut(sent int64) {
	if sent <= h.okSent.Load() {
		return // something sent later was acknowledged: old news
	}
	for f := h.failSent.Load(); sent > f && !h.failSent.CompareAndSwap(f, sent); f = h.failSent.Load() {
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *natsHealth) ackFailing() bool { return h.failSent.Load() != 0 }

// readyGrace is how long publishing must look impossible before Ready says so: a reconnect to
// another server of a cluster, or the first moments of a stream's election (which publishes
// ride out by retrying, natsretry.go), are not worth taking the pod out of its Service.
const readyGrace = time.Second

// ready is state once it has held for readyGrace; a connection closed for good at once.
func (h *natsHealth) ready() error { return h.readyAt(time.Now().UnixNano()) }

func (h *natsHealth) readyAt(now int64) error {
	err := h.state()
	if err == nil || errors.Is(err, ErrClosed) {
		h.badSince.Store(0)
		return err
	}
	since := h.badSince.Load()
	if since == 0 {
		h.badSince.CompareAndSwap(0, now)
		since = h.badSince.Load()
	}
	if now-since < int64(readyGrace) {
		return nil
	}
	return err
}

// state is what stands in the way of publishing now.
func (h *natsHealth) state() error {
	switch {
	case h.dead.Load():
		return ErrClosed
	case !h.connected.Load():
		return ErrNotReady
	}
	if e := h.probeErr.Load(); e != nil {
		return *e
	}
	if h.ackFailing() {
		return errAcksTimingOut
	}
	return nil
}

// probe checks every natsProbeInterval, and at once after an acknowledgement timed out, that the
// server answers a ping, and while acknowledgements are failing that JetStream answers a stream
// info request, until Close.
func (s *NATS) probe() {
	defer close(s.health.done)
	t := time.NewTicker(natsProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.health.stop:
			return
		case <-t.C:
		case <-s.health.wake:
		}
		s.health.ready() // keeps badSince while nobody asks
		if !s.health.connected.Load() {
			continue // the client is reconnecting; Ready already says so
		}
		timeout := min(s.cfg.Timeout, 2*time.Second)
		err := s.nc.FlushTimeout(timeout)
		if err != nil {
			err = fmt.Errorf("%w: the NATS server does not answer pings: %v", ErrNotReady, err)
		} else if f := s.health.failSent.Load(); f != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, err = s.js.Stream(ctx, s.cfg.Stream)
			cancel()
			if err != nil {
				err = fmt.Errorf("%w: JetStream does not answer: %v", ErrNotReady, err)
			} else {
				s.health.failSent.CompareAndSwap(f, 0)
			}
		}
		was := s.health.probeErr.Load()
		switch {
		case err != nil:
			s.health.probeErr.Store(&err)
			if was == nil {
				s.cfg.Logger.Warn("nats not answering: not ready", "error", err)
			}
		case was != nil:
			s.health.probeErr.Store(nil)
			s.cfg.Logger.Info("nats answering again: ready")
		}
	}
}

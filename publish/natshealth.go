package publish

import (
	"context"
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
	// ackFailing is set when an acknowledgement timed out and cleared by the next one that
	// arrives, or by the probe once JetStream answers it.
	ackFailing atomic.Bool

	wake       chan struct{}
	stop, done chan struct{}
}

func (h *natsHealth) acked() {
	if h.ackFailing.Load() {
		h.ackFailing.Store(false)
	}
}

func (h *natsHealth) ackTimedOut() {
	h.ackFailing.Store(true)
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *natsHealth) ready() error {
	switch {
	case h.dead.Load():
		return ErrClosed
	case !h.connected.Load():
		return ErrNotReady
	}
	if e := h.probeErr.Load(); e != nil {
		return *e
	}
	if h.ackFailing.Load() {
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
		if !s.health.connected.Load() {
			continue // the client is reconnecting; Ready already says so
		}
		timeout := min(s.cfg.Timeout, 2*time.Second)
		err := s.nc.FlushTimeout(timeout)
		if err != nil {
			err = fmt.Errorf("%w: the NATS server does not answer pings: %v", ErrNotReady, err)
		} else if s.health.ackFailing.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, err = s.js.Stream(ctx, s.cfg.Stream)
			cancel()
			if err != nil {
				err = fmt.Errorf("%w: JetStream does not answer: %v", ErrNotReady, err)
			} else {
				s.health.ackFailing.Store(false)
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

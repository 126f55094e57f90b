package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Bodies are streamed (fasthttp's StreamRequestBody): fasthttp reads at most the first 8 KiB
// before the handler runs, and never sizes a buffer from the Content-Length a client announces.
// The handler reads the rest into a buffer that grows only as bytes arrive.
//
// The memory contract: every body buffer larger than a request's first minBodyBuf bytes is
// counted in one budget, Config.BodyMemoryBytes, by its capacity, for as long as it is held:
// while a request reads into it or handles the callback, and while it waits in the server's
// pool of spare buffers for the next request. So the body buffers held never exceed
// Config.BodyMemoryBytes plus minBodyBuf per request (a connection's own cost, like fasthttp's
// buffers, bounded by Config.MaxConns), whatever clients announce or send; a body that does
// not fit is answered 503, and a client that stalls holds only what it sent. A buffer that is
// outgrown or dropped leaves the budget at once (it is garbage, for the GC to reclaim).
//
// The pool keeps only buffers of at most maxPooledBody bytes and a sixteenth of the budget (a
// rare large body's buffer goes back to the GC), at most a quarter of the budget in all, and
// gives its buffers up whenever a request needs the room: spare buffers never cause a 503.

var (
	errBodyTooLarge = errors.New("body larger than the limit")
	errBodyMemory   = errors.New("body memory budget exhausted")
)

// minBodyBuf is the first size a body buffer grows to, and the part of a body that is its
// connection's own; maxPooledBody the largest buffer the pool keeps.
const (
	minBodyBuf    = 4 << 10
	maxPooledBody = 64 << 10
)

// bodyPool holds spare body buffers, each larger than minBodyBuf, whose capacity stays counted
// in the budget while they wait. (A sync.Pool would drop them unannounced at a GC, and their
// reservation with them.)
type bodyPool struct {
	mu    sync.Mutex
	bufs  [][]byte
	bytes int64 // capacity of bufs, all reserved
}

// readBody reads the request body into w.body, up to limit bytes.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, w *work, limit int) error {
	if ctx.Request.Header.ContentLength() > limit {
		return errBodyTooLarge
	}
	w.body = w.body[:0]
	r := ctx.RequestBodyStream()
	if enc := ctx.Request.Header.ContentEncoding(); len(enc) > 0 {
		if r == nil {
			r = bytes.NewReader(ctx.Request.Body())
		}
		dec, f, err := decoding(enc, r)
		if err != nil {
			return err
		}
		if f != nil {
			defer f.done()
		}
		r = dec
	}
	if r == nil { // a body fasthttp already holds: none at all, or a RequestCtx built by hand
		body := ctx.Request.Body()
		if len(body) > limit {
			return errBodyTooLarge
		}
		if err := s.growBody(w, len(body)); err != nil {
			return err
		}
		w.body = append(w.body, body...)
		return nil
	}
	for {
		if len(w.body) == cap(w.body) {
			if err := s.growBody(w, min(max(cap(w.body), minBodyBuf), limit+1-len(w.body))); err != nil {
				return err
			}
		}
		n, err := r.Read(w.body[len(w.body):cap(w.body)])
		w.body = w.body[:len(w.body)+n]
		if len(w.body) > limit {
			return errBodyTooLarge
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// growBody makes room in w.body for n more bytes, keeping what it holds. Up to minBodyBuf the
// buffer is w's own, kept with w; past it the buffer comes from the pool or is allocated, and
// its whole capacity is reserved from the budget (w.reserved) until releaseBody.
func (s *Server) growBody(w *work, n int) error {
	need := len(w.body) + n
	if need <= cap(w.body) {
		return nil
	}
	if w.reserved == 0 { // w.body is w's own buffer
		if need <= minBodyBuf {
			w.own = append(make([]byte, 0, minBodyBuf), w.body...)
			w.body = w.own
			return nil
		}
		if b := s.takePooled(); b != nil { // its reservation comes with it
			w.reserved = int64(cap(b))
			w.body = append(b[:0], w.body...)
			if need <= cap(w.body) {
				return nil
			}
		}
	}
	// A larger buffer: the reservation grows by the difference (the old one is garbage once
	// copied).
	if !s.reserveBody(int64(need) - w.reserved) {
		return errBodyMemory
	}
	w.reserved = int64(need)
	bigger := make([]byte, len(w.body), need)
	copy(bigger, w.body)
	w.body = bigger
	return nil
}

// reserveBody takes n bytes from the shared body budget, dropping spare buffers from the pool
// when that makes the room.
func (s *Server) reserveBody(n int64) bool {
	for {
		if s.bodyMemory.Add(n) <= s.cfg.BodyMemoryBytes {
			return true
		}
		s.bodyMemory.Add(-n)
		if !s.dropPooled() {
			return false
		}
	}
}

// releaseBody ends w's hold on its body buffer: a buffer from the budget goes to the pool, its
// reservation with it, or back to the GC (too large, or the pool is full) and out of the budget.
func (s *Server) releaseBody(w *work) {
	if w.reserved > 0 && !s.putPooled(w.body) {
		s.bodyMemory.Add(-w.reserved)
	}
	w.reserved = 0
	w.body = w.own[:0]
}

// pooledLimits are the largest buffer the pool keeps and the most it keeps in all.
func (s *Server) pooledLimits() (one, all int64) {
	return min(maxPooledBody, s.cfg.BodyMemoryBytes/16), s.cfg.BodyMemoryBytes / 4
}

// putPooled keeps b, reserved, for another request; false when it is not kept.
func (s *Server) putPooled(b []byte) bool {
	one, all := s.pooledLimits()
	size := int64(cap(b))
	p := &s.bodies
	p.mu.Lock()
	defer p.mu.Unlock()
	if size > one || p.bytes+size > all {
		return false
	}
	p.bufs = append(p.bufs, b[:0])
	p.bytes += size
	return true
}

// takePooled returns a spare buffer, or nil; its reservation passes to the caller.
func (s *Server) takePooled() []byte {
	p := &s.bodies
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.bufs) == 0 {
		return nil
	}
	b := p.bufs[len(p.bufs)-1]
	p.bufs[len(p.bufs)-1] = nil
	p.bufs = p.bufs[:len(p.bufs)-1]
	p.bytes -= int64(cap(b))
	return b
}

// dropPooled gives one spare buffer back to the GC and its capacity back to the budget; false
// when the pool is empty.
func (s *Server) dropPooled() bool {
	b := s.takePooled()
	if b == nil {
		return false
	}
	s.bodyMemory.Add(-int64(cap(b)))
	return true
}

// Drains of refused bodies: at most maxDrains at once, each reading at most drainBytes for at
// most drainTime.
const (
	maxDrains  = 256
	drainBytes = 4 << 20
	drainTime  = 3 * time.Second
)

// closeAfterReply ends the connection once the reply is written, without resetting it: a
// client still sending a body we refused would read a reset instead of our answer (and retry
// what a 413 says not to). The reply is written on the hijacked connection, then the rest of the
// body is read and discarded, within bounds, before the connection is closed. (fasthttp closes a
// Connection: close response's connection at once, unread bytes and all, which resets it.)
func (s *Server) closeAfterReply(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	if s.drains.Add(1) > maxDrains {
		s.drains.Add(-1)
		return // too many at once: fasthttp answers and closes at once
	}
	reply := []byte(ctx.Response.String())
	writeTimeout := s.cfg.WriteTimeout
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer s.drains.Add(-1)
		if writeTimeout > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
		if err := c.SetReadDeadline(time.Now().Add(drainTime)); err == nil {
			_, _ = io.CopyN(io.Discard, c, drainBytes)
		}
	})
}

package ingest

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Bodies are streamed (fasthttp's StreamRequestBody): fasthttp reads at most the first 8 KiB
// before the handler runs, and never sizes a buffer from the Content-Length a client announces.
// The handler reads the rest into a pooled buffer that grows only as bytes arrive, and every
// growth is reserved from one budget, Config.BodyMemoryBytes, shared by all requests. So the
// memory bodies take is bounded whatever clients announce, and a client that stalls holds only
// what it sent.

var (
	errBodyTooLarge = errors.New("body larger than the limit")
	errBodyMemory   = errors.New("body memory budget exhausted")
)

// minBodyBuf is the first size a body buffer grows to; maxPooledBody the largest one kept in
// the pool (a rare large body's buffer goes back to the GC).
const (
	minBodyBuf    = 4 << 10
	maxPooledBody = 64 << 10
)

// readBody reads the request body into w.body, up to limit bytes.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, w *work, limit int) error {
	if ctx.Request.Header.ContentLength() > limit {
		return errBodyTooLarge
	}
	r := ctx.RequestBodyStream()
	if r == nil {
		body := ctx.Request.Body()
		if len(body) > limit {
			return errBodyTooLarge
		}
		w.body = append(w.body[:0], body...)
		return nil
	}
	buf := w.body[:0]
	for {
		if len(buf) == cap(buf) {
			grow := min(max(cap(buf), minBodyBuf), limit+1-len(buf))
			// The first minBodyBuf bytes are a connection's own cost, like fasthttp's buffers
			// (bounded by MaxConns): a small callback is read whatever large ones hold.
			if cap(buf)+grow > minBodyBuf && !s.reserveBody(w, grow) {
				w.body = buf
				return errBodyMemory
			}
			bigger := make([]byte, len(buf), len(buf)+grow)
			copy(bigger, buf)
			buf = bigger
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			w.body = buf
			return errBodyTooLarge
		}
		if err == io.EOF {
			w.body = buf
			return nil
		}
		if err != nil {
			w.body = buf
			return err
		}
	}
}

// reserveBody takes n bytes from the shared body budget for w.
func (s *Server) reserveBody(w *work, n int) bool {
	if s.bodyMemory.Add(int64(n)) > s.cfg.BodyMemoryBytes {
		s.bodyMemory.Add(-int64(n))
		return false
	}
	w.reserved += int64(n)
	return true
}

// releaseBody returns w's reservation, and drops a large buffer rather than pooling it.
func (s *Server) releaseBody(w *work) {
	if w.reserved > 0 {
		s.bodyMemory.Add(-w.reserved)
		w.reserved = 0
	}
	if cap(w.body) > maxPooledBody {
		w.body = nil
	} else {
		w.body = w.body[:0]
	}
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

package loadgen

import (
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// connStats is what one connection saw since the progress line last collected it.
type connStats struct {
	mu     sync.Mutex
	lat    histogram
	lag    histogram // open loop: how late a request was sent
	status [600]uint64
	errs   map[string]uint64
}

func (c *connStats) collect(into *connStats) {
	c.mu.Lock()
	into.lat.merge(&c.lat)
	into.lag.merge(&c.lag)
	for i, n := range c.status {
		into.status[i] += n
	}
	for k, n := range c.errs {
		into.errs[k] += n
	}
	c.lat.reset()
	c.lag.reset()
	c.status = [600]uint64{}
	clear(c.errs)
	c.mu.Unlock()
}

func (c *connStats) errors() (n uint64) {
	for _, e := range c.errs {
		n += e
	}
	return n
}

func (c *connStats) non200() (n uint64) {
	for i, s := range c.status {
		if i != 200 {
			n += s
		}
	}
	return n
}

func errorClass(err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return "timeout"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// sendLoop is one connection: closed loop when schedule is nil, else each request sent when
// schedule says it is due and timed from then.
func sendLoop(hc *fasthttp.HostClient, mix []*benchProvider, src *reqSource, st *connStats, stop <-chan struct{}, deadline time.Time, schedule func(k int) time.Time) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var timer *time.Timer
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		var due time.Time
		if schedule != nil {
			if due = schedule(k); !due.Before(deadline) {
				return
			}
			if wait := due.Sub(now); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-stop: // at a low rate the wait may be long: ^C must not wait for it
					return
				}
				now = time.Now()
			}
		} else {
			if !now.Before(deadline) {
				return
			}
			due = now
		}
		r, ok := src.next(now)
		if !ok {
			return
		}
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(mix[r.prov].url)
		for _, h := range r.header {
			if h.Key == "Content-Type" {
				req.Header.SetContentType(h.Value)
			} else {
				req.Header.Set(h.Key, h.Value)
			}
		}
		req.SetBodyRaw(r.body)
		sent := time.Now()
		err := hc.Do(req, resp)
		end := time.Now()
		st.mu.Lock()
		if err != nil {
			st.errs[errorClass(err)]++
		} else {
			st.lat.record(end.Sub(due))
			code := resp.StatusCode()
			if code < 0 || code >= len(st.status) {
				code = 0
			}
			st.status[code]++
		}
		if schedule != nil {
			st.lag.record(sent.Sub(due))
		}
		st.mu.Unlock()
	}
}

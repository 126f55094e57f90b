package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upload starts a NetEase callback of body on a new connection, signed for the whole body, and
// sends its first n bytes.
func upload(t *testing.T, addr string, body []byte, n int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", neteasePath, len(body))
	for k, v := range signedNetEase(body) {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	head.WriteString("\r\n")
	head.Write(body[:n])
	if _, err := c.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	return c
}

// answer reads the response on c, or returns nil when none comes before the deadline.
func answer(c net.Conn, deadline time.Time) *http.Response {
	c.SetReadDeadline(deadline)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	return resp
}

// paddedPlay is a signed-able NetEase callback of n bytes: the fixture and white space.
func paddedPlay(t *testing.T, n int) []byte {
	play := bytes.TrimSpace(testdata(t, "netease-nertc/503-play-started.json"))
	return append(play, bytes.Repeat([]byte(" "), n-len(play))...)
}

// pooled is what the pool of spare body buffers holds: the number, their capacity, the largest.
func pooled(s *Server) (n int, bytes, largest int64) {
	s.bodies.mu.Lock()
	defer s.bodies.mu.Unlock()
	for _, b := range s.bodies.bufs {
		largest = max(largest, int64(cap(b)))
	}
	return len(s.bodies.bufs), s.bodies.bytes, largest
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The body budget counts every body buffer past a request's first 4 KiB while it is held,
// pooled buffers included: after a wave of large callbacks has filled the pool, many concurrent
// large bodies still never hold more than the budget, and the ones past it get 503. (Buffers
// pooled with their capacity used to be read into without a reservation: a second wave held
// the pool and the whole budget besides.)
func TestBodyMemoryCountsPooledBuffers(t *testing.T) {
	const (
		budget = 1 << 20
		sent   = 60 << 10 // what each stalled client has sent, and the server holds
	)
	f := newFixture(t, func(c *Config) { c.BodyMemoryBytes = budget; c.ReadTimeout = 20 * time.Second }, nil)
	addr := serveTCP(t, f)
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			peak.Store(max(peak.Load(), f.s.bodyMemory.Load()))
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	})
	defer func() { close(stop); sampler.Wait() }()

	// Wave 1: twelve large callbacks in the handler at once, then answered: their buffers are
	// spare now.
	body := paddedPlay(t, sent+1<<10)
	var wave1 []net.Conn
	for range 12 {
		wave1 = append(wave1, upload(t, addr, body, sent))
	}
	waitFor(t, "wave 1 read", func() bool { return f.s.bodyMemory.Load() >= 12*(sent-minBodyBuf) })
	for _, c := range wave1 {
		if _, err := c.Write(body[sent:]); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range wave1 {
		if resp := answer(c, time.Now().Add(5*time.Second)); resp == nil || resp.StatusCode != 200 {
			t.Fatalf("wave 1 callback %d: %v", i, resp)
		}
	}
	n, bytesPooled, largest := pooled(f.s)
	if n == 0 || bytesPooled > budget/4 || largest > maxPooledBody {
		t.Errorf("pool after wave 1: %d buffers, %d bytes, largest %d; want some, at most %d bytes, none over %d", n, bytesPooled, largest, budget/4, maxPooledBody)
	}
	if got := f.s.bodyMemory.Load(); got != bytesPooled {
		t.Errorf("idle: %d bytes reserved, the pool holds %d", got, bytesPooled)
	}

	// Wave 2: forty clients send 60 KiB of a larger body and stall. Those that fit hold their
	// 60 KiB; the others are answered 503 at once.
	var wave2 []net.Conn
	for range 40 {
		wave2 = append(wave2, upload(t, addr, paddedPlay(t, 100<<10), sent))
	}
	var holding, refused atomic.Int64
	var answers sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range wave2 {
		answers.Go(func() {
			switch resp := answer(c, deadline); {
			case resp == nil:
				holding.Add(1)
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
				refused.Add(1)
			default:
				t.Errorf("a stalled body over the budget: %d, want 503 with Retry-After", resp.StatusCode)
			}
		})
	}
	answers.Wait()
	t.Logf("wave 2: %d holding %d bytes, %d refused; %d bytes reserved at the peak", holding.Load(), holding.Load()*sent, refused.Load(), peak.Load())
	if refused.Load() == 0 {
		t.Errorf("40 bodies of %d bytes within a budget of %d: none refused", sent, budget)
	}
	if held := holding.Load() * sent; held > budget {
		t.Errorf("%d stalled clients hold %d body bytes, over the budget of %d", holding.Load(), held, budget)
	}
	if p := peak.Load(); p > budget {
		t.Errorf("%d bytes reserved at the peak, over the budget of %d", p, budget)
	}

	// Once they are gone, what stays reserved is what the pool holds, and a body larger than a
	// pooled buffer may be is read, answered and not kept.
	for _, c := range wave2 {
		c.Close()
	}
	waitFor(t, "wave 2 released", func() bool {
		_, b, _ := pooled(f.s)
		return f.s.bodyMemory.Load() == b
	})
	if status, _ := postPlay(t, addr, paddedPlay(t, 200<<10)); status != 200 {
		t.Errorf("a 200 KiB callback within the budget: %d", status)
	}
	n, bytesPooled, largest = pooled(f.s)
	if largest > maxPooledBody || bytesPooled > budget/4 || f.s.bodyMemory.Load() != bytesPooled {
		t.Errorf("after a 200 KiB body: %d buffers pooled, %d bytes, largest %d; %d reserved", n, bytesPooled, largest, f.s.bodyMemory.Load())
	}
}

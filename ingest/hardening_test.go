package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/publish"
)

// serveTCP runs f's server on a loopback TCP listener and returns its address.
func serveTCP(t *testing.T, f *fixture) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	f.serveOn(t, ln)
	return ln.Addr().String()
}

// post sends one signed NetEase callback on a new connection and returns the status.
func postPlay(t *testing.T, addr string, play []byte) (int, time.Duration) {
	t.Helper()
	c := &fasthttp.Client{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	req := newRequest("POST", neteasePath, play, signedNetEase(play))
	req.SetRequestURI("http://" + addr + neteasePath)
	resp := new(fasthttp.Response)
	start := time.Now()
	if err := c.Do(req, resp); err != nil {
		t.Fatalf("callback: %v", err)
	}
	return resp.StatusCode(), time.Since(start)
}

// Clients that announce a large body and stall take no memory for it, and do not keep a real
// callback from being answered. (fasthttp used to size a buffer from Content-Length: 1 000
// such clients took 1 GB.)
func TestStalledUploadsBoundMemory(t *testing.T) {
	const clients = 1000
	f := newFixture(t, func(c *Config) {
		c.ReadTimeout = 30 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}, nil)
	addr := serveTCP(t, f)
	play := testdata(t, "netease-nertc/503-play-started.json")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"eventType\":503,", neteasePath, 1<<20-1)
	}
	time.Sleep(500 * time.Millisecond) // let the server read what they sent

	status, took := postPlay(t, addr, play)
	if status != 200 || took > 2*time.Second {
		t.Errorf("a real callback among %d stalled uploads: %d in %s", clients, status, took)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Connections cost some tens of KiB each (goroutine, buffers); 1 MiB bodies would be 1 GiB.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 100<<20 {
		t.Errorf("heap grew by %d MiB with %d stalled uploads", grew>>20, clients)
	}
	if n := f.s.bodyMemory.Load(); n > clients*minBodyBuf {
		t.Errorf("%d body bytes reserved for %d stalled uploads", n, clients)
	}
}

// Bodies read at once never hold more than the shared budget: past it, 503 and Retry-After.
func TestBodyMemoryBudget(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.BodyMemoryBytes = 64 << 10 }, nil)
	addr := serveTCP(t, f)
	// One client holds most of the budget with a body it has not finished sending.
	hog, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hog.Close()
	fmt.Fprintf(hog, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", neteasePath, 500<<10, bytes.Repeat([]byte(" "), 60<<10))
	deadline := time.Now().Add(5 * time.Second)
	for f.s.bodyMemory.Load() < 32<<10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// A second large body cannot be read now.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, body := rawExchange(t, conn, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", neteasePath, 200<<10), string(bytes.Repeat([]byte(" "), 100<<10)))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("body over the budget: %d %s (Retry-After %q), want 503 with Retry-After", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if n := metric(t, f.reg, "callbridge_http_rejections_total", "reason", "body_memory"); n != 1 {
		t.Errorf("body_memory rejections = %v, want 1", n)
	}
	// A small callback still fits.
	if status, _ := postPlay(t, addr, testdata(t, "netease-nertc/503-play-started.json")); status != 200 {
		t.Errorf("small callback: %d", status)
	}
}

// A client that sends a whole body over the limit reads the 413, not a reset: the server reads
// (and discards) what it sends before closing. A reset would be retried; a 413 is not.
func TestBodyTooLargeIsReadNotReset(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 64 << 10 }, nil)
	addr := serveTCP(t, f)
	body := bytes.Repeat([]byte("x"), 1536<<10)
	for i := range 20 {
		resp, err := http.Post("http://"+addr+neteasePath, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %d of a 1.5 MiB body: %v (want a 413, not a broken connection)", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("POST %d: %d, want 413", i, resp.StatusCode)
		}
		http.DefaultClient.CloseIdleConnections()
	}
}

// Headers over the limit get 431, counted; the limit is a setting.
func TestHeadersTooLarge(t *testing.T) {
	for _, limit := range []int{4096, 16384} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxHeaderBytes = limit }, nil)
			addr := serveTCP(t, f)
			play := testdata(t, "netease-nertc/503-play-started.json")
			send := func(headerBytes int) int {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				h := signedNetEase(play)
				var b strings.Builder
				fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Pad: %s\r\n", neteasePath, len(play), strings.Repeat("p", headerBytes))
				for k, v := range h {
					fmt.Fprintf(&b, "%s: %s\r\n", k, v)
				}
				b.WriteString("\r\n")
				resp, _ := rawExchange(t, conn, b.String(), string(play))
				return resp.StatusCode
			}
			if got := send(limit / 2); got != 200 {
				t.Errorf("headers under the limit: %d", got)
			}
			if got := send(limit * 2); got != 431 {
				t.Errorf("headers over the limit: %d, want 431", got)
			}
			if n := metric(t, f.reg, "callbridge_http_rejections_total", "reason", "headers_too_large"); n != 1 {
				t.Errorf("headers_too_large rejections = %v, want 1", n)
			}
		})
	}
}

// No body, signature or URL token reaches the log at any level, whatever the request.
func TestLogsHoldNoRequestContent(t *testing.T) {
	const marker = "MARKER7f3a"
	logs := new(testenv.Log)
	sink := &testSink{panicNext: 1}
	f := newFixture(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.MaxHeaderBytes = 4096
		c.MaxBodyBytes = 4096
		c.ReadTimeout = 300 * time.Millisecond
		routeOf(t, c, "tencent-css").URLToken = []byte(marker + "token")
	}, sink)
	addr := serveTCP(t, f)
	relay := testdata(t, "tencent-css/314-task-start.json")
	body := `{"eventType":503,"data":{"taskId":"` + marker + `body"}}`
	requests := []string{
		// a callback that panics (the panic log must not show the token in its path)
		"POST " + tencentPath + "/" + marker + "token HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(len(relay)) + "\r\n\r\n" + string(relay),
		// a signed-looking callback whose signature fails
		"POST " + neteasePath + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + "sig\r\nMD5: " + marker + "md5\r\nCurTime: 1\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body,
		// malformed: a bad Content-Length after a signature header
		"POST " + neteasePath + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + "sig\r\nContent-Length: " + marker + "\r\n\r\n" + body,
		// malformed request line
		marker + " " + marker + " " + marker + "\r\nCheckSum: " + marker + "\r\n\r\n" + body,
		// headers over the limit
		"POST " + neteasePath + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + strings.Repeat("s", 5000) + "\r\n\r\n" + body,
		// body over the limit
		"POST " + neteasePath + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + "\r\nContent-Length: 9000\r\n\r\n" + body + strings.Repeat(marker, 800),
		// a body that never ends (read timeout)
		"POST " + neteasePath + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + "\r\nContent-Length: 3000\r\n\r\n" + body,
		// wrong token, and wrong method
		"POST " + tencentPath + "/" + marker + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		"GET " + neteasePath + "?" + marker + " HTTP/1.1\r\nHost: x\r\nCheckSum: " + marker + "\r\n\r\n",
	}
	for _, r := range requests {
		if head, rest, ok := strings.Cut(r, "\r\n"); ok { // one request a connection
			r = head + "\r\nConnection: close\r\n" + rest
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, r)
		io.Copy(io.Discard, bufio.NewReader(conn)) // until the server closes or the deadline
		conn.Close()
	}
	out := logs.String()
	if !strings.Contains(out, "panic while handling a request") || !strings.Contains(out, "request refused") {
		t.Fatalf("the log lacks the events this test makes:\n%s", out)
	}
	if strings.Contains(out, marker) {
		t.Errorf("request content in the log:\n%s", out)
	}
}

// While draining, every answer asks the client to close its connection, so it reconnects to
// another replica instead of finding this one's listener gone.
func TestDrainAnswersConnectionClose(t *testing.T) {
	f := newFixture(t, nil, nil)
	c, _ := f.serve(t)
	play := testdata(t, "netease-nertc/503-play-started.json")
	do := func() *fasthttp.Response {
		resp := new(fasthttp.Response)
		if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := do(); resp.ConnectionClose() {
		t.Fatal("Connection: close before draining")
	}
	f.s.Drain()
	if resp := do(); resp.StatusCode() != 200 || !resp.ConnectionClose() {
		t.Errorf("draining: %d, Connection: close %v", resp.StatusCode(), resp.ConnectionClose())
	}
}

// /healthz fails once the sink can never publish again, so the pod is restarted.
func TestHealthzFollowsTheSink(t *testing.T) {
	sink := new(testSink)
	f := newFixture(t, nil, sink)
	get := func() int {
		resp := viaHandle(t, f, newRequest("GET", "/healthz", nil, nil))
		return resp.StatusCode()
	}
	if got := get(); got != 200 {
		t.Fatalf("healthz %d", got)
	}
	sink.mu.Lock()
	sink.liveErr = publish.ErrClosed
	sink.mu.Unlock()
	if got := get(); got != 503 {
		t.Errorf("healthz with the connection closed for good: %d, want 503", got)
	}
}

// SetMaxBodyBytes lowers the limit while serving.
func TestSetMaxBodyBytes(t *testing.T) {
	f := newFixture(t, nil, nil)
	c, _ := f.serve(t)
	play := testdata(t, "netease-nertc/503-play-started.json")
	f.s.SetMaxBodyBytes(len(play) - 1)
	resp := new(fasthttp.Response)
	if err := c.Do(newRequest("POST", neteasePath, play, signedNetEase(play)), resp); err != nil && !errors.Is(err, fasthttp.ErrConnectionClosed) {
		t.Fatal(err)
	}
	if resp.StatusCode() != 413 {
		t.Errorf("status %d, want 413", resp.StatusCode())
	}
}

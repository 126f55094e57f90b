package faults

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// A try reset before any answer on a connection dialled for it is "unaccepted" (a listener that
// closed with the connection in its backlog); a reset on a kept-alive connection stays a reset.
func TestClassifyTry(t *testing.T) {
	try := func(client *http.Client, url string, gotConn func()) (ErrClass, bool) {
		t.Helper()
		var reused bool
		// POST, as the driver sends: the client does not retry it on another connection.
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			reused = info.Reused
			if gotConn != nil {
				gotConn()
			}
		}}))
		resp, err := client.Do(req)
		if err != nil {
			return classifyTry(err, !reused), reused
		}
		resp.Body.Close()
		return ErrNone, reused
	}

	// Never accepted: the listener closes with the connection in its backlog.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	if got, _ := try(client, "http://"+ln.Addr().String()+"/", func() { ln.Close() }); got != ErrUnaccepted {
		t.Errorf("connection reset in a closed listener's backlog: %q, want %q", got, ErrUnaccepted)
	}

	// Accepted and kept alive: the first request is answered, the second reset under it.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		for n := 0; ; n++ {
			req, err := http.ReadRequest(r)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if n == 1 {
				c.(*net.TCPConn).SetLinger(0) // RST, not FIN
				c.Close()
				return
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		}
	}()
	url := "http://" + ln.Addr().String() + "/"
	if got, _ := try(client, url, nil); got != ErrNone {
		t.Fatalf("first request: %q", got)
	}
	got, reused := try(client, url, nil)
	if !reused || got != ErrReset {
		t.Errorf("kept-alive connection reset under a request: %q (reused %v), want %q", got, reused, ErrReset)
	}
}

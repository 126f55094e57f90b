package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// `callbridge send` never prints a URL token, errors included: net/http quotes the whole URL in
// a transport error, and the token is a secret (SPEC §1). A bridge that is not there (a closed
// port) gives such an error, for a POST and for a GET (Alibaba Live's query-string callback).
func TestSendRedactsTokenOnTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	const token = "s3cr3t-url-token-4f1c"
	for _, id := range []string{"netease-nertc", "alibaba-live"} {
		t.Run(id, func(t *testing.T) {
			clearEnv(t)
			env := strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
			t.Setenv("CALLBRIDGE_"+env+"_URL_TOKEN", token)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"send", "-url", base, id}, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
			}
			out := stdout.String() + stderr.String()
			if strings.Contains(out, token) {
				t.Errorf("the URL token is printed: %s", out)
			}
			if want := base + "/v1/callbacks/" + id + "/<token>"; !strings.Contains(out, want) {
				t.Errorf("the error does not name %s: %s", want, out)
			}
		})
	}
}

// Package testenv is the test scaffolding every package's tests share: an in-process NATS
// JetStream server, an in-process Kafka cluster, a log destination safe for goroutines, a free
// port, and a callback signed the way a registry entry's provider sends it.
//
// It is for tests only: no production package may import it (TestNotImportedByProduction checks).
// Tests of package normalize itself (package normalize, not normalize_test) cannot import it,
// since it imports normalize.
package testenv

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/callbridge/callbridge/normalize"
)

// NATSOption changes the options JetStream starts a server with.
type NATSOption func(*server.Options)

// StoreDir keeps the server's JetStream data in dir (default: a new t.TempDir()), so that a
// server started again on it finds its streams.
func StoreDir(dir string) NATSOption { return func(o *server.Options) { o.StoreDir = dir } }

// Port listens on port (default: a random one), so that a server started again is found at the
// same URL.
func Port(port int) NATSOption { return func(o *server.Options) { o.Port = port } }

// Options applies f to the server's options: credentials, MaxPayload, TLS, ...
func Options(f func(*server.Options)) NATSOption { return NATSOption(f) }

// NoJetStream starts a plain server without JetStream (a broker still starting, say).
func NoJetStream() NATSOption { return func(o *server.Options) { o.JetStream = false } }

// JetStream starts an in-process nats-server with JetStream on 127.0.0.1, as nats-server's own
// RunBasicJetStreamServer test helper does, and shuts it down at the end of the test (Shutdown
// may also be called earlier, to take the broker away).
func JetStream(t testing.TB, opts ...NATSOption) *server.Server {
	t.Helper()
	o := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, NoSigs: true, NoLog: true}
	for _, f := range opts {
		f(o)
	}
	if o.Port == 0 {
		o.Port = server.RANDOM_PORT
	}
	if o.JetStream && o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return s
}

// JetStreamCluster starts n in-process nats-servers with JetStream, clustered over routes on
// loopback (cluster "testenv"), and waits until their meta leader knows all n as current peers,
// so that a replicated stream (up to n replicas) can be placed at once. Each is shut down at the
// end of the test.
func JetStreamCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = FreePort(t)
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		servers[i] = JetStream(t, Options(func(o *server.Options) {
			o.ServerName = fmt.Sprintf("n%d", i+1)
			o.Cluster = server.ClusterOpts{Name: "testenv", Host: "127.0.0.1", Port: ports[i]}
			for j, p := range ports {
				if j != i {
					o.Routes = append(o.Routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
				}
			}
		}))
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, s := range servers {
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == n {
				return servers
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream meta leader knowing all %d clustered servers within 20s", n)
		}
	}
}

// Kafka starts an in-process Kafka cluster (kfake) of one broker, unless opts say otherwise,
// closed at the end of the test. Its addresses are c.ListenAddrs(); kfake.DataDir and
// kfake.Ports make one that can be stopped and started again like a real broker.
func Kafka(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Log collects output written from other goroutines (a server's or sink's logger); the zero
// value is ready to use.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Callback is a callback as its provider sends it.
type Callback struct {
	Method string // GET or POST
	// Body is the request body of a POST, the query string of a GET.
	Body   []byte
	Header http.Header // the signature's headers and the provider's SampleHeaders
}

// Sign makes body the callback p sends to target (a URL) at now, signed with a (p.SignFor;
// a.Secret empty: unsigned), with p's SampleHeaders beside the signature's headers and p's method
// for it. The Host header is target's host (unless Sign set one): send it as the request's Host, since a
// scheme may sign it (Qiniu).
func Sign(p *normalize.Provider, a *normalize.Auth, target string, body []byte, now time.Time) (Callback, error) {
	method, body, headers, err := p.SignFor(target, body, a, now)
	if err != nil {
		return Callback{}, err
	}
	h := http.Header{}
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		h.Set("Host", u.Host)
	}
	for _, kv := range append(append([]normalize.Header(nil), p.SampleHeaders...), headers...) {
		h.Set(kv.Key, kv.Value)
	}
	return Callback{Method: method, Body: body, Header: h}, nil
}

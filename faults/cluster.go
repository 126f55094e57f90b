package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSCluster is nats-server processes clustered over routes on loopback (SPEC §10): each has
// a config file, a client port, a route port and a JetStream store of its own, and can be
// killed, stopped, continued and started again in place like a lone NATSServer.
type NATSCluster struct {
	t     testing.TB
	Nodes []*NATSServer // server_name n1, n2, ...
}

// StartNATSCluster starts n nodes and waits until JetStream has a meta leader, so that a
// replicated stream can be created.
func StartNATSCluster(t testing.TB, bin string, n int) *NATSCluster {
	t.Helper()
	c := &NATSCluster{t: t}
	routes := make([]string, n)
	for i := range routes {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", FreePort(t))
	}
	for i := range n {
		s := &NATSServer{t: t, bin: bin, dir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
		others := append(append([]string(nil), routes[:i]...), routes[i+1:]...)
		conf := fmt.Sprintf("server_name: n%d\nlisten: %q\njetstream { store_dir: %q }\n"+
			"cluster {\n  name: faults\n  listen: %q\n  routes: [%s]\n}\n",
			i+1, s.Addr, filepath.Join(s.dir, "jetstream"), strings.TrimPrefix(routes[i], "nats-route://"), quoteAll(others))
		if err := os.WriteFile(filepath.Join(s.dir, "nats.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, s)
	}
	for _, s := range c.Nodes {
		s.Start()
	}
	if err := c.waitJetStream(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// URL is every node's client URL, comma-separated, as CALLBRIDGE_NATS_URL takes it.
func (c *NATSCluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// waitJetStream waits until the JetStream API answers an account info request (a meta leader
// is elected).
func (c *NATSCluster) waitJetStream(d time.Duration) error {
	nc, err := nats.Connect(c.URL(), nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the cluster's JetStream does not answer after %s: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StreamLeader is the index in Nodes of stream's leader, waiting up to d for one.
func (c *NATSCluster) StreamLeader(stream string, d time.Duration) (int, error) {
	nc, err := nats.Connect(c.URL(), nats.Timeout(2*time.Second))
	if err != nil {
		return -1, err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(d)
	for {
		if name := streamLeader(js, stream); name != "" {
			for i := range c.Nodes {
				if name == fmt.Sprintf("n%d", i+1) {
					return i, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("stream %s has no leader after %s", stream, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// streamLeader is the server name of stream's leader, or "" when the stream does not answer
// (no leader) within half a second.
func streamLeader(js jetstream.JetStream, stream string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return ""
	}
	if info := s.CachedInfo(); info.Cluster != nil {
		return info.Cluster.Leader
	}
	return ""
}

// LeaderWatch polls a stream's leader every 100 ms, for the election times a scenario saw.
type LeaderWatch struct {
	mu      sync.Mutex
	samples []leaderSample
	stop    chan struct{}
	done    chan struct{}
}

type leaderSample struct {
	at     time.Time
	leader string // "": no leader answered
}

// WatchLeader starts polling stream's leader on the cluster at url.
func WatchLeader(url, stream string) (*LeaderWatch, error) {
	// Pings every second: a watch connected to a node that hangs moves to another within seconds,
	// rather than reporting the hang as a stream without a leader.
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.PingInterval(time.Second), nats.MaxPingsOutstanding(2))
	if err != nil {
		return nil, err
	}
	js, _ := jetstream.New(nc)
	w := &LeaderWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer nc.Close()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s := leaderSample{at: time.Now(), leader: streamLeader(js, stream)}
			w.mu.Lock()
			w.samples = append(w.samples, s)
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w, nil
}

// Stop ends the polling.
func (w *LeaderWatch) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// Span is a time during which the stream had no leader.
type Span struct {
	Start time.Time
	Len   time.Duration
}

// Leaderless returns the spans after from during which the stream had no leader (or a leader
// in gone, the servers known to be down), from the first sample without one to the first with
// one again: the elections the watch saw.
func (w *LeaderWatch) Leaderless(from time.Time, gone ...string) []Span {
	w.mu.Lock()
	defer w.mu.Unlock()
	var spans []Span
	var start time.Time
	for _, s := range w.samples {
		if s.at.Before(from) {
			continue
		}
		without := s.leader == ""
		for _, g := range gone {
			without = without || s.leader == g
		}
		switch {
		case without && start.IsZero():
			start = s.at
		case !without && !start.IsZero():
			spans = append(spans, Span{Start: start, Len: s.at.Sub(start)})
			start = time.Time{}
		}
	}
	return spans
}

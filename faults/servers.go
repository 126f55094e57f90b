package faults

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The processes a scenario runs besides the load: nats-server, a Kafka and the bridge, each on a
// loopback port of its own, so it can be killed, stopped and started again in place.

// NATSServer is a nats-server process with JetStream file storage in a directory of its own; it
// can be killed, stopped, continued and started again on the same port with the same store.
type NATSServer struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string // 127.0.0.1:port
	Proc *Proc
	gen  int
}

// StartNATS starts a nats-server on a free loopback port and waits until it answers.
func StartNATS(t testing.TB, bin string) *NATSServer {
	t.Helper()
	s := &NATSServer{t: t, bin: bin, dir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	conf := fmt.Sprintf("server_name: faults\nlisten: %q\njetstream { store_dir: %q }\n", s.Addr, filepath.Join(s.dir, "jetstream"))
	if err := os.WriteFile(filepath.Join(s.dir, "nats.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Start()
	return s
}

// URL is the client URL.
func (s *NATSServer) URL() string { return "nats://" + s.Addr }

// Start starts the server (again), waiting for the port to be free and for the server to
// answer with its INFO line.
func (s *NATSServer) Start() {
	s.t.Helper()
	if !waitPortFree(s.Addr, 15*time.Second) {
		s.t.Fatalf("nats-server: port %s still busy", s.Addr)
	}
	s.gen++
	s.Proc = StartProc(s.t, "nats-server", s.bin, []string{"-c", filepath.Join(s.dir, "nats.conf")}, baseEnv(),
		filepath.Join(s.dir, "nats.log"))
	deadline := time.Now().Add(20 * time.Second)
	for !natsAnswers(s.Addr) {
		if s.Proc.Exited() || time.Now().After(deadline) {
			s.t.Fatalf("nats-server does not answer on %s\n%s", s.Addr, s.Proc.Tail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill SIGKILLs the server and waits for it to be gone.
func (s *NATSServer) Kill() { s.Proc.Kill() }

// Stop SIGSTOPs the server: connections stay open, nothing is answered.
func (s *NATSServer) Stop() { s.Proc.Signal(syscall.SIGSTOP) }

// Cont SIGCONTs the server.
func (s *NATSServer) Cont() { s.Proc.Signal(syscall.SIGCONT) }

// natsAnswers reports whether a NATS server at addr sends its INFO line.
func natsAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO ")
}

// KafkaServer is a kfake cluster of one broker in a kfakeproc process, on a fixed loopback port
// with its data in a directory of its own, so it can be killed and started again.
type KafkaServer struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string   // the first broker's
	More []string // more brokers' addresses (StartKafkaCluster)
	args []string // kfakeproc's flags beside -port and -dir
	Proc *Proc
}

// StartKafka starts kfakeproc on a free loopback port and waits until it listens.
func StartKafka(t testing.TB, bin string) *KafkaServer {
	return StartKafkaCluster(t, bin, 1)
}

// StartKafkaCluster starts kfakeproc with brokers brokers on free loopback ports, and args
// (-shuffle, -fail-every), and waits until the first listens.
func StartKafkaCluster(t testing.TB, bin string, brokers int, args ...string) *KafkaServer {
	t.Helper()
	k := &KafkaServer{t: t, bin: bin, dir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), args: args}
	var ports []string
	for range brokers - 1 {
		p := FreePort(t)
		ports = append(ports, strconv.Itoa(p))
		k.More = append(k.More, fmt.Sprintf("127.0.0.1:%d", p))
	}
	if len(ports) > 0 {
		k.args = append(k.args, "-more-ports", strings.Join(ports, ","))
	}
	k.Start()
	return k
}

// Start starts the broker (again) on the same port and data directory.
func (k *KafkaServer) Start() {
	k.t.Helper()
	if !waitPortFree(k.Addr, 15*time.Second) {
		k.t.Fatalf("kfake: port %s still busy", k.Addr)
	}
	_, port, _ := net.SplitHostPort(k.Addr)
	k.Proc = StartProc(k.t, "kfake", k.bin, append([]string{"-port", port, "-dir", filepath.Join(k.dir, "data")}, k.args...), baseEnv(),
		filepath.Join(k.dir, "kfake.log"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", k.Addr, time.Second); err == nil {
			c.Close()
			return
		}
		if k.Proc.Exited() || time.Now().After(deadline) {
			k.t.Fatalf("kfake does not listen on %s\n%s", k.Addr, k.Proc.Tail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Brokers is every broker's address, comma-separated, as CALLBRIDGE_KAFKA_BROKERS takes it.
func (k *KafkaServer) Brokers() string { return strings.Join(append([]string{k.Addr}, k.More...), ",") }

// Kill SIGKILLs the broker.
func (k *KafkaServer) Kill() { k.Proc.Kill() }

// Bridge is a callbridge process (one at a time) on a fixed loopback port; Start starts a new
// one on the same port, as a restarted pod would be.
type Bridge struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string
	Env  map[string]string
	Proc *Proc // the current process
	all  []*Proc
}

// NewBridge prepares a bridge on a free port with env (CALLBRIDGE_LISTEN and, unless set,
// CALLBRIDGE_DATA_DIR are added); it does not start it.
func NewBridge(t testing.TB, bin string, env map[string]string) *Bridge {
	t.Helper()
	b := &Bridge{t: t, bin: bin, dir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Env: map[string]string{}}
	for k, v := range env {
		b.Env[k] = v
	}
	b.Env["CALLBRIDGE_LISTEN"] = b.Addr
	if _, ok := b.Env["CALLBRIDGE_DATA_DIR"]; !ok {
		b.Env["CALLBRIDGE_DATA_DIR"] = filepath.Join(b.dir, "data")
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range b.all {
				t.Logf("bridge #%d log (last lines, publish failures left out):\n%s", i+1, p.Tail(25, "publish failed"))
			}
		}
	})
	return b
}

// URL is the base URL, http://127.0.0.1:port.
func (b *Bridge) URL() string { return "http://" + b.Addr }

// Start starts a new bridge process once the port is free; it does not wait for readiness.
func (b *Bridge) Start() *Proc {
	b.t.Helper()
	if !waitPortFree(b.Addr, 30*time.Second) {
		b.t.Fatalf("bridge: port %s still busy", b.Addr)
	}
	env := baseEnv()
	for k, v := range b.Env {
		env = append(env, k+"="+v)
	}
	n := len(b.all) + 1
	p := StartProc(b.t, fmt.Sprintf("callbridge#%d", n), b.bin, []string{"serve"}, env,
		filepath.Join(b.dir, fmt.Sprintf("bridge-%d.log", n)))
	b.Proc = p
	b.all = append(b.all, p)
	return p
}

// WaitListening waits until the current process accepts connections (/healthz answers).
func (b *Bridge) WaitListening(d time.Duration) error {
	return b.waitStatus("/healthz", d)
}

// WaitReady waits until /readyz answers 200.
func (b *Bridge) WaitReady(d time.Duration) error {
	return b.waitStatus("/readyz", d)
}

func (b *Bridge) waitStatus(path string, d time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(d)
	last := "no answer"
	for {
		if b.Proc.Exited() {
			return fmt.Errorf("%s exited: %v\n%s", b.Proc.Name, b.Proc.err, b.Proc.Tail(20))
		}
		resp, err := c.Get(b.URL() + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s: %s after %s", b.Proc.Name, path, last, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Metric returns the sum of the samples of a Prometheus metric family on /metrics whose
// label text contains labels (e.g. `outcome="published"`), or an error.
func (b *Bridge) Metric(name, labels string) (float64, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(b.URL() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest != "" && rest[0] != ' ' && rest[0] != '{' {
			continue
		}
		if labels != "" && !strings.Contains(rest, labels) {
			continue
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("metric %s{%s} not found", name, labels)
	}
	return sum, sc.Err()
}

// Package faults is callbridge's fault suite: it runs the bridge, nats-server and a Kafka
// (kfake) as real child processes on loopback, drives signed, distinct provider callbacks at
// them at a fixed rate, injects a fault (SIGKILL, SIGSTOP, SIGTERM of one of the processes),
// then reads everything the sink holds and reports what was acknowledged, delivered, lost and
// duplicated (see RELIABILITY.md). The scenarios are in faults_test.go; this package holds the
// process control, the load driver and recorder, the sink readers and the report.
package faults

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binaries builds, once per test binary run, the programs the scenarios run as processes:
// the bridge, nats-server (from the module version in go.mod) and kfakeproc.
type Binaries struct {
	Dir string // where they are written; the caller removes it

	once                map[string]*sync.Once
	mu                  sync.Mutex
	paths, errs, output map[string]string
}

// NewBinaries writes binaries into dir.
func NewBinaries(dir string) *Binaries {
	return &Binaries{Dir: dir, once: map[string]*sync.Once{}, paths: map[string]string{}, errs: map[string]string{}, output: map[string]string{}}
}

// Package paths of the binaries.
const (
	BridgePkg = "github.com/callbridge/callbridge/cmd/callbridge"
	NATSPkg   = "github.com/nats-io/nats-server/v2"
	KfakePkg  = "github.com/callbridge/callbridge/faults/internal/kfakeproc"
)

// Path builds pkg on first use (go build -o) and returns the binary's path; a build failure
// fails the test.
func (b *Binaries) Path(t testing.TB, pkg string) string {
	t.Helper()
	b.mu.Lock()
	o := b.once[pkg]
	if o == nil {
		o = new(sync.Once)
		b.once[pkg] = o
	}
	b.mu.Unlock()
	o.Do(func() {
		goBin, err := exec.LookPath("go")
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.errs[pkg] = "go is not on PATH"
			return
		}
		out := filepath.Join(b.Dir, filepath.Base(strings.TrimSuffix(pkg, "/v2")))
		cmd := exec.Command(goBin, "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=readonly"))
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.errs[pkg] = fmt.Sprintf("go build %s: %v\n%s", pkg, err, msg)
			return
		}
		b.paths[pkg] = out
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.errs[pkg]; e != "" {
		t.Fatal(e)
	}
	return b.paths[pkg]
}

// Proc is a child process in its own process group, killed (the whole group) at cleanup.
type Proc struct {
	Name string
	Log  string // path of its combined stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid once done is closed
}

// StartProc starts bin with args and exactly env (nil: an empty environment plus PATH and
// HOME), output to logPath (appended).
func StartProc(t testing.TB, name, bin string, args, env []string, logPath string) *Proc {
	t.Helper()
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group so a signal reaches it alone and cleanup can kill everything it started;
	// Pdeathsig so a test binary killed by its timeout does not leave it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
	})
	return p
}

// Pid is the process id (and process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process group. Signalling an exited process is a no-op.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Kill sends SIGKILL to the process group (a stopped process dies too) and waits for the exit.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits up to d for the exit and returns the exit code (-1 when killed by a signal), or
// ok false on timeout.
func (p *Proc) Wait(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
	case <-time.After(d):
		return 0, false
	}
	return p.cmd.ProcessState.ExitCode(), true
}

// Tail returns the last n lines of the log, leaving out lines that contain skip (when set) and
// saying how many were left out.
func (p *Proc) Tail(n int, skip ...string) string {
	b, _ := os.ReadFile(p.Log)
	var lines []string
	skipped := 0
outer:
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		for _, s := range skip {
			if strings.Contains(l, s) {
				skipped++
				continue outer
			}
		}
		lines = append(lines, l)
	}
	if skipped > 0 {
		lines = append(lines, fmt.Sprintf("(%d lines containing %q left out)", skipped, skip))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Grep returns the log lines that contain substr, at most n.
func (p *Proc) Grep(substr string, n int) []string {
	b, _ := os.ReadFile(p.Log)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, substr) && len(out) < n {
			out = append(out, l)
		}
	}
	return out
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

// waitPortFree waits until nothing listens on addr (a process that held it has let it go).
// It looks in /proc/net/tcp rather than binding the port: a bind-and-close probe would reset a
// client connection that arrived in between, and the scenarios count resets.
func waitPortFree(addr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !listening(addr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listening reports whether a socket listens on the IPv4 addr (host:port).
func listening(addr string) bool {
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil { // not Linux: fall back to a bind probe
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
		}
		return err != nil
	}
	ip := net.ParseIP(host).To4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], port)
	wantAny := fmt.Sprintf("00000000:%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && (f[1] == want || f[1] == wantAny) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// baseEnv is the environment a child gets: PATH and HOME only, so no CALLBRIDGE_* variable of
// the caller's shell changes what a scenario tests.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

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
	Addr string
	Proc *Proc
}

// StartKafka starts kfakeproc on a free loopback port and waits until it listens.
func StartKafka(t testing.TB, bin string) *KafkaServer {
	t.Helper()
	k := &KafkaServer{t: t, bin: bin, dir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
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
	k.Proc = StartProc(k.t, "kfake", k.bin, []string{"-port", port, "-dir", filepath.Join(k.dir, "data")}, baseEnv(),
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

// jsonKey reads a structured-mode CloudEvent's identity: provider/id, from its "provider"
// extension and its "id".
func jsonKey(b []byte) (string, error) {
	var v struct {
		ID       *string `json:"id"`
		Provider *string `json:"provider"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	if v.ID == nil || v.Provider == nil {
		return "", errors.New("no id or provider member")
	}
	return *v.Provider + "/" + *v.ID, nil
}

// Package faults is callbridge's fault suite: it runs the bridge, nats-server and a Kafka
// (kfake) as real child processes on loopback, drives signed, distinct provider callbacks at
// them at a fixed rate, injects a fault (SIGKILL, SIGSTOP, SIGTERM of one of the processes),
// then reads everything the sink holds and reports what was acknowledged, delivered, lost and
// duplicated (see RELIABILITY.md). The scenarios are in faults_test.go; this package holds the
// process control, the load driver and recorder, the sink readers and the report.
package faults

import (
	"fmt"
	"net"
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

package loadgen

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

const benchUsage = `usage: callbridge bench [flags]

Load-tests a running bridge with correctly signed, distinct callbacks (every request a new
event id, so deduplication does not flatter the figure), signed with the secrets and URL tokens
of this environment (CALLBRIDGE_*), the same as callbridge send. Requests are signed before
they are due, on a goroutine of their own, and re-signed well inside the signature window
(CALLBRIDGE_MAX_CLOCK_SKEW).

Closed loop (default): -c connections, each sending the next request as soon as the previous
answer arrived. Open loop (-rate R): R requests/s in all, at fixed intervals spread over the -c
connections; latency counts from when a request was due, so a slow answer that delays the
next request shows in the figure (no coordinated omission).

Prints a progress line a second on stderr and a summary at the end: requests/s, latency
percentiles (log-linear histogram, within 0.8 %), answers by status and transport errors,
and the CPU this tool spent per request, next to the bridge's when its process is known
(-pid, or found listening on a loopback -url) with a warning when the tool costs as much as
what it measures. Exits 1 when no request was answered 200.

flags:
`

// benchConfig is what the flags say.
type benchConfig struct {
	url       string
	providers string
	conns     int
	duration  time.Duration
	rate      float64
	timeout   time.Duration
	pid       int
	jsonOut   string
	quiet     bool
	write     string
	n         int
	profile   string
}

// Loader reads the configuration and builds the registry: the command's, so that bench signs
// with the same secrets and URL tokens as the bridge it loads. Its error is a one-line
// message for exit 2.
type Loader func() (*config.Config, *normalize.Registry, error)

// Command is `callbridge bench`: it parses args (the flags of benchUsage), loads the
// configuration with load, and runs the load or writes the requests. It returns the exit code:
// 2 for flags or configuration that cannot work, 1 when no request was answered 200.
func Command(args []string, load Loader, stdout, stderr io.Writer) int {
	bc, ok := parseFlags(args, stderr)
	if !ok {
		return 2
	}
	cfg, registry, err := load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	base := strings.TrimSuffix(bc.url, "/")
	if base == "" {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		base = "http://127.0.0.1:" + port
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "callbridge bench: -url %q: want http://host:port or https://host:port\n", bc.url)
		return 2
	}
	mix, err := parseMix(bc.providers, cfg, registry, base)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
		return 2
	}
	// Sent within a fifth of the signature window of being signed: room for clock differences.
	maxAge := max(cfg.MaxClockSkew/5, time.Second)
	if bc.write != "" {
		return writeRequests(bc, mix, maxAge, stdout, stderr)
	}
	if bc.profile != "" {
		f, err := os.Create(bc.profile)
		if err != nil {
			fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
			return 2
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := runBench(bc, mix, u, maxAge, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
		return 1
	}
	return report(bc, res, stdout, stderr)
}

// parseFlags reads args into a benchConfig; on a mistake it prints the usage and says !ok.
func parseFlags(args []string, stderr io.Writer) (bc benchConfig, ok bool) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&bc.url, "url", "", "the bridge's base URL (default: http://127.0.0.1 and the port of CALLBRIDGE_LISTEN)")
	fs.StringVar(&bc.providers, "providers", "anyrtc,netease-nertc,tencent-css", "the provider mix, each with an optional weight: anyrtc:3,netease-nertc:1")
	fs.IntVar(&bc.conns, "c", 64, "keep-alive connections")
	fs.DurationVar(&bc.duration, "d", 10*time.Second, "how long to send")
	fs.Float64Var(&bc.rate, "rate", 0, "open loop: requests/s in all (0: closed loop)")
	fs.DurationVar(&bc.timeout, "timeout", 10*time.Second, "per request")
	fs.IntVar(&bc.pid, "pid", 0, "the bridge's process id, to compare CPU per request (default: the process listening on a loopback -url, when readable)")
	fs.StringVar(&bc.jsonOut, "json", "", "also write the figures as JSON to this file (-: to standard output, and the summary to standard error)")
	fs.BoolVar(&bc.quiet, "q", false, "no progress lines")
	fs.StringVar(&bc.write, "write", "", "write -n signed requests to this file instead of sending them, one a line: path TAB header TAB … TAB body (for wrk: bench/presigned.lua)")
	fs.IntVar(&bc.n, "n", 100000, "with -write: how many")
	fs.StringVar(&bc.profile, "cpuprofile", "", "write this tool's CPU profile (go tool pprof) to this file")
	if err := fs.Parse(args); err != nil {
		return bc, false
	}
	if fs.NArg() > 0 || bc.conns < 1 || bc.duration <= 0 || bc.rate < 0 || bc.n < 1 {
		fs.Usage()
		return bc, false
	}
	return bc, true
}

// report prints the summary, and writes the JSON -json asks for; it returns the exit code.
func report(bc benchConfig, res *benchResult, stdout, stderr io.Writer) int {
	if bc.jsonOut == "-" {
		printSummary(stderr, res) // standard output is the JSON alone
	} else {
		printSummary(stdout, res)
	}
	if bc.jsonOut != "" {
		out, _ := json.MarshalIndent(res, "", "  ")
		out = append(out, '\n')
		if bc.jsonOut == "-" {
			stdout.Write(out)
		} else if err := os.WriteFile(bc.jsonOut, out, 0o644); err != nil {
			fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
			return 1
		}
	}
	if res.Status["200"] == 0 {
		return 1
	}
	return 0
}

// writeRequests writes pre-signed requests for another load generator.
func writeRequests(bc benchConfig, mix []*benchProvider, maxAge time.Duration, stdout, stderr io.Writer) int {
	s := newSupply(mix, maxAge, 1024, 0)
	f, err := os.Create(bc.write)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
		return 1
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for left := bc.n; left > 0; {
		c, err := s.sign(min(left, 1024), time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
			return 1
		}
		for _, r := range c.reqs {
			w.WriteString(mix[r.prov].path)
			for _, h := range r.header {
				w.WriteString("\t" + h.Key + ": " + h.Value)
			}
			w.WriteByte('\t')
			w.Write(r.body) // compact JSON: no tab or newline
			w.WriteByte('\n')
		}
		left -= len(c.reqs)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "callbridge bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d signed requests (run %s) in %s: use them within %s\n", bc.n, s.run, bc.write, maxAge)
	return 0
}

// runBench sends the load bc describes and measures it: the requests are signed before the
// clock starts, then each connection sends until the duration is over (or SIGINT/SIGTERM), with a
// progress line a second unless bc.quiet.
func runBench(bc benchConfig, mix []*benchProvider, u *url.URL, maxAge time.Duration, stderr io.Writer) (*benchResult, error) {
	sup, err := filledSupply(bc, mix, maxAge)
	if err != nil {
		return nil, err
	}
	hc := hostClient(bc, u)
	cpu := newCPUMeter(bc, u)
	conns := make([]*connStats, bc.conns)
	for i := range conns {
		conns[i] = &connStats{errs: map[string]uint64{}}
	}
	total := &connStats{errs: map[string]uint64{}}

	stop := make(chan struct{})
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(interrupted)

	go sup.signer()
	defer sup.stop()

	cpu.begin()
	sup.measured.Store(true)
	t0 := time.Now()
	done := startConns(bc, hc, mix, sup, conns, stop, t0)
	progress(bc, conns, total, t0, done, stop, interrupted, stderr)
	elapsed := time.Since(t0)
	sup.measured.Store(false)
	cpu.end()
	sup.stop()
	sup.mu.Lock()
	signErr := sup.signErr
	sup.mu.Unlock()
	if signErr != nil {
		return nil, signErr
	}
	res := summarize(bc, mix, u, sup, total, elapsed)
	cpu.figures(res, sup)
	return res, nil
}

// filledSupply is the signer's supply of requests for bc, filled before the clock starts (not
// measured).
func filledSupply(bc benchConfig, mix []*benchProvider, maxAge time.Duration) (*supply, error) {
	chunk := 256
	minQueue := 32768
	if bc.rate > 0 {
		// A connection takes a chunk at a time: about a second of its share, so requests are
		// sent soon after they were signed even at a low rate.
		chunk = int(min(max(bc.rate/float64(bc.conns), 1), 256))
		minQueue = int(min(max(2*bc.rate, float64(bc.conns*chunk)), 1<<20))
	}
	sup := newSupply(mix, maxAge, chunk, minQueue)
	if err := sup.fill(); err != nil {
		return nil, err
	}
	return sup, nil
}

func hostClient(bc benchConfig, u *url.URL) *fasthttp.HostClient {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	return &fasthttp.HostClient{
		Addr:                          host,
		IsTLS:                         u.Scheme == "https",
		MaxConns:                      bc.conns,
		ReadTimeout:                   bc.timeout,
		WriteTimeout:                  bc.timeout,
		MaxIdleConnDuration:           time.Minute,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		MaxConnWaitTimeout:            bc.timeout,
	}
}

// startConns starts bc.conns connections sending from sup until the duration is over or stop
// closes; done closes when they all returned.
func startConns(bc benchConfig, hc *fasthttp.HostClient, mix []*benchProvider, sup *supply, conns []*connStats, stop <-chan struct{}, t0 time.Time) (done <-chan struct{}) {
	deadline := t0.Add(bc.duration)
	var wg sync.WaitGroup
	for i := range bc.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var due func(k int) time.Time // open loop: when this connection's k-th request is due
			if bc.rate > 0 {
				due = func(k int) time.Time {
					return t0.Add(time.Duration(float64(i+k*bc.conns) / bc.rate * 1e9))
				}
			}
			sendLoop(hc, mix, &reqSource{s: sup}, conns[i], stop, deadline, due)
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	return finished
}

// progress collects the connections' figures into total every second until done, printing a
// progress line unless bc.quiet; an interruption closes stop, once.
func progress(bc benchConfig, conns []*connStats, total *connStats, t0 time.Time, done <-chan struct{}, stop chan struct{}, interrupted <-chan os.Signal, stderr io.Writer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var iv connStats
	iv.errs = map[string]uint64{}
	lastTick, stopped := t0, false
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		case <-interrupted:
			if !stopped {
				close(stop)
				stopped = true
			}
			continue
		case <-tick.C:
		}
		for _, c := range conns {
			c.collect(&iv)
		}
		now := time.Now()
		if !bc.quiet && (!finished || now.Sub(lastTick) >= time.Second/2) {
			n := iv.lat.n + iv.errors()
			fmt.Fprintf(stderr, "[%4.0fs] %7.0f req/s  p50 %s  p99 %s  max %s  non-200 %d  errors %d  total %d\n",
				now.Sub(t0).Seconds(), float64(n)/now.Sub(lastTick).Seconds(),
				fmtMS(iv.lat.quantile(0.5)), fmtMS(iv.lat.quantile(0.99)), fmtMS(time.Duration(iv.lat.max)),
				iv.non200(), iv.errors(), total.lat.n+total.errors()+n)
		}
		lastTick = now
		iv.collect(total)
	}
}

// summarize is the result of a run, but for the CPU figures.
func summarize(bc benchConfig, mix []*benchProvider, u *url.URL, sup *supply, total *connStats, elapsed time.Duration) *benchResult {
	res := &benchResult{
		Mode: "closed", URL: u.Scheme + "://" + u.Host, Providers: map[string]int{}, Connections: bc.conns,
		DurationS: bc.duration.Seconds(), ElapsedS: elapsed.Seconds(),
		Answered: total.lat.n, Status: map[string]uint64{}, Errors: total.errs,
		Latency: latencyOf(&total.lat),
		Signer:  signerFigures{Signed: sup.signed.Load(), DroppedChunks: sup.dropped.Load(), Starved: sup.starved.Load(), Run: sup.run},
	}
	if bc.rate > 0 {
		res.Mode, res.Rate = "open", bc.rate
		lag := latencyOf(&total.lag)
		res.SendLag = &lag
	}
	for _, m := range mix {
		res.Providers[m.p.ID] = m.weight
	}
	for code, n := range total.status {
		if n > 0 {
			res.Status[strconv.Itoa(code)] = n
		}
	}
	res.Requests = res.Answered + total.errors()
	res.ReqPerSec = float64(res.Requests) / elapsed.Seconds()
	return res
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

const benchUsage = `usage: callbridge bench [flags]

Load-tests a running bridge with correctly signed, distinct callbacks (every request a new
event id, so deduplication does not flatter the figure), signed with the secrets and URL tokens
of this environment (CALLBRIDGE_*), the same as callbridge send. Requests are signed before
they are due, on a goroutine of their own, and re-signed well inside the replay window
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

func bench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var bc benchConfig
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
		return 2
	}
	if fs.NArg() > 0 || bc.conns < 1 || bc.duration <= 0 || bc.rate < 0 || bc.n < 1 {
		fs.Usage()
		return 2
	}
	cfg, registry, err := loadConfig()
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
	// Sent within a fifth of the replay window of being signed: room for clock differences.
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

// connStats is what one connection saw since the progress line last collected it.
type connStats struct {
	mu     sync.Mutex
	lat    histogram
	lag    histogram // open loop: how late a request was sent
	status [600]uint64
	errs   map[string]uint64
}

func (c *connStats) collect(into *connStats) {
	c.mu.Lock()
	into.lat.merge(&c.lat)
	into.lag.merge(&c.lag)
	for i, n := range c.status {
		into.status[i] += n
	}
	for k, n := range c.errs {
		into.errs[k] += n
	}
	c.lat.reset()
	c.lag.reset()
	c.status = [600]uint64{}
	clear(c.errs)
	c.mu.Unlock()
}

func (c *connStats) errors() (n uint64) {
	for _, e := range c.errs {
		n += e
	}
	return n
}

func (c *connStats) non200() (n uint64) {
	for i, s := range c.status {
		if i != 200 {
			n += s
		}
	}
	return n
}

func errorClass(err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return "timeout"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// benchResult is the summary, and the -json output.
type benchResult struct {
	Mode        string            `json:"mode"` // closed or open
	URL         string            `json:"url"`
	Providers   map[string]int    `json:"providers"` // weights
	Connections int               `json:"connections"`
	Rate        float64           `json:"rate,omitempty"`
	DurationS   float64           `json:"duration_s"`
	ElapsedS    float64           `json:"elapsed_s"`
	Requests    uint64            `json:"requests"` // answered + transport errors
	Answered    uint64            `json:"answered"`
	Status      map[string]uint64 `json:"status"`
	Errors      map[string]uint64 `json:"errors"`
	ReqPerSec   float64           `json:"req_per_s"`
	Latency     latencyMS         `json:"latency_ms"`
	SendLag     *latencyMS        `json:"send_lag_ms,omitempty"` // open loop: sent after due
	CPU         cpuFigures        `json:"cpu"`
	Signer      signerFigures     `json:"signer"`
}

type latencyMS struct {
	P50, P90, P99, P999, Max, Mean float64
}

func (l latencyMS) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"p50": l.P50, "p90": l.P90, "p99": l.P99, "p99.9": l.P999, "max": l.Max, "mean": l.Mean})
}

func latencyOf(h *histogram) latencyMS {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return latencyMS{ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(time.Duration(h.max)), ms(h.mean())}
}

type cpuFigures struct {
	BenchUSPerReq   float64 `json:"bench_us_per_req"`             // this process, signing included
	SigningUSPerReq float64 `json:"signing_us_per_req,omitempty"` // of which the signer thread
	BridgePID       int     `json:"bridge_pid,omitempty"`
	BridgeUSPerReq  float64 `json:"bridge_us_per_req,omitempty"`
	Ratio           float64 `json:"bench_to_bridge,omitempty"`
	Note            string  `json:"note,omitempty"`
}

type signerFigures struct {
	Signed        uint64 `json:"signed"`
	DroppedChunks uint64 `json:"dropped_stale_chunks"`
	Starved       uint64 `json:"connections_waited"`
	Run           string `json:"run"`
}

func runBench(bc benchConfig, mix []*benchProvider, u *url.URL, maxAge time.Duration, stderr io.Writer) (*benchResult, error) {
	open := bc.rate > 0
	chunk := 256
	minQueue := 32768
	if open {
		// A connection takes a chunk at a time: about a second of its share, so requests are
		// sent soon after they were signed even at a low rate.
		chunk = int(min(max(bc.rate/float64(bc.conns), 1), 256))
		minQueue = int(min(max(2*bc.rate, float64(bc.conns*chunk)), 1<<20))
	}
	sup := newSupply(mix, maxAge, chunk, minQueue)
	if err := sup.fill(); err != nil { // before the clock starts: not measured
		return nil, err
	}

	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	hc := &fasthttp.HostClient{
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

	pid, note := bc.pid, ""
	if pid == 0 {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			port, _ := strconv.Atoi(u.Port())
			var err error
			if pid, err = listenerPID(port); err != nil {
				note = "bridge CPU not measured: " + err.Error() + " (give -pid)"
			}
		} else {
			note = "bridge CPU not measured: give -pid of the bridge when it runs on this machine"
		}
	}
	if pid == os.Getpid() {
		pid, note = 0, "the bridge runs in this process: its CPU is in the bench figure"
	}

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

	selfBefore, selfOK := selfCPU()
	var bridgeBefore time.Duration
	if pid != 0 {
		var err error
		if bridgeBefore, err = procCPU(pid); err != nil {
			note, pid = "bridge CPU not measured: "+err.Error(), 0
		}
	}
	sup.measured.Store(true)
	t0 := time.Now()
	deadline := t0.Add(bc.duration)
	var wg sync.WaitGroup
	for i := range bc.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var due func(k int) time.Time // open loop: when this connection's k-th request is due
			if open {
				due = func(k int) time.Time {
					return t0.Add(time.Duration(float64(i+k*bc.conns) / bc.rate * 1e9))
				}
			}
			sendLoop(hc, mix, &reqSource{s: sup}, conns[i], stop, deadline, due)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

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
	elapsed := time.Since(t0)
	sup.measured.Store(false)
	selfAfter, _ := selfCPU()
	var bridgeCPU time.Duration
	if pid != 0 {
		after, err := procCPU(pid)
		if err != nil {
			note, pid = "bridge CPU not measured: "+err.Error(), 0
		}
		bridgeCPU = after - bridgeBefore
	}
	sup.stop()
	sup.mu.Lock()
	signErr := sup.signErr
	sup.mu.Unlock()
	if signErr != nil {
		return nil, signErr
	}

	res := &benchResult{
		Mode: "closed", URL: u.Scheme + "://" + u.Host, Providers: map[string]int{}, Connections: bc.conns,
		DurationS: bc.duration.Seconds(), ElapsedS: elapsed.Seconds(),
		Answered: total.lat.n, Status: map[string]uint64{}, Errors: total.errs,
		Latency: latencyOf(&total.lat),
		Signer:  signerFigures{Signed: sup.signed.Load(), DroppedChunks: sup.dropped.Load(), Starved: sup.starved.Load(), Run: sup.run},
	}
	if open {
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
	if res.Requests > 0 && selfOK {
		res.CPU.BenchUSPerReq = float64(selfAfter-selfBefore) / 1e3 / float64(res.Requests)
		res.CPU.SigningUSPerReq = float64(sup.signCPU.Load()) / 1e3 / float64(res.Requests)
	}
	if pid != 0 && res.Answered > 0 {
		res.CPU.BridgePID = pid
		res.CPU.BridgeUSPerReq = float64(bridgeCPU) / 1e3 / float64(res.Answered)
		if res.CPU.BridgeUSPerReq > 0 {
			res.CPU.Ratio = res.CPU.BenchUSPerReq / res.CPU.BridgeUSPerReq
		}
	}
	res.CPU.Note = note
	return res, nil
}

// sendLoop is one connection: closed loop when schedule is nil, else each request sent when
// schedule says it is due and timed from then.
func sendLoop(hc *fasthttp.HostClient, mix []*benchProvider, src *reqSource, st *connStats, stop <-chan struct{}, deadline time.Time, schedule func(k int) time.Time) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var timer *time.Timer
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		var due time.Time
		if schedule != nil {
			if due = schedule(k); !due.Before(deadline) {
				return
			}
			if wait := due.Sub(now); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-stop: // at a low rate the wait may be long: ^C must not wait for it
					return
				}
				now = time.Now()
			}
		} else {
			if !now.Before(deadline) {
				return
			}
			due = now
		}
		r, ok := src.next(now)
		if !ok {
			return
		}
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(mix[r.prov].url)
		for _, h := range r.header {
			if h.Key == "Content-Type" {
				req.Header.SetContentType(h.Value)
			} else {
				req.Header.Set(h.Key, h.Value)
			}
		}
		req.SetBodyRaw(r.body)
		sent := time.Now()
		err := hc.Do(req, resp)
		end := time.Now()
		st.mu.Lock()
		if err != nil {
			st.errs[errorClass(err)]++
		} else {
			st.lat.record(end.Sub(due))
			code := resp.StatusCode()
			if code < 0 || code >= len(st.status) {
				code = 0
			}
			st.status[code]++
		}
		if schedule != nil {
			st.lag.record(sent.Sub(due))
		}
		st.mu.Unlock()
	}
}

func fmtMS(d time.Duration) string {
	ms := float64(d) / 1e6
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.2fms", ms)
	}
}

func printSummary(w io.Writer, r *benchResult) {
	var mix []string
	for id, wt := range r.Providers {
		mix = append(mix, fmt.Sprintf("%s:%d", id, wt))
	}
	sort.Strings(mix)
	load := fmt.Sprintf("closed loop, %d connections", r.Connections)
	if r.Mode == "open" {
		load = fmt.Sprintf("open loop, %.0f req/s over %d connections", r.Rate, r.Connections)
	}
	ms := func(v float64) string { return fmtMS(time.Duration(v * 1e6)) }
	fmt.Fprintf(w, "callbridge bench: %s, %s, %s (%s)\n", load, time.Duration(r.DurationS*1e9), r.URL, strings.Join(mix, ","))
	fmt.Fprintf(w, "requests   %d in %.2fs = %.0f req/s (answered %d, transport errors %d)\n", r.Requests, r.ElapsedS, r.ReqPerSec, r.Answered, r.Requests-r.Answered)
	var codes []string
	for code, n := range r.Status {
		codes = append(codes, fmt.Sprintf("%s: %d", code, n))
	}
	sort.Strings(codes)
	fmt.Fprintf(w, "status     %s\n", strings.Join(codes, ", "))
	if len(r.Errors) > 0 {
		var errs []string
		for e, n := range r.Errors {
			errs = append(errs, fmt.Sprintf("%s: %d", e, n))
		}
		sort.Strings(errs)
		fmt.Fprintf(w, "errors     %s\n", strings.Join(errs, ", "))
	}
	l := r.Latency
	from := ""
	if r.Mode == "open" {
		from = " from when due"
	}
	fmt.Fprintf(w, "latency%s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n", from, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean))
	if r.SendLag != nil {
		fmt.Fprintf(w, "send lag   p99 %s  max %s  (how late this tool sent: over a few ms, the figure above is the tool's)\n", ms(r.SendLag.P99), ms(r.SendLag.Max))
	}
	c := r.CPU
	line := fmt.Sprintf("cpu        bench %.1f µs/req (signing %.1f µs/req of it)", c.BenchUSPerReq, c.SigningUSPerReq)
	if c.BridgePID != 0 {
		line += fmt.Sprintf(", bridge (pid %d) %.1f µs/req: bench/bridge = %.2f", c.BridgePID, c.BridgeUSPerReq, c.Ratio)
	}
	fmt.Fprintln(w, line)
	if c.Note != "" {
		fmt.Fprintf(w, "           (%s)\n", c.Note)
	}
	if c.BridgePID != 0 && c.BenchUSPerReq >= c.BridgeUSPerReq {
		fmt.Fprintln(w, "WARNING: this tool spent at least as much CPU per request as the bridge; on shared cores the figures are the load generator's limit as much as the bridge's")
	}
	if r.Signer.Starved > 0 {
		fmt.Fprintf(w, "WARNING: connections waited %d times for signed requests: the signer fell behind\n", r.Signer.Starved)
	}
	if r.Signer.DroppedChunks > 0 {
		fmt.Fprintf(w, "note: %d chunks of requests went stale before use and were replaced (replay window)\n", r.Signer.DroppedChunks)
	}
}

package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

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
		fmt.Fprintf(w, "note: %d chunks of requests went stale before use and were replaced (signature window)\n", r.Signer.DroppedChunks)
	}
}

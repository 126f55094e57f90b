package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestBenchEndToEnd runs callbridge bench, closed and open loop, against a bridge in this
// process: every request is answered 200, the counts add up, and every request is a distinct
// event in the stream (a repeated id would be deduplicated, leaving fewer messages).
func TestBenchEndToEnd(t *testing.T) {
	b := startBridge(t, signedEnv())
	base := "http://" + b.addr.String()
	dir := t.TempDir()

	var total uint64
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"closed", []string{"-c", "8", "-d", "1s"}},
		{"open", []string{"-c", "4", "-d", "1s", "-rate", "300", "-providers", "anyrtc:2,tencent-css,netease-nertc:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".json")
			var stdout, stderr bytes.Buffer
			args := append([]string{"bench", "-url", base, "-json", out}, tc.args...)
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
			}
			t.Logf("%s", stdout.String())
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Mode      string             `json:"mode"`
				Requests  uint64             `json:"requests"`
				Answered  uint64             `json:"answered"`
				Status    map[string]uint64  `json:"status"`
				Errors    map[string]uint64  `json:"errors"`
				ReqPerSec float64            `json:"req_per_s"`
				Latency   map[string]float64 `json:"latency_ms"`
				CPU       struct {
					Bench float64 `json:"bench_us_per_req"`
					Note  string  `json:"note"`
				} `json:"cpu"`
				Signer struct {
					Signed uint64 `json:"signed"`
				} `json:"signer"`
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatal(err)
			}
			if res.Mode != tc.name || res.Requests == 0 || res.Requests != res.Answered || res.Status["200"] != res.Answered || len(res.Status) != 1 || len(res.Errors) != 0 {
				t.Fatalf("counts do not add up, or not every answer was 200: %s", raw)
			}
			if res.Signer.Signed < res.Requests || res.CPU.Bench <= 0 || res.Latency["p50"] <= 0 || res.Latency["p99"] < res.Latency["p50"] || res.Latency["max"] < res.Latency["p99.9"] {
				t.Fatalf("implausible figures: %s", raw)
			}
			if !strings.Contains(res.CPU.Note, "this process") {
				t.Errorf("the bridge runs in the test's process, and the note should say so: %q", res.CPU.Note)
			}
			if tc.name == "open" && (res.Requests < 250 || res.Requests > 300) {
				t.Errorf("open loop at 300/s for 1s sent %d", res.Requests)
			}
			if !strings.Contains(stderr.String(), "req/s") {
				t.Errorf("no progress line on stderr: %q", stderr.String())
			}
			total += res.Requests
		})
	}

	// -write: pre-signed requests for wrk, one a line; each posted as it is is accepted.
	file := filepath.Join(dir, "requests")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "-write", file, "-n", "30"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		req, err := http.NewRequest(http.MethodPost, base+fields[0], strings.NewReader(fields[len(fields)-1]))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range fields[1 : len(fields)-1] {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("line %d: %s", lines+1, resp.Status)
		}
		lines++
	}
	if lines != 30 {
		t.Fatalf("%d lines, want 30", lines)
	}
	total += 30

	js := jetStreamClient(t, b.natsURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, b.cfg.NATSStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := s.Info(ctx, jetstream.WithSubjectFilter(canonicalPrefix+">"))
	if err != nil {
		t.Fatal(err)
	}
	var rtc uint64
	for _, n := range canonical.State.Subjects {
		rtc += n
	}
	if native := info.State.Msgs - rtc; native != total || rtc == 0 || rtc > native {
		t.Fatalf("stream holds %d events and %d canonical ones, %d requests were answered 200: ids repeated", native, rtc, total)
	}
}

func TestBenchFlags(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"bench", "-providers", "nosuch"},
		{"bench", "-providers", "anyrtc:0"},
		{"bench", "-providers", "anyrtc,anyrtc"},
		{"bench", "-c", "0"},
		{"bench", "-url", "ftp://x"},
		{"bench", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, stderr.String())
		}
	}
}

// Package monitoring checks the dashboard and the alerts against a real scrape: every metric a
// panel or an alert queries must be one a running bridge exports.
package monitoring

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/callbridge/callbridge/deploy/internal/manifest"
	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// external are metrics other exporters provide: Prometheus itself and kube-state-metrics.
var external = map[string]bool{"up": true, "kube_pod_status_ready": true}

func TestQueriesUseExportedMetrics(t *testing.T) {
	objs := renderBuffer(t) // buffer values render every alert, the buffer group included
	var exprs []string
	var probes []string
	for _, o := range objs {
		switch v := o.Typed.(type) {
		case *monitoringv1.PrometheusRule:
			for _, g := range v.Spec.Groups {
				for _, r := range g.Rules {
					exprs = append(exprs, r.Expr.String())
				}
			}
		case *appsv1.StatefulSet:
			c := v.Spec.Template.Spec.Containers[0]
			probes = append(probes, c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path, c.StartupProbe.HTTPGet.Path)
		}
	}
	dash := dashboardExprs(t)
	if len(exprs) < 8 || len(dash) < 10 {
		t.Fatalf("found %d alert and %d dashboard expressions: the extraction is broken", len(exprs), len(dash))
	}

	// Two bridges: broker mode, and buffer mode (with its broker not there: the buffer accepts
	// anyway), so that every metric of either mode is in the scrape.
	scraped := map[string]bool{}
	for _, env := range [][]string{nil, {"CALLBRIDGE_ACK_MODE=buffer", "CALLBRIDGE_NATS_URL=nats://" + freeAddr(t), "CALLBRIDGE_ALLOW_UNSIGNED=true"}} {
		addr := startBridge(t, env...)
		for _, p := range probes { // the chart's probes answer on the real server
			if code := get(t, "http://"+addr+p); code != http.StatusOK {
				t.Errorf("probe %s answered %d (%v)", p, code, env)
			}
		}
		for _, provider := range []string{"netease-nertc", "anyrtc", "tencent-css"} {
			out, err := exec.Command(tools.Callbridge(t), "send", "-url", "http://"+addr, provider).CombinedOutput()
			if err != nil {
				t.Fatalf("callbridge send %s (%v): %v\n%s", provider, env, err, out)
			}
		}
		for n := range scrape(t, "http://"+addr+"/metrics") {
			scraped[n] = true
		}
	}

	for _, e := range append(exprs, dash...) {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("no metric name found in %q", e)
		}
		for _, n := range names {
			switch {
			case scraped[n], external[n]:
			default:
				t.Errorf("%s (in %q) is not in a scrape of the bridge", n, e)
			}
		}
	}
}

// metricNames are the selectors of a PromQL expression: an identifier followed by { or [.
var selector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]`)

func metricNames(expr string) []string {
	var names []string
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	return names
}

func renderBuffer(t *testing.T) []manifest.Object {
	t.Helper()
	out, err := tools.Template(t, []string{filepath.Join(tools.Chart, "ci", "buffer-values.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tools.Chart, "dashboards", "callbridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	// label_values(metric, label) names its metric without a selector.
	lv := regexp.MustCompile(`label_values\((\w+)`)
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			if m := lv.FindStringSubmatch(q["query"].(string)); m != nil {
				exprs = append(exprs, m[1]+"{}")
			}
		}
	}
	return exprs
}

// startBridge runs callbridge with its embedded JetStream on free loopback ports until ready.
func startBridge(t *testing.T, env ...string) string {
	t.Helper()
	addr, nats := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, tools.Callbridge(t))
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"CALLBRIDGE_LISTEN=" + addr,
		"CALLBRIDGE_EMBEDDED_NATS_LISTEN=" + nats,
		"CALLBRIDGE_DATA_DIR=" + t.TempDir(),
		"CALLBRIDGE_SHUTDOWN_DELAY=0s",
	}, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for get(t, "http://"+addr+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("bridge not ready within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr
}

func get(t *testing.T, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape returns the sample names of a Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if !names["callbridge_callbacks_total"] {
		t.Fatalf("scrape has no callbridge_callbacks_total: %v", names)
	}
	return names
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

package faults

// The scenarios. Each runs real processes on loopback (the bridge, nats-server or kfake), drives
// signed callbacks at a fixed rate (anyRTC's, and a generic source's: SPEC §7's guarantees hold
// for both), injects one fault under that load, reads the whole sink back and checks the SPEC's
// delivery contract (§2 status codes, §7 delivery). Plain `go test ./faults` runs the short
// form; `go test ./faults -v -args -long` the long one, which prints the figures table for
// RELIABILITY.md. The buffer-mode scenarios are in buffer_test.go, a scenario's run and the
// shared checks in scenario_test.go.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	longForm   = flag.Bool("long", false, "run the long form: higher rate, longer load and outages, the provider's real retry schedule")
	rateFlag   = flag.Float64("rate", 0, "new callbacks per second (default 200; long 500)")
	loadFlag   = flag.Duration("load", 0, "how long new callbacks are sent (default 8s; long 60s)")
	outageFlag = flag.Duration("outage", 0, "how long a killed broker stays down (default 3s; long 15s)")
	stopFlag   = flag.Duration("stop", 0, "how long nats-server stays SIGSTOPped (default 10s; long 15s)")
	bufOutFlag = flag.Duration("buffer-outage", 0, "how long the sink stays down in the buffer-mode outage scenarios (default 10s; long 3m)")
	connsFlag  = flag.Int("conns", 16, "keep-alive connections of the driver (requests in flight at most)")
	retryFlag  = flag.String("retry", "", "provider retry schedule, comma-separated delays (default 1s,2s,4s; long 5s,10s,15s: anyRTC/Agora's three more tries within ~30s)")
	tableFlag  = flag.String("table", "", "also write the figures table (Markdown) to this file")
)

// params are one run's settings, from the flags.
type params struct {
	rate          float64
	load          time.Duration // new callbacks are scheduled this long
	faultAt       time.Duration // the fault starts this long into the load
	outage        time.Duration // a killed broker stays down this long
	stop          time.Duration // a stopped broker stays stopped this long
	bufferOutage  time.Duration // buffer mode: how long the sink is down
	conns         int
	retry         []time.Duration
	shutdownDelay time.Duration
}

func settings() params {
	p := params{rate: 200, load: 8 * time.Second, faultAt: 2 * time.Second, outage: 3 * time.Second,
		stop: 10 * time.Second, bufferOutage: 10 * time.Second, conns: *connsFlag,
		retry: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, shutdownDelay: 2 * time.Second}
	if *longForm {
		p = params{rate: 500, load: 60 * time.Second, faultAt: 10 * time.Second, outage: 15 * time.Second,
			stop: 15 * time.Second, bufferOutage: 3 * time.Minute, conns: *connsFlag,
			retry: []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second}, shutdownDelay: 5 * time.Second}
	}
	if *rateFlag > 0 {
		p.rate = *rateFlag
	}
	if *loadFlag > 0 {
		p.load = *loadFlag
	}
	if *outageFlag > 0 {
		p.outage = *outageFlag
	}
	if *stopFlag > 0 {
		p.stop = *stopFlag
	}
	if *bufOutFlag > 0 {
		p.bufferOutage = *bufOutFlag
	}
	if *retryFlag != "" {
		p.retry = nil
		for _, s := range strings.Split(*retryFlag, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				fmt.Fprintf(os.Stderr, "-retry: %v\n", err)
				os.Exit(2)
			}
			p.retry = append(p.retry, d)
		}
	}
	return p
}

var (
	bins      *Binaries
	reportsMu sync.Mutex
	reports   []*Report
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "callbridge-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins = NewBinaries(dir)
	code := m.Run()
	os.RemoveAll(dir)
	if len(reports) > 0 && (*longForm || testing.Verbose() || *tableFlag != "") {
		var b strings.Builder
		p := settings()
		fmt.Fprintf(&b, "\nfigures (%s form: %.0f callbacks/s for %s over %d connections, retries %v):\n\n",
			map[bool]string{true: "long", false: "short"}[*longForm], p.rate, p.load, p.conns, p.retry)
		WriteTable(&b, reports)
		fmt.Print(b.String())
		if *tableFlag != "" {
			if err := os.WriteFile(*tableFlag, []byte(b.String()), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

const (
	secret        = "faults-anyrtc-secret"
	webhookSecret = "whsec_ZmF1bHRzLWdlbmVyaWMtc291cmNlLWtleQ==" // base64("faults-generic-source-key")
)

// bridgeEnv is the bridge's configuration shared by every scenario: anyRTC signed with a secret,
// and the generic source WebhookSource.
func bridgeEnv(p params, extra map[string]string) map[string]string {
	env := map[string]string{
		"CALLBRIDGE_ANYRTC_SECRET":   secret,
		"CALLBRIDGE_LOG_LEVEL":       "info",
		"CALLBRIDGE_SHUTDOWN_DELAY":  p.shutdownDelay.String(),
		"CALLBRIDGE_RETRY_AFTER":     "5s",
		"CALLBRIDGE_PUBLISH_TIMEOUT": "5s",
	}
	for k, v := range WebhookEnv(webhookSecret) {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// loadMix is what the driver sends: three anyRTC callbacks to one of the generic source.
func loadMix() []Sender {
	anyrtc := AnyRTCSender([]byte(secret))
	return []Sender{anyrtc, anyrtc, anyrtc, WebhookSender(webhookSecret)}
}

// natsBridge starts a nats-server and a bridge publishing to it, ready.
func natsBridge(t *testing.T, p params, extra map[string]string) (*NATSServer, *Bridge) {
	t.Helper()
	ns := StartNATS(t, bins.Path(t, NATSPkg))
	env := map[string]string{"CALLBRIDGE_NATS_URL": ns.URL()}
	for k, v := range extra {
		env[k] = v
	}
	b := NewBridge(t, bins.Path(t, BridgePkg), bridgeEnv(p, env))
	b.Start()
	if err := b.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	return ns, b
}

// kafkaBridge starts kfake and a bridge publishing to it, ready.
func kafkaBridge(t *testing.T, p params, extra map[string]string) (*KafkaServer, *Bridge) {
	t.Helper()
	ks := StartKafka(t, bins.Path(t, KfakePkg))
	env := map[string]string{
		"CALLBRIDGE_SINK":                    "kafka",
		"CALLBRIDGE_KAFKA_BROKERS":           ks.Addr,
		"CALLBRIDGE_KAFKA_CREATE_TOPICS":     "true",
		"CALLBRIDGE_KAFKA_REQUIRED_ACKS":     "all",
		"CALLBRIDGE_KAFKA_TOPIC_REPLICATION": "1",
	}
	for k, v := range extra {
		env[k] = v
	}
	b := NewBridge(t, bins.Path(t, BridgePkg), bridgeEnv(p, env))
	b.Start()
	if err := b.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	return ks, b
}

func jetStreamReader(ns *NATSServer) func(context.Context) (*Stored, error) {
	return func(ctx context.Context) (*Stored, error) { return ReadJetStream(ctx, ns.URL(), "CALLBACKS") }
}

func kafkaReader(ks *KafkaServer) func(context.Context) (*Stored, error) {
	return func(ctx context.Context) (*Stored, error) { return ReadKafka(ctx, ks.Addr, "callbacks.") }
}

// killFor is the fault "a broker SIGKILLed, started again (same port and store) after d".
func killFor(broker interface {
	Kill()
	Start()
}, d time.Duration) func() Timeline {
	return func() Timeline {
		tl := Timeline{Start: time.Now()}
		broker.Kill()
		time.Sleep(d)
		broker.Start()
		tl.End = time.Now()
		return tl
	}
}

// (a) The external nats-server is SIGKILLed under load and started again on the same port and
// store: acknowledged events survive, the outage is answered 503 + Retry-After, and 200s come
// back within seconds of the broker.
func TestNATSKilledAndRestarted(t *testing.T) {
	p := settings()
	ns, b := natsBridge(t, p, nil)
	r := scenario{
		name: "nats-kill", sink: "nats", b: b, p: p,
		fault:  fmt.Sprintf("nats-server SIGKILL, restarted after %s", p.outage),
		inject: killFor(ns, p.outage),
		read:   jetStreamReader(ns),
	}.run(t)
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkRetryAfter(t, r)
	checkNoTransportErrors(t, r)
	if r.Statuses[503] == 0 {
		t.Errorf("SPEC §2: no 503 while the broker was down for %s", p.outage)
	}
	if r.Recovery < 0 || r.Recovery > 10*time.Second {
		t.Errorf("200 again %s after the broker came back, want within 10s", dur(r.Recovery))
	}
	if r.ReadyDown < 0 || r.ReadyDown > 5*time.Second {
		t.Errorf("SPEC §2: /readyz not 503 within 5s of the broker dying (%s)", dur(r.ReadyDown))
	}
	if r.ReadyUp < 0 || r.ReadyUp > 10*time.Second {
		t.Errorf("/readyz not 200 within 10s of the broker's return (%s)", dur(r.ReadyUp))
	}
}

// (b) nats-server is SIGSTOPped (connected, answering nothing) and later SIGCONTed: /readyz
// turns 503 within a few seconds (SPEC §7) and 200 after; nothing acknowledged is lost.
func TestNATSStopped(t *testing.T) {
	p := settings()
	p.load = p.faultAt + p.stop + 4*time.Second
	ns, b := natsBridge(t, p, nil)
	r := scenario{
		name: "nats-stop", sink: "nats", b: b, p: p,
		fault: fmt.Sprintf("nats-server SIGSTOP for %s, then SIGCONT", p.stop),
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			ns.Stop()
			time.Sleep(p.stop)
			ns.Cont()
			tl.End = time.Now()
			return tl
		},
		read: jetStreamReader(ns),
	}.run(t)
	for _, l := range append(b.Proc.Grep("nats disconnected", 3), b.Proc.Grep("nats reconnected", 3)...) {
		r.Notes = append(r.Notes, "bridge log: "+l)
	}
	for _, l := range ns.Proc.Grep("[ERR]", 3) {
		r.Notes = append(r.Notes, "nats-server log: "+l)
	}
	t.Log(strings.Join(r.Notes, "\n"))
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkRetryAfter(t, r)
	// "A few seconds": the publish timeout (5s, the first acknowledgement to time out) and 3s
	// of slack for a loaded machine.
	if bound := 8 * time.Second; r.ReadyDown < 0 || r.ReadyDown > bound {
		t.Errorf("SPEC §7: /readyz must reflect a broker that is connected but not answering within a few seconds; not-200 after %s (bound %s, broker stopped %s)",
			dur(r.ReadyDown), bound, p.stop)
	}
	if r.ReadyUp < 0 || r.ReadyUp > 10*time.Second {
		t.Errorf("/readyz not 200 within 10s of SIGCONT (%s)", dur(r.ReadyUp))
	}
	if r.Recovery < 0 || r.Recovery > 10*time.Second {
		t.Errorf("200 again %s after SIGCONT, want within 10s", dur(r.Recovery))
	}
}

// (c) Rolling restart: the bridge is SIGTERMed under load and a new one started on the same
// port as soon as the old one lets it go. In-flight requests finish with Connection: close, so
// the client sees no reset (SPEC §7); the old process exits 0; nothing acknowledged is lost.
func TestBridgeRollingRestart(t *testing.T) {
	p := settings()
	ns, b := natsBridge(t, p, nil)
	var oldExit int
	var oldExited bool
	var exitAfter time.Duration
	r := scenario{
		name: "bridge-sigterm", sink: "nats", b: b, p: p,
		fault: fmt.Sprintf("bridge SIGTERM (shutdown delay %s), new bridge on the same port", p.shutdownDelay),
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			old := b.Proc
			old.Signal(syscall.SIGTERM)
			b.Start() // once the old listener has closed
			tl.Replaced = time.Now()
			if err := b.WaitReady(60 * time.Second); err != nil {
				t.Error(err)
			}
			tl.End = time.Now()
			oldExit, oldExited = old.Wait(45 * time.Second)
			exitAfter = time.Since(tl.Start)
			return tl
		},
		read: jetStreamReader(ns),
	}.run(t)
	r.Notes = append(r.Notes, fmt.Sprintf("old bridge exit code %d (exited: %v, %s after SIGTERM)", oldExit, oldExited, dur(exitAfter)))
	t.Log(r.Notes[len(r.Notes)-1])
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkRetryAfter(t, r)
	if r.Resets != 0 {
		t.Errorf("SPEC §7: in-flight requests finish with Connection: close during a drain; %d requests lost their connection (%d reset, %d closed before the answer)", r.Resets, r.Errors[ErrReset], r.Errors[ErrClosed])
	}
	if !oldExited || oldExit != 0 {
		t.Errorf("SPEC §7: SIGTERM exits 0 within CALLBRIDGE_SHUTDOWN_TIMEOUT; exited %v, code %d", oldExited, oldExit)
	}
}

// (d) The bridge is SIGKILLed under load and started again: in broker mode a 200 was only
// given after the broker's acknowledgement, so nothing acknowledged is lost.
func TestBridgeKilled(t *testing.T) {
	p := settings()
	ns, b := natsBridge(t, p, nil)
	r := scenario{
		name: "bridge-kill", sink: "nats", b: b, p: p,
		fault: "bridge SIGKILL, restarted at once",
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			b.Proc.Kill()
			b.Start()
			tl.Replaced = time.Now()
			if err := b.WaitReady(60 * time.Second); err != nil {
				t.Error(err)
			}
			tl.End = time.Now()
			return tl
		},
		read: jetStreamReader(ns),
	}.run(t)
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkRetryAfter(t, r)
	if r.Recovery < 0 {
		t.Errorf("no 200 after the restarted bridge was ready")
	}
}

// (e) The Kafka broker (kfake in its own process) is SIGKILLed under load and started again on
// the same port and data: nothing acknowledged is lost; the outage is 503 + Retry-After.
// Duplicates are allowed on Kafka (SPEC §2) and reported.
func TestKafkaKilledAndRestarted(t *testing.T) {
	p := settings()
	ks, b := kafkaBridge(t, p, nil)
	r := scenario{
		name: "kafka-kill", sink: "kafka", b: b, p: p,
		fault:  fmt.Sprintf("kfake SIGKILL, restarted after %s", p.outage),
		inject: killFor(ks, p.outage),
		read:   kafkaReader(ks),
	}.run(t)
	checkNoLoss(t, r)
	checkRetryAfter(t, r)
	checkNoTransportErrors(t, r)
	if r.Recovery < 0 {
		t.Errorf("no 200 after the broker came back")
	}
}

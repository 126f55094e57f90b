package faults

// The buffer-mode scenarios (SPEC §7, CALLBRIDGE_ACK_MODE=buffer); the others, the load and the
// checks are in faults_test.go.

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Buffer mode (SPEC §7, CALLBRIDGE_ACK_MODE=buffer): 200 after a durable local write, forwarded
// to the sink later. A bridge that refuses these settings fails the scenario (natsBridge and
// kafkaBridge report its exit and its last log lines): buffer mode is built, never skipped.

// bufferEnv is buffer mode with a generous bound; the bridge's CALLBRIDGE_DATA_DIR is its own
// directory, kept across restarts of the same Bridge.
func bufferEnv(maxBytes int) map[string]string {
	return map[string]string{
		"CALLBRIDGE_ACK_MODE":         "buffer",
		"CALLBRIDGE_BUFFER_MAX_BYTES": fmt.Sprint(maxBytes),
		"CALLBRIDGE_BUFFER_MAX_AGE":   "1h",
		// The bound must hold a few of the largest bodies; these callbacks are under 1 KiB.
		"CALLBRIDGE_MAX_BODY_BYTES": "65536",
	}
}

const bufferSettle = 90 * time.Second // how long the forwarder gets to drain after the load

// checkAllOK: in buffer mode a sink outage is invisible to the provider.
func checkAllOK(t *testing.T, r *Report) {
	t.Helper()
	if r.Statuses[http.StatusOK] != r.Attempts {
		t.Errorf("SPEC §7 buffer mode: every callback is answered 200 while the buffer accepts, whatever the sink's state; answers %s, transport errors %s",
			r.statuses(), r.errors())
	}
	if r.ReadyDown >= 0 {
		t.Errorf("SPEC §7 buffer mode: /readyz stays 200 while the buffer accepts; it was not 200 %s after the fault began", dur(r.ReadyDown))
	}
}

func checkBufferEmpty(t *testing.T, b *Bridge) {
	t.Helper()
	// The gauge is read from the buffer once a second and forwarded events are deleted in
	// batches: give it a few seconds after the sink holds everything.
	var n float64
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if n, err = b.Metric("callbridge_buffer_messages", ""); err == nil && n == 0 {
			return
		}
	}
	if err != nil {
		t.Errorf("SPEC §7: %v", err)
	} else {
		t.Errorf("callbridge_buffer_messages is %v after the sink came back and the forwarder had %s", n, bufferSettle)
	}
}

// (f) Buffer mode, the external nats-server down for a long time (short form: seconds; long:
// minutes): zero non-200 answers, /readyz 200 throughout, everything forwarded afterwards.
func TestBufferNATSDown(t *testing.T) {
	p := settings()
	p.load = p.faultAt + p.bufferOutage + 4*time.Second
	ns, b := natsBridge(t, p, bufferEnv(1<<30))
	r := scenario{
		name: "buffer-nats-down", sink: "nats", b: b, p: p, settle: max(bufferSettle, p.bufferOutage),
		fault:  fmt.Sprintf("buffer mode: nats-server SIGKILL, restarted after %s", p.bufferOutage),
		inject: killFor(ns, p.bufferOutage),
		read:   jetStreamReader(ns),
	}.run(t)
	checkAllOK(t, r)
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkBufferEmpty(t, b)
}

// (g) Buffer mode, the bridge SIGKILLed three times under load and restarted with the same data
// directory: what was buffered and not forwarded is forwarded after restart (SPEC §7).
func TestBufferBridgeKilledRepeatedly(t *testing.T) {
	p := settings()
	const kills, gap = 3, 2 * time.Second
	p.load = p.faultAt + kills*gap + 2*time.Second
	ns, b := natsBridge(t, p, bufferEnv(1<<30))
	r := scenario{
		name: "buffer-bridge-kill", sink: "nats", b: b, p: p, settle: max(bufferSettle, p.bufferOutage),
		fault: fmt.Sprintf("buffer mode: bridge SIGKILL %d times, %s apart, restarted at once", kills, gap),
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			for i := range kills {
				b.Proc.Kill()
				b.Start()
				tl.Replaced = time.Now()
				if err := b.WaitListening(60 * time.Second); err != nil {
					t.Error(err)
				}
				if i < kills-1 {
					time.Sleep(gap)
				}
			}
			tl.End = time.Now()
			return tl
		},
		read: jetStreamReader(ns),
	}.run(t)
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkRetryAfter(t, r)
	checkBufferEmpty(t, b)
}

// (h) Buffer mode with a small bound and the sink down: once the buffer is full the bridge
// answers 503 + Retry-After rather than exceed CALLBRIDGE_BUFFER_MAX_BYTES; what it accepted is
// forwarded when the sink returns.
func TestBufferFull(t *testing.T) {
	p := settings()
	p.faultAt = time.Second
	const bound = 256 << 10 // a few hundred callbacks
	ns, b := natsBridge(t, p, bufferEnv(bound))
	var peak float64
	var metricErr error
	r := scenario{
		name: "buffer-full", sink: "nats", b: b, p: p, settle: max(bufferSettle, p.bufferOutage),
		fault: fmt.Sprintf("buffer mode, CALLBRIDGE_BUFFER_MAX_BYTES=%d: nats-server SIGKILL until the load ends", bound),
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			ns.Kill()
			for end := tl.Start.Add(p.load - p.faultAt); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				v, err := b.Metric("callbridge_buffer_bytes", "")
				if err != nil {
					metricErr = err
					continue
				}
				peak = max(peak, v)
			}
			ns.Start()
			tl.End = time.Now()
			return tl
		},
		read: jetStreamReader(ns),
	}.run(t)
	r.Notes = append(r.Notes, fmt.Sprintf("callbridge_buffer_bytes peaked at %.0f (bound %d)", peak, bound))
	t.Log(r.Notes[len(r.Notes)-1])
	if metricErr != nil {
		t.Errorf("SPEC §7: %v", metricErr)
	}
	if peak > bound {
		t.Errorf("SPEC §7: the buffer held %.0f bytes, over CALLBRIDGE_BUFFER_MAX_BYTES=%d", peak, bound)
	}
	if r.Statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("SPEC §7: no 503 although %d callbacks went to a full buffer of %d bytes", r.Sent, bound)
	}
	checkRetryAfter(t, r)
	checkNoLoss(t, r)
	checkNoJetStreamDuplicates(t, r)
	checkBufferEmpty(t, b)
}

// (i) Buffer mode, Kafka (kfake) down for a while and back: zero non-200 answers, everything
// forwarded afterwards. Duplicates are allowed on Kafka and reported.
func TestBufferKafkaDown(t *testing.T) {
	p := settings()
	p.load = p.faultAt + p.bufferOutage + 4*time.Second
	ks, b := kafkaBridge(t, p, bufferEnv(1<<30))
	r := scenario{
		name: "buffer-kafka-down", sink: "kafka", b: b, p: p, settle: max(bufferSettle, p.bufferOutage),
		fault:  fmt.Sprintf("buffer mode: kfake SIGKILL, restarted after %s", p.bufferOutage),
		inject: killFor(ks, p.bufferOutage),
		read:   kafkaReader(ks),
	}.run(t)
	checkAllOK(t, r)
	checkNoLoss(t, r)
	checkBufferEmpty(t, b)
}

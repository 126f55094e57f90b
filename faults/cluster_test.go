package faults

// The cluster scenarios (SPEC §10): a three-node nats-server cluster (real processes, config
// files, routes on loopback), an R3 stream, and two bridges sharing the load as two pods behind
// a Service would. Each reports, beside the usual figures, the elections it saw (spans during
// which the stream had no leader, polled every 100 ms) and how the callbacks sent during them
// were answered. Lost 0 and duplicates 0 on JetStream everywhere; during an election most
// callbacks answered 200 (retried within the publish timeout rather than 503).

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

const clusterStream = "CALLBACKS"

// clusterPublishTimeout is the bridges' CALLBRIDGE_PUBLISH_TIMEOUT on the cluster: a stream
// elects a new leader 4 to 9 s after the old one is killed (nats-server's election timeouts),
// so the default 5 s would answer 503 to the callbacks that arrive first in a slow election.
const clusterPublishTimeout = "10s"

// clusterRun is one cluster scenario's setting up: the cluster, its two bridges (the second
// started once the first created the stream), and the leader watch.
type clusterRun struct {
	c     *NATSCluster
	a, b  *Bridge
	watch *LeaderWatch
}

func startClusterRun(t *testing.T, p params) *clusterRun {
	t.Helper()
	c := StartNATSCluster(t, bins.Path(t, NATSPkg), 3)
	env := bridgeEnv(p, map[string]string{"CALLBRIDGE_NATS_URL": c.URL(), "CALLBRIDGE_NATS_REPLICAS": "3",
		"CALLBRIDGE_PUBLISH_TIMEOUT": clusterPublishTimeout})
	r := &clusterRun{c: c}
	for _, b := range []**Bridge{&r.a, &r.b} {
		*b = NewBridge(t, bins.Path(t, BridgePkg), env)
		(*b).Start()
		if err := (*b).WaitReady(60 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	w, err := WatchLeader(c.URL(), clusterStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	r.watch = w
	return r
}

func (r *clusterRun) scenario(name, fault string, p params, inject func() Timeline) scenario {
	url := r.c.URL() // every node's: one down does not matter
	return scenario{name: name, sink: "nats", b: r.a, mirrors: []*Bridge{r.b}, p: p, fault: fault, inject: inject,
		read: func(ctx context.Context) (*Stored, error) {
			// A node just started may answer before its JetStream has caught up: read again.
			for {
				st, err := ReadJetStream(ctx, url, clusterStream)
				if err == nil || ctx.Err() != nil {
					return st, err
				}
				t := time.NewTimer(500 * time.Millisecond)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		}}
}

// leader is the stream leader's index, failing the test when there is none.
func (r *clusterRun) leader(t *testing.T) int {
	i, err := r.c.StreamLeader(clusterStream, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// check is every cluster scenario's contract: nothing acknowledged lost, nothing stored twice,
// every 503 with Retry-After, and most callbacks answered 200 during the elections seen (gone:
// the servers a fault took away, whose name as a leader means none).
func (r *clusterRun) check(t *testing.T, rep *Report, gone ...string) {
	t.Helper()
	checkNoLoss(t, rep)
	checkNoJetStreamDuplicates(t, rep)
	checkRetryAfter(t, rep)
	r.checkElections(t, rep, gone...)
}

// checkElections notes the elections seen after the fault began and how the callbacks sent
// during them were answered, and requires most of them answered 200.
func (r *clusterRun) checkElections(t *testing.T, rep *Report, gone ...string) {
	t.Helper()
	r.watch.Stop()
	spans := r.watch.Leaderless(rep.FaultAt, gone...)
	rep.Notes = append(rep.Notes, fmt.Sprintf("elections seen (stream without a leader): %v", roundAll(spans)))
	ok, all := 0, 0
	for _, sp := range spans {
		o, a := rep.AnsweredBetween(sp.Start, sp.Start.Add(sp.Len))
		ok, all = ok+o, all+a
	}
	if len(spans) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("requests sent while the stream had no leader: %d, answered 200: %d", all, ok))
		if all > 0 && 2*ok <= all {
			t.Errorf("SPEC §10: during an election most callbacks answer 200 (retried within the publish timeout); %d of %d did", ok, all)
		}
	}
	t.Log(rep.Notes)
}

func roundAll(spans []Span) []string {
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = dur(sp.Len)
	}
	return out
}

// The stream leader is SIGKILLed under load and started again after the outage: the stream
// elects a new leader, the bridges retry through the election, nothing is lost or stored twice.
func TestClusterLeaderKilled(t *testing.T) {
	p := settings()
	r := startClusterRun(t, p)
	var name string
	rep := r.scenario("cluster-leader-kill", fmt.Sprintf("R3 stream leader SIGKILLed, restarted after %s; two bridges", p.outage), p, func() Timeline {
		i := r.leader(t)
		name = fmt.Sprintf("n%d", i+1)
		return killFor(r.c.Nodes[i], p.outage)()
	}).run(t)
	r.check(t, rep, name)
}

// A follower is SIGSTOPped (connections open, nothing answered) and continued: the quorum
// stands on the other two, so publishes go on; a bridge connected to the stopped node
// reconnects elsewhere after two missed pings.
func TestClusterFollowerStopped(t *testing.T) {
	p := settings()
	stop := p.stop
	if *longForm {
		stop = 20 * time.Second
	}
	p.load = p.faultAt + stop + 4*time.Second
	r := startClusterRun(t, p)
	rep := r.scenario("cluster-follower-stop", fmt.Sprintf("an R3 stream follower SIGSTOPped for %s; two bridges", stop), p, func() Timeline {
		node := r.c.Nodes[(r.leader(t)+1)%3]
		tl := Timeline{Start: time.Now()}
		node.Stop()
		time.Sleep(stop)
		node.Cont()
		tl.End = time.Now()
		return tl
	}).run(t)
	r.check(t, rep)
}

// The three nodes are restarted one by one (SIGTERM, started again, the next once the stream
// has a leader again), as a rolling update of the NATS StatefulSet does.
func TestClusterRollingRestart(t *testing.T) {
	p := settings()
	p.load = p.faultAt + 3*p.outage + 8*time.Second
	r := startClusterRun(t, p)
	rep := r.scenario("cluster-rolling", "the three nodes SIGTERMed and restarted one by one; two bridges", p, func() Timeline {
		tl := Timeline{Start: time.Now()}
		for _, node := range r.c.Nodes {
			node.Proc.Signal(syscall.SIGTERM)
			if _, ok := node.Proc.Wait(20 * time.Second); !ok {
				t.Errorf("%s did not exit on SIGTERM", node.Proc.Name)
				node.Kill()
			}
			node.Start()
			r.leader(t)
			time.Sleep(p.outage / 2)
		}
		tl.End = time.Now()
		return tl
	}).run(t)
	r.check(t, rep)
}

// Every callback reaches both bridges at the same moment, as one provider retry reaching two
// pods: both answer 200 and the stream holds it once (the second publish is answered 409/10158
// while the first is replicated, and waited out).
func TestClusterSameCallbackToBoth(t *testing.T) {
	p := settings()
	r := startClusterRun(t, p)
	s := r.scenario("cluster-both-bridges", "every callback sent to both bridges at once", p, func() Timeline {
		now := time.Now()
		return Timeline{Start: now, End: now}
	})
	s.fanout = true
	rep := s.run(t)
	r.check(t, rep)
	if n := rep.Attempts - rep.Statuses[200]; n != 0 {
		t.Errorf("SPEC §10: the same callback reaching two bridges at once is answered 200 by both; %d of %d requests were not (%s)", n, rep.Attempts, rep.statuses())
	}
}

// Kafka with three brokers (kfake in its own process): every partition's leader moves to a
// broker picked at random every 500 ms, and every 10th produce request is answered
// NOT_ENOUGH_REPLICAS or REQUEST_TIMED_OUT, throughout the load, in front of two bridges
// (acks=all). Retried within the publish timeout: lost 0, and most callbacks answer 200;
// duplicates are allowed on Kafka (consumers drop them by source and id) and reported.
func TestKafkaClusterLeadersMove(t *testing.T) {
	p := settings()
	ks := StartKafkaCluster(t, bins.Path(t, KfakePkg), 3, "-shuffle", "500ms", "-fail-every", "10")
	env := bridgeEnv(p, map[string]string{
		"CALLBRIDGE_SINK":                    "kafka",
		"CALLBRIDGE_KAFKA_BROKERS":           ks.Brokers(),
		"CALLBRIDGE_KAFKA_CREATE_TOPICS":     "true",
		"CALLBRIDGE_KAFKA_REQUIRED_ACKS":     "all",
		"CALLBRIDGE_KAFKA_TOPIC_REPLICATION": "3",
	})
	var bridges [2]*Bridge
	for i := range bridges {
		bridges[i] = NewBridge(t, bins.Path(t, BridgePkg), env)
		bridges[i].Start()
		if err := bridges[i].WaitReady(60 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	rep := scenario{name: "kafka-cluster-moves", sink: "kafka", b: bridges[0], mirrors: bridges[1:], p: p,
		fault: "3 kfake brokers: leaders shuffled every 500ms, every 10th produce NOT_ENOUGH_REPLICAS or REQUEST_TIMED_OUT; two bridges",
		inject: func() Timeline {
			tl := Timeline{Start: time.Now()}
			time.Sleep(p.load - p.faultAt)
			tl.End = time.Now()
			return tl
		},
		read: kafkaReader(ks),
	}.run(t)
	checkNoLoss(t, rep)
	checkRetryAfter(t, rep)
	if ok := rep.Statuses[200]; 2*ok <= rep.Attempts {
		t.Errorf("SPEC §10: retriable produce errors are retried within the publish timeout; only %d of %d requests answered 200", ok, rep.Attempts)
	}
}

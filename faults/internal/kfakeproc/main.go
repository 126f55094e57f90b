// Command kfakeproc runs a kfake Kafka cluster of one broker in its own process, on a fixed
// loopback port with its data in a directory, so the fault suite can SIGKILL it and start it
// again on the same port with the same data, like a real broker. It prints "ready <addr>" once
// it listens, and exits on SIGTERM or SIGINT after closing the cluster.
//
// For the cluster scenarios (SPEC §10) it runs more brokers (-more-ports), moves every
// partition's leader to a broker picked at random every -shuffle (the old leader then answers
// NOT_LEADER_FOR_PARTITION to a client whose metadata is older), and answers every -fail-every'th
// produce request with NOT_ENOUGH_REPLICAS or REQUEST_TIMED_OUT, in turn, before appending.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/callbridge/callbridge/internal/kfakefail"
)

func main() {
	port := flag.Int("port", 0, "loopback port to listen on (required)")
	dir := flag.String("dir", "", "data directory, reloaded at start (required)")
	sync := flag.Bool("sync", false, "fsync every produced batch (kfake.SyncWrites)")
	partitions := flag.Int("partitions", 3, "partitions of an auto-created topic")
	morePorts := flag.String("more-ports", "", "comma-separated loopback ports of more brokers")
	shuffle := flag.Duration("shuffle", 0, "move every partition's leader to a random broker this often; 0: never")
	failEvery := flag.Int64("fail-every", 0, "answer every n-th produce request with a retriable error; 0: none")
	flag.Parse()
	if *port == 0 || *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: kfakeproc -port PORT -dir DIR [-sync]")
		os.Exit(2)
	}
	ports := []int{*port}
	for _, p := range strings.Split(*morePorts, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			ports = append(ports, n)
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(len(ports)),
		kfake.Ports(ports...),
		kfake.DataDir(*dir),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
	}
	if *sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakeproc:", err)
		os.Exit(1)
	}
	if *failEvery > 0 {
		failProduce(c, *failEvery)
	}
	if *shuffle > 0 {
		go func() {
			for range time.Tick(*shuffle) {
				c.ShufflePartitionLeaders()
			}
		}()
	}
	fmt.Println("ready", c.ListenAddrs())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Close()
}

// failProduce answers every n-th produce request with NOT_ENOUGH_REPLICAS or REQUEST_TIMED_OUT,
// in turn, before anything is appended.
func failProduce(c *kfake.Cluster, n int64) {
	kfakefail.Produce(c, func(seen int64) int16 {
		switch {
		case seen%n != 0:
			return 0
		case seen/n%2 == 0:
			return kerr.RequestTimedOut.Code
		}
		return kerr.NotEnoughReplicas.Code
	})
}

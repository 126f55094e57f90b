// Command kfakeproc runs a kfake Kafka cluster of one broker in its own process, on a fixed
// loopback port with its data in a directory, so the fault suite can SIGKILL it and start it
// again on the same port with the same data, like a real broker. It prints "ready <addr>" once
// it listens, and exits on SIGTERM or SIGINT after closing the cluster.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "loopback port to listen on (required)")
	dir := flag.String("dir", "", "data directory, reloaded at start (required)")
	sync := flag.Bool("sync", false, "fsync every produced batch (kfake.SyncWrites)")
	partitions := flag.Int("partitions", 3, "partitions of an auto-created topic")
	flag.Parse()
	if *port == 0 || *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: kfakeproc -port PORT -dir DIR [-sync]")
		os.Exit(2)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(*port),
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
	fmt.Println("ready", c.ListenAddrs())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Close()
}

// Command kafkadev runs, on localhost, a Kafka broker (franz-go's kfake, the real protocol) and a
// Confluent-compatible schema registry (franz-go's srfake), both in memory, to try callbridge's
// Kafka sink and a registry-aware consumer on a laptop with Go only: no Docker, no Java. It
// prints the two addresses and the environment for the bridge, and runs until interrupted.
// It is for trying things, not for production: nothing is persisted or secured.
//
//	cd interop && go run ./cmd/kafkadev [-broker-port 9092] [-registry-port 8081] [-location header|prefix]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/callbridge/callbridge/interop/kafkadev"
)

func main() {
	brokerPort := flag.Int("broker-port", 9092, "loopback port of the Kafka broker")
	registryPort := flag.Int("registry-port", 8081, "loopback port of the schema registry")
	location := flag.String("location", "header", "CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION printed for the bridge: header or prefix")
	flag.Parse()
	env, err := kafkadev.Start(*brokerPort, *registryPort)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkadev:", err)
		os.Exit(1)
	}
	fmt.Println("kafka broker:    ", env.Broker)
	fmt.Println("schema registry: ", env.Registry)
	fmt.Println("for the bridge (for trying things, not production; Ctrl-C stops both):")
	for _, kv := range env.BridgeEnv(*location) {
		fmt.Println("export", kv)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	env.Close()
}

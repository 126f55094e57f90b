// Package kafkadev starts, in this process, what a laptop needs to try callbridge's Kafka sink
// with a schema registry: a Kafka broker (franz-go's kfake, which speaks the real protocol) and a
// Confluent-compatible schema registry (franz-go's srfake), both in memory, on loopback. It is
// for trying things and for tests, not for production: nothing is persisted, nothing is secured.
// The command interop/cmd/kafkadev runs it; the walkthrough test starts the same.
package kafkadev

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Env is a running broker and registry.
type Env struct {
	Broker   string // host:port of the Kafka broker
	Registry string // the schema registry's base URL
	cluster  *kfake.Cluster
	server   *http.Server
}

// Start starts a broker on 127.0.0.1:brokerPort and a registry on 127.0.0.1:registryPort; a
// port of 0 picks a free one.
func Start(brokerPort, registryPort int) (*Env, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1)}
	if brokerPort != 0 {
		opts = append(opts, kfake.Ports(brokerPort))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka broker: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(registryPort)))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	srv := &http.Server{Handler: srfake.NewRegistry().Handler()}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("kafkadev: schema registry:", err)
		}
	}()
	return &Env{Broker: c.ListenAddrs()[0], Registry: "http://" + ln.Addr().String(), cluster: c, server: srv}, nil
}

// BridgeEnv is the environment of a bridge that publishes to this broker and registers its
// schemas in this registry, the schema id at location ("header" or "prefix").
func (e *Env) BridgeEnv(location string) []string {
	return []string{
		"CALLBRIDGE_SINK=kafka",
		"CALLBRIDGE_KAFKA_BROKERS=" + e.Broker,
		"CALLBRIDGE_KAFKA_CREATE_TOPICS=true",
		"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL=" + e.Registry,
		"CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION=" + location,
	}
}

// Close stops both.
func (e *Env) Close() {
	e.server.Close()
	e.cluster.Close()
}

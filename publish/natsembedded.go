package publish

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startEmbedded starts the NATS JetStream server callbridge runs itself when no broker is
// configured, listening on cfg.EmbeddedListen so that other tools can read it.
func startEmbedded(cfg NATSConfig) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(cfg.EmbeddedListen)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS listen address %q: %w", cfg.EmbeddedListen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS listen port %q: %w", portText, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else {
		// The server only logs a failed listen, and then is not ready ten seconds later: try
		// the address first, so that a port in use is said at once and plainly.
		ln, err := net.Listen("tcp", cfg.EmbeddedListen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS cannot listen on %s (CALLBRIDGE_EMBEDDED_NATS_LISTEN): %w", cfg.EmbeddedListen, err)
		}
		ln.Close()
	}
	opts := &server.Options{
		ServerName: "callbridge-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		NoSigs:     true,
		MaxPayload: cfg.EmbeddedMaxPayload,
	}
	switch cfg.EmbeddedSync {
	case "", "default":
	case "always":
		opts.SyncAlways = true
	default:
		d, err := time.ParseDuration(cfg.EmbeddedSync)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("embedded NATS sync %q: want always or a duration", cfg.EmbeddedSync)
		}
		opts.SyncInterval = d
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start listening on %s", cfg.EmbeddedListen)
	}
	return srv, nil
}

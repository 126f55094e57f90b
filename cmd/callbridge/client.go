package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// runClient runs a subcommand that reads the sink as a client (tail, replay): the same
// configuration as the bridge, interrupted by SIGINT or SIGTERM. run returns the exit code for
// a run without error; a configuration error exits 2, any other 1.
func runClient(name string, args []string, stderr io.Writer, run func(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (int, error)) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "usage: callbridge %s   (configured by the same CALLBRIDGE_* variables as the bridge)\n", name)
		return 2
	}
	cfg, registry, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	code, err := run(ctx, cfg, registry, newLogger(stderr, cfg))
	if err != nil {
		if bridge.IsConfigError(err) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stderr, "callbridge %s: %v\n", name, err)
		return 1
	}
	return code
}

// connectClient connects to the configured sink; with no broker configured, to the running
// bridge's embedded server.
func connectClient(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (publish.Sink, string, error) {
	client := *cfg
	if client.Sink == "nats" && client.NATSURL == "" {
		client.NATSURL = "nats://" + cfg.EmbeddedNATSListen
	}
	return bridge.Connect(ctx, &client, registry, logger)
}

// loadConfig reads the configuration and builds the registry from it: what every subcommand
// starts from. Either error is a one-line message for exit 2.
func loadConfig() (*config.Config, *normalize.Registry, error) {
	cfg, err := config.Load(bridge.ProviderSpecs())
	if err != nil {
		return nil, nil, err
	}
	registry, err := bridge.NewRegistry(cfg)
	return cfg, registry, err
}

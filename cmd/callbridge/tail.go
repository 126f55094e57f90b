package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/publish"
)

// tailer is a sink that can also read back what is published.
type tailer interface {
	Tail(ctx context.Context, emit func(event []byte) error) error
}

// tail is `callbridge tail`: it connects to the configured sink as a client (the bridge's
// embedded server, when no broker is configured) and prints every CloudEvent published from now
// on, one JSON per line, until interrupted.
func tail(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: callbridge tail   (configured by the same CALLBRIDGE_* variables as the bridge)")
		return 2
	}
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := tailEvents(ctx, cfg, newLogger(stderr, cfg), func(event []byte) error {
		_, err := fmt.Fprintf(stdout, "%s\n", event)
		return err
	}); err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stderr, "callbridge tail: %v\n", err)
		return 1
	}
	return 0
}

func tailEvents(ctx context.Context, cfg *config.Config, logger *slog.Logger, emit func([]byte) error) error {
	tmpl, err := publish.ParseTemplate(cfg.TopicTemplate)
	if err != nil {
		return &config.Error{Line: fmt.Sprintf("CALLBRIDGE_TOPIC_TEMPLATE=%q: %v", cfg.TopicTemplate, err)}
	}
	client := *cfg
	if client.Sink == "nats" && client.NATSURL == "" {
		client.NATSURL = "nats://" + cfg.EmbeddedNATSListen // the running bridge's embedded server
	}
	sink, where, err := connect(ctx, &client, tmpl, logger)
	if err != nil {
		return err
	}
	defer sink.Close(context.Background())
	t, ok := sink.(tailer)
	if !ok {
		return fmt.Errorf("the %s sink cannot be tailed", cfg.Sink)
	}
	logger.Info("tailing", "broker", where)
	return t.Tail(ctx, emit)
}

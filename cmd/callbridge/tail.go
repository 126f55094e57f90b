package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// tailer is a sink that can also read back what is published.
type tailer = publish.Tailer

// tail is `callbridge tail`: it prints every CloudEvent published from now on, one JSON per
// line, until interrupted.
func tail(args []string, stdout, stderr io.Writer) int {
	return runClient("tail", args, stderr, func(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (int, error) {
		return 0, tailEvents(ctx, cfg, registry, logger, func(event []byte) error {
			_, err := fmt.Fprintf(stdout, "%s\n", event)
			return err
		})
	})
}

func tailEvents(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger, emit func([]byte) error) error {
	sink, where, err := connectClient(ctx, cfg, registry, logger)
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

package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
	"github.com/callbridge/callbridge/tracing"
)

// runningBridge is a bridge.Bridge as the in-process tests address it: its parts read once it
// started, and only the address for one still starting (startAsync).
type runningBridge struct {
	*bridge.Bridge
	addr     net.Addr
	cfg      *config.Config
	registry *normalize.Registry
	sink     publish.Sink
	traces   *tracing.Provider
}

// start is bridge.Start, for the tests.
func start(ctx context.Context, cfg *config.Config, ln net.Listener, logger *slog.Logger) (*runningBridge, error) {
	b, err := bridge.Start(ctx, cfg, ln, logger)
	if err != nil {
		return nil, err
	}
	return &runningBridge{Bridge: b, addr: b.Addr(), cfg: cfg, registry: b.Registry(), sink: b.Sink(), traces: b.Traces()}, nil
}

func (b *runningBridge) stop() error { return b.Stop() }

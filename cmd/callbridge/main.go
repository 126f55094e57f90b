// Command callbridge receives RTC and live-streaming provider callbacks over HTTP, verifies them,
// normalises them into CloudEvents and publishes them to NATS JetStream, answering 200 only after
// the broker acknowledged. Configuration is the environment only: `callbridge env` lists it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/loadgen"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage: callbridge [command]

commands:
  serve     run the bridge (default)
  env       print every CALLBRIDGE_* variable: type, default, current value, meaning (env -h)
  send      sign a callback as a provider does and POST it to a running bridge (send -h)
  tail      print the CloudEvents published, one JSON per line; -all, -since, filters (tail -h)
  replay    normalise and publish the stored dead letters again, after a fix
  bench     load-test a running bridge with signed, distinct callbacks (bench -h)
  contract  write the event contract: asyncapi.yaml and the JSON Schemas of event data (contract -out DIR)
  version   print version, commit and Go version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	specs := providerSpecs()
	switch cmd {
	case "serve":
		if len(args) > 1 {
			if a := args[1]; a == "-h" || a == "--help" || a == "help" {
				fmt.Fprint(stdout, usage)
				return 0
			}
			fmt.Fprintf(stderr, "callbridge serve takes no arguments (got %q): it is configured by CALLBRIDGE_* variables; see callbridge env\n", args[1])
			return 2
		}
		cfg, err := config.Load(specs)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		logger := newLogger(stderr, cfg)
		bridge.SetMemoryLimit(logger, bridge.CgroupMemoryFiles())
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		defer bridge.ServePprof(cfg.PprofListen, logger)()
		bridge.Version = version
		if err := bridge.Serve(ctx, cfg, nil, logger); errors.Is(err, bridge.ErrStoppedWhileConnecting) {
			logger.Info("stopped before the broker was reached; nothing was accepted")
			return 0
		} else if err != nil {
			if bridge.IsConfigError(err) {
				fmt.Fprintln(stderr, err)
				return 2
			}
			logger.Error("callbridge stopped", "error", err)
			return 1
		}
		return 0
	case "env":
		return envCommand(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "callbridge %s commit %s %s\n", version, commit(), runtime.Version())
		return 0
	case "send":
		return send(args[1:], stdout, stderr)
	case "tail":
		return tail(args[1:], stdout, stderr)
	case "replay":
		return replay(args[1:], stdout, stderr)
	case "bench":
		return loadgen.Command(args[1:], loadConfig, stdout, stderr)
	case "contract":
		return contractCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "callbridge: unknown command %q\n%s", cmd, usage)
	return 2
}

// providerSpecs is every provider's variables, for config.
func providerSpecs() []config.ProviderSpec { return bridge.ProviderSpecs() }

func commit() string {
	if revision != "" {
		return revision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

const tailUsage = `usage: callbridge tail [-all | -since DURATION] [-provider ID]... [-type TYPE]...

Prints the CloudEvents the bridge published, one JSON per line, until interrupted: by default
those published from now on. Reads the broker the CALLBRIDGE_* variables configure (with no
broker configured, the running bridge's embedded NATS server); dead letters are not shown.

  -all               start from the first stored message
  -since DURATION    start from the messages stored that long ago (such as 10m or 2h)
  -provider ID       only this provider's events (repeat it, or separate IDs by commas); rtc: the
                     canonical RTC events
  -type TYPE         only events of this CloudEvents type; TYPE ending in '*' or '.' is a
                     prefix (com.example.room.*); repeat it, or separate types by commas

Filters apply in both content modes (CALLBRIDGE_CE_MODE). On NATS a provider filter is a
subject filter when CALLBRIDGE_TOPIC_TEMPLATE starts with literal tokens and {provider}; on
Kafka -since starts each partition at the offset the broker gives for that time.
`

// listFlag is a flag that may be repeated and holds a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			return fmt.Errorf("empty item in %q", v)
		}
		*l = append(*l, s)
	}
	return nil
}

// tailFlags parses the arguments of `callbridge tail`; now is the time -since counts back from.
func tailFlags(args []string, now time.Time, stdout, stderr io.Writer) (publish.TailOptions, int, bool) {
	var opts publish.TailOptions
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.BoolVar(&opts.All, "all", false, "")
	since := fs.Duration("since", 0, "")
	fs.Var((*listFlag)(&opts.Providers), "provider", "")
	fs.Var((*listFlag)(&opts.Types), "type", "")
	if code, ok := parseFlags(fs, tailUsage, args, stdout, stderr); !ok {
		return opts, code, false
	}
	var bad string
	switch {
	case fs.NArg() > 0:
		bad = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case *since < 0:
		bad = fmt.Sprintf("-since %s: want a positive duration", *since)
	case opts.All && *since > 0:
		bad = "-all and -since: choose one"
	}
	if bad != "" {
		fmt.Fprintf(stderr, "callbridge tail: %s\n%s", bad, tailUsage)
		return opts, 2, false
	}
	if *since > 0 {
		opts.Since = now.Add(-*since)
	}
	return opts, 0, true
}

// tail is `callbridge tail`: it prints the CloudEvents published, one JSON per line, until
// interrupted.
func tail(args []string, stdout, stderr io.Writer) int {
	opts, code, ok := tailFlags(args, time.Now(), stdout, stderr)
	if !ok {
		return code
	}
	return runClient("tail", nil, stderr, func(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (int, error) {
		for _, id := range opts.Providers {
			if !slices.ContainsFunc(registry.Publishers(), func(p *normalize.Provider) bool { return p.ID == id }) {
				var ids []string
				for _, p := range registry.Publishers() {
					ids = append(ids, p.ID)
				}
				fmt.Fprintf(stderr, "callbridge tail: -provider %q: no such provider (have %s)\n", id, strings.Join(ids, ", "))
				return 2, nil
			}
		}
		return 0, tailEvents(ctx, cfg, registry, logger, opts, func(event []byte) error {
			_, err := fmt.Fprintf(stdout, "%s\n", event)
			return err
		})
	})
}

func tailEvents(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger, opts publish.TailOptions, emit func([]byte) error) error {
	sink, where, err := connectClient(ctx, cfg, registry, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while connecting: nothing to report
		}
		return err
	}
	defer sink.Close(context.Background())
	t, ok := sink.(publish.Tailer)
	if !ok {
		return fmt.Errorf("the %s sink cannot be tailed", cfg.Sink)
	}
	logger.Info("tailing", "broker", where)
	if err := t.Tail(ctx, opts, emit); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

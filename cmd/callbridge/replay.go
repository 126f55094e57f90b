package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// replay is `callbridge replay`: after a fix, it runs the stored dead letters through the
// normalise path again (without verification: only authenticated bodies are dead-lettered, and
// a letter that does not record it gets an unverified event) and publishes the events. On JetStream a replayed letter is deleted and one that still fails
// stays; on Kafka the consumer group callbridge-replay moves past both.
func replay(args []string, stdout, stderr io.Writer) int {
	return runClient("replay", args, stderr, func(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) (int, error) {
		replayed, kept, err := replayDeadLetters(ctx, cfg, registry, logger, stdout)
		fmt.Fprintf(stdout, "%d replayed, %d still failing\n", replayed, kept)
		if kept > 0 {
			return 1, err
		}
		return 0, err
	})
}

// noHeaders stands in for the request headers, which a dead letter does not keep.
type noHeaders struct{}

func (noHeaders) Peek(string) []byte { return nil }

// replayConnectTimeout bounds the wait for the broker: replay is run by hand, and must end.
var replayConnectTimeout = 30 * time.Second

func replayDeadLetters(ctx context.Context, cfg *config.Config, registry *normalize.Registry, logger *slog.Logger, out io.Writer) (replayed, kept int, err error) {
	cctx, cancel := context.WithTimeout(ctx, replayConnectTimeout)
	sink, _, err := connectClient(cctx, cfg, registry, logger)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no broker reachable within %s", replayConnectTimeout)
		}
		return 0, 0, err
	}
	defer sink.Close(context.Background())

	var ev, canon normalize.Event
	output := normalize.NewOutput(cfg.SchemaBaseURL, registry)
	take := func(dl publish.StoredDeadLetter) error {
		err := republish(sink, registry, output, &ev, &canon, dl)
		if err != nil {
			kept++
			fmt.Fprintf(out, "still failing: %s dead letter of %s: %v (was: %s)\n", dl.Provider, dl.At.UTC().Format(time.RFC3339), err, dl.Reason)
			return err
		}
		replayed++
		fmt.Fprintf(out, "replayed: %s %s id %s\n", dl.Provider, ev.Type, ev.ID)
		return nil
	}
	r, ok := sink.(publish.DeadLetterReader)
	if !ok {
		return 0, 0, fmt.Errorf("the %s sink keeps no dead letters to replay", cfg.Sink)
	}
	_, err = r.ReadDeadLetters(ctx, take)
	return replayed, kept, err
}

// republish publishes a dead letter's events as ingest would have when it arrived: the native
// event, then its canonical counterpart.
func republish(sink publish.Sink, registry *normalize.Registry, output *normalize.Output, ev, canon *normalize.Event, dl publish.StoredDeadLetter) error {
	p := registry.Lookup([]byte(dl.Provider))
	if p == nil {
		return fmt.Errorf("unknown provider %q", dl.Provider)
	}
	ev.Reset()
	c := normalize.Callback{Body: dl.Body, Header: noHeaders{}, Received: dl.At}
	if err := p.Envelope(&c, ev); err != nil {
		return err
	}
	if !dl.Verified {
		ev.MarkUnverified() // as it would have been published when it arrived
	}
	var buf [2]*normalize.Event
	for _, e := range output.Events(p, ev, canon, buf[:0]) {
		if err := sink.Publish(e); err != nil {
			return err
		}
	}
	return nil
}

// Command rtcconsume is a registry-aware Kafka consumer, to try callbridge's Kafka sink with a
// schema registry: it reads topics from their start, finds each record's schema id (the header
// __value_schema_id or the Confluent 5-byte prefix), fetches the schema by id from the registry
// (franz-go's sr client), validates the value with it, and prints one line per record: topic,
// schema id, subject, valid or INVALID, and the value. It exits after -n records or -timeout;
// the exit status is 1 if a record had no schema id or did not validate.
//
//	cd interop && go run ./cmd/rtcconsume -topics 'callbacks\.rtc\..*' -n 3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/callbridge/callbridge/interop/rtcconsume"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated Kafka brokers")
	registry := flag.String("registry", "http://127.0.0.1:8081", "the schema registry's base URL")
	topics := flag.String("topics", `callbacks\.rtc\..*`, "comma-separated topics, or regular expressions (see -regex)")
	regex := flag.String("regex", "auto", "topics are regular expressions: true, false, or auto (if one has a regex metacharacter)")
	location := flag.String("location", rtcconsume.Auto, "where the schema id is: header, prefix, or auto (the header if present, else the prefix)")
	n := flag.Int("n", 0, "exit after this many records; 0: only at -timeout")
	timeout := flag.Duration("timeout", 30*time.Second, "exit after this long; 0: never")
	flag.Parse()
	cfg := rtcconsume.Config{
		Brokers: strings.Split(*brokers, ","), Registry: *registry, Topics: strings.Split(*topics, ","),
		Location: *location, N: *n, Timeout: *timeout,
	}
	switch *regex {
	case "true":
		cfg.Regex = true
	case "auto":
		for _, t := range cfg.Topics {
			cfg.Regex = cfg.Regex || rtcconsume.LooksLikeRegex(t)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bad := 0
	read, err := rtcconsume.Consume(ctx, cfg, func(r rtcconsume.Record) {
		fmt.Println(r)
		if !r.Valid {
			bad++
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtcconsume:", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "rtcconsume: %d records, %d invalid or unmarked\n", read, bad)
	if bad > 0 || (*n > 0 && read < *n) {
		os.Exit(1)
	}
}

package publish

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// A stream larger than the embedded server's room (three quarters of what is free in the data
// directory) stops start-up with a configuration error that names CALLBRIDGE_NATS_MAX_BYTES,
// says how much is free, and gives a value that fits; that value does fit. (It used to be the
// server's bare "insufficient storage resources available".) No small volume needed: the size
// asked for is twice what is free in the test's directory.
func TestStreamLargerThanDataDir(t *testing.T) {
	dir := t.TempDir()
	free, err := diskFree(dir)
	if err != nil {
		t.Skipf("statfs: %v", err)
	}
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	cfg := NATSConfig{DataDir: dir, EmbeddedListen: "127.0.0.1:0", Stream: "CALLBACKS", Template: tmpl,
		DuplicateWindow: time.Hour, Timeout: 5 * time.Second, MaxBytes: 2*free + 1<<30,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s, err := NewNATS(context.Background(), cfg)
	if err == nil {
		s.Close(context.Background())
		t.Fatalf("a stream of %d bytes created with %d free", cfg.MaxBytes, free)
	}
	var cerr *SettingError
	if !errors.As(err, &cerr) {
		t.Fatalf("got %T %v, want a *SettingError", err, err)
	}
	line := cerr.Error()
	for _, want := range []string{`CALLBRIDGE_NATS_MAX_BYTES="` + strconv.FormatInt(cfg.MaxBytes, 10) + `"`, "CALLBRIDGE_DATA_DIR", strconv.Quote(dir), " free"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q does not say %q", line, want)
		}
	}
	m := regexp.MustCompile(`want at most (\d+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%q gives no value that fits", line)
	}
	fits, _ := strconv.ParseInt(m[1], 10, 64)
	if fits <= 0 || fits > free {
		t.Fatalf("%q: %d does not fit %d free", line, fits, free)
	}
	// At most that value fits (a tenth less: other processes share the disk).
	cfg.MaxBytes = fits - fits/10
	s, err = NewNATS(context.Background(), cfg)
	if err != nil {
		t.Fatalf("MaxBytes %d, below the suggested %d: %v", cfg.MaxBytes, fits, err)
	}
	s.Close(context.Background())
}

// An external server without room for the stream gives the same kind of error, naming the
// variable: its disk is not ours to measure.
func TestStreamLargerThanExternalServer(t *testing.T) {
	url := runAuthServer(t, server.Options{JetStreamMaxStore: 8 << 20})
	cfg := externalConfig(url)
	cfg.MaxBytes = 64 << 20
	s, err := NewNATS(context.Background(), cfg)
	if err == nil {
		s.Close(context.Background())
		t.Fatal("a 64 MiB stream created on a server with 8 MiB of store")
	}
	var cerr *SettingError
	if !errors.As(err, &cerr) || !strings.Contains(cerr.Error(), `CALLBRIDGE_NATS_MAX_BYTES="67108864"`) || !strings.Contains(cerr.Error(), "more storage") {
		t.Fatalf("got %T %v, want a *SettingError naming CALLBRIDGE_NATS_MAX_BYTES", err, err)
	}
}

// CALLBRIDGE_NATS_REPLICAS: a stream is created with that many replicas; more than the servers
// can place stops start-up naming the variable; an existing stream with another count stops it
// only when the variable was set (CheckReplicas), and otherwise is used as it is.
func TestStreamReplicas(t *testing.T) {
	tests := []struct {
		name     string
		existing int // replicas of a stream made beforehand; 0: none
		replicas int
		check    bool
		want     string // part of the SettingError's line; empty: start-up succeeds
	}{
		{name: "created R1", replicas: 1, check: true},
		{name: "default", replicas: 0},
		{name: "R3 on one server", replicas: 3, check: true, want: `CALLBRIDGE_NATS_REPLICAS="3": the NATS servers cannot place stream CALLBACKS`},
		{name: "existing R1, unset", existing: 1, replicas: 1},
		{name: "existing R1, set to 1", existing: 1, replicas: 1, check: true},
		{name: "existing R1, 3 not set", existing: 1, replicas: 3},
		{name: "existing R1, set to 3", existing: 1, replicas: 3, check: true,
			want: `CALLBRIDGE_NATS_REPLICAS="3": stream CALLBACKS exists with 1 replicas; set it to 1, leave it unset`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := runAuthServer(t, server.Options{})
			cfg := externalConfig(url)
			if tt.existing > 0 {
				s, err := NewNATS(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				s.Close(context.Background())
			}
			cfg.Replicas, cfg.CheckReplicas = tt.replicas, tt.check
			s, err := NewNATS(context.Background(), cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("start-up refused: %v", err)
				}
				defer s.Close(context.Background())
				info, err := s.js.Stream(context.Background(), cfg.Stream)
				if err != nil || info.CachedInfo().Config.Replicas != 1 {
					t.Fatalf("stream info %v, want one replica", err)
				}
				return
			}
			var serr *SettingError
			if !errors.As(err, &serr) || !strings.Contains(serr.Line, tt.want) || strings.Contains(serr.Line, "\n") {
				if s != nil {
					s.Close(context.Background())
				}
				t.Fatalf("got %T %v, want a one-line *SettingError with %q", err, err, tt.want)
			}
		})
	}
}

package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/normalize"
)

// NATSConfig configures the JetStream sink.
type NATSConfig struct {
	URL             string // empty: start an embedded server
	EmbeddedListen  string // host:port of the embedded server, so other tools can read it
	DataDir         string // embedded file store
	Stream          string
	DuplicateWindow time.Duration
	Template        *Template
	Mode            Mode
	Timeout         time.Duration // publish acknowledgement deadline
	MaxPending      int           // async publishes awaiting their ack
	Logger          *slog.Logger

	// External servers only.
	User, Password string
	Token          string
	NKeySeedFile   string
	CredsFile      string
	TLS            *TLSFiles // nil: no client TLS settings (a tls:// URL still uses TLS)
}

// NATS publishes to a JetStream stream. Concurrent Publish calls share one connection and are
// pipelined: each sends asynchronously and waits only for its own acknowledgement.
type NATS struct {
	cfg      NATSConfig
	embedded *server.Server
	nc       *nats.Conn
	js       jetstream.JetStream
	bufs     sync.Pool
}

// NewNATS starts the embedded server when cfg.URL is empty, connects, and creates the stream if
// it is missing (or checks that an existing one covers our subjects).
func NewNATS(ctx context.Context, cfg NATSConfig) (*NATS, error) {
	s := &NATS{cfg: cfg}
	if cfg.Logger == nil {
		s.cfg.Logger = slog.Default()
	}
	if cfg.MaxPending <= 0 {
		s.cfg.MaxPending = 4096
	}
	opts := []nats.Option{
		nats.Name("callbridge"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Close
				s.cfg.Logger.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.cfg.Logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
	}
	url := cfg.URL
	if url == "" {
		srv, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		s.embedded = srv
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		opts = append(opts, nats.RetryOnFailedConnect(false))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		s.shutdownEmbedded()
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	s.nc = nc
	s.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(s.cfg.MaxPending),
		jetstream.WithPublishAsyncTimeout(cfg.Timeout))
	if err == nil {
		err = s.ensureStream(ctx)
	}
	if err != nil {
		nc.Close()
		s.shutdownEmbedded()
		return nil, err
	}
	return s, nil
}

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
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "callbridge-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		NoSigs:     true,
	})
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

// ClientURL is where other tools (the nats CLI) reach the broker.
func (s *NATS) ClientURL() string {
	if s.embedded != nil {
		return s.embedded.ClientURL()
	}
	return s.nc.ConnectedUrlRedacted()
}

// Subjects the stream must hold: the template's and the dead letters'.
func (s *NATS) streamSubjects() []string {
	subjects := []string{"callbacks.>"}
	if p := s.cfg.Template.Prefix(); p != "callbacks." {
		if p == "" {
			return []string{">"}
		}
		subjects = append(subjects, p+">")
	}
	return subjects
}

func (s *NATS) ensureStream(ctx context.Context) error {
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        s.cfg.Stream,
			Description: "Provider callbacks as CloudEvents, written by callbridge",
			Subjects:    s.streamSubjects(),
			Storage:     jetstream.FileStorage,
			Duplicates:  s.cfg.DuplicateWindow,
		})
		if err != nil {
			return fmt.Errorf("create stream %s: %w", s.cfg.Stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", s.cfg.Stream, err)
	}
	info := stream.CachedInfo()
	for _, want := range s.streamSubjects() {
		if !covered(info.Config.Subjects, want) {
			return fmt.Errorf("stream %s has subjects %v, which do not cover %q", s.cfg.Stream, info.Config.Subjects, want)
		}
	}
	if info.Config.Duplicates < s.cfg.DuplicateWindow {
		s.cfg.Logger.Warn("stream duplicate window is shorter than configured; provider retries past it are published twice",
			"stream", s.cfg.Stream, "stream_window", info.Config.Duplicates, "configured", s.cfg.DuplicateWindow)
	}
	return nil
}

// covered reports whether one of the filters matches every subject that want (a filter) matches.
func covered(filters []string, want string) bool {
	for _, f := range filters {
		if subjectCovers(f, want) {
			return true
		}
	}
	return false
}

func subjectCovers(filter, want string) bool {
	ft, wt := splitTokens(filter), splitTokens(want)
	for i, f := range ft {
		if f == ">" {
			return true
		}
		if i >= len(wt) || wt[i] == ">" {
			return false
		}
		if f != "*" && (f != wt[i] || wt[i] == "*") {
			return false
		}
	}
	return len(ft) == len(wt)
}

func splitTokens(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func (s *NATS) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 2048)
	return &b
}

// Publish sends ev with Nats-Msg-Id = ev.ID, so JetStream drops a retry inside the duplicate
// window. In binary mode the attributes are "ce-" headers, lower case: NATS headers are
// case-sensitive and that is how the CloudEvents SDK reads them.
func (s *NATS) Publish(ev *normalize.Event) error {
	buf := s.getBuf()
	b := s.cfg.Template.Append((*buf)[:0], ev)
	subject := string(b)
	header := nats.Header{jetstream.MsgIDHeader: []string{string(ev.ID)}}
	data := encode(b[len(b):], ev, s.cfg.Mode, "ce-", func(k string, v []byte) {
		header[k] = []string{string(v)}
	})
	err := s.send(&nats.Msg{Subject: subject, Data: data, Header: header})
	*buf = data[:0]
	if err == nil {
		s.bufs.Put(buf)
	} // else the client may still hold the message for a retry: leave the buffer to the GC
	return err
}

// DeadLetter sends body as it arrived; its id is a hash of the body, so retries of one
// malformed callback are stored once.
func (s *NATS) DeadLetter(provider string, body []byte, reason string) error {
	sum := sha256.Sum256(body)
	msg := &nats.Msg{
		Subject: DeadLetterSubject(provider),
		Data:    append([]byte(nil), body...),
		Header: nats.Header{
			jetstream.MsgIDHeader: []string{"deadletter-" + hex.EncodeToString(sum[:16])},
			ReasonHeader:          []string{reason},
		},
	}
	return s.send(msg)
}

func (s *NATS) send(msg *nats.Msg) error {
	if !s.nc.IsConnected() {
		return ErrNotReady
	}
	f, err := s.js.PublishMsgAsync(msg)
	if err != nil {
		return fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
}

// Ready returns nil while connected.
func (s *NATS) Ready() error {
	if !s.nc.IsConnected() {
		return ErrNotReady
	}
	return nil
}

// Close waits for outstanding acknowledgements (until ctx ends), then disconnects and stops the
// embedded server.
func (s *NATS) Close(ctx context.Context) error {
	var err error
	select {
	case <-s.js.PublishAsyncComplete():
	case <-ctx.Done():
		err = fmt.Errorf("%d publishes still unacknowledged at shutdown: %w", s.js.PublishAsyncPending(), ctx.Err())
	}
	s.nc.Close()
	s.shutdownEmbedded()
	return err
}

func (s *NATS) shutdownEmbedded() {
	if s.embedded != nil {
		s.embedded.Shutdown()
		s.embedded.WaitForShutdown()
	}
}

package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	MaxAge          time.Duration // retention of a stream we create; 0: none
	MaxBytes        int64         // size bound of a stream we create (oldest go first); 0 or less: none
	Replicas        int           // replicas of a stream we create; 0: 1
	// CheckReplicas refuses an existing stream without Replicas replicas (CALLBRIDGE_NATS_REPLICAS
	// was set); otherwise an existing stream is used as it is.
	CheckReplicas bool
	// EmbeddedMaxPayload is the embedded server's message size limit; 0: the server's 1 MiB.
	EmbeddedMaxPayload int32
	// EmbeddedSync is when the embedded server fsyncs its store: "always" (every write) or an
	// interval such as "2m"; empty: the server's default (2 minutes).
	EmbeddedSync string
	Logger       *slog.Logger

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
	unlock   func() // releases the embedded data directory
	nc       *nats.Conn
	js       jetstream.JetStream

	enc    *Encoder
	health natsHealth
	pub    *jsPublisher

	errMu     sync.Mutex
	lastErr   string // the last asynchronous error logged, and when
	lastErrAt time.Time
}

// NewNATS starts the embedded server when cfg.URL is empty, connects, and creates the stream if
// it is missing (or checks that an existing one covers our subjects).
func NewNATS(ctx context.Context, cfg NATSConfig) (*NATS, error) {
	s := &NATS{cfg: cfg, enc: NATSEncoder(cfg.Template, cfg.Mode)}
	if cfg.Logger == nil {
		s.cfg.Logger = slog.Default()
	}
	if cfg.MaxPending <= 0 {
		s.cfg.MaxPending = 4096
	}
	opts := s.clientOptions()
	serverURL := cfg.URL
	if serverURL == "" {
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		s.unlock = unlock
		srv, err := startEmbedded(cfg)
		if err != nil {
			unlock()
			return nil, err
		}
		s.embedded = srv
		opts = append(opts, nats.InProcessServer(srv))
		if cfg.hasExternalOptions() {
			s.cfg.Logger.Warn("NATS credentials or TLS files are set without CALLBRIDGE_NATS_URL: the embedded server does not use them")
		}
	} else {
		ext, err := cfg.externalOptions()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.RetryOnFailedConnect(false),
			// Reconnect forever means through auth errors too (by default the client gives up
			// after the same one twice): the server's users may be fixed while we wait, and the
			// .creds file is read again at every attempt.
			nats.IgnoreAuthErrorAbort(),
			nats.ErrorHandler(s.logAsyncError))
		opts = append(opts, ext...)
	}
	nc, err := nats.Connect(serverURL, opts...)
	if err != nil {
		s.shutdownEmbedded()
		return nil, cfg.connectError(err)
	}
	s.nc = nc
	s.js, err = jetstream.New(nc)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, max(cfg.Timeout, time.Second))
		err = s.ensureStream(sctx)
		cancel()
	}
	if err != nil && jetStreamUnavailable(err) {
		// A server that answers without JetStream yet (starting, electing a leader): worth
		// retrying, like a server that does not answer at all.
		err = fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	if err != nil {
		s.health.closing.Store(true)
		nc.Close()
		s.shutdownEmbedded()
		return nil, err
	}
	s.pub, err = newJSPublisher(nc, cfg.Timeout, s.cfg.MaxPending)
	if err != nil {
		s.health.closing.Store(true)
		nc.Close()
		s.shutdownEmbedded()
		return nil, err
	}
	s.health.connected.Store(true)
	s.health.wake = make(chan struct{}, 1)
	s.health.stop = make(chan struct{})
	s.health.done = make(chan struct{})
	go s.probe()
	return s, nil
}

// clientOptions are the client's settings, with handlers that keep s.health.
func (s *NATS) clientOptions() []nats.Option {
	return []nats.Option{
		nats.Name("callbridge"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// A server that stops answering (hung, or a half-open connection) is found by pings
		// within seconds, not the default two minutes, and the client reconnects.
		nats.PingInterval(natsPingInterval),
		nats.MaxPingsOutstanding(2),
		// No buffering while disconnected: a publish then fails at once (the caller answers
		// 503) instead of waiting in a buffer it will not be answered from.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			s.health.connected.Store(false)
			if err != nil { // nil: our own Close
				s.cfg.Logger.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.health.connected.Store(true)
			s.cfg.Logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			s.health.connected.Store(false)
			if !s.health.closing.Load() {
				// The client never reconnects from CLOSED (a protocol error such as a line the
				// server refused): /healthz fails so that the pod is restarted.
				s.health.dead.Store(true)
				s.cfg.Logger.Error("nats connection closed for good; /healthz now fails so that the process is restarted")
			}
		}),
	}
}

func jetStreamUnavailable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.DeadlineExceeded)
}

// logAsyncError logs the client's asynchronous errors (a permissions violation, an auth error
// while reconnecting), the same one at most once a minute: a refused reconnect repeats it
// every second or so.
func (s *NATS) logAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	s.errMu.Lock()
	now := time.Now()
	repeat := err.Error() == s.lastErr && now.Sub(s.lastErrAt) < time.Minute
	if !repeat {
		s.lastErr, s.lastErrAt = err.Error(), now
	}
	s.errMu.Unlock()
	if repeat {
		return
	}
	if sub != nil {
		s.cfg.Logger.Warn("nats error", "error", err, "subscription", sub.Subject)
		return
	}
	s.cfg.Logger.Warn("nats error", "error", err)
}

// ClientURL is where other tools (the nats CLI) reach the broker.
func (s *NATS) ClientURL() string {
	if s.embedded != nil {
		return s.embedded.ClientURL()
	}
	return s.nc.ConnectedUrlRedacted()
}

// Subjects the stream must hold: the template's and the dead letters'. CheckSubject made sure
// the template starts with a literal token.
func (s *NATS) streamSubjects() []string {
	subjects := []string{"callbacks.>"}
	want := s.cfg.Template.Prefix()
	if strings.HasSuffix(want, ".") {
		want += ">"
	} // else the template is all literal: its one subject
	if want != "" && !subjectCovers(subjects[0], want) {
		subjects = append(subjects, want)
	}
	return subjects
}

func (s *NATS) ensureStream(ctx context.Context) error {
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		maxBytes := s.cfg.MaxBytes
		if maxBytes <= 0 {
			maxBytes = -1
		}
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        s.cfg.Stream,
			Description: "Provider callbacks as CloudEvents, written by callbridge",
			Subjects:    s.streamSubjects(),
			Storage:     jetstream.FileStorage,
			Duplicates:  s.cfg.DuplicateWindow,
			MaxAge:      s.cfg.MaxAge,
			MaxBytes:    maxBytes,
			Discard:     jetstream.DiscardOld,
			Replicas:    s.replicas(),
		})
		if noStorage(err) { // a stream larger than the disk: say what fits (natsstorage.go)
			return s.noStorageError(err)
		}
		if noPeers(err) { // more replicas than the cluster has servers
			return s.replicasError(err)
		}
		if err != nil {
			return fmt.Errorf("create stream %s: %w", s.cfg.Stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", s.cfg.Stream, err)
	}
	info := stream.CachedInfo()
	if s.cfg.CheckReplicas && info.Config.Replicas != s.replicas() {
		return s.replicasMismatch(info.Config.Replicas)
	}
	for _, want := range s.streamSubjects() {
		if !covered(info.Config.Subjects, want) {
			return fmt.Errorf("stream %s has subjects %v, which do not cover %q", s.cfg.Stream, info.Config.Subjects, want)
		}
	}
	if info.Config.MaxAge == 0 && info.Config.MaxBytes <= 0 && info.Config.MaxMsgs <= 0 {
		s.cfg.Logger.Warn("stream has no retention limit (max age, bytes or messages): it grows until the disk is full",
			"stream", s.cfg.Stream)
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

const binaryDataContentTypeHeader = "ce-datacontenttype"

// Publish sends ev as its Encoder renders it (NATSEncoder): with Nats-Msg-Id "<provider>/<id>",
// so JetStream drops a retry inside the duplicate window, and in binary mode the attributes as
// "ce-" headers, lower case: NATS headers are case-sensitive and that is how the CloudEvents SDK
// reads them. A subject too long for the server is ErrNameTooLong, and never sent.
func (s *NATS) Publish(ev *normalize.Event) error {
	return s.PublishWithin(ev, s.cfg.Timeout)
}

// PublishWithin is Publish, waiting at most d (publish.Within): the retries of an election stop
// at d too. A d over the sink's timeout is the sink's timeout.
func (s *NATS) PublishWithin(ev *normalize.Event, d time.Duration) error {
	m := newMessage()
	if err := s.enc.Event(m, ev); err != nil {
		m.recycle()
		return err
	}
	err := s.deliver(m, min(d, s.cfg.Timeout))
	m.recycle()
	return err
}

// DeadLetter sends body as it arrived to DeadLetterSubject(provider); its id is a hash of the
// provider and the body, so retries of one malformed callback are stored once. Only
// authenticated bodies are dead-lettered (ingest's contract), and the letter says so in
// VerifiedHeader.
func (s *NATS) DeadLetter(provider string, body []byte, reason string) error {
	m := newMessage()
	if err := s.enc.DeadLetter(m, provider, body, reason); err != nil {
		m.recycle()
		return err
	}
	err := s.deliver(m, s.cfg.Timeout)
	m.recycle()
	return err
}

// Send publishes m, rendered by an Encoder like this sink's (the buffer's forwarder), and waits
// for the acknowledgement. m stays the caller's: it may use it again once Send returns.
func (s *NATS) Send(m *Message) error {
	if len(m.Subject) > maxNATSSubject {
		return fmt.Errorf("%w: a %d-byte subject (%s)", ErrNameTooLong, len(m.Subject), nameExcerpt(m.Subject, len(m.Subject)))
	}
	return s.deliver(m, s.cfg.Timeout)
}

// deliver sends m, which stays the caller's, retrying within timeout what an election or a lost
// acknowledgement explains (natsretry.go), and says what failed.
func (s *NATS) deliver(m *Message, timeout time.Duration) error {
	if err := s.sendRetrying(m, timeout); err != nil {
		return s.failed(err, m.Subject, len(m.Subject), s.enc.Size(m))
	}
	return nil
}

// send publishes m and waits for its acknowledgement until deadline (unix ns), keeping the
// health state. m is the publisher's from the call on.
func (s *NATS) send(m *Message, deadline int64) error {
	// The state the handlers keep, not nc.IsConnected: that takes the client's lock, which a
	// reconnect attempt holds for as long as its dial takes.
	if !s.health.connected.Load() {
		m.recycle()
		return ErrNotReady
	}
	sent := time.Now().UnixNano()
	err := s.pub.publishUntil(m, deadline)
	switch {
	case err == nil:
		s.health.acked(sent)
	case errors.Is(err, errAckTimeout):
		s.health.ackTimedOut(sent)
	}
	return err
}

// failed says what a publish of size bytes on a subject of full bytes, starting with name, met:
// ErrTooLarge when the event can never fit. The subject is quoted as an excerpt: it holds
// payload values.
func (s *NATS) failed(err error, name []byte, full, size int) error {
	if errors.Is(err, ErrNotReady) {
		return err
	}
	subject := nameExcerpt(name, full)
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("%w: %d bytes on %s, over the server's max_payload of %d", ErrTooLarge, size, subject, s.nc.MaxPayload())
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
		return fmt.Errorf("%w: %d bytes on %s, over the stream's maximum message size: %v", ErrTooLarge, size, subject, err)
	}
	return fmt.Errorf("publish %s: %w", subject, err)
}

// Ready returns nil while the connection is up, the server answers its pings and
// acknowledgements are not timing out. It never waits on the client.
func (s *NATS) Ready() error { return s.health.ready() }

// Live returns an error once the connection is closed for good.
func (s *NATS) Live() error {
	if s.health.dead.Load() {
		return ErrClosed
	}
	return nil
}

// MessageLimit is the largest message the server accepts, headers included.
func (s *NATS) MessageLimit() int { return int(s.nc.MaxPayload()) }

// Close waits for outstanding acknowledgements (until ctx ends), then disconnects and stops the
// embedded server.
func (s *NATS) Close(ctx context.Context) error {
	if !s.health.closing.CompareAndSwap(false, true) {
		return nil
	}
	close(s.health.stop)
	<-s.health.done
	// Callers are done (the HTTP server closed first); any other gets ErrClosed.
	var err error
	if left := s.pub.close(ctx.Done()); left > 0 {
		err = fmt.Errorf("%d publishes still unacknowledged at shutdown: %w", left, ctx.Err())
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
	if s.unlock != nil {
		s.unlock()
	}
}

package publish

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

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

	health natsHealth
	pub    *jsPublisher

	errMu     sync.Mutex
	lastErr   string // the last asynchronous error logged, and when
	lastErrAt time.Time
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
	} else {
		// The server only logs a failed listen, and then is not ready ten seconds later: try
		// the address first, so that a port in use is said at once and plainly.
		ln, err := net.Listen("tcp", cfg.EmbeddedListen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS cannot listen on %s (CALLBRIDGE_EMBEDDED_NATS_LISTEN): %w", cfg.EmbeddedListen, err)
		}
		ln.Close()
	}
	opts := &server.Options{
		ServerName: "callbridge-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		NoSigs:     true,
		MaxPayload: cfg.EmbeddedMaxPayload,
	}
	switch cfg.EmbeddedSync {
	case "", "default":
	case "always":
		opts.SyncAlways = true
	default:
		d, err := time.ParseDuration(cfg.EmbeddedSync)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("embedded NATS sync %q: want always or a duration", cfg.EmbeddedSync)
		}
		opts.SyncInterval = d
	}
	srv, err := server.NewServer(opts)
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
		})
		if noStorage(err) { // a stream larger than the disk: say what fits (natsstorage.go)
			return s.noStorageError(err)
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

// Publish sends ev with Nats-Msg-Id = ev.ID, so JetStream drops a retry inside the duplicate
// window. In binary mode the attributes are "ce-" headers, lower case: NATS headers are
// case-sensitive and that is how the CloudEvents SDK reads them.
func (s *NATS) Publish(ev *normalize.Event) error {
	m := newOutMsg()
	m.buf = s.cfg.Template.Append(m.buf, ev)
	m.setSubject()
	m.addHeader(jetstream.MsgIDHeader, ev.ID)
	m.buf = encode(m.buf, ev, s.cfg.Mode, "ce-", m.addHeader)
	if s.cfg.Mode == Binary {
		// The NATS binding maps datacontenttype to ce-datacontenttype (1.0.3-wip §3.1.3.1);
		// content-type stays as well: the CloudEvents SDK reads either. See natsbinding.md.
		m.addHeader(binaryDataContentTypeHeader, []byte(normalize.DataContentType))
	}
	size := len(m.data())
	if err := s.send(m); err != nil {
		// m is the publisher's now: the subject is rendered again for the message.
		return s.failed(err, string(s.cfg.Template.Append(nil, ev)), size)
	}
	return nil
}

// DeadLetter sends body as it arrived; its id is a hash of the body, so retries of one
// malformed callback are stored once. Only authenticated bodies are dead-lettered (ingest's
// contract), and the letter says so in VerifiedHeader.
func (s *NATS) DeadLetter(provider string, body []byte, reason string) error {
	sum := sha256.Sum256(body)
	subject := DeadLetterSubject(provider)
	m := newOutMsg()
	m.buf = append(append(m.buf, subject...), body...)
	m.subject = len(subject)
	m.addHeader(jetstream.MsgIDHeader, []byte("deadletter-"+hex.EncodeToString(sum[:16])))
	m.addHeader(ReasonHeader, []byte(headerValue(reason)))
	m.addHeader(VerifiedHeader, []byte("true"))
	if err := s.send(m); err != nil {
		return s.failed(err, subject, len(body))
	}
	return nil
}

// send publishes m and waits for its acknowledgement, keeping the health state.
func (s *NATS) send(m *outMsg) error {
	// The state the handlers keep, not nc.IsConnected: that takes the client's lock, which a
	// reconnect attempt holds for as long as its dial takes.
	if !s.health.connected.Load() {
		m.recycle()
		return ErrNotReady
	}
	sent := time.Now().UnixNano()
	err := s.pub.publish(m)
	switch {
	case err == nil:
		s.health.acked(sent)
	case errors.Is(err, errAckTimeout):
		s.health.ackTimedOut(sent)
	}
	return err
}

// failed says what a publish of size bytes on subject met, ErrTooLarge when the event can never
// fit.
func (s *NATS) failed(err error, subject string, size int) error {
	if errors.Is(err, ErrNotReady) {
		return err
	}
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

// hasExternalOptions reports whether any setting for an external server is present.
func (c *NATSConfig) hasExternalOptions() bool {
	return c.User != "" || c.Password != "" || c.Token != "" || c.NKeySeedFile != "" || c.CredsFile != "" || c.TLS != nil
}

// externalOptions turns the credentials and TLS files into client options. Files are read now,
// so a missing or malformed one stops start-up with its variable named. The client reads the
// .creds file again at every (re)connect, so a renewed user JWT needs no restart.
func (c *NATSConfig) externalOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if c.User != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.NKeySeedFile != "" && c.CredsFile != "" {
		return nil, errors.New("CALLBRIDGE_NATS_NKEY_SEED_FILE and CALLBRIDGE_NATS_CREDS_FILE: set one, not both (a .creds file holds its own NKey seed)")
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("CALLBRIDGE_NATS_NKEY_SEED_FILE %s: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.CredsFile != "" {
		if err := checkCredsFile(c.CredsFile); err != nil {
			return nil, fmt.Errorf("CALLBRIDGE_NATS_CREDS_FILE %s: %w", c.CredsFile, err)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.TLS != nil {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("NATS client TLS (CALLBRIDGE_NATS_TLS_*): %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// checkCredsFile checks that path holds a user JWT, not expired, and a user NKey seed. Error
// messages name what is wrong, never the file's content.
func checkCredsFile(path string) error {
	contents, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer clear(contents) // the seed
	token, err := nkeys.ParseDecoratedJWT(contents)
	if err != nil {
		return fmt.Errorf("no user JWT: %w", err)
	}
	claims, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return fmt.Errorf("no valid user JWT: %w", err)
	}
	if claims.Expires > 0 && time.Unix(claims.Expires, 0).Before(time.Now()) {
		return fmt.Errorf("the user JWT for %s expired at %s", claims.Subject, time.Unix(claims.Expires, 0).UTC().Format(time.RFC3339))
	}
	kp, err := nkeys.ParseDecoratedUserNKey(contents)
	if err != nil {
		return fmt.Errorf("no user NKey seed: %w", err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("no user NKey seed: %w", err)
	}
	if pub != claims.Subject {
		return fmt.Errorf("the NKey seed (public key %s) does not belong to the user JWT (subject %s)", pub, claims.Subject)
	}
	return nil
}

// connectError names what failed and which settings to check. It keeps err wrapped (the caller
// retries nats.ErrNoServers) and never quotes a secret: the client's errors carry none.
func (c *NATSConfig) connectError(err error) error {
	text := strings.ToLower(err.Error())
	var verify *tls.CertificateVerificationError
	switch {
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(text, "authorization violation"):
		return fmt.Errorf("NATS authorization violation: %s: %w", c.credentialHint(), err)
	case errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAccountAuthExpired) || strings.Contains(text, "authentication expired"):
		return fmt.Errorf("NATS credentials expired: renew the user JWT in CALLBRIDGE_NATS_CREDS_FILE: %w", err)
	case errors.Is(err, nats.ErrAuthRevoked) || strings.Contains(text, "authentication revoked"):
		return fmt.Errorf("NATS credentials revoked: the account no longer accepts the user of CALLBRIDGE_NATS_CREDS_FILE: %w", err)
	case errors.Is(err, nats.ErrSecureConnWanted):
		return fmt.Errorf("NATS server does not offer TLS, but a tls:// CALLBRIDGE_NATS_URL or CALLBRIDGE_NATS_TLS_* asks for it: %w", err)
	case errors.As(err, &verify):
		return fmt.Errorf("NATS server certificate not trusted: check CALLBRIDGE_NATS_TLS_CA_FILE (and that the certificate names the host of CALLBRIDGE_NATS_URL): %w", err)
	case errors.Is(err, nats.ErrTLS):
		return fmt.Errorf("NATS TLS handshake failed: check CALLBRIDGE_NATS_TLS_* and the server's tls settings: %w", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, nats.ErrTimeout) {
		// The connection broke while it was being made (a server restarting): worth retrying.
		return fmt.Errorf("%w: connect to NATS: %w", ErrNotReady, err)
	}
	return fmt.Errorf("connect to NATS: %w", err)
}

// credentialHint names the settings that produced the credentials the server refused.
func (c *NATSConfig) credentialHint() string {
	var set []string
	if c.User != "" {
		set = append(set, "CALLBRIDGE_NATS_USER/PASSWORD")
	}
	if c.Token != "" {
		set = append(set, "CALLBRIDGE_NATS_TOKEN")
	}
	if c.NKeySeedFile != "" {
		set = append(set, "CALLBRIDGE_NATS_NKEY_SEED_FILE (its public key must be a user on the server)")
	}
	if c.CredsFile != "" {
		set = append(set, "CALLBRIDGE_NATS_CREDS_FILE (its account must be known to the server)")
	}
	if u, err := url.Parse(c.URL); err == nil && u.User != nil {
		set = append(set, "the user information in CALLBRIDGE_NATS_URL")
	}
	if len(set) == 0 {
		return "the server wants credentials: set CALLBRIDGE_NATS_USER/PASSWORD, CALLBRIDGE_NATS_TOKEN, CALLBRIDGE_NATS_NKEY_SEED_FILE or CALLBRIDGE_NATS_CREDS_FILE"
	}
	return "check " + strings.Join(set, " and ")
}

package publish

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/callbridge/callbridge/internal/testenv"
	"github.com/callbridge/callbridge/normalize"
)

// writePEM writes a self-signed CA certificate and its key; it returns the two paths.
func writePEM(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "callbridge test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSFilesConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePEM(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	writeFile(t, notPEM, []byte("this is not a certificate\n"))
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name    string
		files   TLSFiles
		wantErr string
		check   func(t *testing.T, files TLSFiles)
	}{
		{name: "missing CA file", files: TLSFiles{CAFile: missing}, wantErr: "TLS CA file"},
		{name: "CA file without PEM", files: TLSFiles{CAFile: notPEM}, wantErr: "holds no PEM certificate"},
		{name: "cert without key", files: TLSFiles{CertFile: cert}, wantErr: "TLS client certificate"},
		{name: "key without cert", files: TLSFiles{KeyFile: key}, wantErr: "TLS client certificate"},
		{name: "key that is not PEM", files: TLSFiles{CertFile: cert, KeyFile: notPEM}, wantErr: "TLS client certificate"},
		{name: "system roots", files: TLSFiles{}},
		{name: "CA file", files: TLSFiles{CAFile: cert}},
		{name: "client certificate", files: TLSFiles{CAFile: cert, CertFile: cert, KeyFile: key}},
		{name: "insecure", files: TLSFiles{InsecureSkipVerify: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.files.Config()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c.RootCAs != nil) != (tt.files.CAFile != "") {
				t.Errorf("RootCAs set: %v, CA file %q", c.RootCAs != nil, tt.files.CAFile)
			}
			if len(c.Certificates) != map[bool]int{true: 1}[tt.files.CertFile != ""] {
				t.Errorf("%d client certificates", len(c.Certificates))
			}
			if c.InsecureSkipVerify != tt.files.InsecureSkipVerify {
				t.Errorf("InsecureSkipVerify %v", c.InsecureSkipVerify)
			}
		})
	}
}

// storedMsg reads message seq of the sink's stream as the *nats.Msg a subscriber would get.
func storedMsg(t *testing.T, s *NATS, seq uint64) *nats.Msg {
	t.Helper()
	ctx := context.Background()
	str, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := str.GetMsg(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data}
}

// TestNATSBinaryHeaders pins the binary-mode message byte for byte (header names are
// case-sensitive on NATS) and decodes it with the CloudEvents SDK's JetStream binding.
func TestNATSBinaryHeaders(t *testing.T) {
	s := newEmbedded(t, NATSConfig{Mode: Binary})
	ev := event("id-1", "房间 1") // channel names are often not ASCII; a space needs no quoting
	ev.TraceParent = []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err := s.Publish(ev); err != nil {
		t.Fatal(err)
	}
	m := storedMsg(t, s, 1)
	want := nats.Header{
		"Nats-Msg-Id":          {"anyrtc/id-1"},
		"content-type":         {normalize.DataContentType},
		"ce-datacontenttype":   {normalize.DataContentType},
		"ce-specversion":       {"1.0"},
		"ce-id":                {"id-1"},
		"ce-source":            {"/callbridge/anyrtc"},
		"ce-type":              {"io.anyrtc.rtc.channel.created"},
		"ce-subject":           {"房间 1"},
		"ce-time":              {"2024-04-12T05:33:20.000Z"},
		"ce-provider":          {"anyrtc"},
		"ce-providereventtype": {"101"},
		"ce-traceparent":       {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	if !maps.EqualFunc(m.Header, want, slices.Equal) {
		t.Errorf("headers\n got %v\nwant %v", m.Header, want)
	}
	if string(m.Data) != `{"channelName":"room1"}` {
		t.Errorf("payload %q, want data only", m.Data)
	}
	if m.Subject != "callbacks.anyrtc.rtc.channel.created" {
		t.Errorf("subject %s", m.Subject)
	}

	msg := nats_jetstream.NewMessage(m)
	if msg.ReadEncoding() != binding.EncodingBinary {
		t.Fatalf("SDK reads encoding %v, want binary", msg.ReadEncoding())
	}
	got, err := binding.ToEvent(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	ext := got.Extensions()
	if got.ID() != "id-1" || got.Type() != "io.anyrtc.rtc.channel.created" || got.Subject() != "房间 1" ||
		got.Source() != "/callbridge/anyrtc" || !got.Time().Equal(time.Unix(1712900000, 0)) ||
		got.DataContentType() != "application/json" || string(got.Data()) != `{"channelName":"room1"}` ||
		ext["provider"] != "anyrtc" || ext["providereventtype"] != "101" || ext["traceparent"] != string(ev.TraceParent) {
		t.Errorf("decoded event differs:\n%s", got)
	}
}

// TestNATSStructuredHeaders: the JSON event is the payload; the only headers are the
// content type and the message id.
func TestNATSStructuredHeaders(t *testing.T) {
	s := newEmbedded(t, NATSConfig{Mode: Structured})
	if err := s.Publish(event("id-2", "room1")); err != nil {
		t.Fatal(err)
	}
	m := storedMsg(t, s, 1)
	want := nats.Header{"Nats-Msg-Id": {"anyrtc/id-2"}, "content-type": {StructuredContentType}}
	if !maps.EqualFunc(m.Header, want, slices.Equal) {
		t.Errorf("headers\n got %v\nwant %v", m.Header, want)
	}
	msg := nats_jetstream.NewMessage(m)
	if msg.ReadEncoding() != binding.EncodingStructured {
		t.Fatalf("SDK reads encoding %v, want structured", msg.ReadEncoding())
	}
	got, err := binding.ToEvent(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.ID() != "id-2" || got.Extensions()["provider"] != "anyrtc" || string(got.Data()) != `{"channelName":"room1"}` {
		t.Errorf("decoded event differs:\n%s", got)
	}
}

// runAuthServer starts an in-process JetStream server with opts' authentication.
func runAuthServer(t *testing.T, opts server.Options) string {
	t.Helper()
	return startAuthServer(t, opts).ClientURL()
}

func startAuthServer(t *testing.T, opts server.Options) *server.Server {
	t.Helper()
	return testenv.JetStream(t, testenv.Options(func(o *server.Options) {
		opts.Host, opts.JetStream, opts.NoSigs, opts.NoLog = o.Host, true, true, true
		if opts.Port == 0 {
			opts.Port = o.Port
		}
		*o = opts
	}))
}

// TestNATSReconnectThroughAuthErrors: a server that comes back refusing our credentials does
// not make the client give up for good (nats.go's default after the same auth error twice);
// once the server accepts them again, the sink is ready without a restart.
func TestNATSReconnectThroughAuthErrors(t *testing.T) {
	srv := startAuthServer(t, server.Options{Username: "bridge", Password: "pw-1"})
	port := srv.Addr().(*net.TCPAddr).Port
	cfg := externalConfig(srv.ClientURL())
	cfg.User, cfg.Password = "bridge", "pw-1"
	s, err := NewNATS(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())

	srv.Shutdown()
	srv.WaitForShutdown()
	srv = startAuthServer(t, server.Options{Port: port, Username: "bridge", Password: "pw-2"})
	// Reconnect attempts come every 250-500ms: give the client several refusals.
	time.Sleep(2 * time.Second)
	if s.nc.IsClosed() {
		t.Fatal("the client gave up after authorization errors")
	}
	if err := s.Ready(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Ready() = %v while the server refuses us", err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()
	startAuthServer(t, server.Options{Port: port, Username: "bridge", Password: "pw-1"})
	deadline := time.Now().Add(10 * time.Second)
	for s.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready after the server accepted the credentials again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func externalConfig(url string) NATSConfig {
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	return NATSConfig{URL: url, Stream: "CALLBACKS", Template: tmpl, Timeout: 2 * time.Second, DuplicateWindow: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestNATSAuth connects to an in-process server with each kind of credentials, and fails fast,
// naming the settings, when the server refuses them.
func TestNATSAuth(t *testing.T) {
	dir := t.TempDir()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	userSeed, _ := user.Seed()
	seedFile := filepath.Join(dir, "user.nk")
	writeFile(t, seedFile, userSeed)
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(dir, "other.nk")
	writeFile(t, otherFile, otherSeed)

	passwordURL := runAuthServer(t, server.Options{Username: "bridge", Password: "s3cret-pw"})
	tokenURL := runAuthServer(t, server.Options{Authorization: "s3cret-token"})
	nkeyURL := runAuthServer(t, server.Options{Nkeys: []*server.NkeyUser{{Nkey: userPub}}})

	tests := []struct {
		name    string
		url     string
		set     func(c *NATSConfig)
		wantErr string
		secret  string
	}{
		{"password", passwordURL, func(c *NATSConfig) { c.User, c.Password = "bridge", "s3cret-pw" }, "", ""},
		{"wrong password", passwordURL, func(c *NATSConfig) { c.User, c.Password = "bridge", "not-the-pw" },
			"NATS authorization violation: check CALLBRIDGE_NATS_USER/PASSWORD", "not-the-pw"},
		{"no credentials", passwordURL, func(c *NATSConfig) {},
			"the server wants credentials: set CALLBRIDGE_NATS_USER/PASSWORD", ""},
		{"token", tokenURL, func(c *NATSConfig) { c.Token = "s3cret-token" }, "", ""},
		{"wrong token", tokenURL, func(c *NATSConfig) { c.Token = "not-the-token" },
			"check CALLBRIDGE_NATS_TOKEN", "not-the-token"},
		{"nkey", nkeyURL, func(c *NATSConfig) { c.NKeySeedFile = seedFile }, "", ""},
		{"unknown nkey", nkeyURL, func(c *NATSConfig) { c.NKeySeedFile = otherFile },
			"check CALLBRIDGE_NATS_NKEY_SEED_FILE", string(otherSeed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := externalConfig(tt.url)
			tt.set(&cfg)
			begin := time.Now()
			s, err := NewNATS(context.Background(), cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close(context.Background())
				if err := s.Publish(event("x", "room1")); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				s.Close(context.Background())
				t.Fatal("connected, want an authorization error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("err %q, want %q wrapping nats.ErrAuthorization", err, tt.wantErr)
			}
			if errors.Is(err, nats.ErrNoServers) {
				t.Errorf("err %v is retried by the caller as an unreachable server", err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error shows the secret: %v", err)
			}
			if d := time.Since(begin); d > 3*time.Second {
				t.Errorf("refused after %s, want it at once", d)
			}
		})
	}
}

// TestNATSCredentialFiles: unreadable or malformed files stop start-up before connecting, with
// the variable named and no secret shown.
func TestNATSCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	account, _ := nkeys.CreateAccount()
	accountPub, _ := account.PublicKey()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	userSeed, _ := user.Seed()
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()

	creds := func(name string, claims func(*jwt.UserClaims), seed []byte) string {
		uc := jwt.NewUserClaims(userPub)
		uc.IssuerAccount = accountPub
		if claims != nil {
			claims(uc)
		}
		token, err := uc.Encode(account)
		if err != nil {
			t.Fatal(err)
		}
		// FormatUserConfig refuses a seed of another user: decorate by hand.
		dj, err := jwt.DecorateJWT(token)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := jwt.DecorateSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		b := append(append(dj, '\n'), ds...)
		path := filepath.Join(dir, name)
		writeFile(t, path, b)
		return path
	}
	good := creds("good.creds", nil, userSeed)
	expired := creds("expired.creds", func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Hour).Unix() }, userSeed)
	mismatched := creds("mismatched.creds", nil, otherSeed)
	notCreds := filepath.Join(dir, "not.creds")
	writeFile(t, notCreds, []byte("hello\n"))
	seedFile := filepath.Join(dir, "user.nk")
	writeFile(t, seedFile, userSeed)
	notSeed := filepath.Join(dir, "not.nk")
	writeFile(t, notSeed, []byte("SUnot-a-seed\n"))

	if err := checkCredsFile(good); err != nil {
		t.Fatalf("a valid .creds file: %v", err)
	}
	tests := []struct {
		name    string
		set     func(c *NATSConfig)
		wantErr string
	}{
		{"missing creds file", func(c *NATSConfig) { c.CredsFile = filepath.Join(dir, "missing.creds") }, "CALLBRIDGE_NATS_CREDS_FILE"},
		{"not a creds file", func(c *NATSConfig) { c.CredsFile = notCreds }, "CALLBRIDGE_NATS_CREDS_FILE " + notCreds + ": no valid user JWT"},
		{"expired JWT", func(c *NATSConfig) { c.CredsFile = expired }, "expired at"},
		{"seed of another user", func(c *NATSConfig) { c.CredsFile = mismatched }, "does not belong to the user JWT"},
		{"missing seed file", func(c *NATSConfig) { c.NKeySeedFile = filepath.Join(dir, "missing.nk") }, "CALLBRIDGE_NATS_NKEY_SEED_FILE"},
		{"not a seed", func(c *NATSConfig) { c.NKeySeedFile = notSeed }, "CALLBRIDGE_NATS_NKEY_SEED_FILE"},
		{"seed and creds", func(c *NATSConfig) { c.NKeySeedFile, c.CredsFile = seedFile, good }, "set one, not both"},
		{"TLS CA missing", func(c *NATSConfig) { c.TLS = &TLSFiles{CAFile: filepath.Join(dir, "ca.pem")} }, "NATS client TLS (CALLBRIDGE_NATS_TLS_*): TLS CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens there: a file error must come before any connection attempt.
			cfg := externalConfig("nats://127.0.0.1:1")
			tt.set(&cfg)
			_, err := NewNATS(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, nats.ErrNoServers) {
				t.Errorf("err %v: the connection was attempted", err)
			}
			for _, secret := range [][]byte{userSeed, otherSeed} {
				if strings.Contains(err.Error(), string(secret)) {
					t.Errorf("error shows a seed: %v", err)
				}
			}
		})
	}
}

// TestConnectErrorHints: each failure names its settings and still wraps the client's error.
func TestConnectErrorHints(t *testing.T) {
	tests := []struct {
		cfg  NATSConfig
		err  error
		want string
	}{
		{NATSConfig{CredsFile: "x.creds"}, nats.ErrAuthorization, "check CALLBRIDGE_NATS_CREDS_FILE"},
		{NATSConfig{URL: "nats://u:p@host:4222"}, nats.ErrAuthorization, "the user information in CALLBRIDGE_NATS_URL"},
		{NATSConfig{CredsFile: "x.creds"}, nats.ErrAuthExpired, "renew the user JWT"},
		{NATSConfig{CredsFile: "x.creds"}, nats.ErrAuthRevoked, "credentials revoked"},
		{NATSConfig{}, nats.ErrSecureConnWanted, "does not offer TLS"},
		{NATSConfig{}, fmt.Errorf("%w: %w", nats.ErrTLS, errors.New("remote error: tls: bad certificate")), "TLS handshake failed"},
		{NATSConfig{}, nats.ErrNoServers, "connect to NATS"},
	}
	for _, tt := range tests {
		err := tt.cfg.connectError(tt.err)
		if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.err) {
			t.Errorf("%v: %q, want %q wrapping the cause", tt.err, err, tt.want)
		}
	}
	// The embedded server ignores external settings; the sink still starts.
	s := newEmbedded(t, NATSConfig{User: "u", Password: "p", TLS: &TLSFiles{CAFile: "/nonexistent"}})
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
}

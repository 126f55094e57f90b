package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/callbridge/callbridge/normalize"
)

// buildNATSServer builds the nats-server command from the module version in go.mod: the same
// server code the embedded mode runs, as the separate process a deployment points at.
func buildNATSServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build nats-server from the module in go.mod")
	}
	bin := filepath.Join(t.TempDir(), "nats-server")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=readonly"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build nats-server: %v\n%s", err, out)
	}
	return bin
}

// natsProcess is a nats-server child process.
type natsProcess struct {
	url  string // nats://127.0.0.1:port
	opts []nats.Option
}

// startNATSProcess runs bin with a configuration file holding a listen address on a free
// loopback port, JetStream in a temp dir, and conf; it returns once the server answers with its
// INFO, and kills it at cleanup.
func startNATSProcess(t *testing.T, bin, name, conf string, opts ...nats.Option) *natsProcess {
	t.Helper()
	dir := t.TempDir()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	confFile := filepath.Join(dir, "nats.conf")
	writeTestFile(t, confFile, fmt.Sprintf("server_name: %q\nlisten: %q\njetstream { store_dir: %q }\n%s\n",
		name, addr, filepath.Join(dir, "jetstream"), conf))
	logFile, err := os.Create(filepath.Join(dir, "nats.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-c", confFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	log := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("nats-server %s exited: %v\n%s", name, err, log())
		default:
		}
		if serverInfo(addr, name) {
			return &natsProcess{url: "nats://" + addr, opts: opts}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server %s does not accept connections on %s\n%s", name, addr, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverInfo reports whether the server at addr is up and is ours: its first line is an INFO
// naming it (sent in clear text even when the server requires TLS).
func serverInfo(addr, name string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		return false
	}
	var info struct {
		Name string `json:"server_name"`
	}
	return json.Unmarshal([]byte(line[len("INFO "):]), &info) == nil && info.Name == name
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// natsCerts writes a CA and a server certificate for 127.0.0.1 and localhost signed by it.
func natsCerts(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := newKey(), newKey()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "callbridge test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writeTestFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	writeTestFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER})))
	writeTestFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	return caFile, certFile, keyFile
}

// operatorSetup is decentralised auth: an operator, a system account and an application account
// with JetStream, preloaded into a memory resolver, and a .creds file for a user of the account.
type operatorSetup struct {
	conf         string // server configuration lines
	creds        string // user of the preloaded account
	unknownCreds string // user of an account the server does not know
}

func newOperatorSetup(t *testing.T, dir string) operatorSetup {
	t.Helper()
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	opJWT := must(jwt.NewOperatorClaims(opPub).Encode(op))

	account := func() (nkeys.KeyPair, string, string) {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		return kp, pub, must(ac.Encode(op))
	}
	sys, _ := nkeys.CreateAccount()
	sysPub, _ := sys.PublicKey()
	sysJWT := must(jwt.NewAccountClaims(sysPub).Encode(op))
	app, appPub, appJWT := account()
	stranger, _, _ := account() // signed by our operator, never preloaded

	creds := func(name string, acc nkeys.KeyPair) string {
		user, _ := nkeys.CreateUser()
		userPub, _ := user.PublicKey()
		seed, _ := user.Seed()
		b, err := jwt.FormatUserConfig(must(jwt.NewUserClaims(userPub).Encode(acc)), seed)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		writeTestFile(t, path, string(b))
		return path
	}
	opFile := filepath.Join(dir, "operator.jwt")
	writeTestFile(t, opFile, opJWT)
	return operatorSetup{
		conf: fmt.Sprintf("operator: %q\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n  %s: %q\n}\n",
			opFile, sysPub, sysPub, sysJWT, appPub, appJWT),
		creds:        creds("bridge.creds", app),
		unknownCreds: creds("stranger.creds", stranger),
	}
}

// readEvents reads every message on the stream as the CloudEvents SDK's JetStream binding
// decodes it, keyed by event id; it also returns each message's Nats-Msg-Id.
func readEvents(t *testing.T, ns *natsProcess, wantEncoding binding.Encoding) map[string]cloudevents.Event {
	t.Helper()
	js := jetStreamClient(t, ns.url, ns.opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	str, err := js.Stream(ctx, "CALLBACKS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := str.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cloudevents.Event{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		stored, err := str.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		msg := nats_jetstream.NewMessage(&nats.Msg{Subject: stored.Subject, Header: stored.Header, Data: stored.Data})
		if msg.ReadEncoding() != wantEncoding {
			t.Errorf("%s: the SDK reads encoding %v, want %v; headers %v", stored.Subject, msg.ReadEncoding(), wantEncoding, stored.Header)
		}
		ev, err := binding.ToEvent(ctx, msg)
		if err != nil {
			t.Fatalf("%s: the SDK does not decode it: %v\nheaders %v\n%s", stored.Subject, err, stored.Header, stored.Data)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("%s: invalid CloudEvent: %v", stored.Subject, err)
		}
		if id, want := stored.Header.Get(jetstream.MsgIDHeader), fmt.Sprint(ev.Extensions()["provider"])+"/"+ev.ID(); id != want {
			t.Errorf("%s: Nats-Msg-Id %q, want <provider>/<event id> %q", stored.Subject, id, want)
		}
		out[ev.ID()] = *ev
	}
	return out
}

// deleteStream removes the stream between content modes: the same callbacks posted again
// would otherwise be dropped as duplicates.
func deleteStream(t *testing.T, ns *natsProcess) {
	t.Helper()
	js := jetStreamClient(t, ns.url, ns.opts...)
	if err := js.DeleteStream(context.Background(), "CALLBACKS"); err != nil {
		t.Fatal(err)
	}
}

// TestExternalNATS runs the bridge against a separate nats-server process with each kind of
// authentication and TLS, in both content modes, and reads the callbacks back with the
// CloudEvents SDK. Start-up against a server that refuses us fails at once, naming the
// settings to check.
func TestExternalNATS(t *testing.T) {
	bin := buildNATSServer(t)
	dir := t.TempDir()

	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	userSeed, _ := user.Seed()
	seedFile := filepath.Join(dir, "bridge.nk")
	writeTestFile(t, seedFile, string(userSeed))
	nkeyOpt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	op := newOperatorSetup(t, dir)
	caFile, certFile, keyFile := natsCerts(t, dir)

	servers := map[string]*natsProcess{
		"password": startNATSProcess(t, bin, "password",
			`authorization { user: bridge, password: "s3cret-pw" }`, nats.UserInfo("bridge", "s3cret-pw")),
		"token": startNATSProcess(t, bin, "token",
			`authorization { token: "s3cret-token" }`, nats.Token("s3cret-token")),
		"nkey": startNATSProcess(t, bin, "nkey",
			fmt.Sprintf("authorization { users = [ { nkey: %s } ] }", userPub), nkeyOpt),
		"creds": startNATSProcess(t, bin, "creds", op.conf, nats.UserCredentials(op.creds)),
		"tls": startNATSProcess(t, bin, "tls",
			fmt.Sprintf("tls { cert_file: %q, key_file: %q }", certFile, keyFile), nats.RootCAs(caFile)),
	}
	auth := map[string]map[string]string{
		"password": {"CALLBRIDGE_NATS_USER": "bridge", "CALLBRIDGE_NATS_PASSWORD": "s3cret-pw"},
		"token":    {"CALLBRIDGE_NATS_TOKEN": "s3cret-token"},
		"nkey":     {"CALLBRIDGE_NATS_NKEY_SEED_FILE": seedFile},
		"creds":    {"CALLBRIDGE_NATS_CREDS_FILE": op.creds},
		"tls":      {"CALLBRIDGE_NATS_TLS_CA_FILE": caFile},
	}
	bridgeEnv := func(server, mode string, extra map[string]string) map[string]string {
		env := signedEnv()
		env["CALLBRIDGE_NATS_URL"] = servers[server].url
		env["CALLBRIDGE_CE_MODE"] = mode
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	posted := []struct{ provider, fixture string }{
		{"netease-nertc", "503-play-started.json"},
		{"anyrtc", "1-103-broadcaster-join.json"},
	}
	for _, name := range []string{"password", "token", "nkey", "creds", "tls"} {
		for _, mode := range []string{"structured", "binary"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				b := startBridge(t, bridgeEnv(name, mode, auth[name]))
				now := time.Now()
				requests := map[string]request{}
				for _, p := range posted {
					r := signed(p.provider, fixtures(t, p.provider)[p.fixture], now)
					r.header.Set("traceparent", testTraceParent)
					if status, _, reply := b.post(t, r); status != 200 {
						t.Fatalf("%s/%s: %d %s", p.provider, p.fixture, status, reply)
					}
					requests[p.provider+"/"+p.fixture] = r
				}
				encoding := map[string]binding.Encoding{"structured": binding.EncodingStructured, "binary": binding.EncodingBinary}[mode]
				events := readEvents(t, servers[name], encoding)
				native := 0
				for _, ev := range events {
					if ev.Extensions()["provider"] != normalize.CanonicalID {
						native++
					}
				}
				if native != len(posted) {
					t.Errorf("%d events on the stream, want %d", native, len(posted))
				}
				for _, p := range posted {
					compareGolden(t, events, filepath.Join("..", "..", "testdata", p.provider, "golden", p.fixture), requests[p.provider+"/"+p.fixture])
				}
				deleteStream(t, servers[name])
			})
		}
	}

	// The stream for the mismatch case: our name, other subjects.
	mismatch := startNATSProcess(t, bin, "mismatch", "")
	js := jetStreamClient(t, mismatch.url)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "CALLBACKS", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	servers["mismatch"] = mismatch

	failures := []struct {
		name    string
		server  string
		env     map[string]string
		wantErr string
		secret  string
	}{
		{"wrong password", "password", map[string]string{"CALLBRIDGE_NATS_USER": "bridge", "CALLBRIDGE_NATS_PASSWORD": "not-the-pw"},
			"NATS authorization violation: check CALLBRIDGE_NATS_USER/PASSWORD", "not-the-pw"},
		{"no credentials", "token", nil, "NATS authorization violation: the server wants credentials", ""},
		{"wrong token", "token", map[string]string{"CALLBRIDGE_NATS_TOKEN": "not-the-token"},
			"check CALLBRIDGE_NATS_TOKEN", "not-the-token"},
		{"creds of an unknown account", "creds", map[string]string{"CALLBRIDGE_NATS_CREDS_FILE": op.unknownCreds},
			"check CALLBRIDGE_NATS_CREDS_FILE", ""},
		{"TLS without the CA", "tls", nil, "NATS server certificate not trusted: check CALLBRIDGE_NATS_TLS_CA_FILE", ""},
		{"stream with other subjects", "mismatch", nil, `stream CALLBACKS has subjects [other.>], which do not cover "callbacks.>"`, ""},
	}
	for _, tt := range failures {
		t.Run("fails/"+tt.name, func(t *testing.T) {
			cfg, ln := testConfig(t, bridgeEnv(tt.server, "structured", tt.env))
			// connect() retries an unreachable server until ctx ends; a refusal must not wait.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			begin := time.Now()
			b, err := start(ctx, cfg, ln, testLogger())
			if err == nil {
				b.stop()
				t.Fatal("started, want a start-up error")
			}
			if errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > 5*time.Second {
				t.Fatalf("start-up took %s and ended with %v: a refusal was retried", time.Since(begin), err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %q, want %q", err, tt.wantErr)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

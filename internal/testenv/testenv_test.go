package testenv

import (
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/callbridge/callbridge/normalize"
)

// TestNotImportedByProduction: only _test.go files import this package, so no binary links a
// test broker.
func TestNotImportedByProduction(t *testing.T) {
	const self = "github.com/callbridge/callbridge/internal/testenv"
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module (deploy, interop)
				}
				if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self && filepath.Dir(path) != "." {
				t.Errorf("%s imports %s: only tests may", path, self)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestJetStream(t *testing.T) {
	s := JetStream(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.JetStream(); err != nil {
		t.Fatal(err)
	}
	if !s.JetStreamEnabled() {
		t.Error("JetStream is not enabled")
	}
	if plain := JetStream(t, NoJetStream()); plain.JetStreamEnabled() {
		t.Error("NoJetStream: JetStream is enabled")
	}
}

func TestKafka(t *testing.T) {
	c := Kafka(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestLogAndFreePort(t *testing.T) {
	var l Log
	l.Write([]byte("a"))
	l.Write([]byte("b"))
	if l.String() != "ab" {
		t.Errorf("Log: %q", l.String())
	}
	if p := FreePort(t); p <= 0 {
		t.Errorf("FreePort: %d", p)
	}
}

// TestSign: every built-in provider's sample, signed by Sign, passes its own Verify.
func TestSign(t *testing.T) {
	now := time.Now()
	for _, p := range normalize.Builtins() {
		a := &normalize.Auth{Secret: []byte("test-secret"), MaxSkew: time.Hour}
		path := "/v1/callbacks/" + p.ID
		c, err := Sign(p, a, "http://bridge.test"+path, p.Sample, now)
		if err != nil {
			t.Errorf("%s: %v", p.ID, err)
			continue
		}
		if c.Method != http.MethodGet && c.Method != http.MethodPost {
			t.Errorf("%s: method %q", p.ID, c.Method)
		}
		if c.Method == http.MethodGet {
			path += "?" + string(c.Body)
		}
		cb := &normalize.Callback{Body: c.Body, Header: httpHeaders(c.Header), Received: now, Method: []byte(c.Method), URI: []byte(path)}
		if _, err := p.Verify(cb, a); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
	}
}

// httpHeaders reads an http.Header as normalize.Headers.
type httpHeaders http.Header

func (h httpHeaders) Peek(key string) []byte {
	if v, ok := http.Header(h)[http.CanonicalHeaderKey(key)]; ok {
		return []byte(v[0])
	}
	return nil
}

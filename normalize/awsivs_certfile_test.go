package normalize

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The aws-ivs fetcher trusts the system pool, which a deployment extends through the standard
// variables (SSL_CERT_FILE, SSL_CERT_DIR) — for a proxy that re-signs TLS, or a private test
// endpoint. crypto/x509 reads them once per process, so each case runs in a child process: the
// production fetcher (newSNSFetcher(nil, …)) must fetch from the test's HTTPS server when
// SSL_CERT_FILE names its CA, and must refuse it when not.
func TestSNSFetcherTrustsSSLCertFile(t *testing.T) {
	if u := os.Getenv("CALLBRIDGE_TEST_SNS_FETCH"); u != "" { // the child
		if _, err := newSNSFetcher(nil, 1).cert([]byte(u)); err != nil {
			t.Fatalf("FETCH-FAILED: %v", err)
		}
		return
	}
	s := newSNSServer(t, 1)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, s.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, certFile string
		ok             bool
	}{
		{"SSL_CERT_FILE names the CA", caFile, true},
		{"SSL_CERT_FILE without it", filepath.Join(dir, "none.pem"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestSNSFetcherTrustsSSLCertFile$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+tc.certFile, "SSL_CERT_DIR="+t.TempDir(),
				"CALLBRIDGE_TEST_SNS_FETCH="+s.URL+"/SimpleNotificationService-test.pem")
			out, err := cmd.CombinedOutput()
			switch {
			case tc.ok && err != nil:
				t.Errorf("the fetcher did not trust SSL_CERT_FILE: %v\n%s", err, out)
			case !tc.ok && (err == nil || !strings.Contains(string(out), "FETCH-FAILED")):
				t.Errorf("the fetcher trusted a CA it was not given: %v\n%s", err, out)
			}
		})
	}
}

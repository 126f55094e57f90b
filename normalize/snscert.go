package normalize

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The I/O of the aws-ivs provider (Amazon SNS, shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §8b):
// fetching the certificate at SigningCertURL, and confirming a subscription with a GET of
// SubscribeURL. Both go over HTTPS only, to a host of CALLBRIDGE_AWS_IVS_CERT_HOSTS only (the
// caller checks the URL with snsURLHost and snsHostAllowed before it comes here), with a
// timeout and without following redirects: a redirect would lead to a host nobody checked.
// TLS trusts the system pool, which honours the standard SSL_CERT_FILE / SSL_CERT_DIR; tests
// give an snsFetcher a pool of their own instead (crypto/x509 reads the system pool once per
// process, so a test setting SSL_CERT_FILE late would not be heard).

const (
	snsFetchTimeout = 5 * time.Second
	snsCacheSize    = 32        // certificates kept, keyed by URL; AWS rotates them rarely
	snsMaxCertBytes = 64 << 10  // a PEM certificate is about 2 KiB
	snsMaxReplyRead = 256 << 10 // what of a confirmation reply is read before closing
)

// snsCert is a signing certificate's public key and validity dates.
type snsCert struct {
	key                 *rsa.PublicKey
	notBefore, notAfter time.Time
}

// snsFetcher fetches and caches signing certificates, and confirms subscriptions.
type snsFetcher struct {
	client *http.Client
	max    int

	mu    sync.Mutex
	certs map[string]*snsCert
	order []string // keys of certs, oldest first: the first to go when the cache is full
	// fetches counts certificate fetches, for tests.
	fetches int
}

// newSNSFetcher returns a fetcher that trusts roots (nil: the system pool) and keeps max
// certificates.
func newSNSFetcher(roots *x509.CertPool, max int) *snsFetcher {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // the host allow-list is about where the certificate comes from
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &snsFetcher{
		client: &http.Client{
			Transport: t,
			Timeout:   snsFetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		max:   max,
		certs: make(map[string]*snsCert, max),
	}
}

// snsFetch is the fetcher of the aws-ivs provider.
var snsFetch = newSNSFetcher(nil, snsCacheSize)

// cached returns the certificate of certURL when it is in the cache; no allocation.
func (f *snsFetcher) cached(certURL []byte) *snsCert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.certs[string(certURL)]
}

// cert returns the certificate at certURL, from the cache or fetched. The URL must have been
// checked (HTTPS, allowed host) by the caller. The error says why, without the URL's query.
func (f *snsFetcher) cert(certURL []byte) (*snsCert, error) {
	if c := f.cached(certURL); c != nil {
		return c, nil
	}
	key := string(certURL)
	f.mu.Lock()
	f.fetches++
	f.mu.Unlock()
	der, err := f.get(key, snsMaxCertBytes)
	if err != nil {
		return nil, err
	}
	c, err := parseSNSCert(der)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.certs[key]; old != nil {
		return old, nil // fetched meanwhile by another request
	}
	if len(f.order) >= f.max {
		delete(f.certs, f.order[0])
		f.order = append(f.order[:0], f.order[1:]...)
	}
	f.certs[key] = c
	f.order = append(f.order, key)
	return c, nil
}

// parseSNSCert reads a PEM certificate holding an RSA key.
func parseSNSCert(pemBytes []byte) (*snsCert, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("SigningCertURL does not serve a PEM certificate")
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("SigningCertURL's certificate: %v", err)
	}
	key, ok := x.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("SigningCertURL's certificate has no RSA key")
	}
	return &snsCert{key: key, notBefore: x.NotBefore, notAfter: x.NotAfter}, nil
}

// confirm GETs a subscription's SubscribeURL (checked by the caller) and wants a 2xx.
func (f *snsFetcher) confirm(subscribeURL string) error {
	_, err := f.get(subscribeURL, snsMaxReplyRead)
	return err
}

// snsGetError is a failed GET; transient when it may pass: no answer, a timeout, a 5xx, a 429.
type snsGetError struct {
	transient bool
	msg       string
}

func (e *snsGetError) Error() string { return e.msg }

// get GETs u and returns at most limit bytes of a 2xx's body. Its errors never quote u: a
// SubscribeURL carries the subscription's token.
func (f *snsFetcher) get(u string, limit int64) ([]byte, error) {
	resp, err := f.client.Get(u)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error's text quotes the URL
		}
		return nil, &snsGetError{transient: true, msg: fmt.Sprintf("GET failed: %v", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case resp.StatusCode/100 != 2:
		transient := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, &snsGetError{transient: transient, msg: fmt.Sprintf("GET answered %d", resp.StatusCode)}
	case err != nil:
		return nil, &snsGetError{transient: true, msg: fmt.Sprintf("GET failed reading the reply: %v", err)}
	case int64(len(body)) > limit:
		return nil, &snsGetError{msg: fmt.Sprintf("GET answered more than %d bytes", limit)}
	}
	return body, nil
}

// snsTransient reports an error that may pass: a GET that had no answer, timed out, or was
// answered 5xx or 429.
func snsTransient(err error) bool {
	ge, ok := err.(*snsGetError)
	return ok && ge.transient
}

// snsURLHost returns the host (and port) of an https URL, and what follows it: the path,
// query and fragment. ok is false for any other scheme, an empty host, or a host with
// userinfo or a backslash (which URL parsers disagree on). No allocation.
func snsURLHost(u []byte) (host, rest []byte, ok bool) {
	const scheme = "https://"
	if len(u) < len(scheme) || string(u[:len(scheme)]) != scheme {
		return nil, nil, false
	}
	u = u[len(scheme):]
	end := len(u)
	for i, c := range u {
		if c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	host, rest = u[:end], u[end:]
	if len(host) == 0 {
		return nil, nil, false
	}
	for _, c := range host {
		if c == '@' || c == '\\' || c <= ' ' || c >= 0x7f {
			return nil, nil, false
		}
	}
	return host, rest, true
}

// snsHostAllowed reports whether host (host or host:port, as in a URL) matches one of the
// comma-separated patterns: `host` or `host:port`, where a `*` label stands for exactly one
// DNS label (letters, digits, '-'). A pattern without a port matches a host without one
// (HTTPS's 443) only. Names compare case-insensitively. No allocation.
func snsHostAllowed(patterns string, host []byte) bool {
	for len(patterns) > 0 {
		p := patterns
		if i := indexByte(patterns, ','); i >= 0 {
			p, patterns = patterns[:i], patterns[i+1:]
		} else {
			patterns = ""
		}
		if snsHostMatch(trimSpaceString(p), host) {
			return true
		}
	}
	return false
}

// snsHostMatch matches one pattern, label by label.
func snsHostMatch(p string, host []byte) bool {
	if p == "" {
		return false
	}
	for {
		pl, hl := p, host
		pi, hi := indexByte(p, '.'), -1
		for i, c := range host {
			if c == '.' {
				hi = i
				break
			}
		}
		if pi >= 0 {
			pl = p[:pi]
		}
		if hi >= 0 {
			hl = host[:hi]
		}
		if (pi < 0) != (hi < 0) || !snsLabelMatch(pl, hl) {
			return false
		}
		if pi < 0 {
			return true
		}
		p, host = p[pi+1:], host[hi+1:]
	}
}

// snsLabelMatch matches one label (the last one may carry the port, compared exactly).
func snsLabelMatch(p string, l []byte) bool {
	if p == "*" {
		if len(l) == 0 {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		return true
	}
	if len(p) != len(l) {
		return false
	}
	for i := range len(p) {
		a, b := p[i], l[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimSpaceString(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

const sendUsage = `usage: callbridge send [-url URL] PROVIDER [FILE]

Signs a callback the way PROVIDER does, with the secret and URL token configured in this
environment (CALLBRIDGE_*), and POSTs it to a running bridge. FILE is a JSON body ("-" for
standard input); without it the provider's built-in sample is sent. Exits 0 when the bridge
answers 200.
`

// send is `callbridge send`: a way to test a deployment end to end with correctly signed
// callbacks, without a provider console.
func send(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sendUsage) }
	base := fs.String("url", "", "the bridge's base URL (default: http://127.0.0.1 and the port of CALLBRIDGE_LISTEN)")
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 || fs.NArg() > 2 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	cfg, registry, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	p := registry.Lookup([]byte(fs.Arg(0)))
	if p == nil {
		fmt.Fprintf(stderr, "callbridge send: unknown provider %q\n", fs.Arg(0))
		return 2
	}
	body, err := sendBody(fs, p)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge send: %v\n", err)
		return 2
	}
	settings := cfg.Providers[p.ID]
	auth, err := bridge.ProviderAuth(cfg, p)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge send: %v\n", err)
		return 2
	}
	url, shown := sendURL(*base, cfg, p)
	method, body, headers, err := p.SignFor(url, body, &auth, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "callbridge send: %s: %s\n", fs.Arg(1), redactURL(fmt.Errorf("the body is not a JSON object: %w", err), shown, settings.URLToken))
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reqBody := io.Reader(bytes.NewReader(body))
	if method == http.MethodGet { // the callback is a query string (Alibaba Live publish)
		url += "?" + string(body)
		reqBody = nil
	}
	req, err := http.NewRequestWithContext(ctx, method, url, reqBody)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge send: %s\n", redactURL(err, shown, settings.URLToken))
		return 2
	}
	for _, h := range append(append([]normalize.Header(nil), p.SampleHeaders...), headers...) {
		req.Header.Set(h.Key, h.Value)
		if h.Key == "Host" { // net/http sends req.Host, not a Host header
			req.Host = h.Value
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "callbridge send: %s\n", redactURL(err, shown, settings.URLToken))
		return 1
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	signed := "signed"
	if len(auth.Secret) == 0 {
		signed = "unsigned: no secret configured"
	}
	fmt.Fprintf(stdout, "%s %s (%s, %d bytes) -> %s %s\n", method, shown, signed, len(body), resp.Status, bytes.TrimSpace(reply))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// sendBody is the body FILE names (standard input for "-"), or p's built-in sample.
func sendBody(fs *flag.FlagSet, p *normalize.Provider) ([]byte, error) {
	switch {
	case fs.NArg() < 2:
		return p.Sample, nil
	case fs.Arg(1) == "-":
		return io.ReadAll(os.Stdin)
	default:
		return os.ReadFile(fs.Arg(1))
	}
}

// sendURL is p's callback URL at base (default: the port of CALLBRIDGE_LISTEN on loopback),
// with its URL token, and as shown: the token is a secret, not printed.
func sendURL(base string, cfg *config.Config, p *normalize.Provider) (url, shown string) {
	url = base
	if url == "" {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		url = "http://127.0.0.1:" + port
	}
	url += "/v1/callbacks/" + p.ID
	shown = url
	if token := cfg.Providers[p.ID].URLToken; token != "" {
		url += "/" + token
		shown += "/<token>"
	}
	return url, shown
}

// redactURL is err's text with the URL as shown (the token as <token>, no query string): net/http
// quotes the whole URL it was given in a *url.Error, and a URL token is a secret. Any other
// mention of the token as a path segment is replaced too.
func redactURL(err error, shown, token string) string {
	if ue, ok := err.(*neturl.Error); ok {
		redacted := *ue
		redacted.URL = shown
		err = &redacted
	}
	text := err.Error()
	if token != "" {
		text = strings.ReplaceAll(text, "/"+token, "/<token>")
		text = strings.ReplaceAll(text, "/"+neturl.PathEscape(token), "/<token>")
	}
	return text
}

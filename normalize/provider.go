package normalize

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers is read access to request headers; *fasthttp.RequestHeader satisfies it.
type Headers interface {
	Peek(key string) []byte
}

// Callback is one request as received: its raw body, its headers and when it arrived.
type Callback struct {
	Body     []byte
	Header   Headers
	Received time.Time
	// TokenRoute is true when the request arrived on the URL-token route with the right token.
	TokenRoute bool
	// Method and URI are the request line as received (URI: path and query, as the sender
	// wrote them), for schemes that sign the request (Qiniu). Empty outside a server.
	Method, URI []byte

	top     []member // the body's top-level members, scanned once
	topErr  *PayloadError
	scanned bool
}

// members returns the body's top-level object members, scanning the body on first use only.
// The error is a *PayloadError: the body is not one JSON object, or two members share a name
// (then the members are returned too, so a verifier can still read the ones it needs).
func (c *Callback) members() ([]member, error) {
	if !c.scanned {
		c.scanned = true
		c.top = c.top[:0]
		if err := eachMember(c.Body, func(m member) { c.top = append(c.top, m) }); err != nil {
			c.top = c.top[:0]
			c.topErr = &PayloadError{Reason: "body is not a JSON object: " + err.Error()}
		} else if dup := duplicateKey(c.top); dup != nil {
			c.topErr = &PayloadError{Field: excerpt(dup), Reason: "the member appears twice; JSON readers disagree on which one counts"}
		}
	}
	if c.topErr != nil {
		return c.top, c.topErr
	}
	return c.top, nil
}

// Reset empties c for reuse, keeping its buffers.
func (c *Callback) Reset() {
	top := c.top[:0]
	*c = Callback{top: top}
}

// field returns the value of the top-level member key, or nil.
func (c *Callback) field(key string) []byte {
	top, _ := c.members()
	return lookup(top, key)
}

// lookupOnce is lookup for a member whose two copies would be read differently by a verifier
// and by consumers: dup reports a second one.
func lookupOnce(ms []member, key string) (val []byte, dup bool) {
	for _, m := range ms {
		if string(m.key) == key {
			if val != nil {
				return val, true
			}
			val = m.val
		}
	}
	return val, false
}

func lookup(ms []member, key string) []byte {
	for _, m := range ms {
		if string(m.key) == key {
			return m.val
		}
	}
	return nil
}

// Auth is what a provider's Verify (and Sign) needs from the configuration.
type Auth struct {
	Secret        []byte
	AllowUnsigned bool
	MaxSkew       time.Duration // the signature window: how far a signed send time (NetEase CurTime, ...) may be from now
	// Options holds the provider's own settings, parsed once at start-up by Provider.Options,
	// each under its Setting.Name. An Auth built without them reads each setting's default.
	Options []NamedOption
}

// Verified is the outcome of a successful Verify.
type Verified int

const (
	// Signed means the callback's signature and signature window checked out.
	Signed Verified = iota
	// Unsigned means the callback was accepted without a signature check, by policy.
	Unsigned
)

// AuthError is a failed signature, signature-window or policy check; ingest answers 401.
type AuthError struct{ Reason string }

func (e *AuthError) Error() string { return e.Reason }

// UnavailableError is a check or a handshake the bridge could not complete for a reason that
// may pass, such as a signing certificate or a confirmation endpoint unreachable or failing
// with a 5xx; ingest answers 503 with Retry-After so that the sender retries. Only a Verify or
// an Answer that does I/O returns it.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string { return e.Reason }

// PayloadError is an authenticated body that is not valid JSON or not the documented shape;
// ingest answers 400 and dead-letters the body.
type PayloadError struct {
	Field  string // the member at fault, empty when the body is not JSON at all
	Reason string
}

func (e *PayloadError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func payloadErr(field, format string, args ...any) *PayloadError {
	return &PayloadError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// maxExcerpt bounds what of a payload value an error message quotes: the message goes into the
// 400 reply, the log and a dead letter's header.
const maxExcerpt = 64

// excerpt quotes at most maxExcerpt bytes of a payload value, in printable ASCII: safe in a
// log line, a header and (escaped once more) a JSON reply.
func excerpt(v []byte) string {
	if len(v) <= maxExcerpt {
		return strconv.QuoteToASCII(string(v))
	}
	return strconv.QuoteToASCII(string(v[:maxExcerpt])) + fmt.Sprintf("… (%d bytes)", len(v))
}

// EventDef documents one event a provider sends; the README table and the docs tests read it.
type EventDef struct {
	Code    string // native code as documented, e.g. "503", "1/103", "314 TaskStart"
	Name    string // the short dotted name, {eventtype}
	Meaning string
}

// Provider is everything callbridge knows about one provider: a built-in provider (one line in
// Builtins) or a generic source (NewWebhook). The command puts them in one Registry.
type Provider struct {
	ID         string // route and topic id, e.g. "netease-nertc"
	TypePrefix string // reverse-DNS prefix of every CloudEvents type
	Reply      []byte // the success body the provider expects
	SecretName string // the secret's name in the provider's console, for docs
	SecretVar  string // suffix of the secret's variable: CALLBRIDGE_<ID>_<SecretVar>; TokenSecret for one that signs nothing
	// AcceptsGET: the provider also sends callbacks as GET, their fields in the query string
	// (Alibaba Live's publish callbacks). The bridge hands such a query string to Verify and
	// Normalize as the Callback's body, and a dead letter keeps it.
	AcceptsGET bool
	// PublishTimeout, when set, is the default of CALLBRIDGE_<ID>_PUBLISH_TIMEOUT: the longest
	// the bridge waits for the broker before it answers 503, for a sender that stops waiting
	// sooner than CALLBRIDGE_PUBLISH_TIMEOUT (an answer after that is lost, or worse, read as a
	// refusal); 0: CALLBRIDGE_PUBLISH_TIMEOUT.
	PublishTimeout time.Duration
	// Settings are the provider's own variables beside the secret, _URL_TOKEN, _VERIFY and
	// _PUBLISH_TIMEOUT.
	Settings []Setting
	// Distinct are the dotted JSON paths of Sample's fields that make the event id: `callbridge
	// bench` writes a distinct value there in every callback it sends. In Distinct and Code, a
	// step through a string member holding a JSON object goes into that object (SNS's Message,
	// an EventBridge event as a string: "Message.id").
	Distinct   []string
	Code       string // dotted JSON path of the event code in Sample, for tests that vary it; "": not in the body
	Scheme     string // the signature scheme, for the provider's docs page (docs/providers)
	Window     string // the signature window, for the provider's docs page (docs/providers)
	Subject    string // where subject comes from, for the README
	TimeSource string // where time comes from, for the README
	Events     []EventDef
	Unknown    string // the {eventtype} of a code Events lacks, for docs: "unknown.<code>"
	// Data and EventData declare the events' data (datafield.go): the members every event
	// has, and each event's own by its EventDef Name. Neither set: permissive schemas.
	Data      []Field
	EventData map[string][]Field
	// Canonical maps native events to the canonical RTC events (canonical.go); nil: none.
	Canonical *Canonical
	// Majors is the current major of an event type's data schema, by its EventDef Name, for a
	// type past FirstMajor: a change of a member's meaning or type makes a new major, and the
	// old one stays served from contract/history (datafield.go, docs/contract.md "Versions").
	// Absent or 0: FirstMajor.
	Majors map[string]int
	// IsProbe reports a URL check or handshake that is answered 200 and publishes nothing.
	IsProbe func(c *Callback) bool
	// Answer, when set, makes a probe's reply from the callback (Zoom's URL validation answers
	// an HMAC of a token the sender chose), appended to dst; nil answers Reply. Probe runs it
	// only once the probe's signature verified. Its error is a *PayloadError (400, nothing
	// dead-lettered), or an *UnavailableError when the handshake failed for a reason that may
	// pass (503 with Retry-After, so that the sender sends it again: SNS's subscription
	// confirmation when SNS could not be reached).
	Answer func(c *Callback, a *Auth, dst []byte) ([]byte, error)
	// Verify checks the signature and the signature window of c against a, on the raw bytes,
	// and reports whether c was Signed or accepted Unsigned by policy. Its error is an
	// *AuthError, for which ingest answers 401 with the Reason and publishes nothing (in report
	// mode the callback goes on, marked unverified), or an *UnavailableError when the check
	// could not be made for a reason that may pass (aws-ivs: the signing certificate could not
	// be fetched), for which ingest answers 503 with Retry-After so that the provider retries.
	Verify func(c *Callback, a *Auth) (Verified, error)
	// Normalize fills ev from the callback. Its only error is a *PayloadError naming the
	// field, for which ingest answers 400 and dead-letters the body when the callback was
	// authenticated (an unauthenticated body is refused, not kept).
	Normalize func(c *Callback, ev *Event) error

	// ReplyTo, when set, chooses the success body per callback (OvenMediaEngine answers
	// {"allowed":true} to an opening and {} to a closing); nil: Reply. It runs on every request:
	// it returns one of the provider's own static bodies and allocates nothing.
	ReplyTo func(c *Callback) []byte
	// Credentials are the dotted JSON paths (form keys, for a form or query body) of values
	// that are credentials: a stream key; for a path ending in '?', the query of a URL value
	// (SRS's tcUrl); a step "name[]" names every item of an array (GetStream's
	// call.egress.rtmps[].stream_key). Normalize keeps them out of the event; a dead letter carries the body with
	// each replaced (Redact). The contract test puts a marker at each path of Sample (adding
	// the path when Sample lacks it) and looks for it on the bus and in dead letters.
	Credentials []string

	// Sign makes body the callback the provider would send at now, signed with a.Secret (when
	// set), and returns it with its headers: what `callbridge send` posts to test a deployment.
	// It never runs on a request (callbridge send and bench, the fault driver, tests): its
	// error (body not what the scheme signs, such as not a JSON object where the signature
	// covers one) goes to that caller and has no HTTP status.
	Sign func(body []byte, a *Auth, now time.Time) ([]byte, []Header, error)
	// SignRequest, when set, is for schemes that sign the request line and Host (Qiniu): it is
	// given the request Sign made (method, uri as path[?query] on the wire, host, the body as
	// sent (nil for a GET) and Sign's headers) and returns the headers to send. Senders call
	// SignFor, which runs Sign and then SignRequest.
	SignRequest func(method, uri, host string, body []byte, headers []Header, a *Auth) ([]Header, error)
	// Sample is one documented callback, sent when `callbridge send` is given no file.
	Sample []byte
	// SampleHeaders are headers the provider sends beside its signature (an app id, say), with
	// example values: `callbridge send` and the tests send them with every sample and fixture.
	SampleHeaders []Header
}

// TokenSecret is the SecretVar of a provider that signs nothing (SRS): its secret is its URL
// token, CALLBRIDGE_<ID>_URL_TOKEN, one variable for both. The route serves such a provider only
// on /v1/callbacks/<id>/<token> once it is set, so its Verify accepts what reaches it; without
// it, the unsigned policy decides.
const TokenSecret = "URL_TOKEN"

// RouteAuthenticated reports whether p signs nothing and is authenticated by its URL token
// alone (SecretVar TokenSecret): a callback's bytes then carry nothing a secret could check.
func (p *Provider) RouteAuthenticated() bool { return p.SecretVar == TokenSecret }

// Method is how a callback whose body (as Sign made it) is body is sent: GET, with body as the
// query string, for a provider that AcceptsGET when body is not a JSON object; else POST.
func (p *Provider) Method(body []byte) string {
	if i := skipSpace(body, 0); p.AcceptsGET && (i == len(body) || body[i] != '{') {
		return "GET"
	}
	return "POST"
}

// SignFor makes body the request p's sender posts to url at now: Sign, then Method, then
// SignRequest when p has one, with the host and path[?query] of url (a Host header Sign sets
// wins over url's host). A GET's body is its query string, appended to url's path as it is
// sent. Every sender (`callbridge send`, bench, the fault driver, tests) signs through here.
func (p *Provider) SignFor(rawURL string, body []byte, a *Auth, now time.Time) (method string, out []byte, headers []Header, err error) {
	out, headers, err = p.Sign(body, a, now)
	if err != nil {
		return "", nil, nil, err
	}
	method = p.Method(out)
	if p.SignRequest == nil {
		return method, out, headers, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, nil, err
	}
	host, uri, sent := u.Host, u.EscapedPath(), out
	if uri == "" {
		uri = "/"
	}
	if method == "GET" {
		uri, sent = uri+"?"+string(out), nil
	} else if u.RawQuery != "" {
		uri += "?" + u.RawQuery
	}
	for _, h := range headers {
		if strings.EqualFold(h.Key, "Host") {
			host = h.Value
		}
	}
	headers, err = p.SignRequest(method, uri, host, sent, headers, a)
	return method, out, headers, err
}

// Header is one request header.
type Header struct{ Key, Value string }

// Run verifies and normalises one callback. A failed check in report mode is not an error:
// the event is marked Unverified and the failure is returned as reportErr for logging.
func (p *Provider) Run(c *Callback, a *Auth, enforce bool, ev *Event) (reportErr, err error) {
	v, verr := p.Verify(c, a)
	if verr != nil {
		if enforce {
			return nil, verr
		}
		reportErr = verr
	}
	err = p.Envelope(c, ev)
	switch {
	case verr == nil && v != Unsigned:
	case err == nil:
		ev.MarkUnverified()
	default:
		ev.Unverified = true // for the caller: an unauthenticated body is not dead-lettered
	}
	return reportErr, err
}

// Probe reports whether c is a URL check or handshake (IsProbe) and, when it is, the reply:
// Reply, or what Answer makes of c, appended to dst. A probe with an Answer is answered only
// when its signature verifies, in report mode too: the answer is made with the secret, so
// answering an unsigned one would sign a value of anyone's choosing. err is then Verify's
// *AuthError (ingest answers 401) or *UnavailableError (503), or Answer's *PayloadError (400) or
// *UnavailableError (503); a probe never publishes and is never dead-lettered.
func (p *Provider) Probe(c *Callback, a *Auth, dst []byte) (reply []byte, probe bool, err error) {
	if !p.IsProbe(c) {
		return nil, false, nil
	}
	if p.Answer == nil {
		return p.Reply, true, nil
	}
	v, err := p.Verify(c, a)
	if err == nil && v == Unsigned {
		err = &AuthError{Reason: "a handshake is answered only when signed, and no secret is configured for this provider"}
	}
	if err != nil {
		return nil, true, err
	}
	reply, err = p.Answer(c, a, dst)
	return reply, true, err
}

// ReplyFor is the body of the 200 answering c once its event is stored: ReplyTo's choice, else
// Reply.
func (p *Provider) ReplyFor(c *Callback) []byte {
	if p.ReplyTo != nil {
		return p.ReplyTo(c)
	}
	return p.Reply
}

// Envelope fills ev from c without verifying it: for callbacks verified by Run, and for
// replaying dead letters that were verified when they arrived.
func (p *Provider) Envelope(c *Callback, ev *Event) error {
	ev.Provider = p.ID
	ev.TraceParent = c.Header.Peek("traceparent")
	if len(ev.TraceParent) > 0 {
		ev.TraceState = c.Header.Peek("tracestate")
	}
	return p.Normalize(c, ev)
}

// unsigned applies the policy for a provider with no secret configured.
func unsigned(a *Auth) (Verified, error) {
	if a.AllowUnsigned {
		return Unsigned, nil
	}
	return Signed, &AuthError{Reason: "no secret is configured for this provider and unsigned callbacks are not allowed"}
}

// equalHex compares a received hex digest with the expected lower-case one in constant time,
// accepting upper-case input.
func equalHex(got []byte, want []byte) bool {
	if len(got) != len(want) {
		return false
	}
	var diff byte
	for i := range got {
		c := got[i]
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		diff |= c ^ want[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// checkSkew refuses a send time further than max from now either way.
func checkSkew(name string, sent, now time.Time, max time.Duration) error {
	d := now.Sub(sent)
	if d > max {
		return &AuthError{Reason: fmt.Sprintf("%s is %s old, more than the allowed clock skew of %s (signature window)", name, d.Round(time.Second), max)}
	}
	if -d > max {
		return &AuthError{Reason: fmt.Sprintf("%s is %s in the future, more than the allowed clock skew of %s", name, (-d).Round(time.Second), max)}
	}
	return nil
}

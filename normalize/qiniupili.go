package normalize

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"sync"
	"time"
)

// Qiniu Pili (七牛 直播云) stream status callbacks (shared/providers/PROTOCOLS-WAVE3-CHINA.md §5):
// the connect (开播) and disconnect (断播) callbacks of an RTMP push domain, POSTed as a form
// (Type FORM) or as JSON (Type JSON), with parameters the user chooses in the console (Vars:
// static values or built-ins such as $(title), $(domain), $(startTime), $(timestamp)). Type
// GET (the parameters in the URL) is not accepted: choose FORM or JSON.
//
// Every callback carries Authorization: Qiniu <AccessKey>:<base64url(HMAC-SHA1(SecretKey,
// signing string))>, Qiniu's management token v2, whose signing string is the request: METHOD
// SP path[?query] LF "Host: " host LF "Content-Type: " type LF, the X-Qiniu-* headers sorted,
// LF, and the body when the type is exactly form or JSON (qiniu/go-sdk auth/credentials.go,
// reproduced in the tests with the SDK's own vectors); a body of another type, which the
// signature would not cover, is refused. The AccessKey must be the configured one. Qiniu signs the URL as configured in its console: when a proxy in front of the bridge
// rewrites Host or path, CALLBRIDGE_QINIU_PILI_CALLBACK_URL gives that URL. That Pili signs its
// callbacks with the account's AK/SK is inferred from the header (UNCONFIRMED):
// CALLBRIDGE_QINIU_PILI_VERIFY=report with one captured request confirms it.
//
// Nothing in the header is time-bound: a ts or timestamp parameter ($(timestamp), signed with
// the body) is held to the clock skew when there is one, and stays out of the event, as a send
// time. The event is the event or status parameter, else the event query parameter of the
// callback URL (a static type per console callback), else unknown.callback. There is no id: it
// hashes the event and the data (every parameter but ts/timestamp), so configure $(title),
// $(startTime) (and $(endTime)) to tell pushes apart. A URL's query in a parameter ($(sourceURL))
// is cut: it carries the push's auth token.
var QiniuPili = Provider{
	ID:          "qiniu-pili",
	TypePrefix:  qiniuPrefix,
	Reply:       []byte(`{}`), // SuccessCode 0 (any) or the code configured: answer 200
	SecretName:  "SecretKey (SK) of the AccessKey pair",
	SecretVar:   "SECRET_KEY",
	Settings:    qiniuSettings,
	Scheme:      "header `Authorization: Qiniu <CALLBRIDGE_QINIU_PILI_ACCESS_KEY>:<base64url(HMAC-SHA1(SK, signing string))>`, signing string `METHOD path[?query]\\nHost: host\\nContent-Type: type\\n` + sorted `X-Qiniu-*` lines + `\\n` + the body (exactly form or JSON; a body of another type is refused, being unsigned); host and path from `CALLBRIDGE_QINIU_PILI_CALLBACK_URL` when set (that Pili signs with the account AK/SK is UNCONFIRMED: `CALLBRIDGE_QINIU_PILI_VERIFY=report` with one captured request confirms it)",
	Window:      "none in the scheme; a `ts` or `timestamp` parameter (`$(timestamp)`, s, signed with the body), when configured, within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:     "`title` (`$(title)`, the stream), else `stream`",
	TimeSource:  "`endTime`, else `startTime`, else `ts`/`timestamp` (s, as configured); else receipt",
	Events:      qiniuEvents,
	Data:        qiniuData,
	Canonical:   qiniuCanonical,
	Unknown:     "unknown.<event>; no event at all: unknown.callback",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      qiniuVerify,
	Normalize:   qiniuNormalize,
	Sign:        signQiniuPili,
	SignRequest: signQiniuRequest,
	Distinct:    []string{"title"},
	Code:        "status",
	Sample:      []byte(`{"title":"stream1","domain":"pili-publish.example.com","status":"connected","remoteIP":"22.73.202.226","startTime":"1700000000","ts":"1700000001"}`),
}

const qiniuPrefix = "com.qiniu.pili."

var qiniuSettings = []Setting{
	{Name: "ACCESS_KEY", Kind: Text, Secret: true, WithSecret: true,
		Description: "AccessKey (AK) of the key pair that signs the callbacks: the Authorization header must name it"},
	{Name: "CALLBACK_URL", Kind: Text,
		Description: "the callback URL as configured in the Qiniu console, when a proxy or ingress in front of the bridge rewrites Host or path: its host and path (and query, if it has one) are what is verified; empty: the request's own Host and path"},
}

// Codes are the event (or status) parameter, or the callback URL's event query parameter:
// the values the docs' sample and advice use.
var qiniuEvents = []EventDef{
	{"connected", "stream.connected", "开播 ConnectCallback: a push connected ($(status) in the docs' sample, or a static event=connected)"},
	{"disconnected", "stream.disconnected", "断播 DisconnectCallback: a push ended, after the disconnect delay (a static event=disconnected; $(status)'s value UNCONFIRMED)"},
}

// qiniuData declares the data an object without members: open, because its members are the
// parameters the user configured in the console (Vars: names of the user's choosing, static
// values or built-ins such as $(title), $(status), $(startTime), §5a), a free map. ts and
// timestamp (send times) are left out of it, and a URL's query is cut.
var qiniuData = []Field{}

const (
	qiniuForm = "application/x-www-form-urlencoded"
	qiniuJSON = "application/json"
	// qiniuMaxXHeaders bounds the X-Qiniu-* headers a signature covers.
	qiniuMaxXHeaders = 16
)

// qiniuWork is a request's working space, pooled: the signing string, the form as JSON, the
// X-Qiniu-* headers.
type qiniuWork struct {
	buf   []byte
	hdrs  [qiniuMaxXHeaders][2][]byte
	n     int
	over  bool
	visit func(k, v []byte) // w.add, made once
}

var qiniuPool = sync.Pool{New: func() any {
	w := new(qiniuWork)
	w.visit = w.add
	return w
}}

// add keeps an X-Qiniu-* header (name longer than the prefix), in sorted place.
func (w *qiniuWork) add(k, v []byte) {
	const prefix = "x-qiniu-"
	if len(k) <= len(prefix) || !bytes.EqualFold(k[:len(prefix)], []byte(prefix)) {
		return
	}
	if w.n == len(w.hdrs) {
		w.over = true
		return
	}
	i := w.n
	for ; i > 0 && qiniuHeaderLess(k, v, w.hdrs[i-1][0], w.hdrs[i-1][1]); i-- {
		w.hdrs[i] = w.hdrs[i-1]
	}
	w.hdrs[i] = [2][]byte{k, v}
	w.n++
}

// qiniuHeaderLess orders headers by canonical name, then value, as the SDK sorts them.
func qiniuHeaderLess(k1, v1, k2, v2 []byte) bool {
	for i := 0; i < len(k1) && i < len(k2); i++ {
		if a, b := canonicalAt(k1, i), canonicalAt(k2, i); a != b {
			return a < b
		}
	}
	if len(k1) != len(k2) {
		return len(k1) < len(k2)
	}
	return string(v1) < string(v2)
}

// canonicalAt is byte i of the canonical MIME form of the header name k (X-Qiniu-Foo).
func canonicalAt(k []byte, i int) byte {
	c := k[i]
	upper := i == 0 || k[i-1] == '-'
	switch {
	case upper && c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case !upper && c >= 'A' && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// headerVisitor is a Headers that lists its headers (fasthttp's RequestHeader): the X-Qiniu-*
// ones are signed. A Headers that cannot list them is read as having none.
type headerVisitor interface {
	VisitAll(f func(key, value []byte))
}

// qiniuTarget is what of the request the signature covers beside the body and the headers.
type qiniuTarget struct {
	method, host, path, query []byte // path as sent (escaped); query without '?', nil: none
}

// appendQiniuSigningString appends the v2 signing string of the request t with content type
// ct, the sorted X-Qiniu-* headers hdrs and body (included only for a form or JSON type).
func appendQiniuSigningString(dst []byte, t *qiniuTarget, ct []byte, hdrs [][2][]byte, body []byte) []byte {
	dst = append(append(dst, t.method...), ' ')
	dst = appendPathUnescaped(dst, t.path)
	if len(t.query) > 0 {
		dst = append(append(dst, '?'), t.query...)
	}
	dst = append(append(append(dst, "\nHost: "...), t.host...), '\n')
	if len(ct) == 0 {
		ct = []byte(qiniuForm) // the SDK's default
	}
	dst = append(append(append(dst, "Content-Type: "...), ct...), '\n')
	for _, h := range hdrs {
		for i := range h[0] {
			dst = append(dst, canonicalAt(h[0], i))
		}
		dst = append(append(append(dst, ':', ' '), h[1]...), '\n')
	}
	dst = append(dst, '\n')
	if len(body) > 0 && qiniuSignsBody(ct) {
		dst = append(dst, body...)
	}
	return dst
}

// qiniuSignsBody reports whether the signature covers the body of a request of type ct: only
// for exactly a form or JSON (the SDK's incBodyV2; no type counts as a form).
func qiniuSignsBody(ct []byte) bool {
	return len(ct) == 0 || string(ct) == qiniuForm || string(ct) == qiniuJSON
}

// appendPathUnescaped appends the path p %-decoded, as Go's url.URL.Path (which the SDK signs)
// holds it; a malformed escape is kept as it is.
func appendPathUnescaped(dst, p []byte) []byte {
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && hexVal(p[i+1]) >= 0 && hexVal(p[i+2]) >= 0 {
			dst = append(dst, byte(hexVal(p[i+1])<<4|hexVal(p[i+2])))
			i += 2
			continue
		}
		dst = append(dst, p[i])
	}
	return dst
}

// qiniuSign is base64url(HMAC-SHA1(sk, msg)), with padding: 28 bytes.
func qiniuSign(sk, msg []byte) (sig [28]byte) {
	var sum [sha256.Size]byte
	base64.URLEncoding.Encode(sig[:], sum[:hmacSum(&sum, sk, false, msg)])
	return sig
}

// splitURI splits path[?query] (a fragment dropped).
func splitURI(uri []byte) (path, query []byte) {
	if i := bytes.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	path, query, _ = bytes.Cut(uri, []byte{'?'})
	return path, query
}

// set makes t the request as Qiniu signed it: the configured callback URL's host and path (its
// query when it has one, else the request's), else the request's own Host and URI.
func (t *qiniuTarget) set(a *Auth, method, uri, host []byte) {
	t.method = method
	if len(t.method) == 0 {
		t.method = []byte("POST")
	}
	t.path, t.query = splitURI(uri)
	t.host = host
	configured := a.setting(qiniuSettings, "CALLBACK_URL").Bytes
	if len(configured) == 0 {
		return
	}
	if i := bytes.Index(configured, []byte("://")); i >= 0 {
		configured = configured[i+3:]
	}
	end := bytes.IndexAny(configured, "/?#")
	if end < 0 {
		end = len(configured)
	}
	t.host = configured[:end]
	path, query := splitURI(configured[end:])
	t.path = path
	if len(query) > 0 {
		t.query = query
	}
}

func qiniuVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	auth := c.Header.Peek("Authorization")
	rest, ok := bytes.CutPrefix(auth, []byte("Qiniu "))
	if !ok {
		return Signed, &AuthError{Reason: "Authorization header missing or not \"Qiniu <AccessKey>:<sign>\""}
	}
	ak, sig, ok := bytes.Cut(rest, []byte{':'})
	if !ok {
		return Signed, &AuthError{Reason: "Authorization is not \"Qiniu <AccessKey>:<sign>\""}
	}
	if subtle.ConstantTimeCompare(ak, a.setting(qiniuSettings, "ACCESS_KEY").Bytes) != 1 {
		return Signed, &AuthError{Reason: "Authorization names another AccessKey than CALLBRIDGE_QINIU_PILI_ACCESS_KEY"}
	}
	if len(c.URI) == 0 && len(a.setting(qiniuSettings, "CALLBACK_URL").Bytes) == 0 {
		return Signed, &AuthError{Reason: "the request's path is unknown, and the signature covers it"}
	}
	var t qiniuTarget
	t.set(a, c.Method, c.URI, c.Header.Peek("Host"))
	w := qiniuPool.Get().(*qiniuWork)
	defer qiniuPool.Put(w)
	w.n, w.over = 0, false
	if v, ok := c.Header.(headerVisitor); ok {
		v.VisitAll(w.visit)
	}
	if w.over {
		return Signed, &AuthError{Reason: "more X-Qiniu-* headers than the signature check reads"}
	}
	body, ct := c.Body, c.Header.Peek("Content-Type")
	if string(t.method) == "GET" {
		body = nil // a GET's Body is its query string, signed in the request line
	}
	if len(body) > 0 && !qiniuSignsBody(ct) {
		return Signed, &AuthError{Reason: "the signature would not cover the body: Content-Type " + excerpt(ct) + " is not exactly " + qiniuForm + " or " + qiniuJSON}
	}
	w.buf = appendQiniuSigningString(w.buf[:0], &t, ct, w.hdrs[:w.n], body)
	want := qiniuSign(a.Secret, w.buf)
	if subtle.ConstantTimeCompare(sig, want[:]) != 1 {
		return Signed, &AuthError{Reason: "Authorization does not match the request (method, path, Host, Content-Type, X-Qiniu-* headers, body)"}
	}
	return Signed, qiniuWindow(c, a, w)
}

// qiniuWindow holds a ts or timestamp parameter, when the callback has one, to the clock skew.
func qiniuWindow(c *Callback, a *Auth, w *qiniuWork) error {
	var raw []byte
	if qiniuIsForm(c) {
		for _, name := range qiniuSendTimes {
			if v, ok := queryParam(w.buf[:0], c.Body, name); ok {
				raw = v
				break
			}
		}
	} else {
		top, _ := c.members()
		for _, name := range qiniuSendTimes {
			if raw = lookup(top, name); raw != nil {
				break
			}
		}
	}
	if raw == nil {
		return nil
	}
	sec, ok := intValue(raw)
	if !ok {
		return &AuthError{Reason: "ts/timestamp is not a unix timestamp"}
	}
	return checkSkew("ts/timestamp", unixTime(sec), c.Received, a.MaxSkew)
}

// qiniuSendTimes are the names a $(timestamp) parameter is read under: the send time, held to
// the skew and kept out of the event.
var qiniuSendTimes = [...]string{"ts", "timestamp"}

// qiniuIsForm reports a form body (Type FORM); anything else is read as JSON (Type JSON). The
// 2018 page spells the type without its final d.
func qiniuIsForm(c *Callback) bool {
	ct := c.Header.Peek("Content-Type")
	const form = "application/x-www-form-urlencode"
	return len(ct) >= len(form) && bytes.EqualFold(ct[:len(form)], []byte(form))
}

func qiniuNormalize(c *Callback, ev *Event) error {
	w := qiniuPool.Get().(*qiniuWork)
	defer qiniuPool.Put(w)
	var f qiniuFields
	d := append(ev.data[:0], '{')
	if qiniuIsForm(c) {
		var perr *PayloadError
		if w.buf, perr = appendQueryJSON(w.buf[:0], c.Body, nil); perr != nil {
			return perr
		}
		eachMember(w.buf, func(m member) { d = f.appendMember(d, m) }) // valid: built above
	} else {
		top, err := c.members()
		if err != nil {
			return err
		}
		for _, m := range top {
			d = f.appendMember(d, m)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data

	code, scratch, ok := stringValue(f.event, ev.scratch[:0])
	ev.scratch = scratch
	if f.event == nil {
		var qb [64]byte
		_, query := splitURI(c.URI)
		code, ok = queryParam(qb[:0], query, "event")
		if !ok || len(code) == 0 {
			code, ok = []byte("callback"), true
		}
	}
	if !ok || len(code) == 0 {
		return payloadErr("event", "not a string naming the event")
	}
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(qiniuEvents, qiniuPrefix)

	ev.Subject = ev.keep(scalarText(ev, f.title))
	ev.Time = c.Received.UTC()
	_ = ev.setTime(intValue(f.end)) || ev.setTime(intValue(f.start)) || ev.setTime(intValue(f.sent))
	ev.setSource(scalarText(ev, f.domain))
	ev.hashID(ev.Data)
	return nil
}

// qiniuFields are the parameters qiniuNormalize reads.
type qiniuFields struct {
	event, title, domain, start, end, sent []byte
}

// appendMember collects m and appends it to d: a send time is left out, and a URL's query cut.
func (f *qiniuFields) appendMember(d []byte, m member) []byte {
	switch string(m.key) {
	case "event":
		f.event = m.val
	case "status":
		if f.event == nil {
			f.event = m.val
		}
	case "title":
		f.title = m.val
	case "stream":
		if f.title == nil {
			f.title = m.val
		}
	case "domain":
		f.domain = m.val
	case "startTime":
		f.start = m.val
	case "endTime":
		f.end = m.val
	case "ts", "timestamp":
		f.sent = m.val
		return d
	}
	if len(m.val) > 0 && m.val[0] == '"' && bytes.Contains(m.val, []byte("://")) {
		if q := bytes.IndexByte(m.val, '?'); q > 0 {
			return append(append(appendKey(qiniuComma(d), m), m.val[:q]...), '"')
		}
	}
	return appendMember(d, m)
}

func qiniuComma(d []byte) []byte {
	if len(d) > 1 {
		d = append(d, ',')
	}
	return d
}

// signQiniuPili makes the body Qiniu sends at now: a JSON object as Type JSON, anything else but
// JSON as a form (Type FORM), with ts/timestamp (when there) set to now. The Authorization
// header needs the request line: signQiniuRequest adds it (Provider.SignFor).
func signQiniuPili(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	stamp := strconv.AppendInt(nil, now.Unix(), 10)
	if isQuery(body) && !validValue(body) { // JSON that is not an object is no form either
		return qiniuStampForm(body, stamp), []Header{{"Content-Type", qiniuForm}}, nil
	}
	for _, name := range qiniuSendTimes {
		old := lookup(topMembers(body), name)
		if old == nil {
			continue
		}
		val := stamp
		if old[0] == '"' {
			val = append(append([]byte{'"'}, stamp...), '"')
		}
		var err error
		if body, err = replaceMember(body, name, val); err != nil {
			return nil, nil, err
		}
	}
	if err := eachMember(body, nil); err != nil {
		return nil, nil, err
	}
	return body, []Header{{"Content-Type", qiniuJSON}}, nil
}

// qiniuStampForm sets the ts and timestamp parameters of the form body to stamp.
func qiniuStampForm(body, stamp []byte) []byte {
	var out []byte
	for i, pair := range bytes.Split(body, []byte{'&'}) {
		if i > 0 {
			out = append(out, '&')
		}
		k, _, _ := bytes.Cut(pair, []byte{'='})
		if string(k) == "ts" || string(k) == "timestamp" {
			pair = append(append(append([]byte(nil), k...), '='), stamp...)
		}
		out = append(out, pair...)
	}
	return out
}

// signQiniuRequest adds Authorization for the request Sign made, sent as method to uri at host
// (or to CALLBRIDGE_QINIU_PILI_CALLBACK_URL, which Qiniu signs when it is configured).
func signQiniuRequest(method, uri, host string, body []byte, headers []Header, a *Auth) ([]Header, error) {
	if len(a.Secret) == 0 {
		return headers, nil
	}
	var t qiniuTarget
	t.set(a, []byte(method), []byte(uri), []byte(host))
	var ct []byte
	w := qiniuPool.Get().(*qiniuWork)
	defer qiniuPool.Put(w)
	w.n, w.over = 0, false
	for _, h := range headers {
		if bytes.EqualFold([]byte(h.Key), []byte("Content-Type")) {
			ct = []byte(h.Value)
		}
		w.add([]byte(h.Key), []byte(h.Value))
	}
	msg := appendQiniuSigningString(nil, &t, ct, w.hdrs[:w.n], body)
	sig := qiniuSign(a.Secret, msg)
	ak := a.setting(qiniuSettings, "ACCESS_KEY").Text
	return append(headers, Header{"Authorization", "Qiniu " + ak + ":" + string(sig[:])}), nil
}

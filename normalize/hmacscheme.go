package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HMACSpec is a signature declared rather than coded: an HMAC of a template of the request's
// parts, carried in one header as plain text or as k=v pairs, with an optional signed timestamp
// held to the signature window. Most vendors sign webhooks this way, each in its own spelling
// (SPEC §6a): a generic source builds one from its settings, and a built-in provider whose
// scheme fits declares one (Zoom, Mux, Daily, Cloudflare Stream, GetStream, Huawei SparkRTC)
// instead of writing its own verifier. Compile it once (CompileHMAC); the compiled scheme
// verifies with no allocation and is safe for concurrent use.
type HMACSpec struct {
	SHA1 bool // HMAC-SHA1; else HMAC-SHA256
	// Content is what is signed: literals and {body}, {header:<Name>}, {sig:<param>} (a value
	// of the signature header's k=v pairs). Empty: {body}.
	Content string
	Header  string // the header carrying the signature
	Prefix  string // plain format: text before the signature, such as "v0=" or "sha256="
	// Param, when set, makes the header k=v pairs separated by ','; every value of Param is a
	// signature and any one matching passes (key rotation).
	Param        string
	SecretBase64 bool        // the secret is the base64 of the key
	Encoding     SigEncoding // how the signature is written
	// Timestamp, when set, is where the signed send time is: "header:<Name>" or "sig:<param>".
	// It must be part of Content (a time the signature does not cover proves nothing).
	Timestamp string
	Unit      TimeUnit
}

// SigEncoding is how a signature is written.
type SigEncoding int

const (
	Hex SigEncoding = iota
	Base64
	Base64URL // padding optional
)

var sigEncodings = []string{"hex", "base64", "base64url"}

// TimeUnit is the unit of a signed timestamp.
type TimeUnit int

const (
	Seconds TimeUnit = iota
	Millis
	// SecondsOrMillis reads a value of 12 digits or more as ms, else s: for senders whose
	// documents disagree on the unit (Daily); both readings are then held to the same window.
	SecondsOrMillis
)

// part is one piece of a compiled template.
type part struct {
	kind partKind
	text []byte // literal, or the header or param name
	name string // a header's name as a string: Peek(string(text)) would allocate on every request
}

type partKind uint8

const (
	partLiteral partKind = iota
	partBody
	partHeader
	partSig
)

// HMACScheme is an HMACSpec compiled, ready to verify and sign.
type HMACScheme struct {
	HMACSpec
	parts  []part
	tsPart int // index in parts of the timestamp, -1 without one
	keys   atomic.Pointer[decodedKey]
}

// decodedKey caches a base64 secret's key, decoded once per secret rather than per request.
type decodedKey struct{ secret, key []byte }

// maxTemplateParts bounds a template: the parts of one request sit in an array on the stack.
const maxTemplateParts = 16

// CompileHMAC checks s and returns it ready to use; the error says what cannot work, for the
// start-up error naming the setting.
func CompileHMAC(s HMACSpec) (*HMACScheme, error) {
	c := &HMACScheme{HMACSpec: s, tsPart: -1}
	if c.Content == "" {
		c.Content = "{body}"
	}
	if !validHeaderName(c.Header) {
		return nil, fmt.Errorf("signature header %q: want a header name: letters, digits, - and _", c.Header)
	}
	parts, err := parseTemplate(c.Content)
	if err != nil {
		return nil, err
	}
	c.parts = parts
	hasBody := false
	for i, p := range parts {
		switch {
		case p.kind == partBody:
			hasBody = true
		case p.kind == partSig && c.Param == "":
			return nil, fmt.Errorf("{sig:%s} reads the signature header's k=v pairs: set the kv format and its signature param", p.text)
		}
		if c.Timestamp != "" && placeholder(p) == "{"+c.Timestamp+"}" {
			c.tsPart = i
		}
	}
	if !hasBody {
		return nil, fmt.Errorf("signed content %q does not cover {body}: anyone could change the body", c.Content)
	}
	if c.Timestamp != "" && c.tsPart < 0 {
		return nil, fmt.Errorf("timestamp %s is not in the signed content %q: a time the signature does not cover proves nothing", c.Timestamp, c.Content)
	}
	return c, nil
}

// MustCompileHMAC is CompileHMAC for a built-in provider's declaration; a bad one panics at start-up.
func MustCompileHMAC(s HMACSpec) *HMACScheme {
	c, err := CompileHMAC(s)
	if err != nil {
		panic("normalize: " + err.Error())
	}
	return c
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !headerNameByte(c) {
			return false
		}
	}
	return true
}

// parseTemplate reads literals and {body}, {header:<Name>}, {sig:<param>}; "{{" is a literal '{'.
func parseTemplate(t string) ([]part, error) {
	var parts []part
	for rest := t; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 || strings.HasPrefix(rest[i:], "{{") {
			if i < 0 {
				i = len(rest)
			} else {
				i++ // keep one '{', skip the other
			}
			parts = appendLiteral(parts, rest[:i])
			rest = rest[i:]
			if strings.HasPrefix(rest, "{") {
				rest = rest[1:]
			}
			continue
		}
		parts = appendLiteral(parts, rest[:i])
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("signed content %q: a { without its }", t)
		}
		p, err := parsePlaceholder(rest[i+1 : i+end])
		if err != nil {
			return nil, fmt.Errorf("signed content %q: %v", t, err)
		}
		parts = append(parts, p)
		rest = rest[i+end+1:]
	}
	if len(parts) > maxTemplateParts {
		return nil, fmt.Errorf("signed content %q: more than %d parts", t, maxTemplateParts)
	}
	return parts, nil
}

func appendLiteral(parts []part, s string) []part {
	if s == "" {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].kind == partLiteral {
		parts[n-1].text = append(parts[n-1].text, s...)
		return parts
	}
	return append(parts, part{kind: partLiteral, text: []byte(s)})
}

func parsePlaceholder(s string) (part, error) {
	const want = "want {body}, {header:<Name>} or {sig:<param>}"
	if s == "body" {
		return part{kind: partBody}, nil
	}
	kind, name, _ := strings.Cut(s, ":")
	switch {
	case kind == "header" && validHeaderName(name):
		return part{kind: partHeader, text: []byte(name), name: name}, nil
	case kind == "sig" && name != "" && !strings.ContainsAny(name, ",= "):
		return part{kind: partSig, text: []byte(name)}, nil
	}
	return part{}, fmt.Errorf("{%s}: %s", s, want)
}

// placeholder writes p back as the template spells it: "{header:X-Ts}", "{sig:t}".
func placeholder(p part) string {
	switch p.kind {
	case partHeader:
		return "{header:" + string(p.text) + "}"
	case partSig:
		return "{sig:" + string(p.text) + "}"
	case partBody:
		return "{body}"
	}
	return string(p.text)
}

// Doc describes the scheme for the provider's docs page.
func (c *HMACScheme) Doc() string {
	alg := "HMAC-SHA256"
	if c.SHA1 {
		alg = "HMAC-SHA1"
	}
	key := "secret"
	if c.SecretBase64 {
		key = "base64-decoded secret"
	}
	sig := fmt.Sprintf("%s(%s(%s, `%s`))", sigEncodings[c.Encoding], alg, key, c.Content)
	if c.Param != "" {
		return fmt.Sprintf("header `%s` = `k=v,…` pairs; every `%s` value is a signature `%s` and any one matching passes (key rotation)", c.Header, c.Param, sig)
	}
	return fmt.Sprintf("header `%s` = `%s%s`", c.Header, c.Prefix, sig)
}

// WindowDoc describes the signature window for the provider's docs page.
func (c *HMACScheme) WindowDoc() string {
	if c.Timestamp == "" {
		return "none: the signature covers no time (retries are deduplicated by id)"
	}
	unit := [...]string{"s", "ms", "s, or ms when 12 digits or more"}[c.Unit]
	return fmt.Sprintf("`%s` (%s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way", c.Timestamp, unit)
}

// key returns the HMAC key of secret: secret itself, or its base64 decoded once and cached.
func (c *HMACScheme) key(secret []byte) ([]byte, bool) {
	if !c.SecretBase64 {
		return secret, true
	}
	if k := c.keys.Load(); k != nil && bytes.Equal(k.secret, secret) {
		return k.key, true
	}
	key, err := decodeBase64(secret)
	if err != nil || len(key) == 0 {
		return nil, false
	}
	c.keys.Store(&decodedKey{secret: bytes.Clone(secret), key: key})
	return key, true
}

// decodeBase64 reads standard or URL-safe base64, padded or not.
func decodeBase64(s []byte) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(string(s)); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

// sigParam returns the first value of name in a k=v,k=v header.
func sigParam(header []byte, name []byte) []byte {
	var found []byte
	eachSigParam(header, func(k, v []byte) {
		if found == nil && bytes.Equal(k, name) {
			found = v
		}
	})
	return found
}

// eachSigParam calls fn for every k=v pair of header, pairs separated by ',', spaces trimmed.
func eachSigParam(header []byte, fn func(k, v []byte)) {
	for rest := header; len(rest) > 0; {
		var pair []byte
		pair, rest, _ = bytes.Cut(rest, []byte{','})
		if k, v, ok := bytes.Cut(trimSpace(pair), []byte{'='}); ok {
			fn(trimSpace(k), trimSpace(v))
		}
	}
}

// trimSpace is bytes.TrimSpace, which it calls only when b starts or ends with a byte that is
// not a printable ASCII one: in a header, rarely.
func trimSpace(b []byte) []byte {
	if len(b) > 0 && b[0] > ' ' && b[0] < 0x7f && b[len(b)-1] > ' ' && b[len(b)-1] < 0x7f {
		return b
	}
	return bytes.TrimSpace(b)
}

// Verify checks c's signature and signed timestamp against a (no secret: the unsigned policy).
// Its only error is an *AuthError.
func (c *HMACScheme) Verify(cb *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	got := cb.Header.Peek(c.Header)
	if len(got) == 0 {
		return Signed, &AuthError{Reason: c.Header + " header missing"}
	}
	key, ok := c.key(a.Secret)
	if !ok {
		return Signed, &AuthError{Reason: "the configured secret is not base64"}
	}
	var sum [sha256.Size]byte
	mac, err := c.mac(&sum, key, cb, got)
	if err != nil {
		return Signed, err
	}
	if !c.matches(got, mac) {
		return Signed, &AuthError{Reason: c.Header + " does not match the signed content"}
	}
	return Signed, c.checkTime(cb, a, got)
}

// mac computes the HMAC of the template's parts for cb into sum.
func (c *HMACScheme) mac(sum *[sha256.Size]byte, key []byte, cb *Callback, sigHeader []byte) ([]byte, error) {
	var msg [maxTemplateParts][]byte
	for i, p := range c.parts {
		switch p.kind {
		case partLiteral:
			msg[i] = p.text
		case partBody:
			msg[i] = cb.Body
		case partHeader:
			if msg[i] = cb.Header.Peek(p.name); len(msg[i]) == 0 {
				return nil, &AuthError{Reason: string(p.text) + " header missing"}
			}
		case partSig:
			if msg[i] = sigParam(sigHeader, p.text); len(msg[i]) == 0 {
				return nil, &AuthError{Reason: c.Header + " has no " + string(p.text) + "="}
			}
		}
	}
	return sum[:hmacSum(sum, key, !c.SHA1, msg[:len(c.parts)]...)], nil
}

// matches reports whether the header carries mac, in constant time for each candidate.
func (c *HMACScheme) matches(header, mac []byte) bool {
	if c.Param == "" {
		if !bytes.HasPrefix(header, []byte(c.Prefix)) {
			return false
		}
		return c.equal(header[len(c.Prefix):], mac)
	}
	matched := false
	param := []byte(c.Param)
	eachSigParam(header, func(k, v []byte) {
		if bytes.Equal(k, param) && c.equal(v, mac) {
			matched = true
		}
	})
	return matched
}

// equal compares a written signature with mac in constant time.
func (c *HMACScheme) equal(written, mac []byte) bool {
	if c.Encoding == Hex {
		var want [sha256.Size * 2]byte
		return equalHex(written, want[:hex.Encode(want[:], mac)])
	}
	var dec [sha256.Size + 3]byte
	written = bytes.TrimRight(written, "=")
	enc := base64.RawStdEncoding
	if c.Encoding == Base64URL {
		enc = base64.RawURLEncoding
	}
	if enc.DecodedLen(len(written)) > len(dec) {
		return false
	}
	n, err := enc.Decode(dec[:], written)
	return err == nil && hmac.Equal(dec[:n], mac)
}

// checkTime holds the signed timestamp, when the scheme has one, to the signature window.
func (c *HMACScheme) checkTime(cb *Callback, a *Auth, sigHeader []byte) error {
	if c.tsPart < 0 {
		return nil
	}
	p := c.parts[c.tsPart]
	v := sigParam(sigHeader, p.text)
	if p.kind == partHeader {
		v = cb.Header.Peek(p.name)
	}
	n, ok := intValue(v)
	if !ok || v[0] == '"' || n <= 0 {
		return &AuthError{Reason: c.Timestamp + " is not a Unix time"}
	}
	t := time.Unix(n, 0)
	if c.Unit == Millis || c.Unit == SecondsOrMillis && len(v) >= 12 {
		t = time.UnixMilli(n)
	}
	return checkSkew(c.Timestamp, t, cb.Received, a.MaxSkew)
}

// Sign signs body as the sender would at now: the timestamp written in the scheme's unit, any
// other header or k=v param of the template given a value derived from the body (a nonce), or
// the value in given (the provider's sample headers). It returns the headers to send.
func (c *HMACScheme) Sign(body []byte, secret []byte, now time.Time, given []Header) ([]Header, error) {
	ts := strconv.FormatInt(now.Unix(), 10)
	if c.Unit == Millis {
		ts = strconv.FormatInt(now.UnixMilli(), 10)
	}
	nonce := sha256.Sum256(body)
	values := map[string]string{}
	var headers []Header
	var params []string
	for _, p := range c.parts {
		name := placeholder(p)
		if p.kind != partHeader && p.kind != partSig || values[name] != "" {
			continue
		}
		v := strconv.FormatUint(uint64(nonce[0])<<16|uint64(nonce[1])<<8|uint64(nonce[2]), 10)
		if name == "{"+c.Timestamp+"}" {
			v = ts
		} else if p.kind == partHeader {
			for _, h := range given {
				if strings.EqualFold(h.Key, string(p.text)) {
					v = h.Value
				}
			}
		}
		values[name] = v
		if p.kind == partHeader {
			headers = append(headers, Header{string(p.text), v})
		} else {
			params = append(params, string(p.text)+"="+v)
		}
	}
	if len(secret) == 0 {
		return headers, nil
	}
	key, ok := c.key(secret)
	if !ok {
		return nil, fmt.Errorf("the secret is not base64")
	}
	m := hmac.New(c.newHash(), key)
	for _, p := range c.parts {
		switch p.kind {
		case partLiteral:
			m.Write(p.text)
		case partBody:
			m.Write(body)
		default:
			m.Write([]byte(values[placeholder(p)]))
		}
	}
	sig := c.encode(m.Sum(nil))
	if c.Param == "" {
		return append(headers, Header{c.Header, c.Prefix + sig}), nil
	}
	return append(headers, Header{c.Header, strings.Join(append(params, c.Param+"="+sig), ",")}), nil
}

func (c *HMACScheme) newHash() func() hash.Hash {
	if c.SHA1 {
		return sha1.New
	}
	return sha256.New
}

func (c *HMACScheme) encode(mac []byte) string {
	switch c.Encoding {
	case Base64:
		return base64.StdEncoding.EncodeToString(mac)
	case Base64URL:
		return base64.RawURLEncoding.EncodeToString(mac)
	}
	return hex.EncodeToString(mac)
}

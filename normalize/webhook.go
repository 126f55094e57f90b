package normalize

import (
	"fmt"
	"strings"
	"time"
)

// Generic sources (SPEC §6a): a sender callbridge does not know, configured by the operator
// rather than written as a provider file. NewWebhook builds one Provider value per source named
// in CALLBRIDGE_WEBHOOK_SOURCES, from its CALLBRIDGE_WEBHOOK_<NAME>_* settings; the command
// puts it in the Registry beside the built-in providers, and every stage serves it like one. A
// source is not in Builtins: those are what callbridge knows, a source exists only in one
// deployment's configuration.

// WebhookPrefix is the start of every generic source's CloudEvents type:
// io.callbridge.webhook.<name>.<type>.
const WebhookPrefix = "io.callbridge.webhook."

// Schemes of a generic source, the choices of its SCHEME setting.
const (
	SchemeStandardWebhooks = "standard-webhooks"
	SchemeHMACSHA256       = "hmac-sha256"
	SchemeHMACSHA1         = "hmac-sha1"
)

// webhookSchemes are the choices of SCHEME, in the order Option.Choice counts them.
var webhookSchemes = []string{SchemeStandardWebhooks, SchemeHMACSHA256, SchemeHMACSHA1}

// webhookSettings are a generic source's own variables, CALLBRIDGE_WEBHOOK_<NAME>_<Name>.
var webhookSettings = []Setting{
	{Name: "SCHEME", Kind: Choice, Choices: webhookSchemes, Default: SchemeStandardWebhooks,
		Description: "signature scheme: standard-webhooks (webhook-id, webhook-timestamp, webhook-signature; secret whsec_<base64>), or hmac-sha256 / hmac-sha1 of the raw body in SIGNATURE_HEADER"},
	{Name: "SIGNATURE_HEADER", Kind: Text,
		Description: "hmac schemes: the header holding the signature, such as X-Hub-Signature-256 (required)"},
	{Name: "SIGNATURE_ENCODING", Kind: Choice, Choices: []string{"hex", "base64"}, Default: "hex",
		Description: "hmac schemes: how the signature is written"},
	{Name: "SIGNATURE_PREFIX", Kind: Text,
		Description: "hmac schemes: text before the signature in its header, such as sha256="},
	{Name: "ID", Kind: Text,
		Description: "where the event id comes from: header:<Name> or json:<dotted.path>, alternatives comma-separated; standard-webhooks default header:webhook-id; hmac default: a hash of the body"},
	{Name: "TYPE", Kind: Text,
		Description: "where the event type comes from (header:<Name> or json:<dotted.path>); standard-webhooks default json:type; required for hmac schemes"},
	{Name: "SUBJECT", Kind: Text,
		Description: "where the subject comes from (header:<Name> or json:<dotted.path>); default: none"},
	{Name: "TIME", Kind: Text,
		Description: "where the time comes from (header:<Name> or json:<dotted.path>; RFC 3339, or Unix s or ms); standard-webhooks default json:timestamp,header:webhook-timestamp; else the receipt time"},
}

// SettingError is a generic source's setting that cannot work; the command turns it into the
// one-line configuration error naming CALLBRIDGE_WEBHOOK_<NAME>_<Setting>.
type SettingError struct {
	Setting string // the setting's name, e.g. "TYPE"; "SECRET" for the secret
	Value   string // as set (empty for the secret, which is never shown)
	Want    string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("setting %s=%q: %s", e.Setting, e.Value, e.Want)
}

// attrSource is one place an attribute is read from: a header, or a member of the JSON body
// reached by a dotted path.
type attrSource struct {
	header string
	path   []string
}

func (s attrSource) String() string {
	if s.header != "" {
		return "header:" + s.header
	}
	return "json:" + strings.Join(s.path, ".")
}

// parseAttrSources reads "header:<Name>" and "json:<dotted.path>" alternatives, comma-separated.
func parseAttrSources(v string) ([]attrSource, string, bool) {
	const want = "want header:<Name> or json:<dotted.path>, alternatives comma-separated, such as json:data.id,header:X-Request-Id"
	if v == "" {
		return nil, "", true
	}
	var out []attrSource
	for _, alt := range strings.Split(v, ",") {
		kind, rest, ok := strings.Cut(strings.TrimSpace(alt), ":")
		switch {
		case !ok || rest == "":
			return nil, want, false
		case kind == "header":
			for _, c := range []byte(rest) {
				if !headerNameByte(c) {
					return nil, want + " (a header name is letters, digits, - and _)", false
				}
			}
			out = append(out, attrSource{header: rest})
		case kind == "json":
			path := strings.Split(rest, ".")
			for _, p := range path {
				if p == "" {
					return nil, want + " (a path has no empty step)", false
				}
			}
			out = append(out, attrSource{path: path})
		default:
			return nil, want, false
		}
	}
	return out, "", true
}

func headerNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// webhook is one generic source as configured.
type webhook struct {
	name     string
	scheme   string
	sigHdr   string
	base64   bool
	prefix   []byte
	id       []attrSource // empty: a hash of the body
	typ      []attrSource
	subject  []attrSource
	time     []attrSource // empty: the receipt time
	typePref string       // io.callbridge.webhook.<name>.
}

// ValidSourceName reports whether name can name a generic source: lower-case [a-z0-9-], starting
// with a letter or digit. Whether it collides with a built-in provider is the caller's check.
func ValidSourceName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '-' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// NewWebhook builds the Provider of the generic source name from its settings (by Setting name,
// as config keeps them: values missing take their defaults) and its secret, which is checked
// here, once, when set. nil values give the source's defaults, for listing its variables.
// A setting that cannot work is a *SettingError.
func NewWebhook(name string, values map[string]string, secret []byte) (*Provider, error) {
	if !ValidSourceName(name) {
		return nil, fmt.Errorf("generic source %q: want lower-case letters, digits and -", name)
	}
	p := &Provider{ID: name, Settings: webhookSettings}
	opts, err := p.Options(values)
	if err != nil {
		return nil, err
	}
	w := &webhook{
		name:     name,
		scheme:   webhookSchemes[option(opts, "SCHEME").Choice],
		sigHdr:   option(opts, "SIGNATURE_HEADER").Text,
		base64:   option(opts, "SIGNATURE_ENCODING").Choice == 1,
		prefix:   option(opts, "SIGNATURE_PREFIX").Bytes,
		typePref: WebhookPrefix + name + ".",
	}
	for _, a := range []struct {
		setting string
		dst     *[]attrSource
	}{{"ID", &w.id}, {"TYPE", &w.typ}, {"SUBJECT", &w.subject}, {"TIME", &w.time}} {
		v := option(opts, a.setting).Text
		srcs, want, ok := parseAttrSources(v)
		if !ok {
			return nil, &SettingError{Setting: a.setting, Value: v, Want: want}
		}
		*a.dst = srcs
	}
	if w.scheme == SchemeStandardWebhooks {
		if w.id == nil {
			w.id = []attrSource{{header: "webhook-id"}}
		}
		if w.typ == nil {
			w.typ = []attrSource{{path: []string{"type"}}}
		}
		if w.time == nil {
			w.time = []attrSource{{path: []string{"timestamp"}}, {header: "webhook-timestamp"}}
		}
		if len(secret) > 0 {
			if _, err := standardKey(secret); err != nil {
				return nil, &SettingError{Setting: "SECRET", Want: err.Error()}
			}
		}
	} else {
		if w.sigHdr == "" {
			return nil, &SettingError{Setting: "SIGNATURE_HEADER", Want: "required with SCHEME=" + w.scheme + ": the header that carries the signature"}
		}
		if srcs, _, _ := parseAttrSources("header:" + w.sigHdr); srcs == nil {
			return nil, &SettingError{Setting: "SIGNATURE_HEADER", Value: w.sigHdr, Want: "want a header name: letters, digits, - and _"}
		}
		if w.typ == nil {
			return nil, &SettingError{Setting: "TYPE", Want: "required with SCHEME=" + w.scheme + ": where the event type comes from, such as header:X-GitHub-Event or json:event"}
		}
	}

	*p = Provider{
		ID:         name,
		TypePrefix: w.typePref,
		Reply:      []byte(`{}`),
		SecretName: "signing secret",
		SecretVar:  "SECRET",
		Settings:   webhookSettings,
		Scheme:     w.schemeDoc(),
		Window:     w.windowDoc(),
		Subject:    docSources(w.subject, "none"),
		TimeSource: docSources(w.time, "the receipt time"),
		Unknown:    "<type>",
		IsProbe:    func(*Callback) bool { return false },
		Verify:     w.verify,
		Normalize:  w.normalize,
		Sign:       w.sign,
		Code:       strings.Join(w.typ[0].path, "."),
		Sample:     []byte(`{"type":"example.created","timestamp":"2024-04-12T05:33:20.123Z","data":{"id":"ex_1","amount":12345678901234567890}}`),
		Distinct:   w.distinct(),
	}
	return p, nil
}

// distinct is the Sample field that makes the event id: the first json: source of the id, else
// data.id, which changes the body and so the id a header-signed or hashed id is made from.
func (w *webhook) distinct() []string {
	for _, s := range w.id {
		if s.header == "" {
			return []string{strings.Join(s.path, ".")}
		}
	}
	return []string{"data.id"}
}

func docSources(s []attrSource, none string) string {
	if len(s) == 0 {
		return none
	}
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = "`" + a.String() + "`"
	}
	return strings.Join(parts, " else ")
}

func (w *webhook) schemeDoc() string {
	if w.scheme == SchemeStandardWebhooks {
		return "Standard Webhooks: `webhook-signature` = `v1,base64(HMAC-SHA256(key, webhook-id.webhook-timestamp.body))`, secret `whsec_<base64 key>`"
	}
	enc := "hex"
	if w.base64 {
		enc = "base64"
	}
	return fmt.Sprintf("header `%s` = `%s%s(%s(secret, body))`", w.sigHdr, w.prefix, enc, strings.ToUpper(w.scheme))
}

func (w *webhook) windowDoc() string {
	if w.scheme == SchemeStandardWebhooks {
		return "`webhook-timestamp` (s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way"
	}
	return "none: the signature covers the body only (retries are deduplicated by id)"
}

// maxWebhookType bounds the type value a sender chooses: it becomes part of a subject or topic.
const maxWebhookType = 128

func (w *webhook) normalize(c *Callback, ev *Event) error {
	if !validValue(c.Body) {
		return &PayloadError{Reason: "body is not one JSON value"}
	}
	typ, err := w.text(c, ev, w.typ)
	if err != nil {
		return err
	}
	if len(typ) == 0 {
		return payloadErr(w.typ[0].String(), "event type missing or empty (from %s)", docSources(w.typ, ""))
	}
	if len(typ) > maxWebhookType {
		return payloadErr(w.typ[0].String(), "event type longer than %d bytes", maxWebhookType)
	}
	ev.ProviderEventType = ev.keep(typ)
	// One subject token: the sender cannot add levels to the subject or a wildcard.
	ev.Type = ev.keep([]byte(w.typePref), typ)
	for i := len(w.typePref); i < len(ev.Type); i++ {
		if !tokenSafe(ev.Type[i]) {
			ev.Type[i] = '_'
		}
	}
	ev.EventType = ev.Type[len(w.typePref):]

	subject, err := w.text(c, ev, w.subject)
	if err != nil {
		return err
	}
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	if err := w.setTime(c, ev); err != nil {
		return err
	}

	ev.setSource(nil)
	ev.data = appendCompact(ev.data[:0], c.Body[skipSpace(c.Body, 0):])
	ev.Data = ev.data

	id, err := w.text(c, ev, w.id)
	if err != nil {
		return err
	}
	if len(id) > 0 {
		ev.setProviderID(id)
	} else {
		ev.hashID([]byte("body"), ev.Data)
	}
	return nil
}

// raw returns the first of srcs present in c: a header's value (isJSON false) or a raw JSON value.
func (w *webhook) raw(c *Callback, srcs []attrSource) (v []byte, isJSON bool, err error) {
	for _, s := range srcs {
		if s.header != "" {
			if v := c.Header.Peek(s.header); len(v) > 0 {
				return v, false, nil
			}
			continue
		}
		v, err := jsonPath(c, s.path)
		if err != nil {
			return nil, false, err
		}
		if len(v) > 0 && string(v) != "null" {
			return v, true, nil
		}
	}
	return nil, false, nil
}

// text returns the first of srcs present in c as text: a JSON string decoded, a number as
// written. An object or array is a payload error.
func (w *webhook) text(c *Callback, ev *Event, srcs []attrSource) ([]byte, error) {
	v, isJSON, err := w.raw(c, srcs)
	if err != nil || !isJSON {
		return v, err
	}
	t, scratch, ok := stringValue(v, ev.scratch)
	if !ok {
		return nil, payloadErr(excerpt(v), "want a string or a number here")
	}
	ev.scratch = scratch
	return t, nil
}

// setTime sets ev.Time from the first of w.time present: RFC 3339, or Unix seconds or
// milliseconds. A value that is none of these is a payload error; none present keeps the receipt
// time.
func (w *webhook) setTime(c *Callback, ev *Event) error {
	v, isJSON, err := w.raw(c, w.time)
	if err != nil || v == nil {
		return err
	}
	if isJSON && v[0] == '"' {
		var ok bool
		if v, ev.scratch, ok = stringValue(v, ev.scratch); !ok {
			return payloadErr(excerpt(v), "want a time")
		}
	}
	if ev.setTime(intValue(v)) {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return payloadErr(excerpt(v), "want a time: RFC 3339, or Unix seconds or milliseconds")
	}
	ev.Time = t.UTC()
	return nil
}

// jsonPath returns the raw value at path in c's body, nil when a step is missing or not an
// object. Two members of one name on the way are a payload error, as JSON readers disagree on
// which counts.
func jsonPath(c *Callback, path []string) ([]byte, error) {
	top, err := c.members()
	if err != nil {
		if len(top) == 0 {
			return nil, nil // not an object: no member to read
		}
		return nil, err
	}
	v, dup := lookupOnce(top, path[0])
	for _, step := range path[1:] {
		if dup {
			break
		}
		if len(v) == 0 || v[0] != '{' {
			return nil, nil
		}
		var found []byte
		eachMember(v, func(m member) {
			if string(m.key) == step {
				if found != nil {
					dup = true
				}
				found = m.val
			}
		})
		v = found
	}
	if dup {
		return nil, payloadErr(strings.Join(path, "."), "the member appears twice; JSON readers disagree on which one counts")
	}
	return v, nil
}

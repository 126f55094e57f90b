package normalize

import (
	"fmt"
	"strings"
	"sync"
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
	SchemeStaticToken      = "static-token"
)

// webhookSchemes are the choices of SCHEME, in the order Option.Choice counts them.
var webhookSchemes = []string{SchemeStandardWebhooks, SchemeHMACSHA256, SchemeHMACSHA1, SchemeStaticToken}

// webhookSettings are a generic source's own variables, CALLBRIDGE_WEBHOOK_<NAME>_<Name>.
var webhookSettings = []Setting{
	{Name: "SCHEME", Kind: Choice, Choices: webhookSchemes, Default: SchemeStandardWebhooks,
		Description: "signature scheme: standard-webhooks (webhook-id, webhook-timestamp, webhook-signature; secret whsec_<base64>); hmac-sha256 / hmac-sha1 of SIGNED_CONTENT in SIGNATURE_HEADER; static-token: TOKEN_HEADER equals the secret"},
	{Name: "SIGNATURE_HEADER", Kind: Text,
		Description: "hmac schemes: the header holding the signature, such as X-Hub-Signature-256 (required)"},
	{Name: "SIGNED_CONTENT", Kind: Text, Default: "{body}",
		Description: "hmac schemes: what is signed, literals and {body}, {header:<Name>}, {sig:<param>}, such as {sig:t}.{body} or v0:{header:x-zm-request-timestamp}:{body}; must hold {body}"},
	{Name: "SIGNATURE_FORMAT", Kind: Choice, Choices: []string{"plain", "kv"}, Default: "plain",
		Description: "hmac schemes: plain (the header is [SIGNATURE_PREFIX]<signature>) or kv (k=v pairs separated by ,: every SIGNATURE_PARAM value is a signature, any one matching passes)"},
	{Name: "SIGNATURE_PARAM", Kind: Text,
		Description: "hmac schemes, kv format: the key of the signature values, such as v1 or sig1 (required with kv)"},
	{Name: "SIGNATURE_ENCODING", Kind: Choice, Choices: sigEncodings, Default: "hex",
		Description: "hmac schemes: how the signature is written (base64 padding optional)"},
	{Name: "SIGNATURE_PREFIX", Kind: Text,
		Description: "hmac schemes, plain format: text before the signature in its header, such as sha256= or v0="},
	{Name: "SECRET_ENCODING", Kind: Choice, Choices: []string{"utf8", "base64"}, Default: "utf8",
		Description: "hmac schemes: the secret is the key as text (utf8) or the base64 of the key"},
	{Name: "TIMESTAMP", Kind: Text,
		Description: "hmac schemes: the signed send time, header:<Name> or sig:<param> (it must be in SIGNED_CONTENT), held to CALLBRIDGE_MAX_CLOCK_SKEW (outside it: 401); default: none"},
	{Name: "TIMESTAMP_UNIT", Kind: Choice, Choices: []string{"s", "ms"}, Default: "s",
		Description: "hmac schemes: the unit of TIMESTAMP"},
	{Name: "TOKEN_HEADER", Kind: Text,
		Description: "static-token: the header whose value must equal the secret (compared as digests; required)"},
	{Name: "CHALLENGE", Kind: Choice, Choices: []string{"none", "zoom"}, Default: "none",
		Description: "a handshake answered by the bridge and never published: zoom answers endpoint.url_validation, only when its own signature verifies"},
	{Name: "ID", Kind: Text,
		Description: "where the event id comes from: header:<Name> or json:<dotted.path>, alternatives comma-separated; standard-webhooks default header:webhook-id; else default: a hash of the body"},
	{Name: "TYPE", Kind: Text,
		Description: "where the event type comes from (header:<Name> or json:<dotted.path>); standard-webhooks default json:type; required for the other schemes"},
	{Name: "SUBJECT", Kind: Text,
		Description: "where the subject comes from (header:<Name> or json:<dotted.path>); default: none"},
	{Name: "TIME", Kind: Text,
		Description: "where the time comes from (header:<Name> or json:<dotted.path>; RFC 3339, or Unix s or ms); standard-webhooks default json:timestamp,header:webhook-timestamp; else the receipt time"},
}

// hmacSettings apply only to the hmac schemes: set with another scheme they are a start-up error.
var hmacSettings = []string{"SIGNATURE_HEADER", "SIGNED_CONTENT", "SIGNATURE_FORMAT", "SIGNATURE_PARAM",
	"SIGNATURE_ENCODING", "SIGNATURE_PREFIX", "SECRET_ENCODING", "TIMESTAMP", "TIMESTAMP_UNIT"}

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
	name      string
	scheme    string
	sig       *HMACScheme  // hmac schemes
	tokenHdr  string       // static-token
	challenge bool         // CHALLENGE=zoom
	id        []attrSource // empty: a hash of the body
	typ       []attrSource
	subject   []attrSource
	time      []attrSource // empty: the receipt time
	typePref  string       // io.callbridge.webhook.<name>.
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
		name:      name,
		scheme:    webhookSchemes[option(opts, "SCHEME").Choice],
		challenge: option(opts, "CHALLENGE").Choice == 1,
		typePref:  WebhookPrefix + name + ".",
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
	if err := w.configure(opts, secret); err != nil {
		return nil, err
	}
	return w.provider(), nil
}

// configure reads the settings of w's scheme and refuses settings of another one.
func (w *webhook) configure(opts []NamedOption, secret []byte) error {
	if w.scheme != SchemeHMACSHA256 && w.scheme != SchemeHMACSHA1 {
		for _, name := range hmacSettings {
			if o := option(opts, name); !isDefault(name, o) {
				return &SettingError{Setting: name, Value: o.Text + choiceText(name, o), Want: "applies only with SCHEME=hmac-sha256 or hmac-sha1, not " + w.scheme}
			}
		}
	}
	if tok := option(opts, "TOKEN_HEADER").Text; tok != "" && w.scheme != SchemeStaticToken {
		return &SettingError{Setting: "TOKEN_HEADER", Value: tok, Want: "applies only with SCHEME=static-token, not " + w.scheme}
	}
	if w.scheme != SchemeStandardWebhooks && w.typ == nil {
		return &SettingError{Setting: "TYPE", Want: "required with SCHEME=" + w.scheme + ": where the event type comes from, such as header:X-GitHub-Event or json:event"}
	}
	switch w.scheme {
	case SchemeStandardWebhooks:
		return w.configureStandard(secret)
	case SchemeStaticToken:
		w.tokenHdr = option(opts, "TOKEN_HEADER").Text
		if !validHeaderName(w.tokenHdr) {
			return &SettingError{Setting: "TOKEN_HEADER", Value: w.tokenHdr, Want: "required with SCHEME=static-token: a header name, letters, digits, - and _"}
		}
		return nil
	}
	return w.configureHMAC(opts, secret)
}

// isDefault reports whether o is the default of the generic-source setting name.
func isDefault(name string, o Option) bool {
	d := option(webhookDefaults(), name)
	return o.Choice == d.Choice && o.Text == d.Text && o.Duration == d.Duration
}

// webhookDefaults are the generic-source settings' parsed defaults.
var webhookDefaults = sync.OnceValue(func() []NamedOption {
	opts, err := (&Provider{ID: "defaults", Settings: webhookSettings}).Options(nil)
	if err != nil {
		panic(err) // a default that does not parse: a bug in webhookSettings
	}
	return opts
})

// choiceText is how a Choice option was written, for the error quoting it.
func choiceText(name string, o Option) string {
	for _, s := range webhookSettings {
		if s.Name == name && s.Kind == Choice {
			return s.Choices[o.Choice]
		}
	}
	return ""
}

func (w *webhook) configureStandard(secret []byte) error {
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
			return &SettingError{Setting: "SECRET", Want: err.Error()}
		}
	}
	return nil
}

// configureHMAC compiles the hmac schemes' settings into w.sig.
func (w *webhook) configureHMAC(opts []NamedOption, secret []byte) error {
	spec := HMACSpec{
		SHA1:         w.scheme == SchemeHMACSHA1,
		Content:      option(opts, "SIGNED_CONTENT").Text,
		Header:       option(opts, "SIGNATURE_HEADER").Text,
		Prefix:       option(opts, "SIGNATURE_PREFIX").Text,
		SecretBase64: option(opts, "SECRET_ENCODING").Choice == 1,
		Encoding:     SigEncoding(option(opts, "SIGNATURE_ENCODING").Choice),
		Timestamp:    option(opts, "TIMESTAMP").Text,
		Unit:         TimeUnit(option(opts, "TIMESTAMP_UNIT").Choice),
	}
	kv := option(opts, "SIGNATURE_FORMAT").Choice == 1
	switch param := option(opts, "SIGNATURE_PARAM").Text; {
	case spec.Header == "":
		return &SettingError{Setting: "SIGNATURE_HEADER", Want: "required with SCHEME=" + w.scheme + ": the header that carries the signature"}
	case kv && (param == "" || strings.ContainsAny(param, ",= ")):
		return &SettingError{Setting: "SIGNATURE_PARAM", Value: param, Want: "required with SIGNATURE_FORMAT=kv: the key of the signature values, such as v1"}
	case !kv && param != "":
		return &SettingError{Setting: "SIGNATURE_PARAM", Value: param, Want: "applies only with SIGNATURE_FORMAT=kv"}
	case kv && spec.Prefix != "":
		return &SettingError{Setting: "SIGNATURE_PREFIX", Value: spec.Prefix, Want: "applies only with SIGNATURE_FORMAT=plain"}
	case kv:
		spec.Param = param
	}
	if ts := spec.Timestamp; ts != "" && !strings.HasPrefix(ts, "header:") && !strings.HasPrefix(ts, "sig:") {
		return &SettingError{Setting: "TIMESTAMP", Value: ts, Want: "want header:<Name> or sig:<param>"}
	}
	sig, err := CompileHMAC(spec)
	if err != nil {
		setting, value := "SIGNED_CONTENT", spec.Content
		switch {
		case strings.HasPrefix(err.Error(), "signature header"):
			setting, value = "SIGNATURE_HEADER", spec.Header
		case strings.HasPrefix(err.Error(), "timestamp"):
			setting, value = "TIMESTAMP", spec.Timestamp
		}
		return &SettingError{Setting: setting, Value: value, Want: err.Error()}
	}
	if _, ok := sig.key(secret); len(secret) > 0 && !ok {
		return &SettingError{Setting: "SECRET", Want: "SECRET_ENCODING=base64: want the base64 of the key"}
	}
	w.sig = sig
	return nil
}

// provider is w as a registry entry.
func (w *webhook) provider() *Provider {
	p := &Provider{
		ID:         w.name,
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
	if w.challenge {
		p.IsProbe, p.Answer = zoomIsChallenge, zoomAnswer
		p.Unknown += "; Zoom's `endpoint.url_validation`: answered when signed, not published"
	}
	return p
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
	switch w.scheme {
	case SchemeStandardWebhooks:
		return "Standard Webhooks: `webhook-signature` = `v1,base64(HMAC-SHA256(key, webhook-id.webhook-timestamp.body))`, secret `whsec_<base64 key>`"
	case SchemeStaticToken:
		return "header `" + w.tokenHdr + "` equals the secret (compared as SHA-256 digests, in constant time); the body is not signed"
	}
	return w.sig.Doc()
}

func (w *webhook) windowDoc() string {
	switch w.scheme {
	case SchemeStandardWebhooks:
		return "`webhook-timestamp` (s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way"
	case SchemeStaticToken:
		return "none: nothing is signed (retries are deduplicated by id)"
	}
	return w.sig.WindowDoc()
}

package config

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Var describes one variable, as `callbridge env` and the README list it.
type Var struct {
	Name        string `json:"name"` // full name, CALLBRIDGE_...
	Type        string `json:"type"` // string, integer, duration, auto|true|false or path
	Default     string `json:"default"`
	Description string `json:"description"`
	Secret      bool   `json:"secret"`
}

// Setting is a variable with its current value, as `callbridge env -o json` prints it. Current
// is what WriteEnv shows: for a secret only whether it is set ("", "(set)" or "(set from
// file)"), for a URL no credentials.
type Setting struct {
	Var
	Current string `json:"current"`
}

// Settings lists every variable with its current value in c, in the order of Vars.
func Settings(c *Config, providers []ProviderSpec) []Setting {
	rs := rows(c, providers)
	ss := make([]Setting, len(rs))
	for i, r := range rs {
		ss[i] = Setting{Var: r.Var, Current: r.current}
	}
	return ss
}

// WriteEnvJSON prints Settings as one JSON array, for tools.
func WriteEnvJSON(w io.Writer, c *Config, providers []ProviderSpec) error {
	b, err := json.MarshalIndent(Settings(c, providers), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Vars lists every variable Load reads, the per-provider ones after the others.
func Vars(providers []ProviderSpec) []Var {
	var vs []Var
	for _, r := range rows(&Config{}, providers) {
		vs = append(vs, r.Var)
	}
	return vs
}

// EnvWidth is the width WriteEnv fits for a terminal of columns columns ($COLUMNS; 0 or less
// when unknown): 100 by default, at least 80 and at most 120.
func EnvWidth(columns int) int {
	if columns <= 0 {
		return 100
	}
	return min(max(columns, 80), 120)
}

// notSet is what WriteEnv shows for an empty current value.
const notSet = "(not set)"

// WriteEnv prints every variable with its current value in c, a block each, no line wider than
// width: the name, type, default and current value on the first line (continued on indented
// lines when they do not fit), then the description, indented and wrapped. Secrets show only
// whether they are set; a NATS URL shows no credentials.
func WriteEnv(w io.Writer, c *Config, providers []ProviderSpec, width int) error {
	width = max(width, 40)
	var b strings.Builder
	b.WriteString("NAME  TYPE  default: DEFAULT  current: CURRENT\n" + envIndent + "DESCRIPTION\n\n")
	for _, r := range rows(c, providers) {
		typ := r.Type
		if r.Secret {
			typ += " (secret)"
		}
		parts := []string{r.Name, typ}
		if r.Default != "" {
			parts = append(parts, "default: "+cell(r.Default))
		}
		current := cell(r.current)
		if current == "" {
			current = notSet
		}
		parts = append(parts, "current: "+current)
		writeParts(&b, parts, width)
		for _, l := range wrap(r.Description, width-len(envIndent)) {
			b.WriteString(envIndent + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const envIndent = "    "

// writeParts writes parts on one line two spaces apart; a part that does not fit starts an
// indented line, and one wider than a line is cut into pieces that fit.
func writeParts(b *strings.Builder, parts []string, width int) {
	line := ""
	for i, p := range parts {
		switch {
		case i == 0:
			line = p
		case utf8.RuneCountInString(line)+2+utf8.RuneCountInString(p) <= width:
			line += "  " + p
		default:
			b.WriteString(line + "\n")
			line = envIndent + p
		}
		for utf8.RuneCountInString(line) > width {
			head, tail := splitRunes(line, width)
			b.WriteString(head + "\n")
			line = envIndent + tail
		}
	}
	b.WriteString(line + "\n")
}

// wrap breaks text into lines of at most width characters at spaces; a word wider than a line
// is cut.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		for utf8.RuneCountInString(word) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			var head string
			head, word = splitRunes(word, width)
			lines = append(lines, head)
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// splitRunes cuts s after n characters.
func splitRunes(s string, n int) (string, string) {
	i := 0
	for j := range s {
		if i == n {
			return s[:j], s[j:]
		}
		i++
	}
	return s, ""
}

type row struct {
	Var
	current string
}

// rows generates the table from the struct tags Load reads, so the two cannot drift. A secret
// gets a second row for its _FILE variable.
func rows(c *Config, providers []ProviderSpec) []row {
	fs := configFields(c)
	for _, spec := range providers {
		s := c.Providers[spec.ID]
		fs = append(fs, providerFields(spec, &s)...)
		fs = append(fs, ownFields(spec, &s)...)
	}
	var rs []row
	for _, f := range fs {
		rs = append(rs, row{
			Var: Var{
				Name:        f.name,
				Type:        f.typ,
				Default:     f.def,
				Description: f.desc,
				Secret:      f.secret,
			},
			current: c.current(f),
		})
		if f.secret {
			rs = append(rs, row{
				Var: Var{
					Name:        f.name + "_FILE",
					Type:        "path",
					Description: "file holding " + f.name + " (such as a mounted Kubernetes Secret), instead of the variable",
				},
				current: c.secretFiles[f.name],
			})
		}
	}
	return rs
}

// field is one variable: its full name, what it is, and the value it sets (a struct field, or
// for a provider's own variable its current text).
type field struct {
	name   string
	desc   string
	typ    string
	def    string
	secret bool
	value  reflect.Value
	own    string                                    // a provider's own variable: its name in ProviderSettings.Own
	check  func(value string) (want string, ok bool) // a provider's own variable: its check
}

func configFields(c *Config) []field {
	return structFields(reflect.ValueOf(c).Elem(), func(tag string) string { return tag })
}

func providerFields(spec ProviderSpec, s *ProviderSettings) []field {
	fs := structFields(reflect.ValueOf(s).Elem(), func(tag string) string {
		if tag == "" {
			return spec.varName(spec.SecretVar)
		}
		return spec.varName(tag)
	})
	if spec.SecretName != "" && spec.SecretVar != TokenSecret {
		fs[0].desc = "the " + spec.SecretName + ", which authenticates this provider's callbacks"
	}
	if spec.SecretVar == TokenSecret {
		// A provider that signs nothing: its URL token is its secret, one variable (Load
		// copies it into Secret), not a second one of the same name.
		fs = fs[1:]
		fs[0].desc = "the provider signs nothing: this token authenticates it; " + fs[0].desc
	}
	for i := range fs {
		fs[i].desc = spec.ID + ": " + fs[i].desc
		if fs[i].name == spec.varName("PUBLISH_TIMEOUT") && spec.PublishTimeout > 0 {
			fs[i].def = formatDuration(spec.PublishTimeout)
		}
	}
	return fs
}

// set sets f to v, one provider variable's text: a duration parsed ("" is 0), else as it is.
func set(f field, v string) error {
	if f.value.Type() != reflect.TypeFor[time.Duration]() {
		f.value.SetString(v)
		return nil
	}
	var d time.Duration
	if v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return invalid(f.name, v, "want a duration such as 2500ms or 2s")
		}
	}
	f.value.SetInt(int64(d))
	return nil
}

// ownFields lists the variables spec's provider declares itself, with their values in s.
func ownFields(spec ProviderSpec, s *ProviderSettings) []field {
	var fs []field
	for _, v := range spec.Own {
		value, ok := s.Own[v.Name]
		if !ok {
			value = v.Default
		}
		desc := spec.ID + ": " + v.Description
		if v.WithSecret {
			desc += "; required when " + spec.varName(spec.SecretVar) + " is set"
		}
		fs = append(fs, field{
			name:   spec.varName(v.Name),
			desc:   desc,
			typ:    v.Type,
			def:    v.Default,
			secret: v.Secret,
			value:  reflect.ValueOf(value),
			own:    v.Name,
			check:  v.Check,
		})
	}
	return fs
}

// structFields lists the exported fields of the struct v, naming each from its envconfig tag.
func structFields(v reflect.Value, name func(tag string) string) []field {
	var fs []field
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Tag.Get("ignored") == "true" {
			continue
		}
		fs = append(fs, field{
			name:   name(sf.Tag.Get("envconfig")),
			desc:   sf.Tag.Get("desc"),
			typ:    typeName(sf.Type),
			def:    sf.Tag.Get("default"),
			secret: sf.Tag.Get("secret") == "true",
			value:  v.Field(i),
		})
	}
	return fs
}

func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration"
	case reflect.TypeFor[AutoBool]():
		return "auto|true|false"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Bool:
		return "true|false"
	}
	return "string"
}

// current formats f's value in c for WriteEnv.
func (c *Config) current(f field) string {
	if f.secret {
		switch {
		case f.value.String() == "":
			return ""
		case c.secretFiles[f.name] != "":
			return "(set from file)"
		}
		return "(set)"
	}
	switch v := f.value.Interface().(type) {
	case time.Duration:
		// Show the default as written (60s, not 1m).
		if d, err := time.ParseDuration(f.def); err == nil && d == v {
			return f.def
		}
		return formatDuration(v)
	case AutoBool:
		if _, ok := v.Bool(); !ok {
			return fmt.Sprintf("auto (%t)", c.AllowUnsigned())
		}
		return string(v)
	case string:
		return redactUserinfo(v)
	}
	return fmt.Sprint(f.value.Interface())
}

// formatDuration drops the zero units time.Duration.String adds, so 1h reads as the default does.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactUserinfo hides the user and password (or token) in URLs such as nats://user:pass@host;
// s may be a comma-separated list of them.
func redactUserinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = "(redacted)"
		case u.User != nil:
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// cell keeps a value that holds a tab or newline from breaking the table.
func cell(s string) string {
	if strings.ContainsAny(s, "\t\r\n") {
		return strconv.Quote(s)
	}
	return s
}

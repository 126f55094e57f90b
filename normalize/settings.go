package normalize

import (
	"fmt"
	"strings"
	"time"
)

// A provider's own settings: declared in its file (Provider.Settings), read and checked by
// config at start-up, and handed to Verify and Sign parsed, by name, in Auth.Options.

// setting returns the provider's own setting name (settings are the provider's Settings) as
// configured in a, or its default when a does not carry it. A name not in settings is a
// programming error and panics with the name. Two scans over a handful of settings: no map,
// no allocation (except to parse a Text default, for an Auth built without options).
func (a *Auth) setting(settings []Setting, name string) Option {
	for i := range settings {
		if settings[i].Name != name {
			continue
		}
		for j := range a.Options {
			if a.Options[j].Name == name {
				return a.Options[j].Option
			}
		}
		o, _, _ := settings[i].Parse(settings[i].Default)
		return o
	}
	panic("normalize: no provider setting named " + name)
}

// Setting declares a variable of one provider's own, CALLBRIDGE_<ID>_<Name> (the id upper-cased,
// '-' as '_'), such as CALLBRIDGE_ANYRTC_SIGNATURE. The command hands these to config, which
// reads and checks them and lists them in `callbridge env` and the README; their parsed values
// reach Verify and Sign in Auth.Options, under the Setting's Name, which the provider reads
// them by.
type Setting struct {
	Name        string // after CALLBRIDGE_<ID>_, e.g. "SIGNATURE"
	Kind        SettingKind
	Choices     []string // Kind Choice: the values allowed, in the order Option.Choice counts
	Default     string   // as the variable would be written; must parse
	Description string
	Secret      bool // never printed, and also read from <NAME>_FILE
	WithSecret  bool // required whenever the provider's secret is set: start-up stops without it
}

// SettingKind is how a Setting's value is written and parsed.
type SettingKind int

const (
	// Choice is one of Setting.Choices; Option.Choice is its index.
	Choice SettingKind = iota
	// Duration is a Go duration of 0 or more, such as 5m; Option.Duration.
	Duration
	// Text is any text; Option.Text.
	Text
)

// Option is one parsed Setting. Only the field of the Setting's kind is set.
type Option struct {
	Choice   int
	Duration time.Duration
	Text     string
	Bytes    []byte // Text as bytes, converted once: a key handed to a hash costs nothing per request
}

// NamedOption is an Option under its Setting's Name, as Auth.Options holds it.
type NamedOption struct {
	Name string
	Option
}

// option returns the option named name in opts; a name not there is a programming error and
// panics with the name.
func option(opts []NamedOption, name string) Option {
	for i := range opts {
		if opts[i].Name == name {
			return opts[i].Option
		}
	}
	panic("normalize: no provider setting named " + name)
}

// Parse reads value as s's kind. When ok is false, want says what is allowed, for the one-line
// configuration error.
func (s *Setting) Parse(value string) (o Option, want string, ok bool) {
	switch s.Kind {
	case Choice:
		for i, c := range s.Choices {
			if value == c {
				return Option{Choice: i}, "", true
			}
		}
		return o, "allowed: " + strings.Join(s.Choices, ", "), false
	case Duration:
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return o, "want a duration of 0 or more, such as 0s, 5s or 1m30s", false
		}
		return Option{Duration: d}, "", true
	}
	return Option{Text: value, Bytes: []byte(value)}, "", true
}

// TypeName is the type `callbridge env` and the README list.
func (s *Setting) TypeName() string {
	switch s.Kind {
	case Choice:
		return strings.Join(s.Choices, "|")
	case Duration:
		return "duration"
	}
	return "string"
}

// Options parses p's settings from values (by Setting.Name; a setting missing there takes its
// default), for Auth.Options. The error names the setting and what it allows.
func (p *Provider) Options(values map[string]string) ([]NamedOption, error) {
	opts := make([]NamedOption, len(p.Settings))
	for i := range p.Settings {
		s := &p.Settings[i]
		v, set := values[s.Name]
		if !set {
			v = s.Default
		}
		o, want, ok := s.Parse(v)
		if !ok {
			return nil, fmt.Errorf("%s: setting %s: %s", p.ID, s.Name, want)
		}
		opts[i] = NamedOption{Name: s.Name, Option: o}
	}
	return opts, nil
}

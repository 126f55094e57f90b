package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Var describes one variable, as `callbridge env` and the README list it.
type Var struct {
	Name        string // full name, CALLBRIDGE_...
	Type        string // string, integer, duration, auto|true|false or path
	Default     string
	Description string
	Secret      bool
}

// Vars lists every variable Load reads, the per-provider ones after the others.
func Vars(providers []ProviderSpec) []Var {
	var vs []Var
	for _, r := range rows(&Config{}, providers) {
		vs = append(vs, r.Var)
	}
	return vs
}

// WriteEnv prints every variable with its current value in c. Secrets show only whether they are
// set; a NATS URL shows no credentials.
func WriteEnv(w io.Writer, c *Config, providers []ProviderSpec) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tDEFAULT\tDESCRIPTION\tCURRENT")
	for _, r := range rows(c, providers) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Type, cell(r.Default), r.Description, cell(r.current))
	}
	return tw.Flush()
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
	for i := range fs {
		fs[i].desc = spec.ID + ": " + fs[i].desc
	}
	return fs
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

package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/ingest"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// ProviderSpecs hands config every provider's variables, its own settings included, so that
// config reads, checks and lists them without knowing the registry.
func ProviderSpecs() []config.ProviderSpec {
	builtins := normalize.Builtins()
	sources := sourceDefaults()
	specs := make([]config.ProviderSpec, 0, len(builtins)+len(sources))
	for i, p := range append(builtins, sources...) {
		spec := config.ProviderSpec{ID: p.ID, SecretVar: p.SecretVar, SecretName: p.SecretName, PublishTimeout: p.PublishTimeout}
		if p.RouteAuthenticated() {
			spec.SecretVar = config.TokenSecret // signs nothing (SRS): its URL token is its secret
		}
		if i >= len(builtins) {
			spec.Env = config.SourceEnv(p.ID)
		}
		for _, s := range p.Settings {
			spec.Own = append(spec.Own, config.ProviderVar{
				Name: s.Name, Type: s.TypeName(), Default: s.Default, Description: s.Description, Secret: s.Secret, WithSecret: s.WithSecret,
				Check: func(v string) (string, bool) { _, want, ok := s.Parse(v); return want, ok },
			})
		}
		specs = append(specs, spec)
	}
	return specs
}

// sourceDefaults are the generic sources named in CALLBRIDGE_WEBHOOK_SOURCES (SPEC §6a) with
// default settings, for their variables. A list config.Load refuses gives none here.
func sourceDefaults() []*normalize.Provider {
	names, _ := config.SourceNames(os.Getenv("CALLBRIDGE_WEBHOOK_SOURCES"))
	builtins := normalize.BuiltinRegistry()
	var ps []*normalize.Provider
	for _, name := range names {
		if builtins.Lookup([]byte(name)) != nil {
			continue // config.Load names the collision
		}
		if p, err := normalize.NewWebhook(name, nil, nil); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// NewRegistry builds the bridge's one registry: the built-in providers and the generic sources
// as cfg configures them. Every stage that needs a provider (ingest's routes, the buffer,
// replay, send, bench) is handed this value; a setting that cannot work is a *config.Error.
func NewRegistry(cfg *config.Config) (*normalize.Registry, error) {
	sources, err := webhookSources(cfg)
	if err != nil {
		return nil, err
	}
	reg, err := normalize.NewRegistry(append(normalize.Builtins(), sources...)...)
	if err != nil {
		return nil, err
	}
	return reg.WithCanonical(cfg.CanonicalOn()), nil
}

// webhookSources builds the generic sources as configured; a setting that cannot work is a
// *config.Error naming its variable.
func webhookSources(cfg *config.Config) ([]*normalize.Provider, error) {
	var ps []*normalize.Provider
	for _, name := range cfg.Sources() {
		settings := cfg.Providers[name]
		p, err := normalize.NewWebhook(name, settings.Own, []byte(settings.Secret))
		var serr *normalize.SettingError
		switch {
		case errors.As(err, &serr) && serr.Setting == "SECRET":
			return nil, &config.Error{Line: config.ProviderSpec{ID: name, Env: config.SourceEnv(name)}.VarName(serr.Setting) + "=<redacted>: " + serr.Want}
		case errors.As(err, &serr):
			return nil, &config.Error{Line: config.ProviderSpec{ID: name, Env: config.SourceEnv(name)}.VarName(serr.Setting) + "=" + strconv.Quote(serr.Value) + ": " + serr.Want}
		case err != nil:
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// ProviderAuth is what p's Verify and Sign read from cfg; the provider's own settings are parsed
// here, once, at start-up.
func ProviderAuth(cfg *config.Config, p *normalize.Provider) (normalize.Auth, error) {
	ps := cfg.Providers[p.ID]
	opts, err := p.Options(ps.Own)
	if err != nil {
		return normalize.Auth{}, err // config checked every value: a registry bug
	}
	return normalize.Auth{Secret: []byte(ps.Secret), AllowUnsigned: cfg.AllowUnsigned(), MaxSkew: cfg.MaxClockSkew, Options: opts}, nil
}

// routes is ingest's route for every registry entry, and the warnings its settings deserve.
func routes(cfg *config.Config, registry *normalize.Registry, logger *slog.Logger) ([]ingest.Route, error) {
	routes := make([]ingest.Route, 0, len(registry.All()))
	for _, p := range registry.All() {
		ps := cfg.Providers[p.ID]
		auth, err := ProviderAuth(cfg, p)
		if err != nil {
			return nil, err
		}
		r := ingest.Route{
			Provider: p,
			Auth:     auth,
			Enforce:  ps.Verify != "report",
			URLToken: []byte(ps.URLToken),
		}
		if d := cfg.ProviderPublishTimeout(p.ID); d < cfg.PublishTimeout {
			r.PublishTimeout = d // shorter than the sink's own: ingest publishes within it
		}
		routes = append(routes, r)
		if ps.Secret == "" && !cfg.AllowUnsigned() {
			logger.Warn("provider has no secret and unsigned callbacks are not allowed: all its callbacks get 401", "provider", p.ID)
		}
		if ps.Verify == "report" {
			logger.Warn("provider in report mode: failed checks are accepted with verified=false", "provider", p.ID)
		}
	}
	return routes, nil
}

// parseTopicTemplate parses CALLBRIDGE_TOPIC_TEMPLATE; an error is a *config.Error.
func parseTopicTemplate(cfg *config.Config) (*publish.Template, error) {
	tmpl, err := publish.ParseTemplate(cfg.TopicTemplate)
	if err != nil {
		return nil, topicTemplateError(cfg, err)
	}
	return tmpl, nil
}

func topicTemplateError(cfg *config.Config, err error) error {
	return &config.Error{Line: fmt.Sprintf("CALLBRIDGE_TOPIC_TEMPLATE=%q: %v", cfg.TopicTemplate, err)}
}

// checkedTopicTemplate is parseTopicTemplate, with the template checked against what the
// configured broker accepts as a topic or subject.
func checkedTopicTemplate(cfg *config.Config) (*publish.Template, error) {
	tmpl, err := parseTopicTemplate(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Sink == "kafka" {
		err = tmpl.CheckTopic()
	} else {
		err = tmpl.CheckSubject()
	}
	if err != nil {
		return nil, topicTemplateError(cfg, err)
	}
	return tmpl, nil
}

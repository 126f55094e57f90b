package config

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"
)

// timeoutSpecs: one provider that declares a publish timeout of its own (as Zoom does), one that
// does not.
var timeoutSpecs = []ProviderSpec{
	{ID: "zoom", SecretVar: "SECRET_TOKEN", PublishTimeout: 2500 * time.Millisecond},
	{ID: "anyrtc", SecretVar: "SECRET"},
}

// CALLBRIDGE_<ID>_PUBLISH_TIMEOUT: the provider's default, a value set, 0 or empty for the
// global one, a default over the global one giving way to it, and a value set over it refused.
func TestProviderPublishTimeout(t *testing.T) {
	for _, tt := range []struct {
		name       string
		env        map[string]string
		zoom, any  time.Duration // ProviderPublishTimeout
		errPrefix  string        // a Load error starting so
		errMention string
	}{
		{name: "defaults", zoom: 2500 * time.Millisecond, any: 5 * time.Second},
		{name: "set", env: map[string]string{"ZOOM_PUBLISH_TIMEOUT": "1s", "ANYRTC_PUBLISH_TIMEOUT": "4s"},
			zoom: time.Second, any: 4 * time.Second},
		{name: "zero and empty are the global", env: map[string]string{"ZOOM_PUBLISH_TIMEOUT": "0", "ANYRTC_PUBLISH_TIMEOUT": "", "PUBLISH_TIMEOUT": "3s"},
			zoom: 3 * time.Second, any: 3 * time.Second},
		{name: "equal to the global", env: map[string]string{"ZOOM_PUBLISH_TIMEOUT": "5s"},
			zoom: 5 * time.Second, any: 5 * time.Second},
		{name: "default over a lower global gives way", env: map[string]string{"PUBLISH_TIMEOUT": "2s"},
			zoom: 2 * time.Second, any: 2 * time.Second},
		{name: "set over the global", env: map[string]string{"PUBLISH_TIMEOUT": "2s", "ZOOM_PUBLISH_TIMEOUT": "2500ms"},
			errPrefix: `CALLBRIDGE_ZOOM_PUBLISH_TIMEOUT="2500ms": `, errMention: "CALLBRIDGE_PUBLISH_TIMEOUT (2s)"},
		{name: "negative", env: map[string]string{"ANYRTC_PUBLISH_TIMEOUT": "-1s"},
			errPrefix: `CALLBRIDGE_ANYRTC_PUBLISH_TIMEOUT="-1s": `, errMention: "from 0"},
		{name: "not a duration", env: map[string]string{"ZOOM_PUBLISH_TIMEOUT": "3"},
			errPrefix: `CALLBRIDGE_ZOOM_PUBLISH_TIMEOUT="3": `, errMention: "duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			c, err := Load(timeoutSpecs)
			if tt.errPrefix != "" {
				line := checkError(t, err)
				if !strings.HasPrefix(line, tt.errPrefix) || !strings.Contains(line, tt.errMention) {
					t.Errorf("error %q, want it to start %q and say %q", line, tt.errPrefix, tt.errMention)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.ProviderPublishTimeout("zoom"); got != tt.zoom {
				t.Errorf("zoom: %s, want %s", got, tt.zoom)
			}
			if got := c.ProviderPublishTimeout("anyrtc"); got != tt.any {
				t.Errorf("anyrtc: %s, want %s", got, tt.any)
			}
		})
	}
}

// `callbridge env` lists the variable with the provider's default, and none for a provider
// without one.
func TestProviderPublishTimeoutListed(t *testing.T) {
	defaults := map[string]string{}
	for _, v := range Vars(timeoutSpecs) {
		if strings.HasSuffix(v.Name, "_PUBLISH_TIMEOUT") && v.Name != "CALLBRIDGE_PUBLISH_TIMEOUT" {
			defaults[v.Name] = v.Default
			if v.Type != "duration" {
				t.Errorf("%s: type %q, want duration", v.Name, v.Type)
			}
		}
	}
	want := map[string]string{"CALLBRIDGE_ZOOM_PUBLISH_TIMEOUT": "2.5s", "CALLBRIDGE_ANYRTC_PUBLISH_TIMEOUT": ""}
	if !maps.Equal(defaults, want) {
		t.Errorf("defaults %v, want %v", defaults, want)
	}

	setEnv(t, map[string]string{"ANYRTC_PUBLISH_TIMEOUT": "1500ms"})
	c, err := Load(timeoutSpecs)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteEnv(&out, c, timeoutSpecs, 200); err != nil {
		t.Fatal(err)
	}
	for name, current := range map[string]string{"CALLBRIDGE_ZOOM_PUBLISH_TIMEOUT": "2.5s", "CALLBRIDGE_ANYRTC_PUBLISH_TIMEOUT": "1.5s"} {
		if got := currentColumn(t, out.String(), name); got != current {
			t.Errorf("%s: current %q, want %q", name, got, current)
		}
	}
}

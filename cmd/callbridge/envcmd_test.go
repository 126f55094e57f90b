package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/callbridge/callbridge/config"
)

// TestEnvFitsTerminal: `callbridge env` fits $COLUMNS (clamped to 80..120, 100 when unset), and
// `-o json` lists every variable; neither shows a secret or a NATS password.
func TestEnvFitsTerminal(t *testing.T) {
	clearEnv(t)
	const secret, password = "s3cr3t-value", "pa55word-value"
	t.Setenv("CALLBRIDGE_ANYRTC_SECRET", secret)
	t.Setenv("CALLBRIDGE_NATS_URL", "nats://alice:"+password+"@nats-1:4222")
	for columns, width := range map[string]int{"80": 80, "120": 120, "": 100, "40": 80, "400": 120} {
		t.Setenv("COLUMNS", columns)
		var stdout, stderr bytes.Buffer
		if code := run([]string{"env"}, &stdout, &stderr); code != 0 {
			t.Fatalf("env: exit %d: %s", code, stderr.String())
		}
		widest := 0
		for _, l := range strings.Split(stdout.String(), "\n") {
			widest = max(widest, utf8.RuneCountInString(l))
		}
		if widest > width || widest < width-20 {
			t.Errorf("COLUMNS=%q: widest line %d, want at most %d (and near it)", columns, widest, width)
		}
		if s := stdout.String(); strings.Contains(s, secret) || strings.Contains(s, password) {
			t.Errorf("COLUMNS=%q: env printed a secret", columns)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"env", "-o", "json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("env -o json: exit %d: %s", code, stderr.String())
	}
	if s := stdout.String(); strings.Contains(s, secret) || strings.Contains(s, password) {
		t.Error("env -o json printed a secret")
	}
	var got []config.Setting
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("env -o json: %v\n%s", err, stdout.String())
	}
	listed := map[string]config.Setting{}
	for _, s := range got {
		listed[s.Name] = s
	}
	for _, v := range config.Vars(providerSpecs()) {
		if s, ok := listed[v.Name]; !ok || s.Var != v {
			t.Errorf("env -o json: %s is %+v, want %+v", v.Name, s, v)
		}
	}
	if s := listed["CALLBRIDGE_ANYRTC_SECRET"]; !s.Secret || s.Current != "(set)" {
		t.Errorf("env -o json: CALLBRIDGE_ANYRTC_SECRET is %+v", s)
	}
	if s := listed["CALLBRIDGE_NATS_URL"]; s.Current != "nats://redacted@nats-1:4222" {
		t.Errorf("env -o json: CALLBRIDGE_NATS_URL current %q", s.Current)
	}

	stdout.Reset()
	if code := run([]string{"env", "-o", "table"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "CALLBRIDGE_LISTEN  string  default: :8080") {
		t.Errorf("env -o table: exit %d\n%s", code, stdout.String())
	}
}

// Bad flags and values get the usage and exit 2; -h gets it on stdout and exit 0.
func TestEnvUsage(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{{"-o", "yaml"}, {"-x"}, {"-o"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"env"}, args...), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: callbridge env") || stdout.Len() != 0 {
			t.Errorf("env %v: exit %d, stdout %q, stderr %q; want 2 and the usage", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"env", "-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-o json") {
		t.Errorf("env -h: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

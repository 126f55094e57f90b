package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// envSecrets are values TestWriteEnvFits and TestWriteEnvJSON set and neither output may show.
var envSecrets = []string{"neteaseS3cret", "anyrtcS3cret", "t0kenS3cret", "alice", "pa55word"}

func loadForEnv(t *testing.T) *Config {
	t.Helper()
	return mustLoad(t, map[string]string{
		"NATS_URL":                 "nats://alice:pa55word@nats-1.example.internal:4222,nats://bob@nats-2.example.internal:4222,nats://nats-3.example.internal:4222",
		"NETEASE_NERTC_APP_SECRET": "neteaseS3cret",
		"ANYRTC_SECRET":            "anyrtcS3cret",
		"ANYRTC_URL_TOKEN":         "t0kenS3cret",
		"TOPIC_TEMPLATE":           "callbacks.{provider}.{eventtype}",
	})
}

// TestWriteEnvFits: `callbridge env` fits the terminal: no line is wider than the width, at the
// narrowest and the widest, every variable has its block, and no secret shows.
func TestWriteEnvFits(t *testing.T) {
	c := loadForEnv(t)
	for _, width := range []int{80, 100, 120} {
		var out bytes.Buffer
		if err := WriteEnv(&out, c, specs, width); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		for i, l := range strings.Split(s, "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line %d has %d characters: %q", width, i+1, n, l)
			}
		}
		for _, v := range Vars(specs) {
			currentColumn(t, s, v.Name)
		}
		for _, leak := range envSecrets {
			if strings.Contains(s, leak) {
				t.Errorf("width %d: WriteEnv shows %q", width, leak)
			}
		}
		// The long URL list is cut across lines, not lost: put back together, it reads whole.
		joined := strings.ReplaceAll(s, "\n"+envIndent, "")
		if !strings.Contains(joined, "nats://redacted@nats-1.example.internal:4222,nats://redacted@nats-2.example.internal:4222,nats://nats-3.example.internal:4222") {
			t.Errorf("width %d: the NATS URL list is not shown whole", width)
		}
	}
}

func TestEnvWidth(t *testing.T) {
	for columns, want := range map[int]int{0: 100, -1: 100, 40: 80, 80: 80, 99: 99, 120: 120, 300: 120} {
		if got := EnvWidth(columns); got != want {
			t.Errorf("EnvWidth(%d) = %d, want %d", columns, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	lines := wrap("a bb ccc "+strings.Repeat("x", 25)+" dd", 10)
	want := []string{"a bb ccc", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx dd"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", lines, want)
	}
}

// TestWriteEnvJSON: `callbridge env -o json` is one array listing every variable of Vars, in
// order, with the current value redacted as the table shows it.
func TestWriteEnvJSON(t *testing.T) {
	c := loadForEnv(t)
	var out bytes.Buffer
	if err := WriteEnvJSON(&out, c, specs); err != nil {
		t.Fatal(err)
	}
	for _, leak := range envSecrets {
		if strings.Contains(out.String(), leak) {
			t.Errorf("WriteEnvJSON shows %q", leak)
		}
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	vars := Vars(specs)
	if len(got) != len(vars) {
		t.Fatalf("%d entries, want %d", len(got), len(vars))
	}
	for i, v := range vars {
		g := got[i]
		for _, k := range []string{"name", "type", "default", "description", "secret", "current"} {
			if _, ok := g[k]; !ok {
				t.Errorf("%s: no %q member", v.Name, k)
			}
		}
		if g["name"] != v.Name || g["type"] != v.Type || g["default"] != v.Default || g["description"] != v.Description || g["secret"] != v.Secret {
			t.Errorf("entry %d = %v, want %+v", i, g, v)
		}
	}
	var table bytes.Buffer
	if err := WriteEnv(&table, c, specs, 120); err != nil {
		t.Fatal(err)
	}
	byName := map[string]any{}
	for _, g := range got {
		byName[g["name"].(string)] = g["current"]
	}
	for name, want := range map[string]string{
		"CALLBRIDGE_NETEASE_NERTC_APP_SECRET": "(set)",
		"CALLBRIDGE_ANYRTC_URL_TOKEN":         "(set)",
		"CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY": "",
		"CALLBRIDGE_LISTEN":                   ":8080",
		"CALLBRIDGE_MAX_CLOCK_SKEW":           "5m",
	} {
		if byName[name] != want || currentColumn(t, table.String(), name) != want {
			t.Errorf("%s: JSON current %q, table %q, want %q", name, byName[name], currentColumn(t, table.String(), name), want)
		}
	}
	if u := byName["CALLBRIDGE_NATS_URL"].(string); !strings.HasPrefix(u, "nats://redacted@nats-1.example.internal:4222,") {
		t.Errorf("CALLBRIDGE_NATS_URL current %q", u)
	}
}

package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// specs mirror the registry's: config does not import it, so the providers' own variables are
// declared here as the command hands them over.
var specs = []ProviderSpec{
	{ID: "netease-nertc", SecretVar: "APP_SECRET"},
	{ID: "anyrtc", SecretVar: "SECRET", Own: []ProviderVar{
		{Name: "SIGNATURE", Type: "hmac-sha1|hmac-sha256", Default: "hmac-sha1", Description: "Ar-Signature scheme", Check: oneOf("hmac-sha1", "hmac-sha256")},
	}},
	{ID: "tencent-css", SecretVar: "CALLBACK_KEY", Own: []ProviderVar{
		{Name: "EXPIRY_GRACE", Type: "duration", Default: "5m", Description: "grace past t", Check: nonNegativeDuration},
		{Name: "OLD_KEY", Type: "string", Description: "a second key, as a rotation would need", Secret: true,
			Check: func(v string) (string, bool) { return "want no spaces", !strings.Contains(v, " ") }},
	}},
}

func oneOf(allowed ...string) func(string) (string, bool) {
	return func(v string) (string, bool) {
		return "allowed: " + strings.Join(allowed, ", "), slices.Contains(allowed, v)
	}
}

func nonNegativeDuration(v string) (string, bool) {
	d, err := time.ParseDuration(v)
	return "want a duration of 0 or more", err == nil && d >= 0
}

// clearEnv unsets every CALLBRIDGE_* variable for the test: envconfig tells an empty variable
// from an unset one, so t.Setenv(name, "") would not do.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		os.Unsetenv(name)
		t.Cleanup(func() { os.Setenv(name, value) })
	}
}

// setEnv sets CALLBRIDGE_ + the given names, on a cleared environment.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	clearEnv(t)
	for k, v := range vars {
		t.Setenv(Prefix+k, v)
	}
}

func load(t *testing.T, vars map[string]string) (*Config, error) {
	t.Helper()
	setEnv(t, vars)
	return Load(specs)
}

func mustLoad(t *testing.T, vars map[string]string) *Config {
	t.Helper()
	c, err := load(t, vars)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, nil)
	want := Config{
		Listen:                ":8080",
		MaxBodyBytes:          1 << 20,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		MaxInflight:           1024,
		MaxHeaderBytes:        8192,
		MaxConns:              8192,
		BodyMemoryBytes:       64 << 20,
		RetryAfter:            5 * time.Second,
		Sink:                  "nats",
		EmbeddedNATSListen:    "127.0.0.1:4222",
		DataDir:               "./data",
		NATSStream:            "CALLBACKS",
		NATSDuplicateWindow:   time.Hour,
		NATSMaxAge:            7 * 24 * time.Hour,
		NATSMaxBytes:          1 << 30,
		NATSReplicas:          1,
		BufferMaxBytes:        1 << 30,
		BufferMaxAge:          24 * time.Hour,
		NATSSync:              "2m",
		TopicTemplate:         "callbacks.{provider}.{eventtype}",
		CEMode:                "structured",
		AckMode:               "broker",
		PublishTimeout:        5 * time.Second,
		ShutdownDelay:         5 * time.Second,
		ShutdownTimeout:       30 * time.Second,
		LogLevel:              "info",
		LogFormat:             "json",
		KafkaRequiredAcks:     "all",
		KafkaCompression:      "none",
		KafkaClientID:         "callbridge",
		KafkaKeyTemplate:      "{subject}",
		KafkaTopicPartitions:  3,
		KafkaTopicReplication: -1,
		KafkaBatchTimeout:     200 * time.Microsecond,
		KafkaBatchSize:        100,
		KafkaMaxTopics:        512,
		KafkaSASLMechanism:    "none",
		KafkaSchemaIDLocation: "header",
		AllowUnsignedSetting:  "auto",
		MaxClockSkew:          5 * time.Minute,
		Canonical:             "on",
		SchemaBaseURL:         "http://localhost:8080/schemas",
	}
	got := *c
	got.Providers, got.secretFiles = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	for _, s := range specs {
		p, ok := c.Providers[s.ID]
		if !ok {
			t.Errorf("Providers has no %s", s.ID)
		}
		wantOwn := map[string]string{}
		for _, v := range s.Own {
			wantOwn[v.Name] = v.Default
		}
		if p.Secret != "" || p.URLToken != "" || p.Verify != VerifyEnforce || len(p.Own) != len(s.Own) || (len(p.Own) > 0 && !reflect.DeepEqual(p.Own, wantOwn)) {
			t.Errorf("Providers[%s] = %+v, want only Verify=enforce and the defaults of its own variables %v", s.ID, p, wantOwn)
		}
	}
	if len(c.Providers) != len(specs) {
		t.Errorf("Providers has %d entries, want %d", len(c.Providers), len(specs))
	}
	if !c.EmbeddedNATS() || !c.AllowUnsigned() || !c.AllowUnsignedAuto() {
		t.Errorf("embedded=%v allowUnsigned=%v auto=%v, want all true by default",
			c.EmbeddedNATS(), c.AllowUnsigned(), c.AllowUnsignedAuto())
	}
}

func TestValidValues(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"LISTEN":                   "127.0.0.1:9000",
		"MAX_BODY_BYTES":           "65536",
		"RETRY_AFTER":              "1s",
		"EMBEDDED_NATS_LISTEN":     ":0",
		"NATS_URL":                 "nats://nats:4222",
		"NATS_STREAM":              "EVENTS_1",
		"NATS_DUPLICATE_WINDOW":    "15m",
		"NATS_REPLICAS":            "3",
		"TOPIC_TEMPLATE":           "cb.{type}",
		"SHUTDOWN_DELAY":           "0s",
		"TENCENT_CSS_EXPIRY_GRACE": "0s",
		"LOG_LEVEL":                "debug",
		"LOG_FORMAT":               "text",
		"SCHEMA_BASE_URL":          "https://events.example.com/contract/schemas",
		"ANYRTC_SIGNATURE":         "hmac-sha256",
		"ANYRTC_VERIFY":            "report",
	})
	if c.Listen != "127.0.0.1:9000" || c.MaxBodyBytes != 65536 || c.RetryAfter != time.Second ||
		c.EmbeddedNATSListen != ":0" || c.NATSURL != "nats://nats:4222" || c.NATSStream != "EVENTS_1" ||
		c.NATSDuplicateWindow != 15*time.Minute || c.NATSReplicas != 3 || !c.NATSReplicasSet || c.TopicTemplate != "cb.{type}" || c.ShutdownDelay != 0 ||
		c.Providers["tencent-css"].Own["EXPIRY_GRACE"] != "0s" || c.LogLevel != "debug" || c.LogFormat != "text" ||
		c.Providers["anyrtc"].Own["SIGNATURE"] != "hmac-sha256" || c.Providers["anyrtc"].Verify != VerifyReport ||
		c.Providers["tencent-css"].Verify != VerifyEnforce || c.SchemaBaseURL != "https://events.example.com/contract/schemas" {
		t.Errorf("values not taken: %+v", c)
	}
}

// An unrelated variable without the prefix must not configure the bridge, although envconfig
// falls back to bare tag names when given a prefix.
func TestIgnoresUnprefixedVariables(t *testing.T) {
	t.Setenv("DATA_DIR", "/elsewhere")
	t.Setenv("LOG_LEVEL", "trace")
	t.Setenv("VERIFY", "bogus")
	t.Setenv("URL_TOKEN", "tok")
	c := mustLoad(t, nil)
	if c.DataDir != "./data" || c.LogLevel != "info" || c.Providers["anyrtc"].Verify != VerifyEnforce || c.Providers["anyrtc"].URLToken != "" {
		t.Errorf("unprefixed variables leaked in: %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // part of the line saying what is allowed
	}{
		{"LISTEN", "8080", "host:port"},
		{"LISTEN", "", "host:port"},
		{"SCHEMA_BASE_URL", "/schemas", "absolute http or https URL"},
		{"SCHEMA_BASE_URL", "ftp://example.com/schemas", "absolute http or https URL"},
		{"SCHEMA_BASE_URL", "https:///schemas", "absolute http or https URL"},
		{"SCHEMA_BASE_URL", "https://example.com/schemas?v=1", "absolute http or https URL"},
		{"MAX_BODY_BYTES", "abc", "want an integer greater than 0"},
		{"MAX_BODY_BYTES", "0", "want an integer greater than 0"},
		{"MAX_BODY_BYTES", "-1", "want an integer greater than 0"},
		{"MAX_BODY_BYTES", "1MiB", "want an integer greater than 0"},
		{"READ_TIMEOUT", "10", "want a duration greater than 0, such as 5s"},
		{"READ_TIMEOUT", "0s", "want a duration greater than 0"},
		{"WRITE_TIMEOUT", "-1s", "want a duration greater than 0"},
		{"IDLE_TIMEOUT", "soon", "want a duration greater than 0"},
		{"MAX_INFLIGHT", "0", "want an integer greater than 0"},
		{"MAX_INFLIGHT", "many", "want an integer greater than 0"},
		{"RETRY_AFTER", "500ms", "whole seconds, at least 1s"},
		{"RETRY_AFTER", "1500ms", "whole seconds, at least 1s"},
		{"RETRY_AFTER", "0s", "whole seconds, at least 1s"},
		{"SINK", "redis", "allowed: nats, kafka"},
		{"EMBEDDED_NATS_LISTEN", "4222", "host:port"},
		{"EMBEDDED_NATS_LISTEN", "localhost:nats", "host:port with a numeric port"},
		{"EMBEDDED_NATS_LISTEN", "localhost:65536", "host:port with a numeric port"},
		{"DATA_DIR", "", "want a directory"},
		{"NATS_STREAM", "", "stream name without whitespace or any of . * > / \\"},
		{"NATS_STREAM", "CALL.BACKS", "stream name without"},
		{"NATS_STREAM", "CALL BACKS", "stream name without"},
		{"NATS_STREAM", "CALLBACKS>", "stream name without"},
		{"NATS_STREAM", "C*", "stream name without"},
		{"NATS_DUPLICATE_WINDOW", "12m", "at least 15m, such as 1h: longer than Tencent's 12-minute retry horizon"},
		{"NATS_DUPLICATE_WINDOW", "1", "at least 15m"},
		{"CE_MODE", "xml", "allowed: structured, binary"},
		{"KAFKA_REQUIRED_ACKS", "2", "allowed: all, one, none"},
		{"KAFKA_COMPRESSION", "brotli", "allowed: none, gzip, snappy, lz4, zstd"},
		{"KAFKA_TOPIC_PARTITIONS", "0", "want an integer greater than 0"},
		{"KAFKA_TOPIC_REPLICATION", "0", "want -1 (the broker's default) or an integer greater than 0"},
		{"KAFKA_BATCH_TIMEOUT", "0s", "want a duration greater than 0"},
		{"KAFKA_MAX_TOPICS", "0", "want an integer greater than 0"},
		{"KAFKA_SASL_MECHANISM", "gssapi", "allowed: none, plain, scram-sha-256, scram-sha-512"},
		{"KAFKA_CREATE_TOPICS", "sure", "true"},
		{"NATS_TLS_INSECURE_SKIP_VERIFY", "yes please", "true"},
		{"ACK_MODE", "buffer", "forwards to an external broker"},
		{"ACK_MODE", "sometimes", "allowed: broker, buffer"},
		{"BUFFER_MAX_BYTES", "1024", "at least 4 × CALLBRIDGE_MAX_BODY_BYTES"},
		{"BUFFER_MAX_AGE", "0s", "want a duration greater than 0"},
		{"NATS_SYNC", "sometimes", "want always, or a duration"},
		{"NATS_SYNC", "0s", "want always, or a duration"},
		{"PUBLISH_TIMEOUT", "0s", "want a duration greater than 0"},
		{"SHUTDOWN_DELAY", "-1s", "want a duration of 0 or more"},
		{"SHUTDOWN_TIMEOUT", "0s", "want more than CALLBRIDGE_SHUTDOWN_DELAY plus CALLBRIDGE_PUBLISH_TIMEOUT (10s)"},
		{"SHUTDOWN_TIMEOUT", "10s", "want more than CALLBRIDGE_SHUTDOWN_DELAY plus CALLBRIDGE_PUBLISH_TIMEOUT (10s)"},
		{"MAX_HEADER_BYTES", "512", "at least 1024"},
		{"MAX_CONNS", "0", "want an integer greater than 0"},
		{"BODY_MEMORY_BYTES", "1048576", "more than CALLBRIDGE_MAX_BODY_BYTES"},
		{"NATS_MAX_AGE", "10m", "at least CALLBRIDGE_NATS_DUPLICATE_WINDOW"},
		{"NATS_MAX_BYTES", "-1", "want 0 (no bound)"},
		{"NATS_REPLICAS", "0", "want 1 to 5"},
		{"NATS_REPLICAS", "6", "want 1 to 5"},
		{"NATS_REPLICAS", "three", "want 1 to 5"},
		{"NATS_REPLICAS", "3", "the embedded NATS server is one node"},
		{"LOG_LEVEL", "trace", "allowed: debug, info, warn, error"},
		{"LOG_LEVEL", "INFO", "allowed: debug, info, warn, error"},
		{"LOG_LEVEL", "info\nCALLBRIDGE_INJECTED=1", "allowed: debug, info, warn, error"},
		{"LOG_FORMAT", "xml", "allowed: json, text"},
		{"ALLOW_UNSIGNED", "maybe", "allowed: auto (or empty), true, false"},
		{"MAX_CLOCK_SKEW", "0s", "want a duration greater than 0"},
		{"TENCENT_CSS_EXPIRY_GRACE", "-5m", "want a duration of 0 or more"},
		{"ANYRTC_SIGNATURE", "md5", "allowed: hmac-sha1, hmac-sha256"},
		{"NETEASE_NERTC_VERIFY", "warn", "allowed: enforce, report"},
		{"TENCENT_CSS_VERIFY", "", "allowed: enforce, report"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := load(t, map[string]string{tt.name: tt.value})
			line := checkError(t, err)
			if want := Prefix + tt.name + "=" + strconv.Quote(tt.value) + ": "; !strings.HasPrefix(line, want) {
				t.Errorf("error %q does not start with %q", line, want)
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("error %q does not say %q", line, tt.want)
			}
		})
	}
}

// checkError returns err's line after checking it is a one-line *Error.
func checkError(t *testing.T, err error) string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load error = %v (%T), want *Error", err, err)
	}
	if ce.Error() != ce.Line || strings.ContainsAny(ce.Line, "\r\n") {
		t.Errorf("error %q is not one line", ce.Line)
	}
	return ce.Line
}

func TestAllowUnsigned(t *testing.T) {
	tests := []struct {
		setting, natsURL string
		unset            bool // ALLOW_UNSIGNED not set at all
		want, auto       bool
	}{
		{unset: true, want: true, auto: true},
		{unset: true, natsURL: "nats://nats:4222", want: false, auto: false},
		{setting: "", want: true, auto: true},
		{setting: "auto", want: true, auto: true},
		{setting: "AUTO", natsURL: "nats://nats:4222", want: false, auto: false},
		{setting: "true", want: true, auto: false},
		{setting: "true", natsURL: "nats://nats:4222", want: true, auto: false},
		{setting: "1", natsURL: "nats://nats:4222", want: true, auto: false},
		{setting: "false", want: false, auto: false},
		{setting: "0", want: false, auto: false},
		{setting: "false", natsURL: "nats://nats:4222", want: false, auto: false},
	}
	for _, tt := range tests {
		name := "unset"
		if !tt.unset {
			name = strconv.Quote(tt.setting)
		}
		t.Run(name+","+tt.natsURL, func(t *testing.T) {
			vars := map[string]string{}
			if !tt.unset {
				vars["ALLOW_UNSIGNED"] = tt.setting
			}
			if tt.natsURL != "" {
				vars["NATS_URL"] = tt.natsURL
			}
			c := mustLoad(t, vars)
			if c.AllowUnsigned() != tt.want || c.AllowUnsignedAuto() != tt.auto {
				t.Errorf("AllowUnsigned() = %v, AllowUnsignedAuto() = %v; want %v, %v",
					c.AllowUnsigned(), c.AllowUnsignedAuto(), tt.want, tt.auto)
			}
		})
	}

	// Other packages build a Config by hand; the zero setting is auto.
	c := &Config{Sink: "nats"}
	if !c.AllowUnsigned() || !c.AllowUnsignedAuto() {
		t.Error("zero AllowUnsignedSetting is not auto")
	}
}

const (
	neteaseSecret = "nEtEaSe-SeCrEt-123"
	anyrtcSecret  = "aNyRtC-SeCrEt-456"
	tencentKey    = "tEnCeNt-KeY-789"
	urlToken      = "ToKeN-abc_def.42~"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProviderSettings(t *testing.T) {
	keyFile := writeFile(t, "  "+tencentKey+"\r\n")
	tokenFile := writeFile(t, urlToken+"\n")
	oldKeyFile := writeFile(t, "old-"+tencentKey+"\n")
	c := mustLoad(t, map[string]string{
		"NETEASE_NERTC_APP_SECRET":      neteaseSecret,
		"NETEASE_NERTC_URL_TOKEN":       urlToken,
		"NETEASE_NERTC_VERIFY":          "report",
		"ANYRTC_SECRET":                 anyrtcSecret,
		"ANYRTC_URL_TOKEN_FILE":         tokenFile,
		"TENCENT_CSS_CALLBACK_KEY":      "", // empty counts as unset next to _FILE
		"TENCENT_CSS_CALLBACK_KEY_FILE": keyFile,
		"TENCENT_CSS_EXPIRY_GRACE":      "90s",
		"TENCENT_CSS_OLD_KEY_FILE":      oldKeyFile,
	})
	want := map[string]ProviderSettings{
		"netease-nertc": {Secret: neteaseSecret, URLToken: urlToken, Verify: VerifyReport},
		"anyrtc":        {Secret: anyrtcSecret, URLToken: urlToken, Verify: VerifyEnforce, Own: map[string]string{"SIGNATURE": "hmac-sha1"}},
		"tencent-css":   {Secret: tencentKey, Verify: VerifyEnforce, Own: map[string]string{"EXPIRY_GRACE": "90s", "OLD_KEY": "old-" + tencentKey}},
	}
	for id, w := range want {
		if got := c.Providers[id]; !reflect.DeepEqual(got, w) {
			t.Errorf("Providers[%s] = %+v, want %+v", id, got, w)
		}
	}

	var out bytes.Buffer
	if err := WriteEnv(&out, c, specs, 100); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{neteaseSecret, anyrtcSecret, tencentKey, urlToken} {
		if strings.Contains(out.String(), s) {
			t.Errorf("WriteEnv shows secret %q:\n%s", s, out.String())
		}
	}
	for name, current := range map[string]string{
		"CALLBRIDGE_NETEASE_NERTC_APP_SECRET":      "(set)",
		"CALLBRIDGE_ANYRTC_URL_TOKEN":              "(set from file)",
		"CALLBRIDGE_ANYRTC_URL_TOKEN_FILE":         tokenFile,
		"CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY":      "(set from file)",
		"CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY_FILE": keyFile,
		"CALLBRIDGE_TENCENT_CSS_URL_TOKEN":         "",
		"CALLBRIDGE_NETEASE_NERTC_VERIFY":          "report",
		"CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE":      "90s",
		"CALLBRIDGE_ANYRTC_SIGNATURE":              "hmac-sha1",
		"CALLBRIDGE_TENCENT_CSS_OLD_KEY":           "(set from file)",
		"CALLBRIDGE_TENCENT_CSS_OLD_KEY_FILE":      oldKeyFile,
	} {
		if got := currentColumn(t, out.String(), name); got != current {
			t.Errorf("WriteEnv shows %s as %q, want %q", name, got, current)
		}
	}
}

// currentColumn returns the current value WriteEnv shows for name: in the block that starts
// with name, what follows "current: " up to the end of its line ("" for "(not set)").
func currentColumn(t *testing.T, out, name string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, name+" ") {
			continue
		}
		for _, l := range lines[i:] {
			if _, v, ok := strings.Cut(l, "current: "); ok {
				if v == notSet {
					return ""
				}
				return v
			}
		}
	}
	t.Fatalf("WriteEnv has no block for %s", name)
	return ""
}

func TestSecretErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	empty := writeFile(t, "\n")
	tests := []struct {
		name string
		vars map[string]string
		want []string // parts of the line
	}{
		{"both set", map[string]string{"ANYRTC_SECRET": anyrtcSecret, "ANYRTC_SECRET_FILE": writeFile(t, anyrtcSecret)},
			[]string{"CALLBRIDGE_ANYRTC_SECRET and CALLBRIDGE_ANYRTC_SECRET_FILE are both set"}},
		{"token both set", map[string]string{"NETEASE_NERTC_URL_TOKEN": urlToken, "NETEASE_NERTC_URL_TOKEN_FILE": writeFile(t, urlToken)},
			[]string{"CALLBRIDGE_NETEASE_NERTC_URL_TOKEN and CALLBRIDGE_NETEASE_NERTC_URL_TOKEN_FILE are both set"}},
		{"missing file", map[string]string{"TENCENT_CSS_CALLBACK_KEY_FILE": missing},
			[]string{"CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY_FILE=" + strconv.Quote(missing) + ": cannot read the file: no such file or directory"}},
		{"directory", map[string]string{"TENCENT_CSS_CALLBACK_KEY_FILE": dir},
			[]string{"CALLBRIDGE_TENCENT_CSS_CALLBACK_KEY_FILE=" + strconv.Quote(dir) + ": cannot read the file"}},
		{"empty file", map[string]string{"ANYRTC_SECRET_FILE": empty},
			[]string{"CALLBRIDGE_ANYRTC_SECRET_FILE=" + strconv.Quote(empty) + ": the file is empty"}},
		{"token with slash", map[string]string{"ANYRTC_URL_TOKEN": "sec/" + anyrtcSecret},
			[]string{"CALLBRIDGE_ANYRTC_URL_TOKEN=<redacted>: want only letters, digits"}},
		{"token from file with space", map[string]string{"ANYRTC_URL_TOKEN_FILE": writeFile(t, "sec "+anyrtcSecret)},
			[]string{"CALLBRIDGE_ANYRTC_URL_TOKEN=<redacted>: want only letters, digits"}},
		{"provider's own secret refused by its check", map[string]string{"TENCENT_CSS_OLD_KEY": "sec " + anyrtcSecret},
			[]string{"CALLBRIDGE_TENCENT_CSS_OLD_KEY=<redacted>: want no spaces"}},
		{"provider's own secret both set", map[string]string{"TENCENT_CSS_OLD_KEY": anyrtcSecret, "TENCENT_CSS_OLD_KEY_FILE": writeFile(t, anyrtcSecret)},
			[]string{"CALLBRIDGE_TENCENT_CSS_OLD_KEY and CALLBRIDGE_TENCENT_CSS_OLD_KEY_FILE are both set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.vars)
			line := checkError(t, err)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error %q does not say %q", line, w)
				}
			}
			if strings.Contains(line, anyrtcSecret) || strings.Contains(line, urlToken) {
				t.Errorf("error %q shows a secret", line)
			}
		})
	}
}

func TestVarNames(t *testing.T) {
	var want []string
	for _, n := range []string{
		"LISTEN", "MAX_BODY_BYTES", "READ_TIMEOUT", "WRITE_TIMEOUT", "IDLE_TIMEOUT", "MAX_INFLIGHT",
		"MAX_HEADER_BYTES", "MAX_CONNS", "BODY_MEMORY_BYTES",
		"RETRY_AFTER", "SINK", "NATS_URL", "EMBEDDED_NATS_LISTEN", "DATA_DIR", "NATS_STREAM",
		"NATS_DUPLICATE_WINDOW", "NATS_MAX_AGE", "NATS_MAX_BYTES", "NATS_REPLICAS", "TOPIC_TEMPLATE", "CE_MODE", "ACK_MODE", "BUFFER_MAX_BYTES", "BUFFER_MAX_AGE", "NATS_SYNC", "PUBLISH_TIMEOUT",
		"SHUTDOWN_DELAY", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT", "PPROF_LISTEN", "CANONICAL", "SCHEMA_BASE_URL",
		"NATS_USER", "NATS_PASSWORD", "NATS_PASSWORD_FILE", "NATS_TOKEN", "NATS_TOKEN_FILE",
		"NATS_NKEY_SEED_FILE", "NATS_CREDS_FILE", "NATS_TLS_CA_FILE", "NATS_TLS_CERT_FILE",
		"NATS_TLS_KEY_FILE", "NATS_TLS_INSECURE_SKIP_VERIFY",
		"KAFKA_BROKERS", "KAFKA_REQUIRED_ACKS", "KAFKA_COMPRESSION", "KAFKA_CLIENT_ID",
		"KAFKA_KEY_TEMPLATE", "KAFKA_CREATE_TOPICS", "KAFKA_TOPIC_PARTITIONS", "KAFKA_TOPIC_REPLICATION",
		"KAFKA_BATCH_TIMEOUT", "KAFKA_BATCH_SIZE", "KAFKA_MAX_TOPICS", "KAFKA_TLS", "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CERT_FILE",
		"KAFKA_TLS_KEY_FILE", "KAFKA_TLS_INSECURE_SKIP_VERIFY", "KAFKA_SASL_MECHANISM",
		"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE",
		"KAFKA_SCHEMA_REGISTRY_URL", "KAFKA_SCHEMA_ID_LOCATION", "KAFKA_SCHEMA_REGISTRY_USERNAME",
		"KAFKA_SCHEMA_REGISTRY_PASSWORD", "KAFKA_SCHEMA_REGISTRY_PASSWORD_FILE", "KAFKA_SCHEMA_REGISTRY_TLS_CA_FILE",
		"KAFKA_SCHEMA_REGISTRY_TLS_CERT_FILE", "KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE", "KAFKA_SCHEMA_REGISTRY_TLS_INSECURE_SKIP_VERIFY",
		"ALLOW_UNSIGNED",
		"MAX_CLOCK_SKEW", "WEBHOOK_SOURCES",
		"NETEASE_NERTC_APP_SECRET", "NETEASE_NERTC_APP_SECRET_FILE",
		"NETEASE_NERTC_URL_TOKEN", "NETEASE_NERTC_URL_TOKEN_FILE", "NETEASE_NERTC_VERIFY", "NETEASE_NERTC_PUBLISH_TIMEOUT",
		"ANYRTC_SECRET", "ANYRTC_SECRET_FILE", "ANYRTC_URL_TOKEN", "ANYRTC_URL_TOKEN_FILE", "ANYRTC_VERIFY",
		"ANYRTC_PUBLISH_TIMEOUT", "ANYRTC_SIGNATURE",
		"TENCENT_CSS_CALLBACK_KEY", "TENCENT_CSS_CALLBACK_KEY_FILE",
		"TENCENT_CSS_URL_TOKEN", "TENCENT_CSS_URL_TOKEN_FILE", "TENCENT_CSS_VERIFY", "TENCENT_CSS_PUBLISH_TIMEOUT",
		"TENCENT_CSS_EXPIRY_GRACE", "TENCENT_CSS_OLD_KEY", "TENCENT_CSS_OLD_KEY_FILE",
	} {
		want = append(want, Prefix+n)
	}
	vars := Vars(specs)
	var got []string
	secret := map[string]bool{}
	for _, v := range vars {
		got = append(got, v.Name)
		secret[v.Name] = v.Secret
		if v.Type == "" || v.Description == "" {
			t.Errorf("%s has no type or description: %+v", v.Name, v)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Vars names:\n got %v\nwant %v", got, want)
	}
	for _, n := range []string{"NETEASE_NERTC_APP_SECRET", "ANYRTC_URL_TOKEN", "TENCENT_CSS_CALLBACK_KEY", "TENCENT_CSS_OLD_KEY", "NATS_PASSWORD", "NATS_TOKEN", "KAFKA_SASL_PASSWORD", "KAFKA_SCHEMA_REGISTRY_PASSWORD"} {
		if !secret[Prefix+n] {
			t.Errorf("%s is not marked secret", n)
		}
	}

	// A rule under a name no variable has would report errors under the wrong name.
	c := &Config{}
	rules := c.rules()
	for _, s := range specs {
		rules = append(rules, (&ProviderSettings{}).rules(s, 0)...)
	}
	for _, r := range rules {
		if !slices.Contains(got, r.name) {
			t.Errorf("rule for %s, which is not a variable", r.name)
		}
	}
}

func TestWriteEnv(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"NATS_URL":              "nats://alice:pa55word@nats-1:4222,nats://t0ken@nats-2:4222",
		"NATS_DUPLICATE_WINDOW": "2h",
		"ALLOW_UNSIGNED":        "auto",
	})
	var out bytes.Buffer
	if err := WriteEnv(&out, c, specs, 100); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "NAME ") || !strings.Contains(strings.SplitN(s, "\n", 2)[0], "CURRENT") {
		t.Errorf("no header:\n%s", s)
	}
	for _, v := range Vars(specs) {
		currentColumn(t, s, v.Name) // fails when the row is missing
	}
	for _, leak := range []string{"alice", "pa55word", "t0ken"} {
		if strings.Contains(s, leak) {
			t.Errorf("WriteEnv shows NATS credentials %q:\n%s", leak, s)
		}
	}
	for name, current := range map[string]string{
		"CALLBRIDGE_NATS_URL":              "nats://redacted@nats-1:4222,nats://redacted@nats-2:4222",
		"CALLBRIDGE_NATS_DUPLICATE_WINDOW": "2h",
		"CALLBRIDGE_MAX_CLOCK_SKEW":        "5m",
		"CALLBRIDGE_RETRY_AFTER":           "5s",
		"CALLBRIDGE_IDLE_TIMEOUT":          "60s",
		"CALLBRIDGE_MAX_BODY_BYTES":        "1048576",
		"CALLBRIDGE_ALLOW_UNSIGNED":        "auto (false)",
		"CALLBRIDGE_ANYRTC_SECRET":         "",
		"CALLBRIDGE_ANYRTC_VERIFY":         "enforce",
	} {
		if got := currentColumn(t, s, name); got != current {
			t.Errorf("WriteEnv shows %s as %q, want %q", name, got, current)
		}
	}
}

func TestBadSpecs(t *testing.T) {
	clearEnv(t)
	for _, bad := range [][]ProviderSpec{
		{{ID: "anyrtc", SecretVar: "SECRET"}, {ID: "anyrtc", SecretVar: "KEY"}},
		{{ID: "anyrtc", SecretVar: "SIGNATURE", Own: specs[1].Own}}, // CALLBRIDGE_ANYRTC_SIGNATURE twice
		{{ID: "anyrtc", SecretVar: "SECRET", Own: []ProviderVar{{Name: "VERIFY", Type: "string", Check: oneOf("")}}}},
		{{ID: "anyrtc", SecretVar: "SECRET", Own: []ProviderVar{{Name: "MODE", Type: "string", Default: "x", Check: oneOf("a", "b")}}}}, // default refused
		{{ID: "anyrtc", SecretVar: "SECRET", Own: []ProviderVar{{Name: "MODE", Type: "string"}}}},                                       // no check
		{{ID: "anyrtc", SecretVar: "SECRET", Own: []ProviderVar{{Name: "bad name", Type: "string", Check: oneOf("")}}}},
		{{ID: "any.rtc", SecretVar: "SECRET"}},
		{{ID: "anyrtc", SecretVar: ""}},
	} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%v) accepted bad specs", bad)
		}
	}
}

// Settings that only make sense together are refused apart, naming what is missing; secrets in
// them are never shown.
func TestCombinations(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CALLBRIDGE_SINK": "kafka"}, "CALLBRIDGE_KAFKA_BROKERS"},
		{map[string]string{"CALLBRIDGE_SINK": "kafka", "CALLBRIDGE_KAFKA_BROKERS": "kafka-0"}, "host:port"},
		{map[string]string{"CALLBRIDGE_SINK": "kafka", "CALLBRIDGE_KAFKA_BROKERS": "k:9092", "CALLBRIDGE_KAFKA_SASL_MECHANISM": "plain", "CALLBRIDGE_KAFKA_SASL_USERNAME": "u"}, "CALLBRIDGE_KAFKA_SASL_PASSWORD=<redacted>"},
		{map[string]string{"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL": "registry:8081"}, "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL"},
		{map[string]string{"CALLBRIDGE_KAFKA_SCHEMA_ID_LOCATION": "body"}, "allowed: header, prefix"},
		{map[string]string{"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_USERNAME": "u"}, "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_PASSWORD=<redacted>"},
		{map[string]string{"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_CERT_FILE": "c.pem"}, "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_KEY_FILE"},
		{map[string]string{"CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_URL": "http://r:8081", "CALLBRIDGE_KAFKA_SCHEMA_REGISTRY_TLS_CA_FILE": "ca.pem"}, "for an https URL"},
		{map[string]string{"CALLBRIDGE_KAFKA_TLS_CERT_FILE": "/c.pem"}, "CALLBRIDGE_KAFKA_TLS_KEY_FILE"},
		{map[string]string{"CALLBRIDGE_NATS_USER": "u"}, "CALLBRIDGE_NATS_PASSWORD=<redacted>"},
		{map[string]string{"CALLBRIDGE_NATS_USER": "u", "CALLBRIDGE_NATS_PASSWORD": "hunter2", "CALLBRIDGE_NATS_TOKEN": "tok"}, "not both"},
		{map[string]string{"CALLBRIDGE_NATS_TLS_KEY_FILE": "/k.pem"}, "CALLBRIDGE_NATS_TLS_CERT_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load(specs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	clearEnv(t)
	t.Setenv("CALLBRIDGE_SINK", "kafka")
	t.Setenv("CALLBRIDGE_KAFKA_BROKERS", "kafka-0:9092, kafka-1:9092")
	dir := t.TempDir()
	os.WriteFile(dir+"/pw", []byte("s3cret\n"), 0o600)
	t.Setenv("CALLBRIDGE_KAFKA_SASL_MECHANISM", "scram-sha-512")
	t.Setenv("CALLBRIDGE_KAFKA_SASL_USERNAME", "bridge")
	t.Setenv("CALLBRIDGE_KAFKA_SASL_PASSWORD_FILE", dir+"/pw")
	c, err := Load(specs)
	if err != nil {
		t.Fatal(err)
	}
	if c.KafkaSASLPassword != "s3cret" || c.AllowUnsigned() {
		t.Errorf("password %q from file, allow unsigned %v (want false with a broker)", c.KafkaSASLPassword, c.AllowUnsigned())
	}
}

// Rules that join two settings name the one that cannot be honoured.
func TestInvalidCombinations(t *testing.T) {
	tests := []struct {
		env  map[string]string
		name string
		want string
	}{
		{map[string]string{"CALLBRIDGE_SHUTDOWN_DELAY": "20s", "CALLBRIDGE_PUBLISH_TIMEOUT": "15s"}, "CALLBRIDGE_SHUTDOWN_TIMEOUT", "(35s)"},
		{map[string]string{"CALLBRIDGE_SINK": "kafka", "CALLBRIDGE_KAFKA_BROKERS": "k:9092", "CALLBRIDGE_KAFKA_CREATE_TOPICS": "true",
			"CALLBRIDGE_TOPIC_TEMPLATE": "callbacks.{provider}.{subject}"}, "CALLBRIDGE_KAFKA_CREATE_TOPICS", "one topic per stream"},
		{map[string]string{"CALLBRIDGE_MAX_BODY_BYTES": "134217728"}, "CALLBRIDGE_BODY_MEMORY_BYTES", "more than CALLBRIDGE_MAX_BODY_BYTES"},
	}
	for _, tt := range tests {
		bare := map[string]string{}
		for k, v := range tt.env {
			bare[strings.TrimPrefix(k, Prefix)] = v
		}
		_, err := load(t, bare)
		line := checkError(t, err)
		if !strings.HasPrefix(line, tt.name+"=") || !strings.Contains(line, tt.want) {
			t.Errorf("%v: %q, want %s=… %q", tt.env, line, tt.name, tt.want)
		}
	}
	// Kafka with {subject} in the key only, or topics not created by us, is fine.
	if _, err := load(t, map[string]string{"SINK": "kafka", "KAFKA_BROKERS": "k:9092", "TOPIC_TEMPLATE": "callbacks.{provider}.{subject}"}); err != nil {
		t.Errorf("{subject} topics without creation: %v", err)
	}
}

func TestUnknownVariables(t *testing.T) {
	specs := []ProviderSpec{{ID: "anyrtc", SecretVar: "SECRET"}}
	got := Unknown([]string{
		"CALLBRIDGE_MAX_INFLIGH=10", "CALLBRIDGE_ANYRTC_SECERT=x", "CALLBRIDGE_LISTEN=:1",
		"CALLBRIDGE_ANYRTC_SECRET_FILE=/s", "CALLBRIDGE_SOMETHING_ELSE_ENTIRELY=1", "PATH=/bin", "MAX_INFLIGHT=3",
	}, specs)
	want := []string{
		"CALLBRIDGE_ANYRTC_SECERT (did you mean CALLBRIDGE_ANYRTC_SECRET?)",
		"CALLBRIDGE_MAX_INFLIGH (did you mean CALLBRIDGE_MAX_INFLIGHT?)",
		"CALLBRIDGE_SOMETHING_ELSE_ENTIRELY",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unknown:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A provider variable marked WithSecret stops start-up when the secret is set without it, and
// is not asked for while the provider has no secret.
func TestOwnRequiredWithSecret(t *testing.T) {
	specs := []ProviderSpec{{ID: "livekit", SecretVar: "API_SECRET", Own: []ProviderVar{
		{Name: "API_KEY", Type: "string", Description: "the JWT's iss", Secret: true, WithSecret: true,
			Check: func(string) (string, bool) { return "", true }},
	}}}
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{env: nil},
		{env: map[string]string{"LIVEKIT_API_SECRET": "s3cret"}, wantErr: "CALLBRIDGE_LIVEKIT_API_KEY is not set: want it whenever CALLBRIDGE_LIVEKIT_API_SECRET is"},
		{env: map[string]string{"LIVEKIT_API_SECRET": "s3cret", "LIVEKIT_API_KEY": "APIkey"}},
	} {
		setEnv(t, tc.env)
		_, err := Load(specs)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: err %v, want %q", tc.env, err, tc.wantErr)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

// A provider that signs nothing (SRS) names TokenSecret as its secret variable: its URL token is
// read once, from the variable or its _FILE, as both the route's token and the secret, and
// listed once.
func TestTokenSecret(t *testing.T) {
	specs := []ProviderSpec{{ID: "srs", SecretVar: TokenSecret}}
	var names []string
	for _, v := range Vars(specs) {
		if strings.HasPrefix(v.Name, "CALLBRIDGE_SRS_") {
			names = append(names, v.Name)
		}
	}
	if want := []string{"CALLBRIDGE_SRS_URL_TOKEN", "CALLBRIDGE_SRS_URL_TOKEN_FILE", "CALLBRIDGE_SRS_VERIFY", "CALLBRIDGE_SRS_PUBLISH_TIMEOUT"}; !slices.Equal(names, want) {
		t.Errorf("variables %v, want %v", names, want)
	}
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("from-a-file\n"), 0o600)
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{env: nil},
		{env: map[string]string{"SRS_URL_TOKEN": "hook-token"}, want: "hook-token"},
		{env: map[string]string{"SRS_URL_TOKEN_FILE": file}, want: "from-a-file"},
	} {
		setEnv(t, tc.env)
		c, err := Load(specs)
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if s := c.Providers["srs"]; s.URLToken != tc.want || s.Secret != tc.want {
			t.Errorf("%v: URL token %q, secret %q, want both %q", tc.env, s.URLToken, s.Secret, tc.want)
		}
	}
	setEnv(t, map[string]string{"SRS_URL_TOKEN": "not/one/segment"})
	if _, err := Load(specs); err == nil || !strings.Contains(err.Error(), "CALLBRIDGE_SRS_URL_TOKEN") || strings.Contains(err.Error(), "not/one") {
		t.Errorf("a token that is no path segment: %v", err)
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `callbridge contract -out DIR` writes the AsyncAPI document of the configured sink and the
// schemas it refers to; without -out it says how to call it.
func TestContractCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		code       int
		want       []string // in asyncapi.yaml
		wantStderr string
	}{
		{name: "defaults: embedded NATS, structured", code: 0,
			want: []string{`protocol: "nats"`, `host: "127.0.0.1:4222"`, `address: "callbacks.agora.{eventtype}"`, "Nats-Msg-Id"}},
		{name: "kafka binary", code: 0,
			env:  map[string]string{"CALLBRIDGE_SINK": "kafka", "CALLBRIDGE_KAFKA_BROKERS": "k1:9092,k2:9092", "CALLBRIDGE_CE_MODE": "binary", "CALLBRIDGE_TOPIC_TEMPLATE": "rtc.{provider}"},
			want: []string{`protocol: "kafka"`, `host: "k1:9092"`, `address: "rtc.livekit"`, "ce_dataschema:", "kafka:"}},
		{name: "a generic source gets a channel", code: 0,
			env:  map[string]string{"CALLBRIDGE_WEBHOOK_SOURCES": "shop", "CALLBRIDGE_WEBHOOK_SHOP_SECRET": "whsec_c2VjcmV0"},
			want: []string{`address: "callbacks.shop.{eventtype}"`}},
		{name: "no -out", args: []string{}, code: 2, wantStderr: "usage: callbridge contract -out DIR"},
		{name: "a stray argument", args: []string{"-out", "x", "y"}, code: 2, wantStderr: "usage"},
		{name: "bad configuration", env: map[string]string{"CALLBRIDGE_SCHEMA_BASE_URL": "/schemas"}, code: 2, wantStderr: "CALLBRIDGE_SCHEMA_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			args := tt.args
			if args == nil {
				args = []string{"-out", dir}
			}
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"contract"}, args...), &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantStderr)
			}
			if tt.code != 0 {
				return
			}
			doc, err := os.ReadFile(filepath.Join(dir, "asyncapi.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(doc), w) {
					t.Errorf("asyncapi.yaml lacks %q", w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "schemas", "com.netease.nertc.room.started", "v1.json")); err != nil {
				t.Errorf("schema not written: %v", err)
			}
		})
	}
}

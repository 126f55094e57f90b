package kustomize

import (
	"bytes"
	"os"
	"testing"

	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// TestBaseMatchesChart fails when the chart changed and the base was not regenerated.
func TestBaseMatchesChart(t *testing.T) {
	want, err := Base(tools.Path(t, "helm"), tools.Chart)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(BaseFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("kustomize/%s differs from the chart's render: run `go run ./kustomize/gen` in deploy/", BaseFile)
	}
}

// TestBuild builds the base and every overlay with the pinned kustomize.
func TestBuild(t *testing.T) {
	for _, dir := range []string{"base", "overlays/nats", "overlays/kafka"} {
		if _, err := tools.Run(t, ".", "kustomize", "build", dir); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

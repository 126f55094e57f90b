// Package kustomize generates deploy/kustomize/base from the Helm chart, so the two ways of
// installing callbridge deploy the same objects. `go run ./kustomize/gen` rewrites the base; a
// test fails when the committed base drifts from the chart.
package kustomize

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
)

// BaseFile is the generated file, relative to deploy/kustomize.
const BaseFile = "base/callbridge.yaml"

var (
	sourceComment = regexp.MustCompile(`(?m)^# Source: .*\n`)
	chartLabel    = regexp.MustCompile(`(?m)^\s*helm\.sh/chart: .*\n`)
	managedBy     = regexp.MustCompile(`(?m)^(\s*app\.kubernetes\.io/managed-by:) Helm$`)
)

// Base renders the chart with its defaults (one pod, embedded JetStream; the overlays choose a
// broker) and removes what only Helm manages.
func Base(helm, chart string) ([]byte, error) {
	cmd := exec.Command(helm, "template", "callbridge", chart)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template: %v\n%s", err, stderr.Bytes())
	}
	out = sourceComment.ReplaceAll(out, nil)
	out = chartLabel.ReplaceAll(out, nil)
	out = managedBy.ReplaceAll(out, []byte("$1 kustomize"))
	header := "# Generated from deploy/helm/callbridge with its default values by `go run ./kustomize/gen`\n" +
		"# (in deploy/). Do not edit: change the chart and regenerate.\n"
	return append([]byte(header), bytes.TrimPrefix(out, []byte("---\n"))...), nil
}

// Package render produces every set of objects deploy/ ships: the chart with each passing values
// file of ci/, each kustomize base and overlay, each example. The checks run on all of them.
package render

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/deploy/internal/manifest"
	"github.com/callbridge/callbridge/deploy/internal/tools"
)

// Set is one rendering.
type Set struct {
	Name    string // e.g. "helm ci/kafka-values.yaml", "kustomize overlays/nats"
	Objects []manifest.Object
}

// All renders and strictly decodes every set.
func All(t *testing.T) []Set {
	t.Helper()
	var sets []Set
	add := func(name string, out []byte, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		objs, err := manifest.Decode(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(objs) == 0 {
			t.Fatalf("%s rendered no objects", name)
		}
		sets = append(sets, Set{Name: name, Objects: objs})
	}
	values, _ := filepath.Glob(filepath.Join(tools.Chart, "ci", "*.yaml"))
	for _, f := range values {
		if strings.HasPrefix(filepath.Base(f), "fail-") {
			continue
		}
		out, err := tools.Template(t, []string{f})
		add("helm ci/"+filepath.Base(f), out, err)
	}
	for _, dir := range KustomizeDirs(t) {
		out, err := tools.Run(t, tools.Root, "kustomize", "build", dir)
		rel, _ := filepath.Rel(tools.Root, dir)
		add("kustomize "+rel, out, err)
	}
	return sets
}

// KustomizeDirs are the kustomizations: base, overlays and examples.
func KustomizeDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, pattern := range []string{"kustomize/base", "kustomize/overlays/*", "examples/*"} {
		m, err := filepath.Glob(filepath.Join(tools.Root, pattern, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range m {
			dirs = append(dirs, filepath.Dir(k))
		}
	}
	return dirs
}

// Package tools finds the pinned helm, kustomize, kube-apiserver and etcd of deploy/tools for the
// tests, building them on first use, and runs them.
package tools

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Root is the deploy module's directory.
var Root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

// Repo is the callbridge repository (the service's module).
var Repo = filepath.Join(Root, "..")

var bin = sync.OnceValues(func() (string, error) {
	// deploy/check.sh builds them once and passes the directory to every test package.
	if dir := os.Getenv("CALLBRIDGE_TOOLS_BIN"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command("bash", filepath.Join(Root, "tools", "build.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("deploy/tools/build.sh: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
})

// Path is the pinned tool name.
func Path(t testing.TB, name string) string {
	t.Helper()
	dir, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (run deploy/tools/build.sh)", name, err)
	}
	return p
}

// CRDDir holds the CustomResourceDefinitions the chart's optional objects need.
func CRDDir(t testing.TB) string {
	return filepath.Join(filepath.Dir(Path(t, "helm")), "..", "crds")
}

// Run runs a pinned tool in dir and returns its standard output; err carries standard error.
func Run(t testing.TB, dir, name string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(Path(t, name), args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// Chart is the chart's directory.
var Chart = filepath.Join(Root, "helm", "callbridge")

// Template renders the chart with the given values files and --set flags.
func Template(t testing.TB, valuesFiles []string, sets ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", "callbridge", Chart, "--namespace", "callbridge"}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return Run(t, Root, "helm", args...)
}

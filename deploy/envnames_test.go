// Package deploy holds the checks that span the chart, the kustomize bases and the examples.
package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/deploy/internal/tools"
)

var name = regexp.MustCompile(`CALLBRIDGE_[A-Z0-9_]*[A-Z0-9]`)

// TestVariableNamesExist: every CALLBRIDGE_* name the chart, kustomize and examples use is one
// the bridge reads, so a typo or a renamed variable cannot ship as a setting that does nothing.
func TestVariableNamesExist(t *testing.T) {
	vars := tools.Env(t)
	seen := 0
	for _, root := range []string{"helm", "kustomize", "examples"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, n := range name.FindAllString(string(b), -1) {
				seen++
				if vars[n].Name == "" {
					t.Errorf("%s: %s is not a variable of `callbridge env`", path, n)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 30 {
		t.Fatalf("only %d variable names found: the walk is broken", seen)
	}
}

// Command gen rewrites deploy/kustomize/base/callbridge.yaml from the Helm chart. Run it in
// deploy/ with the pinned helm: CALLBRIDGE_TOOLS_BIN=$(bash tools/build.sh) go run ./kustomize/gen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/callbridge/callbridge/deploy/kustomize"
)

func main() {
	bin := os.Getenv("CALLBRIDGE_TOOLS_BIN")
	if bin == "" {
		fmt.Fprintln(os.Stderr, "gen: set CALLBRIDGE_TOOLS_BIN=$(bash tools/build.sh)")
		os.Exit(2)
	}
	out, err := kustomize.Base(filepath.Join(bin, "helm"), filepath.Join("helm", "callbridge"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join("kustomize", kustomize.BaseFile), out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

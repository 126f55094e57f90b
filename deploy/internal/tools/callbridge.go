package tools

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var callbridge = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "callbridge-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "callbridge")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/callbridge")
	cmd.Dir = Repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/callbridge: %v\n%s", err, b)
	}
	return out, nil
})

// Callbridge is the service's binary, built from this checkout once per test process.
func Callbridge(t testing.TB) string {
	t.Helper()
	p, err := callbridge()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Variable is one variable of `callbridge env -o json`.
type Variable struct {
	Name, Type string
	Secret     bool // read from <Name>_FILE as well: the ones values must never hold
}

// Env runs `callbridge env -o json` in an environment without CALLBRIDGE_* variables and
// returns what it lists, by name. A secret is a variable that has a <NAME>_FILE companion.
func Env(t testing.TB) map[string]Variable {
	t.Helper()
	cmd := exec.Command(Callbridge(t), "env", "-o", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("callbridge env -o json: %v", err)
	}
	var listed []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("callbridge env -o json: %v\n%s", err, out)
	}
	vars := map[string]Variable{}
	for _, l := range listed {
		if !strings.HasPrefix(l.Name, "CALLBRIDGE_") || l.Type == "" {
			t.Fatalf("callbridge env -o json: unexpected entry %+v", l)
		}
		vars[l.Name] = Variable{Name: l.Name, Type: l.Type}
	}
	for name := range vars {
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && vars[name].Type == "path" {
			if v, ok := vars[base]; ok {
				v.Secret = true
				vars[base] = v
			}
		}
	}
	if len(vars) < 20 {
		t.Fatalf("callbridge env listed only %d variables:\n%s", len(vars), out)
	}
	return vars
}

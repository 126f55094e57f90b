package tools

import (
	"bufio"
	"bytes"
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

// Variable is one line of `callbridge env`.
type Variable struct {
	Name, Type string
	Secret     bool // read from <Name>_FILE as well: the ones values must never hold
}

// Env runs `callbridge env` in an environment without CALLBRIDGE_* variables and returns what
// it lists, by name. A secret is a variable that has a <NAME>_FILE companion.
func Env(t testing.TB) map[string]Variable {
	t.Helper()
	cmd := exec.Command(Callbridge(t), "env")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("callbridge env: %v", err)
	}
	vars := map[string]Variable{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasPrefix(f[0], "CALLBRIDGE_") {
			t.Fatalf("callbridge env: unexpected line %q", sc.Text())
		}
		v := Variable{Name: f[0], Type: f[1]}
		vars[v.Name] = v
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

package contract

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/normalize"
)

var (
	update  = flag.Bool("update", false, "write contract/history/<type>/v<major>.json where the schema changed within its major's promise, or is new")
	rewrite = flag.Bool("rewrite", false, "with -update, also rewrite a current major across a break: only for a schema no release has served")
)

// TestSchemaHistory holds the majors to their promise (SPEC §9, docs/contract.md "Versions"):
// for every event type of the built-in providers, the schema its declarations make at its
// current major (Provider.Majors) must be the committed contract/history/<type>/v<major>.json.
//
//   - Changed within the promise (Breaks: members added as optional, descriptions, an enum
//     widened, a type declared for the first time): the test fails until the file is rewritten,
//     which is the whole -update path, also after merging others' declarations:
//
//     go test ./contract -run TestSchemaHistory -update
//
//   - A break (a member removed, a type or unit changed, a member now or no longer required, an
//     enum narrowed): the test fails with "bump Major of <type> and keep v<N>", and -update
//     refuses. Set Majors[<name>] = N+1 in the provider's file and run -update: it writes
//     v<N+1>, and v<N> stays, served beside it. (-update -rewrite overwrites v<N> instead: only
//     for a schema no release has served.)
//
// Earlier majors must stay; a file of a type no provider documents any more is removed by -update.
func TestSchemaHistory(t *testing.T) {
	for _, p := range syncHistory(normalize.BuiltinRegistry(), HistoryDir, *update, *rewrite) {
		t.Error(p)
	}
}

// syncHistory compares reg's schemas with the history below dir, writing it when update, and
// returns the problems left.
func syncHistory(reg *normalize.Registry, dir string, update, rewrite bool) []string {
	var problems []string
	majors := map[string]int{} // by type
	for _, p := range reg.Publishers() {
		for _, e := range p.Events {
			typ := p.TypePrefix + e.Name
			if _, seen := majors[typ]; seen {
				continue // two codes of one type
			}
			majors[typ] = p.Major(e.Name)
			s, err := EventSchema(p, e)
			if err == nil {
				err = syncType(dir, typ, p.Major(e.Name), s, update, rewrite)
			}
			if err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	return append(problems, strayFiles(dir, majors, update)...)
}

// syncType compares schema, typ's at major, with its committed file, and writes it when update
// and the change keeps the major's promise (or rewrite).
func syncType(dir, typ string, major int, schema []byte, update, rewrite bool) error {
	for m := normalize.FirstMajor; m < major; m++ {
		if _, err := os.Stat(historyFile(dir, typ, m)); err != nil {
			return fmt.Errorf("%s is at v%d: v%d must stay in contract/%s (%v)", typ, major, m, HistoryDir, err)
		}
	}
	name := historyFile(dir, typ, major)
	committed, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && bytes.Equal(schema, Permissive()):
		return nil // undeclared: nothing promised, nothing kept
	case errors.Is(err, fs.ErrNotExist) && !update:
		return fmt.Errorf("%s v%d is not in contract/%s: run go test ./contract -run TestSchemaHistory -update", typ, major, HistoryDir)
	case errors.Is(err, fs.ErrNotExist):
		return writeFile(name, schema)
	case err != nil:
		return err
	case bytes.Equal(committed, schema):
		return nil
	}
	breaks, err := Breaks(committed, schema)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(breaks) > 0 && !rewrite {
		return fmt.Errorf("%s v%d: %s; bump Major of %s and keep v%d", typ, major, strings.Join(breaks, "; "), typ, major)
	}
	if !update {
		return fmt.Errorf("%s v%d changed within its promise: run go test ./contract -run TestSchemaHistory -update", typ, major)
	}
	return writeFile(name, schema)
}

// strayFiles: a file of a type no provider documents (removed when update), or of a major past
// its type's current one (a major is never taken back).
func strayFiles(dir string, majors map[string]int, update bool) []string {
	var problems []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{err.Error()}
	}
	for _, d := range entries {
		typ := d.Name()
		current, known := majors[typ]
		if !known && update {
			if err := os.RemoveAll(filepath.Join(dir, typ)); err != nil {
				problems = append(problems, err.Error())
			}
			continue
		}
		if !known {
			problems = append(problems, fmt.Sprintf("contract/%s/%s: no provider documents %s any more: run -update to remove it", HistoryDir, typ, typ))
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, typ))
		for _, f := range files {
			v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f.Name(), "v"), ".json"))
			if err != nil || v > current || f.Name() != fmt.Sprintf("v%d.json", v) {
				problems = append(problems, fmt.Sprintf("contract/%s/%s/%s: not a major up to %s's current v%d (a major is never taken back)", HistoryDir, typ, f.Name(), typ, current))
			}
		}
	}
	return problems
}

func historyFile(dir, typ string, major int) string {
	return filepath.Join(dir, filepath.FromSlash(normalize.SchemaFile(typ, major)))
}

func writeFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

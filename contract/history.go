package contract

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/callbridge/callbridge/normalize"
)

// The schemas published so far, one file per event type and major: history/<type>/v<N>.json,
// as a release served them. The current major of every declared type is there too, equal to the
// schema its declarations make (TestSchemaHistory fails otherwise, and its -update writes the
// file when the change keeps the major's promise, Breaks); an earlier major is kept for good, and
// the bridge serves it beside the current one, so a consumer written against it still resolves
// its schema. Permissive schemas are not kept: they promise nothing.
//
//go:embed history
var historyFiles embed.FS

// HistoryDir is the folder of the published schemas, in this package's source.
const HistoryDir = "history"

// history is historyFiles below HistoryDir: <type>/v<N>.json.
var history = mustSub(historyFiles, HistoryDir)

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// addMajors adds to files the schemas of p's event types at their current majors, and from hist
// those of their earlier majors.
func addMajors(files map[string][]byte, p *normalize.Provider, hist fs.FS) error {
	if err := checkMajors(p); err != nil {
		return err
	}
	for _, e := range p.Events {
		typ, major := p.TypePrefix+e.Name, p.Major(e.Name)
		s, err := EventSchema(p, e)
		if err != nil {
			return err
		}
		files[SchemaPath(typ, major)] = s
		for m := normalize.FirstMajor; m < major; m++ {
			old, err := fs.ReadFile(hist, normalize.SchemaFile(typ, m))
			if err != nil {
				return fmt.Errorf("%s is at major %d, but v%d, which consumers may still read, is not in contract/%s: %w", typ, major, m, HistoryDir, err)
			}
			files[SchemaPath(typ, m)] = old
		}
	}
	return nil
}

// checkMajors refuses a major declared for an event p does not document, or below the first.
func checkMajors(p *normalize.Provider) error {
	for name, m := range p.Majors {
		if !documents(p, name) {
			return fmt.Errorf("%s: major declared for %q, which is not one of its events", p.ID, name)
		}
		if m < 0 {
			return fmt.Errorf("%s %s: major %d", p.ID, name, m)
		}
	}
	return nil
}

func documents(p *normalize.Provider, name string) bool {
	for _, e := range p.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

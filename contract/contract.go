package contract

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/callbridge/callbridge/normalize"
)

// Files are the contract's files, made once: the schemas below SchemasDir and the AsyncAPI
// document at AsyncAPIFile, by their paths relative to the output folder (or to / when served).
type Files struct {
	files    map[string][]byte
	prefixes []string // type prefixes of undocumented types: their schema is permissive
}

// SchemasDir is the folder of the schemas, and the URL path the bridge serves them below.
const SchemasDir = "schemas"

// AsyncAPIFile is the AsyncAPI document's name, and its URL path.
const AsyncAPIFile = "asyncapi.yaml"

// PermissiveFile is the schema of data nothing declares, which the AsyncAPI document names for
// undocumented codes and generic sources.
const PermissiveFile = SchemasDir + "/undeclared.json"

// Build makes the schema of every documented event type of reg's providers and the AsyncAPI
// document of sink (see AsyncAPI). An error is a declaration that cannot make a schema.
// Every type's schema is at its current major (Provider.Majors); its earlier majors are the
// files kept in contract/history, served beside it.
func Build(reg *normalize.Registry, sink Sink) (*Files, error) {
	return build(reg, sink, history)
}

// build is Build with the published schemas of earlier majors read from hist.
func build(reg *normalize.Registry, sink Sink, hist fs.FS) (*Files, error) {
	f := &Files{files: map[string][]byte{PermissiveFile: Permissive()}}
	for _, p := range reg.Publishers() {
		f.prefixes = append(f.prefixes, p.TypePrefix)
		if err := checkEventData(p); err != nil {
			return nil, err
		}
		if err := addMajors(f.files, p, hist); err != nil {
			return nil, err
		}
	}
	doc, err := AsyncAPI(reg, sink)
	if err != nil {
		return nil, err
	}
	f.files[AsyncAPIFile] = doc
	return f, nil
}

// checkEventData refuses a declaration for an event p does not document: a typo would
// otherwise leave the event it meant with the common fields only.
func checkEventData(p *normalize.Provider) error {
	for name := range p.EventData {
		if !documents(p, name) {
			return fmt.Errorf("%s: data declared for %q, which is not one of its events", p.ID, name)
		}
	}
	return nil
}

// SchemaPath is the path of the schema of event type typ at major: schemas/<type>/v<major>.json.
func SchemaPath(typ string, major int) string {
	return SchemasDir + "/" + normalize.SchemaFile(typ, major)
}

// Lookup answers the bridge's GET of path (/asyncapi.yaml, /schemas/<type>/v<major>.json): the
// file and its media type. An undocumented type of a known provider (its prefix) at the first
// major is the permissive schema, so every event's dataschema resolves.
func (f *Files) Lookup(path []byte) (body []byte, contentType string, ok bool) {
	rel, found := strings.CutPrefix(string(path), "/")
	if !found {
		return nil, "", false
	}
	if b, ok := f.files[rel]; ok {
		if rel == AsyncAPIFile {
			return b, "application/yaml", true
		}
		return b, "application/schema+json", true
	}
	typ, ok := strings.CutPrefix(rel, SchemasDir+"/")
	if !ok {
		return nil, "", false
	}
	// The path arrives decoded: an undocumented code may hold a '/' the dataschema percent-encoded.
	typ, ok = strings.CutSuffix(typ, normalize.SchemaFile("", normalize.FirstMajor)) // "/v1.json"
	if !ok {
		return nil, "", false
	}
	for _, prefix := range f.prefixes {
		if len(typ) > len(prefix) && strings.HasPrefix(typ, prefix) {
			return permissive, "application/schema+json", true
		}
	}
	return nil, "", false
}

// Paths returns every file's path, sorted.
func (f *Files) Paths() []string {
	paths := make([]string, 0, len(f.files))
	for p := range f.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// File returns the file at path (as Paths lists it).
func (f *Files) File(path string) []byte { return f.files[path] }

// Write writes every file below dir.
func (f *Files) Write(dir string) error {
	for _, p := range f.Paths() {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, f.files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

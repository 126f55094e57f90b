package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
)

// The generated parts of the documentation — the README's provider table, docs/configuration.md's
// variable table and each docs/providers/<id>.md — come from the provider declarations and the
// config struct, the same values the code runs on; TestREADME fails when they drift. Regenerate
// with
//
//	go test ./cmd/callbridge -run TestREADME -update
//
// which rewrites only the text between a page's BEGIN and END markers (the prose around them is
// written by hand) and creates the page of a built-in provider that has none.

var update = flag.Bool("update", false, "rewrite the generated sections of README.md and docs/")

const (
	repoRoot = "../.."
	// readmeMaxLines keeps the README a front page: reference goes to docs/.
	readmeMaxLines = 400
)

// cell makes s safe in a Markdown table cell: a '|', even inside a code span, ends the cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// providerPage is where p's reference page lives, relative to the repository root.
func providerPage(p *normalize.Provider) string { return "docs/providers/" + p.ID + ".md" }

// providersMarkdown is the README's table of built-in providers, each linking to its page.
func providersMarkdown(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| provider | reference | `type` prefix | secret variable | answer | documented events | [canonical](docs/canonical.md) |\n|---|---|---|---|---|---|---|\n")
	for _, p := range normalize.Builtins() {
		fmt.Fprintf(&b, "| `%s` | [%s](%s) | `%s` | `%s` | `%s` | %d | [%s](%s#canonical-events) |\n",
			p.ID, providerPage(p), providerPage(p), p.TypePrefix, specOf(t, p.ID).VarName(p.SecretVar), cell(string(p.Reply)), len(p.Events),
			canonicalEntities(p), providerPage(p))
	}
	return b.String()
}

func varRow(b *strings.Builder, v config.Var) {
	def := v.Default
	if def != "" {
		def = "`" + cell(def) + "`"
	}
	desc := cell(v.Description)
	if v.Secret {
		desc += " (secret: never printed)"
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", v.Name, cell(v.Type), def, desc)
}

const varHeader = "| variable | type | default | meaning |\n|---|---|---|---|\n"

// envMarkdown is docs/configuration.md's table: every variable `callbridge env` lists.
func envMarkdown() string {
	var b strings.Builder
	b.WriteString(varHeader)
	for _, v := range config.Vars(providerSpecs()) {
		varRow(&b, v)
	}
	return b.String()
}

// topVars are the variables the README lists as the ones people set most; their rows come from
// the config struct like docs/configuration.md's.
var topVars = []string{
	"CALLBRIDGE_LISTEN", "CALLBRIDGE_SINK", "CALLBRIDGE_NATS_URL", "CALLBRIDGE_KAFKA_BROKERS",
	"CALLBRIDGE_ACK_MODE", "CALLBRIDGE_DATA_DIR", "CALLBRIDGE_TOPIC_TEMPLATE",
	"CALLBRIDGE_ALLOW_UNSIGNED", "CALLBRIDGE_MAX_CLOCK_SKEW", "CALLBRIDGE_WEBHOOK_SOURCES",
}

func topVarsMarkdown(t *testing.T) string {
	vars := map[string]config.Var{}
	for _, v := range config.Vars(nil) {
		vars[v.Name] = v
	}
	var b strings.Builder
	b.WriteString(varHeader)
	for _, name := range topVars {
		v, ok := vars[name]
		if !ok {
			t.Errorf("the README lists %s among the variables set most, but no setting reads it", name)
			continue
		}
		varRow(&b, v)
	}
	return b.String()
}

// providerVars are the variables of p alone: what its spec adds to the global ones.
func providerVars(t *testing.T, p *normalize.Provider) []config.Var {
	global := map[string]bool{}
	for _, v := range config.Vars(nil) {
		global[v.Name] = true
	}
	var vs []config.Var
	for _, v := range config.Vars([]config.ProviderSpec{specOf(t, p.ID)}) {
		if !global[v.Name] {
			vs = append(vs, v)
		}
	}
	return vs
}

// providerMarkdown is the generated body of p's page, from p's own declaration.
func providerMarkdown(t *testing.T, p *normalize.Provider) string {
	spec := specOf(t, p.ID)
	var b strings.Builder
	methods := "`POST`"
	if p.AcceptsGET {
		methods = "`GET` or `POST` (a `GET` callback's fields are its query string)"
	}
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| route | %s `/v1/callbacks/%s`; with `%s` set, `/v1/callbacks/%s/<token>` only |\n", methods, p.ID, spec.VarName("URL_TOKEN"), p.ID)
	if p.ReplyTo != nil {
		fmt.Fprintf(&b, "| answer | 200 once the event is stored, the body chosen per callback (see the notes below); by default `%s` |\n", cell(string(p.Reply)))
	} else {
		fmt.Fprintf(&b, "| answer | 200 `%s` once the event is stored |\n", cell(string(p.Reply)))
	}
	if len(p.Credentials) > 0 {
		fmt.Fprintf(&b, "| credentials kept off the bus | `%s`: never in the event; replaced by `%s` in a dead letter |\n", strings.Join(p.Credentials, "`, `"), normalize.Redacted)
	}
	fmt.Fprintf(&b, "| `type` | `%s<eventtype>` |\n", p.TypePrefix)
	fmt.Fprintf(&b, "| `source` | `/callbridge/%s[/<app id>]` |\n", p.ID)
	fmt.Fprintf(&b, "| `subject` | %s |\n", cell(p.Subject))
	fmt.Fprintf(&b, "| `time` | %s |\n", cell(p.TimeSource))
	fmt.Fprintf(&b, "| NATS subject (default template) | `callbacks.%s.<eventtype>`; dead letters `callbacks.deadletter.%s` |\n\n", p.ID, p.ID)

	b.WriteString("### Verification\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| scheme (checked on the raw bytes, constant-time) | %s |\n", cell(p.Scheme))
	fmt.Fprintf(&b, "| signature window | %s |\n", cell(p.Window))
	fmt.Fprintf(&b, "| secret | `%s` (or `%s_FILE`): the %s |\n", spec.VarName(p.SecretVar), spec.VarName(p.SecretVar), cell(p.SecretName))
	if p.RouteAuthenticated() {
		fmt.Fprintf(&b, "| failed check | with `%s` set, a wrong token or none is a 404, as for an unknown path (the route checks it, whatever `%s` says); with none set and unsigned callbacks refused, 401 |\n\n", spec.VarName("URL_TOKEN"), spec.VarName("VERIFY"))
	} else {
		fmt.Fprintf(&b, "| failed check | 401 with `%s=enforce`; logged, counted and published with `verified=\"false\"` with `report` |\n\n", spec.VarName("VERIFY"))
	}

	b.WriteString("### Variables\n\n")
	if p.RouteAuthenticated() {
		b.WriteString("`_URL_TOKEN` (and its `_FILE`), which is its secret, `_VERIFY` and `_PUBLISH_TIMEOUT`")
	} else {
		b.WriteString("The secret (and its `_FILE`), `_URL_TOKEN`, `_VERIFY` and `_PUBLISH_TIMEOUT`, which every provider has")
	}
	if len(p.Settings) > 0 {
		b.WriteString(", then its own settings, parsed once at start-up")
	}
	b.WriteString(":\n\n")
	b.WriteString(varHeader)
	for _, v := range providerVars(t, p) {
		varRow(&b, v)
	}
	b.WriteString("\n### Events\n\n| native code | meaning | `type` | `{eventtype}` |\n|---|---|---|---|\n")
	for _, e := range p.Events {
		fmt.Fprintf(&b, "| `%s` | %s | `%s%s` | `%s` |\n", cell(e.Code), cell(e.Meaning), p.TypePrefix, e.Name, e.Name)
	}
	fmt.Fprintf(&b, "| any other | undocumented: published, never dropped | `%s<eventtype>` | `%s` |\n", p.TypePrefix, p.Unknown)
	b.WriteString(canonicalMarkdown(p))
	return b.String()
}

// providerSkeleton is a new provider's page before anyone writes its notes.
func providerSkeleton(p *normalize.Provider) string {
	return "# `" + p.ID + "`\n\n" + beginMarker("provider") + endMarker("provider") +
		"\n\n## Notes\n\nThe provider's specifics (how it signs, which fields make the id) go here.\n"
}

func beginMarker(name string) string {
	return "<!-- BEGIN " + name + " (generated, see cmd/callbridge/docs_test.go) -->\n"
}

func endMarker(name string) string { return "<!-- END " + name + " -->" }

type section struct{ name, text string }

// syncPage compares the generated sections of the page at path (relative to the repository root)
// with what the code says, and with -update rewrites them. A missing page is created from skeleton
// when one is given.
func syncPage(t *testing.T, path, skeleton string, sections ...section) {
	t.Helper()
	file := filepath.Join(repoRoot, filepath.FromSlash(path))
	page, err := os.ReadFile(file)
	created := false
	switch {
	case errors.Is(err, fs.ErrNotExist) && skeleton != "":
		if !*update {
			t.Errorf("%s is missing: run go test ./cmd/callbridge -run TestREADME -update", path)
			return
		}
		page, created = []byte(skeleton), true
	case err != nil:
		t.Fatal(err)
	}
	out := page
	for _, s := range sections {
		begin, end := []byte(beginMarker(s.name)), []byte(endMarker(s.name))
		i, j := bytes.Index(out, begin), bytes.Index(out, end)
		if i < 0 || j < i {
			t.Fatalf("%s lacks the %q markers", path, s.name)
		}
		if string(out[i+len(begin):j]) != s.text {
			if !*update {
				t.Errorf("%s: the generated %s section is out of date: run go test ./cmd/callbridge -run TestREADME -update", path, s.name)
			}
			out = append(append(append([]byte{}, out[:i+len(begin)]...), s.text...), out[j:]...)
		}
	}
	if *update && (created || !bytes.Equal(out, page)) {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestREADME checks (with -update: rewrites) every generated section of README.md and docs/.
func TestREADME(t *testing.T) {
	syncPage(t, "README.md", "", section{"providers", providersMarkdown(t)}, section{"top-vars", topVarsMarkdown(t)})
	syncPage(t, "docs/configuration.md", "", section{"env", envMarkdown()})
	syncPage(t, "docs/canonical.md", "", section{"canonical", canonicalMatrix()})
	for _, p := range normalize.Builtins() {
		syncPage(t, providerPage(p), providerSkeleton(p), section{"provider", providerMarkdown(t, p)})
	}
}

// TestREADMEProviderPages: every built-in provider has its page, and the README's provider
// table links to it.
func TestREADMEProviderPages(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range normalize.Builtins() {
		if _, err := os.Stat(filepath.Join(repoRoot, providerPage(p))); err != nil {
			t.Errorf("%s has no page: %v (go test ./cmd/callbridge -run TestREADME -update creates it)", p.ID, err)
		}
		if !bytes.Contains(readme, []byte("]("+providerPage(p)+")")) {
			t.Errorf("README.md does not link to %s", providerPage(p))
		}
	}
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^()\s]*)\)`)
	mdAuto  = regexp.MustCompile(`<(https?://[^>\s]*)>`)
	heading = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	fence   = regexp.MustCompile("^\\s*(```|~~~)")
	inCode  = regexp.MustCompile("`[^`]*`")
)

// anchors are the GitHub heading ids of the Markdown file at path.
func anchors(t *testing.T, path string) map[string]bool {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	code := false
	for _, line := range strings.Split(string(b), "\n") {
		if fence.MatchString(line) {
			code = !code
			continue
		}
		m := heading.FindStringSubmatch(line)
		if code || m == nil {
			continue
		}
		var id strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				id.WriteRune('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
				id.WriteRune(r)
			}
		}
		base := id.String()
		for n, s := 0, base; ; n++ {
			if !ids[s] {
				ids[s] = true
				break
			}
			s = fmt.Sprintf("%s-%d", base, n+1)
		}
	}
	return ids
}

// links are the link targets of the Markdown file at path, outside code blocks and spans.
func links(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ls []string
	code := false
	for _, line := range strings.Split(string(b), "\n") {
		if fence.MatchString(line) {
			code = !code
			continue
		}
		if code {
			continue
		}
		line = inCode.ReplaceAllString(line, "``")
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			ls = append(ls, m[1])
		}
		for _, m := range mdAuto.FindAllStringSubmatch(line, -1) {
			ls = append(ls, m[1])
		}
	}
	return ls
}

// TestREADMELinks: the README is a front page (at most readmeMaxLines lines, with a table of
// contents), and it and every page in docs/ link only inside the repository, to files and
// headings that exist.
func TestREADMELinks(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(readme, []byte("\n")); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, more than %d: move reference to docs/", n, readmeMaxLines)
	}
	if !bytes.Contains(readme, []byte("\n## Contents\n")) {
		t.Error("README.md has no table of contents (## Contents)")
	}
	for _, must := range []string{"go run ./cmd/callbridge", "go test ./..."} {
		if !bytes.Contains(readme, []byte(must)) {
			t.Errorf("README.md lacks %q", must)
		}
	}
	pages := []string{filepath.Join(root, "README.md")}
	err = filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			pages = append(pages, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		rel, _ := filepath.Rel(root, page)
		b, _ := os.ReadFile(page)
		if bytes.Contains(b, []byte("../shared")) {
			t.Errorf("%s refers to ../shared, outside the repository", rel)
		}
		for _, l := range links(t, page) {
			target, frag, _ := strings.Cut(l, "#")
			if strings.Contains(target, ":") || strings.HasPrefix(target, "//") {
				t.Errorf("%s links outside the repository: %s", rel, l)
				continue
			}
			file := page
			if target != "" {
				file = filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
				if r, err := filepath.Rel(root, file); err != nil || strings.HasPrefix(r, "..") {
					t.Errorf("%s links outside the repository: %s", rel, l)
					continue
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s links to %s, which does not exist", rel, l)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(file, ".md") && !anchors(t, file)[frag] {
				t.Errorf("%s links to %s, a heading that does not exist", rel, l)
			}
		}
	}
}

// notVariables are CALLBRIDGE_* names the docs mention that are not variables.
var notVariables = map[string]string{
	"CALLBRIDGE_MAX_INFLIGH": "the misspelt name in the example of the start-up warning",
	"CALLBRIDGE_WEBHOOK":     "the prefix of CALLBRIDGE_WEBHOOK_<NAME>_*",
}

// TestREADMEVariableNames: every CALLBRIDGE_* name README.md and docs/ mention is a variable the
// bridge reads, so a renamed or removed variable cannot linger in the prose. The examples'
// generic sources (billing, github and the recipes' sources) are configured for the check.
func TestREADMEVariableNames(t *testing.T) {
	t.Setenv("CALLBRIDGE_WEBHOOK_SOURCES", "billing,github,mux-hooks,whereby,cfstream,cfstream-live,daily-hooks,millicast,zoom-hooks,hundredms")
	known := map[string]bool{}
	for _, v := range config.Vars(providerSpecs()) {
		known[v.Name] = true
	}
	name := regexp.MustCompile(`CALLBRIDGE_[A-Z0-9_]*[A-Z0-9]`)
	pages := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(repoRoot, path)
			pages = append(pages, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		b, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(b), -1) {
			if !known[n] && notVariables[n] == "" {
				t.Errorf("%s mentions %s, which is not a variable of `callbridge env`", page, n)
			}
		}
	}
}

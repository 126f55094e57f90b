package normalize

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSettingNames holds every provider to the names of its own settings: each name a provider
// reads (a.setting(xSettings, "NAME") and, for generic sources, option(opts, "NAME")) is one
// its Settings declare, so a typo fails here, not in a request (where Auth.setting panics);
// and each setting declared is read somewhere.
func TestSettingNames(t *testing.T) {
	vars := map[string][]Setting{
		"agoraSettings":   agoraSettings,
		"alibabaSettings": alibabaSettings,
		"anyrtcSettings":  anyrtcSettings,
		"ivsSettings":     ivsSettings,
		"livekitSettings": livekitSettings,
		"tencentSettings": tencentSettings,
		"volcSettings":    volcSettings,
		"volcLvSettings":  volcLvSettings,
		"qiniuSettings":   qiniuSettings,
		"webhookSettings": webhookSettings,
	}
	read := map[string]map[string]bool{} // settings var → names read
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			var settings string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr: // a.setting(xSettings, name)
				if fn.Sel.Name != "setting" {
					return true
				}
				id, ok := call.Args[0].(*ast.Ident)
				if !ok {
					t.Errorf("%s: a.setting's first argument is not a settings variable", fset.Position(call.Pos()))
					return true
				}
				settings = id.Name
			case *ast.Ident: // option(opts, name): only NewWebhook reads options so
				if fn.Name != "option" {
					return true
				}
				settings = "webhookSettings"
			default:
				return true
			}
			if _, known := vars[settings]; !known {
				t.Errorf("%s: settings variable %s is not listed in this test", fset.Position(call.Pos()), settings)
				return true
			}
			for _, lit := range settingNameLiterals(call.Args[1]) {
				if read[settings] == nil {
					read[settings] = map[string]bool{}
				}
				read[settings][lit] = true
				if !declares(vars[settings], lit) {
					t.Errorf("%s: reads setting %q, which %s does not declare", fset.Position(call.Pos()), lit, settings)
				}
			}
			return true
		})
	}
	// NewWebhook reads these four in a loop, the name in a variable; NewWebhook below reads
	// them all, so a typo among them panics here too.
	for _, lits := range [][2]string{
		{"webhookSettings", "ID"}, {"webhookSettings", "TYPE"}, {"webhookSettings", "SUBJECT"}, {"webhookSettings", "TIME"},
	} {
		if read[lits[0]] == nil {
			read[lits[0]] = map[string]bool{}
		}
		read[lits[0]][lits[1]] = true
	}
	source, err := NewWebhook("orders", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(Builtins(), source) {
		if len(p.Settings) == 0 {
			continue
		}
		var name string
		for v, s := range vars {
			if len(s) > 0 && &s[0] == &p.Settings[0] {
				name = v
			}
		}
		if name == "" {
			t.Errorf("%s: its Settings are not one of the variables this test knows", p.ID)
			continue
		}
		seen := map[string]bool{}
		for _, s := range p.Settings {
			if seen[s.Name] {
				t.Errorf("%s: setting %s declared twice", p.ID, s.Name)
			}
			seen[s.Name] = true
			if !read[name][s.Name] {
				t.Errorf("%s: setting %s is declared but never read by name", p.ID, s.Name)
			}
		}
	}
	// An unknown name panics with the name.
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "NO_SUCH") {
			t.Errorf("Auth.setting of an unknown name: recovered %v, want a panic naming it", r)
		}
	}()
	(&Auth{}).setting(anyrtcSettings, "NO_SUCH")
}

// settingNameLiterals returns the string literals of expr, the name argument; a variable gives
// none (its values are listed in the test).
func settingNameLiterals(expr ast.Expr) []string {
	if lit, ok := expr.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		s, err := strconv.Unquote(lit.Value)
		if err == nil {
			return []string{s}
		}
	}
	return nil
}

func declares(settings []Setting, name string) bool {
	for _, s := range settings {
		if s.Name == name {
			return true
		}
	}
	return false
}

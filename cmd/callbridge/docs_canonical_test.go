package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/callbridge/callbridge/normalize"
)

// canonicalMarkdown is p's page's section on the canonical RTC events: which native events map
// to which canonical type, under what condition, and where each field comes from.
func canonicalMarkdown(p *normalize.Provider) string {
	var b strings.Builder
	b.WriteString("\n### Canonical events\n\n")
	c := p.Canonical
	if !c.Has() {
		b.WriteString("None: this provider's events have no counterpart in the [canonical vocabulary](../canonical.md).\n")
		return b.String()
	}
	b.WriteString("Each native event below is also published as a [canonical RTC event](../canonical.md) (with `CALLBRIDGE_CANONICAL=on`, the default); the 200 waits for both.\n\n")
	b.WriteString("| native `{eventtype}` | canonical `{eventtype}` | when | fields (canonical ← native data) |\n|---|---|---|---|\n")
	for _, e := range p.Events {
		for _, m := range c.Events[e.Name] {
			when := ""
			switch {
			case m.If != nil && slices.Equal(m.If.Values, []string{normalize.AnyValue}):
				when = fmt.Sprintf("`%s` is set", m.If.Path)
			case m.If != nil:
				when = fmt.Sprintf("`%s` is `%s`", m.If.Path, strings.Join(m.If.Values, "` or `"))
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", e.Name, m.Type, cell(when), cell(setsText(c, m)))
		}
	}
	if len(c.Base) > 0 {
		fmt.Fprintf(&b, "\nEvery mapping, unless it says otherwise: %s.\n", cell(setsText(c, normalize.Mapping{Set: c.Base})))
	}
	if c.Gaps != "" {
		fmt.Fprintf(&b, "\nNot reported: %s.\n", strings.TrimSuffix(c.Gaps, "."))
	}
	return b.String()
}

// setsText lists a mapping's own Sets: `to` ← `from` (with its value table), or = constant.
func setsText(c *normalize.Canonical, m normalize.Mapping) string {
	var parts []string
	for _, s := range m.Set {
		switch {
		case s.Value != "":
			parts = append(parts, fmt.Sprintf("`%s` = `%s`", s.To, s.Value))
		case len(s.Values) > 0:
			var rows []string
			for k, v := range s.Values {
				rows = append(rows, k+"→"+v)
			}
			slices.Sort(rows)
			parts = append(parts, fmt.Sprintf("`%s` ← `%s` (%s)", s.To, s.From, strings.Join(rows, ", ")))
		case s.Unit == "ms":
			parts = append(parts, fmt.Sprintf("`%s` ← `%s` (ms)", s.To, s.From))
		default:
			parts = append(parts, fmt.Sprintf("`%s` ← `%s`", s.To, s.From))
		}
	}
	return strings.Join(parts, "; ")
}

// canonicalMatrix is docs/canonical.md's table: for each canonical type, the native events of
// every provider that make it.
func canonicalMatrix() string {
	var b strings.Builder
	b.WriteString("| canonical `{eventtype}` | made from (provider: native `{eventtype}`) |\n|---|---|\n")
	for _, t := range normalize.RTC.Events {
		var from []string
		for _, p := range normalize.Builtins() {
			var names []string
			for _, e := range p.Events {
				if slices.Contains(p.Canonical.Types(e.Name), t.Name) && !slices.Contains(names, e.Name) {
					names = append(names, "`"+e.Name+"`")
				}
			}
			if len(names) > 0 {
				from = append(from, fmt.Sprintf("[%s](providers/%s.md#canonical-events): %s", p.ID, p.ID, strings.Join(names, ", ")))
			}
		}
		if len(from) == 0 {
			from = []string{"none yet"}
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", t.Name, strings.Join(from, "<br>"))
	}
	b.WriteString("\n| provider | not reported |\n|---|---|\n")
	for _, p := range normalize.Builtins() {
		gaps := "no counterpart: no mapping"
		if p.Canonical.Has() {
			gaps = p.Canonical.Gaps
		}
		fmt.Fprintf(&b, "| [%s](providers/%s.md#canonical-events) | %s |\n", p.ID, p.ID, cell(gaps))
	}
	return b.String()
}

// canonicalEntities is the README's cell of p's canonical entities.
func canonicalEntities(p *normalize.Provider) string {
	var out []string
	for _, e := range p.Events {
		for _, t := range p.Canonical.Types(e.Name) {
			if entity, _, _ := strings.Cut(t, "."); !slices.Contains(out, entity) {
				out = append(out, entity)
			}
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

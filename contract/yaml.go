package contract

import (
	"fmt"
	"strings"
)

// appendYAML writes v (obj, []any, []string or a JSON scalar) as block YAML, every scalar in
// JSON's notation, which YAML 1.2 reads as the same value: no YAML library for one writer.
func appendYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat("  ", indent)
	switch v := v.(type) {
	case obj:
		for _, m := range v {
			b.WriteString(pad + yamlKey(m.k) + ":")
			writeYAMLValue(b, m.v, indent)
		}
	case []any:
		for _, x := range v {
			if o, ok := x.(obj); ok && len(o) > 0 { // "- key: value", the other keys below it
				var item strings.Builder
				appendYAML(&item, o, indent+1)
				b.WriteString(pad + "- " + strings.TrimPrefix(item.String(), pad+"  "))
				continue
			}
			b.WriteString(pad + "-")
			writeYAMLValue(b, x, indent)
		}
	default:
		panic(fmt.Sprintf("contract: appendYAML of %T", v))
	}
}

// writeYAMLValue writes what follows "key:" or "-": a scalar on the line, a collection below it.
func writeYAMLValue(b *strings.Builder, v any, indent int) {
	switch x := v.(type) {
	case obj:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		appendYAML(b, x, indent+1)
	case []string:
		items := make([]any, len(x))
		for i := range x {
			items[i] = x[i]
		}
		writeYAMLValue(b, items, indent)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		appendYAML(b, x, indent+1)
	default:
		j, err := jsonText(x)
		if err != nil {
			panic(err)
		}
		b.WriteString(" " + string(j) + "\n")
	}
}

// yamlKey writes a key plain when it is letters, digits and -_. (not starting with one of
// those marks), else quoted.
func yamlKey(k string) string {
	plain := k != ""
	for i, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')) {
			plain = false
		}
	}
	switch strings.ToLower(k) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		plain = false
	}
	if plain {
		return k
	}
	j, _ := jsonText(k)
	return string(j)
}

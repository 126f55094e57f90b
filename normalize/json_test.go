package normalize

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// nest returns depth nested arrays around inner: nest(2, "1") == "[[1]]".
func nest(depth int, inner string) string {
	return strings.Repeat("[", depth) + inner + strings.Repeat("]", depth)
}

// nestObj returns depth nested objects around inner: nestObj(2, "1") == `{"a":{"a":1}}`.
func nestObj(depth int, inner string) string {
	return strings.Repeat(`{"a":`, depth) + inner + strings.Repeat("}", depth)
}

// jsonDepth is the deepest bracket nesting of b, counting only brackets outside strings.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// The scanner refuses nesting deeper than maxDepth (64; as written it counts from 0, so 65 levels
// still pass and 66 do not); encoding/json accepts 10000. The table stays clear of the boundary.
const depthDiff = "intentional: our scanner limits nesting (maxDepth 64, i.e. at most 65 levels); encoding/json does not"

// encoding/json accepts any bytes >= 0x80 inside strings (and Unmarshal replaces invalid
// sequences with U+FFFD); the scanner refuses invalid UTF-8, as RFC 8259 §8.1 requires UTF-8.
const utf8Diff = "difference: scanString rejects invalid UTF-8, json.Valid accepts it"

func TestValidValueMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		differs string // non-empty: validValue deliberately disagrees with json.Valid, and why
	}{
		// valid
		{name: "empty object", in: `{}`},
		{name: "empty array", in: `[]`},
		{name: "empty string", in: `""`},
		{name: "zero", in: `0`},
		{name: "negative zero", in: `-0`},
		{name: "fraction exponent", in: `1.5e-3`},
		{name: "upper exponent plus", in: `1E+10`},
		{name: "negative fraction exponent", in: `-12.0e5`},
		{name: "huge integer", in: `123456789012345678901234567890`},
		{name: "true", in: `true`},
		{name: "false", in: `false`},
		{name: "null", in: `null`},
		{name: "surrounding white space", in: " \t\r\n{\"a\" : [1, 2, {\"b\":null}] } \n"},
		{name: "nested mixed", in: `{"a":{"b":[{"c":[[],{}]},"x",1,true,null]},"d":-1.25E-7}`},
		{name: "duplicate keys", in: `{"a":1,"a":2}`},
		{name: "simple escapes", in: `"\"\\\/\b\f\n\r\t"`},
		{name: "unicode escapes", in: `"\u0041\u00e9\u4e2d\uFFFF"`},
		{name: "surrogate pair escape", in: `"\ud83d\ude00"`},
		{name: "lone high surrogate escape", in: `"\ud800"`},
		{name: "lone low surrogate escape", in: `"\udc00x"`},
		{name: "escaped NUL", in: `"\u0000"`},
		{name: "raw UTF-8", in: `"é中文😀"`},
		{name: "raw U+2028", in: "\"\u2028\u2029\""},
		{name: "raw DEL", in: "\"a\x7fb\""},
		{name: "literal replacement char", in: "\"\uFFFD\""},
		{name: "UTF-8 key", in: `{"中文":"值"}`},
		{name: "64 nested arrays", in: nest(64, "1")},
		{name: "64 nested objects", in: nestObj(63, "{}")},

		// invalid
		{name: "empty input", in: ``},
		{name: "only space", in: " \n"},
		{name: "leading zero", in: `01`},
		{name: "leading zero in array", in: `[01]`},
		{name: "negative leading zero", in: `-01`},
		{name: "trailing dot", in: `1.`},
		{name: "leading dot", in: `.5`},
		{name: "lone minus", in: `-`},
		{name: "minus letter", in: `-a`},
		{name: "plus sign", in: `+1`},
		{name: "exponent without digits", in: `1e`},
		{name: "exponent sign without digits", in: `1e+`},
		{name: "dot exponent", in: `1.e5`},
		{name: "hex number", in: `0x10`},
		{name: "NaN", in: `NaN`},
		{name: "Infinity", in: `-Infinity`},
		{name: "array trailing comma", in: `[1,]`},
		{name: "object trailing comma", in: `{"a":1,}`},
		{name: "array leading comma", in: `[,1]`},
		{name: "missing array comma", in: `[1 2]`},
		{name: "missing object comma", in: `{"a":1 "b":2}`},
		{name: "key without value", in: `{"a"}`},
		{name: "colon without value", in: `{"a":}`},
		{name: "bare key", in: `{a:1}`},
		{name: "single quotes", in: `{'a':1}`},
		{name: "number key", in: `{1:1}`},
		{name: "unterminated string", in: `"abc`},
		{name: "unterminated escape", in: `"abc\`},
		{name: "unknown escape", in: `"\x41"`},
		{name: "short unicode escape", in: `"\u12"`},
		{name: "bad hex in unicode escape", in: `"\u12G4"`},
		{name: "raw control char", in: "\"a\x01b\""},
		{name: "raw tab in string", in: "\"tab\there\""},
		{name: "raw newline in string", in: "\"a\nb\""},
		{name: "partial literal", in: `tru`},
		{name: "literal with tail", in: `truex`},
		{name: "null prefix", in: `nul`},
		{name: "capitalised literal", in: `True`},
		{name: "extra close", in: `[1]]`},
		{name: "two values", in: `{}{}`},
		{name: "two numbers", in: `1 2`},
		{name: "unclosed array", in: `[`},
		{name: "unclosed object", in: `{"a":1`},
		{name: "mismatched close", in: `[1}`},
		{name: "byte order mark", in: "\xef\xbb\xbf{}"},
		{name: "comment", in: `/*c*/{}`},
		{name: "NUL after value", in: "{}\x00"},
		{name: "vertical tab space", in: "\v{}"},

		// deliberate differences
		{name: "66 nested arrays", in: nest(66, "1"), differs: depthDiff},
		{name: "66 nested objects", in: nestObj(65, "{}"), differs: depthDiff},
		{name: "1000 nested arrays", in: nest(1000, ""), differs: depthDiff},
		{name: "invalid UTF-8 byte", in: "\"\xff\"", differs: utf8Diff},
		{name: "truncated UTF-8 sequence", in: "\"\xe4\xb8\"", differs: utf8Diff},
		{name: "UTF-8 encoded surrogate", in: "\"\xed\xa0\x80\"", differs: utf8Diff},
		{name: "overlong UTF-8", in: "\"\xc0\xaf\"", differs: utf8Diff},
		{name: "invalid UTF-8 in key", in: "{\"\xff\":1}", differs: utf8Diff},
		// invalid UTF-8 outside a string is refused by both
		{name: "invalid UTF-8 outside string", in: "[\xff]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.in)
			want := json.Valid(b)
			if tt.differs != "" {
				want = !want
			}
			if got := validValue(b); got != want {
				t.Errorf("validValue(%q) = %v, want %v (json.Valid = %v) %s", tt.in, got, want, json.Valid(b), tt.differs)
			}
			// eachMember agrees for objects: it validates the whole object too.
			if trimmed := bytes.TrimLeft(b, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
				err := eachMember(b, nil)
				if (err == nil) != validValue(b) {
					t.Errorf("eachMember(%q) = %v, validValue = %v", tt.in, err, validValue(b))
				}
			}
		})
	}
}

func TestEachMember(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keys []string // raw keys, in order
		vals []string // raw values
		err  bool
	}{
		{name: "empty", in: ` { } `},
		{name: "flat", in: `{"a":1,"b":"x","c":null}`, keys: []string{"a", "b", "c"}, vals: []string{"1", `"x"`, "null"}},
		{name: "values kept raw", in: `{ "a" : { "b" : [ 1 , 2 ] } , "n" : 9007199254740993 }`, keys: []string{"a", "n"}, vals: []string{`{ "b" : [ 1 , 2 ] }`, "9007199254740993"}},
		{name: "escaped key is decoded", in: `{"a\"b":true,"\u0074":1}`, keys: []string{`a"b`, "t"}, vals: []string{"true", "1"}},
		{name: "duplicates reported in order", in: `{"a":1,"a":2}`, keys: []string{"a", "a"}, vals: []string{"1", "2"}},
		{name: "array is not an object", in: `[1,2]`, err: true},
		{name: "string is not an object", in: `"x"`, err: true},
		{name: "trailing garbage", in: `{"a":1} x`, err: true},
		{name: "not JSON", in: `not json`, err: true},
		{name: "empty", in: ``, err: true},
		{name: "too deep", in: `{"a":` + nest(65, "1") + `}`, err: true},
		{name: "deep enough", in: `{"a":` + nest(63, "1") + `}`, keys: []string{"a"}, vals: []string{nest(63, "1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys, vals []string
			err := eachMember([]byte(tt.in), func(m member) {
				keys = append(keys, string(m.key))
				vals = append(vals, string(m.val))
			})
			if (err != nil) != tt.err {
				t.Fatalf("eachMember(%q) error = %v, want error %v", tt.in, err, tt.err)
			}
			if tt.err {
				return
			}
			if strings.Join(keys, "\x00") != strings.Join(tt.keys, "\x00") || strings.Join(vals, "\x00") != strings.Join(tt.vals, "\x00") {
				t.Errorf("members: keys %q vals %q, want keys %q vals %q", keys, vals, tt.keys, tt.vals)
			}
		})
	}
}

func TestAppendUnquotedMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string // a JSON string literal
	}{
		{"empty", `""`},
		{"plain", `"plain text"`},
		{"quote", `"a\"b"`},
		{"backslash", `"\\"`},
		{"solidus", `"\/a\/"`},
		{"control escapes", `"\b\f\n\r\t"`},
		{"BMP escapes", `"\u0041\u00e9\u4e2d"`},
		{"upper-case hex", `"\u00E9\uABCD"`},
		{"escaped NUL", `"\u0000"`},
		{"surrogate pair", `"\ud83d\ude00"`},
		{"upper-case surrogate pair", `"\uD83D\uDE00"`},
		{"lone high surrogate at end", `"\ud800"`},
		{"lone low surrogate", `"\udc00"`},
		{"high surrogate then letter", `"\ud800x"`},
		{"high surrogate then BMP escape", `"\ud800\u0041"`},
		{"high surrogate then newline escape", `"\ud800\n"`},
		{"two high surrogates then low", `"\ud800\ud800\udc00"`},
		{"pair then lone high", `"\ud83d\ude00\ud83d"`},
		{"high surrogate then U+FFFD escape", `"\ud800\ufffd"`},
		{"raw UTF-8", `"é中文😀"`},
		{"raw U+2028", "\"\u2028\""},
		{"mixed", `"line1\nline2 \u2603 \"q\" \\ end"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if end, err := scanString([]byte(tt.in), 0); err != nil || end != len(tt.in) {
				t.Fatalf("scanString(%q) = %d, %v", tt.in, end, err)
			}
			var want string
			if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
				t.Fatal(err)
			}
			got := appendUnquoted([]byte("prefix"), []byte(tt.in))
			if string(got) != "prefix"+want {
				t.Errorf("appendUnquoted(%s) = %q, want %q", tt.in, got[len("prefix"):], want)
			}
		})
	}
}

func TestAppendCompactMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"already compact", `{"a":1,"b":[1,2]}`},
		{"spaces everywhere", " { \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 ] \r\n} "},
		{"spaces inside strings kept", `{ "a b" : " x  y " }`},
		{"escaped quote then space", `[ "a\"  b" , "c" ]`},
		{"escaped backslash at end of string", `[ "a\\" , "b" ]`},
		{"escaped backslash then quote", `{ "k\\\"" : "v" }`},
		{"unicode escapes kept", `[ "\u00e9" , "\ud83d\ude00" ]`},
		{"html characters kept", `{ "h" : "<a>&</a>" }`},
		{"raw U+2028 kept", "[ \"\u2028\" ]"},
		{"numbers kept", `[ 9007199254740993 , -0.0e+00 , 1E5 ]`},
		{"scalar", `  "x"  `},
		{"pretty fixture", "{\n    \"data\": {\n        \"taskId\": \"9aad\",\n        \"timestamp\": 1712900000123\n    },\n    \"eventType\": 500\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(tt.in)); err != nil {
				t.Fatal(err)
			}
			got := appendCompact([]byte("x"), []byte(tt.in))
			if string(got) != "x"+want.String() {
				t.Errorf("appendCompact(%q) = %q, want %q", tt.in, got[1:], want.String())
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // exact output when not empty
	}{
		{name: "empty", in: "", want: `""`},
		{name: "plain", in: "plain", want: `"plain"`},
		{name: "quote and backslash", in: `a"b\c`, want: `"a\"b\\c"`},
		{name: "short escapes", in: "\n\r\t", want: `"\n\r\t"`},
		{name: "other controls", in: "\x00\x01\x08\x0c\x1f", want: `"\u0000\u0001\u0008\u000c\u001f"`},
		{name: "DEL kept", in: "\x7f", want: "\"\x7f\""},
		{name: "line and paragraph separators", in: "a\u2028b\u2029c", want: `"a\u2028b\u2029c"`},
		{name: "UTF-8 kept", in: "é中文😀", want: `"é中文😀"`},
		{name: "html kept", in: "</script>&", want: `"</script>&"`},
		{name: "solidus kept", in: "a/b", want: `"a/b"`},
		{name: "invalid byte", in: "a\xffb", want: `"a\ufffdb"`},
		{name: "truncated sequence", in: "\xe4\xb8", want: `"\ufffd\ufffd"`},
		{name: "UTF-8 encoded surrogate", in: "\xed\xa0\x80"},
		{name: "mixed", in: "subject \"quoted\"\nnew line \u2603 \x01 \u2028"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendString([]byte("p"), []byte(tt.in))
			if got[0] != 'p' {
				t.Fatalf("prefix lost: %q", got)
			}
			got = got[1:]
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if !validValue(got) || !json.Valid(got) {
				t.Fatalf("appendString(%q) = %s is not a valid JSON string", tt.in, got)
			}
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			// Valid UTF-8 round-trips exactly; each invalid byte becomes U+FFFD.
			want := tt.in
			if !utf8.ValidString(tt.in) {
				want = string([]rune(tt.in))
			}
			if back != want {
				t.Errorf("appendString(%q) decodes to %q, want %q", tt.in, back, want)
			}
			// And our own decoder reads it back the same way.
			if dec := appendUnquoted(nil, got); string(dec) != want {
				t.Errorf("appendUnquoted(appendString(%q)) = %q, want %q", tt.in, dec, want)
			}
		})
	}
}

func TestIntValue(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`0`, 0, true},
		{`123`, 123, true},
		{`-5`, -5, true},
		{`-0`, 0, true},
		{`1703732078`, 1703732078, true},
		{`1712901605311`, 1712901605311, true},
		{`"1703732078"`, 1703732078, true},
		{`"-7"`, -7, true},
		{`"0012"`, 12, true},
		{`999999999999999999`, 999999999999999999, true},   // 18 digits
		{`-999999999999999999`, -999999999999999999, true}, // 18 digits
		{`"999999999999999999"`, 999999999999999999, true},
		{`1000000000000000000`, 0, false}, // 19 digits
		{`9223372036854775807`, 0, false}, // fits int64 but > 18 digits: refused
		{`99999999999999999999`, 0, false},
		{`"9223372036854775808"`, 0, false},
		{`1.5`, 0, false},
		{`1.0`, 0, false},
		{`1e3`, 0, false},
		{`1E3`, 0, false},
		{`-1e3`, 0, false},
		{`"1.5"`, 0, false},
		{``, 0, false},
		{`""`, 0, false},
		{`"-"`, 0, false},
		{`-`, 0, false},
		{`+1`, 0, false},
		{`" 12"`, 0, false},
		{`"12 "`, 0, false},
		{`"12a"`, 0, false},
		{`"\u0031"`, 0, false},
		{`null`, 0, false},
		{`true`, 0, false},
		{`{}`, 0, false},
		{`[1]`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var raw []byte
			if tt.in != "" {
				raw = []byte(tt.in)
			}
			got, ok := intValue(raw)
			if ok != tt.ok || got != tt.want {
				t.Errorf("intValue(%s) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStringValue(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`"abc"`, "abc", true},
		{`""`, "", true},
		{`"a\nb\u00e9"`, "a\nb\u00e9", true},
		{`12345678901234567`, "12345678901234567", true},
		{`-1.5e3`, "-1.5e3", true},
		{`true`, "true", true},
		{`null`, "", false},
		{`{"a":1}`, "", false},
		{`[1]`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			scratch := []byte("keep")
			got, newScratch, ok := stringValue([]byte(tt.in), scratch[:4])
			if ok != tt.ok || string(got) != tt.want {
				t.Errorf("stringValue(%s) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if !bytes.HasPrefix(newScratch, []byte("keep")) {
				t.Errorf("stringValue(%s) lost the scratch already in use: %q", tt.in, newScratch)
			}
		})
	}
}

func TestReplaceMember(t *testing.T) {
	tests := []struct {
		name, obj, key, val, want string
	}{
		{"pretty-printed body keeps its bytes", "{\n\t\"a\":\t1,\n\t\"ts\":\t12,\n\t\"b\":\t{\"ts\": 3}\n}", "ts", "99", "{\n\t\"a\":\t1,\n\t\"ts\":\t99,\n\t\"b\":\t{\"ts\": 3}\n}"},
		{"first of two", `{"ts":1,"ts":2}`, "ts", `"x"`, `{"ts":"x","ts":2}`},
		{"escaped name", `{"\u0074s" : 1 }`, "ts", "2", `{"\u0074s" : 2 }`},
		{"nested only: added at the end", `{ "b": {"ts":1} }`, "ts", "2", `{"b":{"ts":1},"ts":2}`},
		{"last member", `{"a":[1,2],"ts":"old"}`, "ts", "7", `{"a":[1,2],"ts":7}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := []byte(tt.obj)
			got, err := replaceMember(obj[:len(obj):len(obj)], tt.key, []byte(tt.val))
			if err != nil || string(got) != tt.want {
				t.Fatalf("replaceMember = %q, %v; want %q", got, err, tt.want)
			}
			if string(obj) != tt.obj {
				t.Fatalf("the input was changed: %q", obj)
			}
		})
	}
	if _, err := replaceMember([]byte(`[1]`), "ts", []byte("1")); err == nil {
		t.Error("replaceMember accepted an array")
	}
}

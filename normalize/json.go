package normalize

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader that works on the raw body without reflection or allocation: it validates,
// finds members and copies values byte for byte, so numbers are never converted at all unless a
// mapping asks for one, and then straight to int64.

const maxDepth = 64

var (
	errSyntax = errors.New("invalid JSON")
	errDepth  = errors.New("JSON nested too deeply")
)

// plain marks the bytes that stand for themselves inside a JSON string: not '"', '\\', a control
// character or the start of a multi-byte UTF-8 sequence. Loops over it skip the common case in
// one comparison a byte.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlain returns the index of the first byte at or after i that is not plain, eight bytes at
// a time while none of them is: most of a callback is URLs, ids and names in strings.
func skipPlain(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		special := w | // a byte >= 0x80
			(w - ones*0x20) | // a byte < 0x20 (or >= 0x80: flagged already)
			(quote-ones)&^quote | // a '"'
			(backslash-ones)&^backslash // a '\\'
		// The lowest flagged byte is the first one not plain (a borrow flags only bytes above one).
		if special &= highs; special != 0 {
			return i + bits.TrailingZeros64(special)>>3
		}
		i += 8
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// member is one key/value pair of an object; key is the raw key without quotes, val the raw value.
type member struct {
	// key is the member's name, decoded: a name written with escapes ("\u0074") is compared
	// and looked up as the name it stands for, as every JSON reader downstream will read it.
	key, val []byte
	escaped  bool // key was decoded from escapes; writers must escape it again
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// eachMember calls fn for every member of the object b (which must be exactly one object, with
// optional surrounding white space). It validates the whole object.
func eachMember(b []byte, fn func(m member)) error {
	i := skipSpace(b, 0)
	end, err := scanObject(b, i, 0, fn)
	if err != nil {
		return err
	}
	if skipSpace(b, end) != len(b) {
		return errSyntax
	}
	return nil
}

// validValue reports whether b is exactly one JSON value.
func validValue(b []byte) bool {
	i := skipSpace(b, 0)
	end, err := scanValue(b, i, 0)
	return err == nil && skipSpace(b, end) == len(b)
}

func scanObject(b []byte, i, depth int, fn func(member)) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	if i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		kEnd, escaped, err := scanStringEscapes(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : kEnd-1]
		if escaped {
			// Rare, and on hostile input mostly: worth an allocation to read the name right.
			key = appendUnquoted(nil, b[i:kEnd])
		}
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		i = skipSpace(b, i+1)
		vEnd, err := scanValue(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			fn(member{key: key, val: b[i:vEnd], escaped: escaped})
		}
		var done bool
		if i, done, err = nextElement(b, vEnd, '}'); err != nil || done {
			return i, err
		}
	}
}

func scanArray(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := scanValue(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = nextElement(b, end, ']'); err != nil || done {
			return i, err
		}
	}
}

// nextElement reads what follows a member or an element ending at end: a comma, and i is where
// the next one starts, or closer (done), and i is just past it.
func nextElement(b []byte, end int, closer byte) (i int, done bool, err error) {
	i = skipSpace(b, end)
	if i >= len(b) {
		return 0, false, errSyntax
	}
	switch b[i] {
	case ',':
		return skipSpace(b, i+1), false, nil
	case closer:
		return i + 1, true, nil
	}
	return 0, false, errSyntax
}

// scanValue returns the end of the value starting at b[i].
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '{':
		return scanObject(b, i, depth, nil)
	case c == '[':
		return scanArray(b, i, depth)
	case c == '"':
		return scanString(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return 0, errSyntax
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, errSyntax
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		i, _ = skipDigits(b, i)
	} else {
		return 0, errSyntax
	}
	var ok bool
	if i < len(b) && b[i] == '.' {
		if i, ok = skipDigits(b, i+1); !ok {
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = skipDigits(b, i); !ok {
			return 0, errSyntax
		}
	}
	if i == start {
		return 0, errSyntax
	}
	return i, nil
}

// skipDigits returns the index past the digits at b[i:], and whether there was one at least.
func skipDigits(b []byte, i int) (int, bool) {
	d := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i, i > d
}

// scanString returns the index just past the closing quote of the string starting at b[i].
func scanString(b []byte, i int) (int, error) {
	end, _, err := scanStringEscapes(b, i)
	return end, err
}

// scanStringEscapes is scanString that also reports whether the string holds an escape.
func scanStringEscapes(b []byte, i int) (end int, escaped bool, err error) {
	i++
	for i < len(b) {
		i = skipPlain(b, i)
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false, errSyntax
				}
				for _, h := range b[i+2 : i+6] {
					if hexVal(h) < 0 {
						return 0, false, errSyntax
					}
				}
				i += 6
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return 0, false, errSyntax
			}
			i += n
		}
	}
	return 0, false, errSyntax
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendUnquoted appends the decoded contents of the raw JSON string value s (with its quotes)
// to dst. s must have been validated by scanString.
func appendUnquoted(dst, s []byte) []byte {
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(s[i+2:]))); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) int {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// stringValue returns the text of a raw scalar: a string's contents (decoded into scratch when it
// holds escapes, else a slice of raw), or a number or literal as written. ok is false for objects,
// arrays and null.
func stringValue(raw, scratch []byte) (text, newScratch []byte, ok bool) {
	if len(raw) == 0 {
		return nil, scratch, false
	}
	switch raw[0] {
	case '"':
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') >= 0 {
			start := len(scratch)
			scratch = appendUnquoted(scratch, raw)
			return scratch[start:len(scratch):len(scratch)], scratch, true
		}
		return inner, scratch, true
	case '{', '[', 'n':
		return nil, scratch, false
	}
	return raw, scratch, true
}

// intValue reads an integer written either as a JSON number or as a string of digits (providers
// disagree between doc versions), without going through float64. Fractions and exponents are
// refused: no timestamp or id we read has them.
func intValue(raw []byte) (int64, bool) {
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	neg := false
	if len(raw) > 0 && raw[0] == '-' {
		neg, raw = true, raw[1:]
	}
	if len(raw) == 0 || len(raw) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// duplicateKey returns a name that two of ms share, or nil. JSON readers disagree on which of
// two equal names counts (ours would read the first, most others the last), so a body that has
// one cannot be read the same way by us and by the consumers of its event.
func duplicateKey(ms []member) []byte {
	var seen [4]uint64 // a 256-bit filter on a cheap hash, so unique names cost no comparisons
	for i := range ms {
		k := ms[i].key
		h := uint32(len(k))
		if len(k) > 0 {
			h |= uint32(k[0])<<8 | uint32(k[len(k)/2])<<16 | uint32(k[len(k)-1])<<24
		}
		h = (h * 0x9E3779B1) >> 24 // Fibonacci hashing: the top byte mixes all four
		if seen[h>>6]&(1<<(h&63)) != 0 {
			for j := range i {
				if string(ms[j].key) == string(k) {
					return k
				}
			}
		}
		seen[h>>6] |= 1 << (h & 63)
	}
	return nil
}

// nestedMember returns the value of member key of the object obj, or nil.
func nestedMember(obj []byte, key string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	var val []byte
	eachMember(obj, func(m member) {
		if val == nil && string(m.key) == key {
			val = m.val
		}
	})
	return val
}

// topMembers returns the top-level members of the object b (none when it is not one).
func topMembers(b []byte) []member {
	var ms []member
	eachMember(b, func(m member) { ms = append(ms, m) })
	return ms
}

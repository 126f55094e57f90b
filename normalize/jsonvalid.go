package normalize

import (
	"encoding/binary"
	"math/bits"
)

// Readers of values already validated: the members and elements nested in a body that
// Callback.members accepted. eachMember validates as it goes, so calling it again on a value
// inside such a body re-checks every byte of it, at every level it is read from; these look only
// at the bytes that end strings and values, and return the same members.

// skipToQuote returns the index of the first '"' or '\\' at or after i, eight bytes at a time.
func skipToQuote(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		// The lowest flagged byte is the first '"' or '\\' (a borrow flags only bytes above one).
		if m := ((quote-ones)&^quote | (backslash-ones)&^backslash) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && b[i] != '"' && b[i] != '\\' {
		i++
	}
	return i
}

// skipValidString returns the index just past the valid JSON string starting at b[i], and
// whether it holds an escape.
func skipValidString(b []byte, i int) (end int, escaped bool) {
	for i++; ; {
		if i = skipToQuote(b, i); i >= len(b) {
			return len(b), escaped
		}
		if b[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2
	}
}

// skipValid returns the end of the valid JSON value starting at b[i].
func skipValid(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipValidString(b, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i, _ = skipValidString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) { // a number or a literal
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// eachValidMember is eachMember for a valid object: it calls fn for every member of obj, which
// starts with '{', in order, names with escapes decoded as eachMember does. Anything that is not
// an object has no members.
func eachValidMember(obj []byte, fn func(m member)) {
	if len(obj) == 0 || obj[0] != '{' {
		return
	}
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		kEnd, escaped := skipValidString(obj, i)
		key := obj[i+1 : kEnd-1]
		if escaped {
			key = appendUnquoted(nil, obj[i:kEnd])
		}
		i = skipSpace(obj, skipSpace(obj, kEnd)+1) // past the ':'
		vEnd := skipValid(obj, i)
		fn(member{key: key, val: obj[i:vEnd], escaped: escaped})
		if i = skipSpace(obj, vEnd); i >= len(obj) || obj[i] != ',' {
			return
		}
		i = skipSpace(obj, i+1)
	}
}

// eachValidElement is eachElement for a valid array arr, which starts with '['.
func eachValidElement(arr []byte, fn func(el []byte)) {
	if len(arr) == 0 || arr[0] != '[' {
		return
	}
	for i := skipSpace(arr, 1); i < len(arr) && arr[i] != ']'; {
		end := skipValid(arr, i)
		fn(arr[i:end])
		if i = skipSpace(arr, end); i >= len(arr) || arr[i] != ',' {
			return
		}
		i = skipSpace(arr, i+1)
	}
}

// validMember is nestedMember for a valid object: the value of its first member named key, or nil.
func validMember(obj []byte, key string) []byte {
	var val []byte
	eachValidMember(obj, func(m member) {
		if val == nil && string(m.key) == key {
			val = m.val
		}
	})
	return val
}

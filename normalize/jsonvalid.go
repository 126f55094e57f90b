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
	for i < len(b) && !quoteOrBackslash[b[i]] { // a table: cheap enough for the inliner
		i++
	}
	return i
}

var quoteOrBackslash = [256]bool{'"': true, '\\': true}

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
	if i >= len(b) {
		return i
	}
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

// walkObject calls fn for every member of the valid object at b[i] (b[i] is '{'), in order, with
// its name (decoded when written with escapes, as eachMember gives it) and the index its value
// starts at; fn returns the index just past the value (skipValid's, or that of a walk of its own
// through it, so that a nested object is read once). walkObject returns the index past the object.
func walkObject(b []byte, i int, fn func(key []byte, escaped bool, at int) (end int)) int {
	for i = skipSpace(b, i+1); i < len(b) && b[i] == '"'; i = skipSpace(b, i+1) {
		key, escaped, kEnd := validKey(b, i)
		at := skipSpace(b, skipSpace(b, kEnd)+1) // past the ':'
		if i = skipSpace(b, fn(key, escaped, at)); i >= len(b) || b[i] != ',' {
			break
		}
	}
	return i + 1
}

// validKey reads the member name at b[i] (a '"'), decoded when written with escapes, as
// eachMember gives it, and returns it with the index past it.
func validKey(b []byte, i int) (key []byte, escaped bool, end int) {
	if end, escaped = skipValidString(b, i); escaped {
		return appendUnquoted(nil, b[i:end]), true, end
	}
	return b[i+1 : end-1], false, end
}

// walkArray is walkObject for the valid array at b[i]: fn gets where each element starts.
func walkArray(b []byte, i int, fn func(at int) (end int)) int {
	for i = skipSpace(b, i+1); i < len(b) && b[i] != ']'; i = skipSpace(b, i+1) {
		if i = skipSpace(b, fn(i)); i >= len(b) || b[i] != ',' {
			break
		}
	}
	return i + 1
}

// eachValidMember is eachMember for a valid object: it calls fn for every member of obj, which
// starts with '{', in order, names with escapes decoded as eachMember does. Anything that is not
// an object has no members.
func eachValidMember(obj []byte, fn func(m member)) {
	if len(obj) == 0 || obj[0] != '{' {
		return
	}
	// walkObject's loop, without a call through a func value per member.
	for i := skipSpace(obj, 1); i < len(obj) && obj[i] == '"'; i = skipSpace(obj, i+1) {
		key, escaped, kEnd := validKey(obj, i)
		at := skipSpace(obj, skipSpace(obj, kEnd)+1) // past the ':'
		end := skipValid(obj, at)
		fn(member{key: key, val: obj[at:end], escaped: escaped})
		if i = skipSpace(obj, end); i >= len(obj) || obj[i] != ',' {
			return
		}
	}
}

// eachValidElement is eachElement for a valid array arr, which starts with '['.
func eachValidElement(arr []byte, fn func(el []byte)) {
	if len(arr) == 0 || arr[0] != '[' {
		return
	}
	walkArray(arr, 0, func(at int) int {
		end := skipValid(arr, at)
		fn(arr[at:end])
		return end
	})
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

// appendValidCompact is appendCompact for v, exactly one valid value (a member's or an
// element's, as read): a string, number or literal holds no white space to leave out, and is
// copied as it is.
func appendValidCompact(dst, v []byte) []byte {
	if len(v) > 0 && v[0] != '{' && v[0] != '[' {
		return append(dst, v...)
	}
	return appendCompact(dst, v)
}

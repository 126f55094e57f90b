package normalize

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"sync"
)

// pooledMAC keeps a keyed HMAC between requests: building one costs several allocations, and
// most requests of a provider are signed with the same key.
type pooledMAC struct {
	key    string
	sha256 bool
	h      hash.Hash
	sum    [sha256.Size]byte // outside the stack: Sum through an interface would make it escape
}

var pooledMACs sync.Pool

// hmacSum writes HMAC-SHA256 (or HMAC-SHA1) of msg's parts, in order, under key into out and returns its length.
// A pooled HMAC is reused only under the same key and hash.
func hmacSum(out *[sha256.Size]byte, key []byte, useSHA256 bool, msg ...[]byte) int {
	m, _ := pooledMACs.Get().(*pooledMAC)
	if m == nil || m.key != string(key) || m.sha256 != useSHA256 {
		newHash := sha1.New
		if useSHA256 {
			newHash = sha256.New
		}
		m = &pooledMAC{key: string(key), sha256: useSHA256, h: hmac.New(newHash, key)}
	}
	m.h.Reset()
	for _, b := range msg {
		m.h.Write(b)
	}
	n := copy(out[:], m.h.Sum(m.sum[:0]))
	pooledMACs.Put(m)
	return n
}

package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Compact JWS (RFC 7515) signed with HMAC-SHA256 in an Authorization header, as LiveKit and
// Vonage send their webhooks: what both verifiers share, without allocating.

// maxJWT bounds an Authorization header holding a JWT: webhook tokens are a few hundred bytes.
const maxJWT = 4096

// jwtBufs holds buffers for a token's decoded parts: read through eachMember they would
// escape, one allocation per request. Take one with jwtBuffer, put it back once the claims
// are read.
var jwtBufs sync.Pool

func jwtBuffer() *[maxJWT]byte {
	buf, _ := jwtBufs.Get().(*[maxJWT]byte)
	if buf == nil {
		buf = new([maxJWT]byte)
	}
	return buf
}

// bearerJWT returns the token of c's Authorization header, a "Bearer " prefix (any case)
// removed; who names the sender in the errors.
func bearerJWT(c *Callback, who string) ([]byte, error) {
	tok := c.Header.Peek("Authorization")
	if len(tok) == 0 {
		return nil, &AuthError{Reason: "Authorization header missing"}
	}
	if len(tok) > 7 && bytes.EqualFold(tok[:7], []byte("Bearer ")) {
		tok = tok[7:]
	}
	if len(tok) > maxJWT {
		return nil, &AuthError{Reason: "Authorization header is too long for a " + who + " token"}
	}
	return tok, nil
}

// jwtWindow checks the NumericDate claims exp and nbf, each when present, against received,
// with skew as leeway either way. A claim present but not an integer is refused.
func jwtWindow(received time.Time, skew time.Duration, exp, nbf []byte) error {
	if exp != nil {
		expAt, ok := jwtTime(exp)
		if !ok {
			return &AuthError{Reason: "JWT exp is not a number of seconds"}
		}
		if d := received.Sub(expAt); d > skew {
			return &AuthError{Reason: "JWT expired " + d.Round(time.Second).String() + " ago, more than the allowed clock skew of " + skew.String() + " (signature window)"}
		}
	}
	if nbf != nil {
		nbfAt, ok := jwtTime(nbf)
		if !ok {
			return &AuthError{Reason: "JWT nbf is not a number of seconds"}
		}
		if d := nbfAt.Sub(received); d > skew {
			return &AuthError{Reason: "JWT nbf is " + d.Round(time.Second).String() + " in the future, more than the allowed clock skew of " + skew.String()}
		}
	}
	return nil
}

// jwtTime reads a NumericDate claim written as an integer: RFC 7519 allows a fraction, the
// senders we know write none.
func jwtTime(raw []byte) (time.Time, bool) {
	if len(raw) == 0 || raw[0] == '"' {
		return time.Time{}, false
	}
	v, ok := intValue(raw)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(v, 0), true
}

// verifyHS256 checks a compact JWS signed with HMAC-SHA256 under secret and returns its decoded
// payload, written into buf; key names the secret in the error. Only alg HS256 is accepted: "none", other algorithms and a header
// naming extensions that must be understood (crit) are refused.
func verifyHS256(tok, secret, buf []byte, key string) ([]byte, error) {
	dot1 := bytes.IndexByte(tok, '.')
	if dot1 < 0 {
		return nil, &AuthError{Reason: "Authorization is not a JWT"}
	}
	dot2 := dot1 + 1 + bytes.IndexByte(tok[dot1+1:], '.')
	if dot2 == dot1 || bytes.IndexByte(tok[dot2+1:], '.') >= 0 {
		return nil, &AuthError{Reason: "Authorization is not a JWT (want three dot-separated parts)"}
	}
	enc := base64.RawURLEncoding.Strict()

	n, err := enc.Decode(buf, tok[:dot1])
	if err != nil {
		return nil, &AuthError{Reason: "JWT header is not base64url"}
	}
	var alg []byte
	algs, crit := 0, false
	if err := eachMember(buf[:n], func(m member) {
		switch string(m.key) {
		case "alg":
			alg, algs = m.val, algs+1
		case "crit":
			crit = true
		}
	}); err != nil {
		return nil, &AuthError{Reason: "JWT header is not a JSON object"}
	}
	if algs != 1 || string(alg) != `"HS256"` || crit {
		return nil, &AuthError{Reason: "JWT alg is not HS256"}
	}

	var sig [sha256.Size + 3]byte // room to notice a longer one
	if enc.DecodedLen(len(tok)-dot2-1) != sha256.Size {
		return nil, &AuthError{Reason: "JWT signature is not an HMAC-SHA256"}
	}
	if n, err := enc.Decode(sig[:], tok[dot2+1:]); err != nil || n != sha256.Size {
		return nil, &AuthError{Reason: "JWT signature is not base64url"}
	}
	var sum [sha256.Size]byte
	hmacSum(&sum, secret, true, tok[:dot2])
	if !hmac.Equal(sum[:], sig[:sha256.Size]) {
		return nil, &AuthError{Reason: "JWT signature does not match " + key}
	}

	n, err = enc.Decode(buf, tok[dot1+1:dot2])
	if err != nil {
		return nil, &AuthError{Reason: "JWT claims are not base64url"}
	}
	return buf[:n], nil
}

// jwtClaims sets vals[i] to the raw value of the claim names[i] (nil when absent), refusing
// claims that are not one JSON object and a claim named twice: JWT libraries disagree on which
// copy counts.
func jwtClaims(claims []byte, names []string, vals [][]byte) error {
	dup := false
	if err := eachMember(claims, func(m member) {
		for i, name := range names {
			if string(m.key) == name {
				dup = dup || vals[i] != nil
				vals[i] = m.val
				return
			}
		}
	}); err != nil {
		return &AuthError{Reason: "JWT claims are not a JSON object"}
	}
	if dup {
		return &AuthError{Reason: "a JWT claim appears twice"}
	}
	return nil
}

// signHS256 returns the compact JWS of claims (a JSON object) under secret, with the header
// {"alg":"HS256","typ":"JWT"}: what a sender's JWT library makes, for Sign.
func signHS256(claims, secret []byte) []byte {
	tok := base64.RawURLEncoding.AppendEncode(nil, []byte(`{"alg":"HS256","typ":"JWT"}`))
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, claims)
	var mac [sha256.Size]byte
	hmacSum(&mac, secret, true, tok)
	tok = append(tok, '.')
	return base64.RawURLEncoding.AppendEncode(tok, mac[:])
}

// bearerHS256 checks the HS256 JWT of c's Authorization header under secret (bearerJWT,
// verifyHS256; who names the sender, key the secret, in errors) and reads the claims names into
// vals (jwtClaims). The values point into buf, a pooled buffer the caller puts back in jwtBufs
// once it has read them; buf is nil when err is set.
func bearerHS256(c *Callback, secret []byte, who, key string, names []string, vals [][]byte) (buf *[maxJWT]byte, err error) {
	tok, err := bearerJWT(c, who)
	if err != nil {
		return nil, err
	}
	buf = jwtBuffer()
	claims, err := verifyHS256(tok, secret, buf[:], key)
	if err == nil {
		err = jwtClaims(claims, names, vals)
	}
	if err != nil {
		jwtBufs.Put(buf)
		return nil, err
	}
	return buf, nil
}

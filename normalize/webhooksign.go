package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// A generic source's signatures (SPEC §6a): checking the one a callback carries, and making the
// one its sender would send.

// standardKey decodes a Standard Webhooks secret, whsec_<base64>, into the HMAC key. Like the
// reference libraries it accepts the base64 without its whsec_ prefix too.
func standardKey(secret []byte) ([]byte, error) {
	s := strings.TrimPrefix(string(secret), "whsec_")
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("want whsec_ followed by the base64 of the key, as the sender shows it")
	}
	return key, nil
}

func (w *webhook) verify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	if w.scheme == SchemeStandardWebhooks {
		return Signed, w.verifyStandard(c, a)
	}
	got := c.Header.Peek(w.sigHdr)
	if len(got) == 0 {
		return Signed, &AuthError{Reason: w.sigHdr + " header missing"}
	}
	if len(w.prefix) > 0 {
		if len(got) < len(w.prefix) || string(got[:len(w.prefix)]) != string(w.prefix) {
			return Signed, &AuthError{Reason: w.sigHdr + " does not start with " + strconv.Quote(string(w.prefix))}
		}
		got = got[len(w.prefix):]
	}
	var sum [sha256.Size]byte
	mac := sum[:hmacSum(&sum, a.Secret, w.scheme == SchemeHMACSHA256, c.Body)]
	if w.base64 {
		var dec [sha256.Size + 3]byte
		if base64.StdEncoding.DecodedLen(len(got)) > len(dec) {
			return Signed, &AuthError{Reason: w.sigHdr + " does not match the body"}
		}
		n, err := base64.StdEncoding.Decode(dec[:], got)
		if err != nil {
			n, err = base64.RawStdEncoding.Decode(dec[:], got)
		}
		if err != nil || !hmac.Equal(dec[:n], mac) {
			return Signed, &AuthError{Reason: w.sigHdr + " does not match the body"}
		}
		return Signed, nil
	}
	var want [sha256.Size * 2]byte
	n := hex.Encode(want[:], mac)
	if !equalHex(got, want[:n]) {
		return Signed, &AuthError{Reason: w.sigHdr + " does not match the body"}
	}
	return Signed, nil
}

// verifyStandard checks a Standard Webhooks signature: any v1 entry of webhook-signature (space
// separated) that is base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>", and a
// timestamp within the signature window.
func (w *webhook) verifyStandard(c *Callback, a *Auth) error {
	id, ts, sigs := c.Header.Peek("webhook-id"), c.Header.Peek("webhook-timestamp"), c.Header.Peek("webhook-signature")
	switch {
	case len(id) == 0:
		return &AuthError{Reason: "webhook-id header missing"}
	case len(ts) == 0:
		return &AuthError{Reason: "webhook-timestamp header missing"}
	case len(sigs) == 0:
		return &AuthError{Reason: "webhook-signature header missing"}
	}
	sec, ok := intValue(ts)
	if !ok || ts[0] == '"' {
		return &AuthError{Reason: "webhook-timestamp is not a Unix time in seconds"}
	}
	key, err := standardKey(a.Secret)
	if err != nil {
		return &AuthError{Reason: "the configured secret is not a Standard Webhooks secret"}
	}
	want := standardSignature(key, id, ts, c.Body)
	matched := false
	for rest := sigs; len(rest) > 0; {
		var entry []byte
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			entry, rest = rest[:i], rest[i+1:]
		} else {
			entry, rest = rest, nil
		}
		if len(entry) > 3 && string(entry[:3]) == "v1," && hmac.Equal(entry[3:], want) {
			matched = true
		}
	}
	if !matched {
		return &AuthError{Reason: "webhook-signature has no v1 signature matching the body"}
	}
	return checkSkew("webhook-timestamp", time.Unix(sec, 0), c.Received, a.MaxSkew)
}

// standardSignature is the base64 of HMAC-SHA256(key, id "." ts "." body).
func standardSignature(key, id, ts, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(id)
	m.Write([]byte{'.'})
	m.Write(ts)
	m.Write([]byte{'.'})
	m.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, base64.StdEncoding.EncodedLen(sha256.Size))
	base64.StdEncoding.Encode(out, m.Sum(sum[:0]))
	return out
}

// sign makes the callback the source's sender would send: Standard Webhooks headers with an id
// derived from the body, or the configured signature header.
func (w *webhook) sign(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if w.scheme == SchemeStandardWebhooks {
		sum := sha256.Sum256(body)
		id := "msg_" + hex.EncodeToString(sum[:12])
		ts := strconv.FormatInt(now.Unix(), 10)
		headers = append(headers, Header{"webhook-id", id}, Header{"webhook-timestamp", ts})
		if len(a.Secret) == 0 {
			return body, headers, nil
		}
		key, err := standardKey(a.Secret)
		if err != nil {
			return nil, nil, err
		}
		return body, append(headers, Header{"webhook-signature", "v1," + string(standardSignature(key, []byte(id), []byte(ts), body))}), nil
	}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	newHash := sha1.New
	if w.scheme == SchemeHMACSHA256 {
		newHash = sha256.New
	}
	var m hash.Hash = hmac.New(newHash, a.Secret)
	m.Write(body)
	sig := hex.EncodeToString(m.Sum(nil))
	if w.base64 {
		sig = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return body, append(headers, Header{w.sigHdr, string(w.prefix) + sig}), nil
}

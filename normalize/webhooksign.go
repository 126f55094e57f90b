package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
	switch {
	case len(a.Secret) == 0:
		return unsigned(a)
	case w.scheme == SchemeStandardWebhooks:
		return Signed, w.verifyStandard(c, a)
	case w.scheme == SchemeStaticToken:
		return Signed, w.verifyToken(c, a)
	}
	return w.sig.Verify(c, a)
}

// verifyToken checks that the token header equals the secret, comparing digests so that the
// time taken says nothing of the secret's length either.
func (w *webhook) verifyToken(c *Callback, a *Auth) error {
	got := c.Header.Peek(w.tokenHdr)
	if len(got) == 0 {
		return &AuthError{Reason: w.tokenHdr + " header missing"}
	}
	g, s := sha256.Sum256(got), sha256.Sum256(a.Secret)
	if subtle.ConstantTimeCompare(g[:], s[:]) != 1 {
		return &AuthError{Reason: w.tokenHdr + " is not the configured token"}
	}
	return nil
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
		entry, rest, _ = bytes.Cut(rest, []byte{' '})
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
	if w.scheme == SchemeStaticToken {
		if len(a.Secret) > 0 {
			headers = append(headers, Header{w.tokenHdr, string(a.Secret)})
		}
		return body, headers, nil
	}
	sig, err := w.sig.Sign(body, a.Secret, now, nil)
	return body, append(headers, sig...), err
}

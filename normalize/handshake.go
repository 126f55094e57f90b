package normalize

import (
	"crypto/sha256"
	"encoding/hex"
)

// Handshakes a sender makes before (and while) it delivers events, answered by the bridge and
// never published. Zoom's URL validation is shared by the zoom provider and by generic sources
// with CHALLENGE=zoom (SPEC §6a): Zoom posts {"event":"endpoint.url_validation","payload":
// {"plainToken":"…"}} when the endpoint is saved and every 72 h, and wants
// {"plainToken":"…","encryptedToken":hex(HMAC-SHA256(secret token, plainToken))} within 3 s
// (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §2b). Provider.Probe answers it only once the
// request's own signature verified: the answer is an HMAC of a value the sender chose.

const zoomValidationEvent = `"endpoint.url_validation"`

// maxPlainToken bounds the token echoed back; Zoom's are 22 characters.
const maxPlainToken = 256

// zoomIsChallenge reports Zoom's URL validation request.
func zoomIsChallenge(c *Callback) bool {
	top, err := c.members()
	return err == nil && string(lookup(top, "event")) == zoomValidationEvent
}

// zoomAnswer appends to dst the answer to Zoom's URL validation, signed with a.Secret.
func zoomAnswer(c *Callback, a *Auth, dst []byte) ([]byte, error) {
	top, _ := c.members()
	raw := nestedMember(lookup(top, "payload"), "plainToken")
	token, _, ok := stringValue(raw, nil)
	switch {
	case !ok || len(raw) == 0 || raw[0] != '"' || len(token) == 0:
		return nil, payloadErr("payload.plainToken", "want a non-empty string")
	case len(token) > maxPlainToken:
		return nil, payloadErr("payload.plainToken", "longer than %d bytes", maxPlainToken)
	}
	var sum [sha256.Size]byte
	var enc [sha256.Size * 2]byte
	hex.Encode(enc[:], sum[:hmacSum(&sum, a.Secret, true, token)])
	dst = append(dst, `{"plainToken":`...)
	dst = appendString(dst, token)
	dst = append(dst, `,"encryptedToken":"`...)
	dst = append(dst, enc[:]...)
	return append(dst, `"}`...), nil
}

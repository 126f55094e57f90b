package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"sync"
	"time"
)

// LiveKit webhooks (livekit-server, LiveKit Cloud): the body is a livekit.WebhookEvent written by
// protojson ({"event","room","participant","track","egressInfo","ingressInfo","id","createdAt"},
// int64 fields as strings), POSTed as application/webhook+json. The Authorization header is a JWT
// that LiveKit's own server makes with github.com/livekit/protocol/auth:
// NewAccessToken(apiKey, apiSecret).SetValidFor(5m).SetSha256(base64(sha256(body))).ToJWT(),
// HS256 over {"iss":apiKey,"exp","nbf","iat","sha256"} (webhook/url_notifier.go); LiveKit's own
// receiver (webhook/verifier.go) takes the header as it is, without "Bearer ". We check the JWT
// here with crypto/hmac (alg HS256 only), iss against CALLBRIDGE_LIVEKIT_API_KEY, the sha256
// claim against the raw body in constant time, and nbf/exp, with CALLBRIDGE_MAX_CLOCK_SKEW as
// leeway, as the signature window. The event id is the body's id (a uuid, "EV_..."), the same on
// every retry of one send.
var LiveKit = Provider{
	ID:         "livekit",
	TypePrefix: livekitPrefix,
	Reply:      []byte(`{}`), // only the status is read
	SecretName: "API secret",
	SecretVar:  "API_SECRET",
	Settings:   livekitSettings,
	Scheme:     "header `Authorization: <JWT>` (a `Bearer ` prefix is accepted too): HS256 with the API secret, `iss` = `CALLBRIDGE_LIVEKIT_API_KEY`, claim `sha256` = base64(SHA-256(body))",
	Window:     "the JWT's `nbf` and `exp` (LiveKit signs for 5 minutes; `exp` required) with `CALLBRIDGE_MAX_CLOCK_SKEW` leeway",
	Subject:    "`room.name`; egress events: `egressInfo.egressId`; ingress events: `ingressInfo.ingressId` (else `room.name`)",
	TimeSource: "`createdAt` (s, a string as protojson writes int64)",
	Events:     livekitEvents,
	Data:       livekitData,
	Unknown:    "unknown.<event>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     livekitVerify,
	Normalize:  livekitNormalize,
	Sign:       signLiveKit,
	Distinct:   []string{"id"},
	Code:       "event",
	Sample:     []byte(`{"event":"participant_joined","room":{"sid":"RM_hycBMAjmt6Ub","name":"room1","emptyTimeout":300,"creationTime":"1692985548","turnPassword":"","enabledCodecs":[{"mime":"audio/opus"},{"mime":"video/VP8"}]},"participant":{"sid":"PA_39FqjqDBX2Kq","identity":"alice","state":"ACTIVE","joinedAt":"1692985549","name":"Alice","version":1,"permission":{"canSubscribe":true,"canPublish":true,"canPublishData":true},"region":"us-east"},"id":"EV_3NV3uBQ7Ldss","createdAt":"1692985549"}`),
}

const livekitPrefix = "io.livekit."

// livekitSettings: the API key whose secret signs the webhooks, the JWT's iss.
var livekitSettings = []Setting{
	{Name: "API_KEY", Kind: Text, Secret: true, WithSecret: true,
		Description: "API key of the key pair that signs the webhooks (the JWT's iss); it must match, with CALLBRIDGE_LIVEKIT_API_SECRET as its secret"},
}

// The event codes as webhook/consts.go in github.com/livekit/protocol spells them.
var livekitEvents = []EventDef{
	{"room_started", "room.started", "room created (first participant joined, or created by API)"},
	{"room_finished", "room.finished", "room closed (roomEndReason)"},
	{"participant_joined", "participant.joined", "participant joined the room"},
	{"participant_left", "participant.left", "participant left the room"},
	{"participant_connection_aborted", "participant.connection_aborted", "participant's connection failed before it fully joined"},
	{"track_published", "track.published", "participant published a track"},
	{"track_unpublished", "track.unpublished", "participant unpublished a track"},
	{"egress_started", "egress.started", "egress (recording, stream) started"},
	{"egress_updated", "egress.updated", "egress status changed"},
	{"egress_ended", "egress.ended", "egress ended (files, error)"},
	{"ingress_started", "ingress.started", "ingress (RTMP/WHIP/URL input) started publishing"},
	{"ingress_ended", "ingress.ended", "ingress stopped"},
}

// livekitMaxToken bounds the Authorization header: LiveKit's webhook tokens are about 300 bytes.
const livekitMaxToken = 4096

// livekitBufs holds buffers for a token's decoded parts: read through eachMember they would
// escape, one allocation per request.
var livekitBufs sync.Pool

// livekitVerify checks the JWT of the Authorization header, then the body's digest in it.
func livekitVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	tok := c.Header.Peek("Authorization")
	if len(tok) == 0 {
		return Signed, &AuthError{Reason: "Authorization header missing"}
	}
	if len(tok) > 7 && bytes.EqualFold(tok[:7], []byte("Bearer ")) {
		tok = tok[7:]
	}
	if len(tok) > livekitMaxToken {
		return Signed, &AuthError{Reason: "Authorization header is too long for a LiveKit token"}
	}
	buf, _ := livekitBufs.Get().(*[livekitMaxToken]byte)
	if buf == nil {
		buf = new([livekitMaxToken]byte)
	}
	defer livekitBufs.Put(buf)
	claims, err := verifyHS256(tok, a.Secret, buf[:])
	if err != nil {
		return Signed, err
	}

	iss, sha, exp, nbf, err := livekitClaims(claims)
	if err != nil {
		return Signed, err
	}

	var scratch [128]byte
	issText, _, ok := stringValue(iss, scratch[:0])
	if !ok || iss[0] != '"' {
		return Signed, &AuthError{Reason: "JWT has no iss (the API key)"}
	}
	if key := a.setting(livekitSettings, "API_KEY").Bytes; subtle.ConstantTimeCompare(issText, key) != 1 {
		return Signed, &AuthError{Reason: "JWT iss " + excerpt(issText) + " is not CALLBRIDGE_LIVEKIT_API_KEY"}
	}

	// The digest is compared on its base64 text, as LiveKit's receiver does.
	var sum [sha256.Size]byte
	var want [44]byte // base64 of 32 bytes
	sum = sha256.Sum256(c.Body)
	base64.StdEncoding.Encode(want[:], sum[:])
	shaText, _, ok := stringValue(sha, scratch[:0])
	if !ok || sha[0] != '"' {
		return Signed, &AuthError{Reason: "JWT has no sha256 claim, so it does not sign the body"}
	}
	if subtle.ConstantTimeCompare(shaText, want[:]) != 1 {
		return Signed, &AuthError{Reason: "JWT sha256 does not match the body"}
	}

	return Signed, livekitWindow(c, a, exp, nbf)
}

// livekitClaims reads the claims the token's signature covers: iss, sha256, exp and nbf, each
// at most once.
func livekitClaims(claims []byte) (iss, sha, exp, nbf []byte, err error) {
	dup := false
	if err := eachMember(claims, func(m member) {
		var p *[]byte
		switch string(m.key) {
		case "iss":
			p = &iss
		case "sha256":
			p = &sha
		case "exp":
			p = &exp
		case "nbf":
			p = &nbf
		default:
			return
		}
		dup = dup || *p != nil
		*p = m.val
	}); err != nil {
		return nil, nil, nil, nil, &AuthError{Reason: "JWT claims are not a JSON object"}
	}
	if dup {
		return nil, nil, nil, nil, &AuthError{Reason: "a JWT claim appears twice"}
	}
	return iss, sha, exp, nbf, nil
}

// livekitWindow checks the token's exp and nbf against the time the callback was received,
// within the allowed clock skew.
func livekitWindow(c *Callback, a *Auth, exp, nbf []byte) error {
	expAt, ok := jwtTime(exp)
	if !ok {
		return &AuthError{Reason: "JWT exp missing or not a number of seconds, so the signature window cannot be checked"}
	}
	if d := c.Received.Sub(expAt); d > a.MaxSkew {
		return &AuthError{Reason: "JWT expired " + d.Round(time.Second).String() + " ago, more than the allowed clock skew of " + a.MaxSkew.String() + " (signature window)"}
	}
	if nbf != nil {
		nbfAt, ok := jwtTime(nbf)
		if !ok {
			return &AuthError{Reason: "JWT nbf is not a number of seconds"}
		}
		if d := nbfAt.Sub(c.Received); d > a.MaxSkew {
			return &AuthError{Reason: "JWT nbf is " + d.Round(time.Second).String() + " in the future, more than the allowed clock skew of " + a.MaxSkew.String()}
		}
	}
	return nil
}

// jwtTime reads a NumericDate claim written as an integer (as every LiveKit SDK writes it).
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
// payload, written into buf. Only alg HS256 is accepted: "none", other algorithms and a header
// naming extensions that must be understood (crit) are refused.
func verifyHS256(tok, secret, buf []byte) ([]byte, error) {
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
		return nil, &AuthError{Reason: "JWT signature does not match the API secret"}
	}

	n, err = enc.Decode(buf, tok[dot1+1:dot2])
	if err != nil {
		return nil, &AuthError{Reason: "JWT claims are not base64url"}
	}
	return buf[:n], nil
}

func livekitNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	code, scratch, ok := stringValue(lookup(top, "event"), ev.scratch[:0])
	if !ok || len(code) == 0 || lookup(top, "event")[0] != '"' {
		return payloadErr("event", "missing or not a string")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(livekitEvents, livekitPrefix)

	var subjectRaw []byte
	switch {
	case bytes.HasPrefix(code, []byte("egress_")):
		subjectRaw = nestedMember(lookup(top, "egressInfo"), "egressId")
	case bytes.HasPrefix(code, []byte("ingress_")):
		subjectRaw = nestedMember(lookup(top, "ingressInfo"), "ingressId")
	}
	if subjectRaw == nil {
		subjectRaw = nestedMember(lookup(top, "room"), "name")
	}
	subject, scratch, _ := stringValue(subjectRaw, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	ev.setTime(intValue(lookup(top, "createdAt")))

	// data is the WebhookEvent as sent, compacted: numbers and int64 strings byte for byte.
	ev.data = appendCompact(ev.data[:0], c.Body)
	ev.Data = ev.data

	ev.setSource(nil)
	if id, scratch, ok := stringValue(lookup(top, "id"), ev.scratch[:0]); ok && len(id) > 0 {
		ev.scratch = scratch
		ev.setProviderID(id)
	} else {
		ev.hashID(ev.Data)
	}
	return nil
}

// signLiveKit signs body as livekit-server does: a JWT valid for 5 minutes from now, issued by
// CALLBRIDGE_LIVEKIT_API_KEY, carrying the body's SHA-256. The body is sent as it is.
func signLiveKit(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/webhook+json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	sum := sha256.Sum256(body)
	claims := []byte(`{"iss":`)
	claims = appendString(claims, a.setting(livekitSettings, "API_KEY").Bytes)
	claims = append(claims, `,"exp":`...)
	claims = strconv.AppendInt(claims, now.Add(5*time.Minute).Unix(), 10)
	claims = append(claims, `,"nbf":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, `,"iat":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, `,"sha256":"`...)
	claims = base64.StdEncoding.AppendEncode(claims, sum[:])
	claims = append(claims, `"}`...)
	tok := base64.RawURLEncoding.AppendEncode(nil, []byte(`{"alg":"HS256","typ":"JWT"}`))
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, claims)
	var mac [sha256.Size]byte
	hmacSum(&mac, a.Secret, true, tok)
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, mac[:])
	return body, append(headers, Header{"Authorization", string(tok)}), nil
}

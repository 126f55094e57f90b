package normalize

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
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

// livekitVerify checks the JWT of the Authorization header, then the body's digest in it.
func livekitVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	var v [4][]byte
	buf, err := bearerHS256(c, a.Secret, "LiveKit", "the API secret", livekitClaimNames, v[:])
	if err != nil {
		return Signed, err
	}
	defer jwtBufs.Put(buf)
	iss, sha, exp, nbf := v[0], v[1], v[2], v[3]

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

// livekitClaimNames are the claims livekitVerify reads, each at most once.
var livekitClaimNames = []string{"iss", "sha256", "exp", "nbf"}

// livekitWindow checks the token's exp (required: LiveKit signs for 5 minutes) and nbf against
// the time the callback was received, within the allowed clock skew.
func livekitWindow(c *Callback, a *Auth, exp, nbf []byte) error {
	if _, ok := jwtTime(exp); !ok {
		return &AuthError{Reason: "JWT exp missing or not a number of seconds, so the signature window cannot be checked"}
	}
	return jwtWindow(c.Received, a.MaxSkew, exp, nbf)
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
	tok := signHS256(claims, a.Secret)
	return body, append(headers, Header{"Authorization", string(tok)}), nil
}

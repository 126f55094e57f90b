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
	Canonical:  livekitCanonical,
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

// livekitCanonical maps LiveKit's room, participant and track events, egress (as a recording)
// and ingress (an encoder publishing into the room, or a URL pulled into it) to the canonical
// RTC events (SPEC §9). The reasons are livekit_models.proto's DisconnectReason and
// RoomEndReason, by name as protojson writes them.
var livekitCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "room.name"},
		{To: "room_session_id", From: "room.sid"},
	},
	Events: map[string][]Mapping{
		"room.started":                   {{Type: RoomStarted}},
		"room.finished":                  {{Type: RoomEnded, Set: []Set{{To: "reason", From: "roomEndReason", Values: livekitRoomEndReasons}}}},
		"participant.joined":             {{Type: ParticipantJoined, Set: livekitParticipantSets()}},
		"participant.left":               {{Type: ParticipantLeft, Set: livekitLeftSets()}},
		"participant.connection_aborted": {{Type: ParticipantLeft, Set: livekitLeftSets()}},
		"track.published":                livekitTrackMappings(StreamPublished),
		"track.unpublished":              livekitTrackMappings(StreamUnpublished),

		"egress.started": {{Type: RecordingStarted, Set: livekitEgressSets()}},
		"egress.ended": {
			{Type: RecordingFailed, If: &Cond{Path: "egressInfo.status", Values: []string{"EGRESS_FAILED", "EGRESS_ABORTED"}},
				Set: livekitEgressSets(Set{To: "recording.error", From: "egressInfo.error"})},
			{Type: RecordingEnded, Set: livekitEgressSets(Set{To: "recording.files", From: "egressInfo.fileResults[].location"})},
		},

		"ingress.started": {
			{Type: RelayStarted, If: livekitURLInput, Set: livekitPullSets()},
			{Type: StreamPublished, Set: livekitIngressSets()},
		},
		"ingress.ended": {
			{Type: RelayEnded, If: livekitURLInput, Set: livekitPullSets(Set{To: "relay.error", From: "ingressInfo.state.error"})},
			{Type: StreamUnpublished, Set: livekitIngressSets()},
		},
	},
	Gaps: "no app id and no sequence; no participant role beyond its kind (a standard or SIP participant, or a bot: agent, egress, ingress, connector); no durations; egress.updated has no counterpart, and an egress that streams to RTMP is reported as a recording (its outputs are in the echoed request, not in a member a mapping can test); a recording's files are fileResults' locations, segment playlists are not listed",
}

// livekitURLInput: an ingress of input type URL pulls a stream into the room; RTMP and WHIP
// ingresses are pushed to by an encoder, which publishes into the room as a participant.
var livekitURLInput = &Cond{Path: "ingressInfo.inputType", Values: []string{"URL_INPUT"}}

// livekitParticipantSets: the participant's identity, its session (sid) and its kind as a role.
func livekitParticipantSets(more ...Set) []Set {
	return append([]Set{
		{To: "participant_id", From: "participant.identity"},
		{To: "participant_session_id", From: "participant.sid"},
		{To: "role", From: "participant.kind", Values: map[string]string{
			"STANDARD": "participant", "SIP": "participant",
			"AGENT": "bot", "EGRESS": "bot", "INGRESS": "bot", "CONNECTOR": "bot"}},
	}, more...)
}

// livekitLeftSets: a leave (or a connection aborted before the join) says why.
func livekitLeftSets() []Set {
	return livekitParticipantSets(Set{To: "reason", From: "participant.disconnectReason", Values: map[string]string{
		"CLIENT_INITIATED": "left", "DUPLICATE_IDENTITY": "replaced", "SERVER_SHUTDOWN": "server",
		"PARTICIPANT_REMOVED": "kicked", "ROOM_DELETED": "room_ended", "ROOM_CLOSED": "room_ended",
		"JOIN_FAILURE": "join_failed", "USER_UNAVAILABLE": "join_failed", "USER_REJECTED": "join_failed",
		"SIGNAL_CLOSE": "timeout", "CONNECTION_TIMEOUT": "timeout"}})
}

// livekitRoomEndReasons: RoomEndReason; OPEN_FAILED and UNKNOWN are other.
var livekitRoomEndReasons = map[string]string{
	"ROOM_END_API_DELETE": "room_ended", "ROOM_END_IDLE_TIMEOUT": "timeout",
	"ROOM_END_SERVER_SHUTDOWN": "server", "ROOM_END_SUPERSEDED": "replaced",
}

// livekitTrackMappings: a track's kind is its type, or screen when its source is a screen share.
func livekitTrackMappings(typ string) []Mapping {
	track := func(kind Set) []Set {
		return livekitParticipantSets(
			Set{To: "track.id", From: "track.sid"},
			kind,
			Set{To: "track.name", From: "track.name"})
	}
	return []Mapping{
		{Type: typ, If: &Cond{Path: "track.source", Values: []string{"SCREEN_SHARE", "SCREEN_SHARE_AUDIO"}},
			Set: track(Set{To: "track.kind", Value: "screen"})},
		{Type: typ, Set: track(Set{To: "track.kind", From: "track.type",
			Values: map[string]string{"AUDIO": "audio", "VIDEO": "video", "DATA": "data"}})},
	}
}

// livekitEgressSets: an egress names its room and the room's session.
func livekitEgressSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "egressInfo.roomName"},
		{To: "room_session_id", From: "egressInfo.roomId"},
		{To: "recording.task_id", From: "egressInfo.egressId"},
		{To: "recording.status", From: "egressInfo.status"},
	}, more...)
}

// livekitIngressSets: an RTMP or WHIP ingress publishes as the participant it names.
func livekitIngressSets() []Set {
	return []Set{
		{To: "room_id", From: "ingressInfo.roomName"},
		{To: "room_session_id", From: "ingressInfo.state.roomId"},
		{To: "participant_id", From: "ingressInfo.participantIdentity"},
		{To: "role", Value: "bot"},
		{To: "track.id", From: "ingressInfo.ingressId"},
		{To: "track.name", From: "ingressInfo.name"},
	}
}

// livekitPullSets: a URL ingress pulls its url into the room.
func livekitPullSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "ingressInfo.roomName"},
		{To: "room_session_id", From: "ingressInfo.state.roomId"},
		{To: "relay.task_id", From: "ingressInfo.ingressId"},
		{To: "relay.direction", Value: "pull"},
		{To: "relay.url", From: "ingressInfo.url"},
		{To: "relay.state", From: "ingressInfo.state.status"},
	}, more...)
}

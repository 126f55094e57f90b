package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Vonage Video API (formerly TokBox OpenTok) callbacks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md
// §3): one JSON object per POST, told apart by `event`. Session monitoring sends
// sessionCreated/Destroyed, connectionCreated/Destroyed, streamCreated/Destroyed and
// sessionNotification with `sessionId`, `projectId` and `timestamp` (ms); the archive,
// Experience Composer ("render"), broadcast and captions status callbacks send the object of the
// REST API (`id`, `status`, `sessionId`, `createdAt`/`updatedAt` in ms) with `event` naming the
// family ("archive" is documented; "render", "broadcast" and "captions" are UNCONFIRMED, as are
// the broadcast, captions and SIP payloads, §3a, §3f 4): their code is `<event>/<status>`.
//
// Secure callbacks (§3b) carry `Authorization: Bearer <JWT>`, HS256 under the signature secret
// (the secret's UTF-8 bytes, as Vonage's SDK verifies it: vector V1 in vonage_test.go). We parse
// the JOSE header ourselves and accept exactly alg HS256 (jwt.go: none, HS384/512, RS*, a missing
// or repeated alg, crit are refused), compare the signature in constant time, and require the
// claim `payload_hash`, the lower-hex SHA-256 of the body: without it a JWT read off one request
// would authorise any body. The hash is checked over the raw bytes and, failing that, over the
// body with its insignificant white space removed (Go json.Compact, keys never re-ordered): Vonage
// hashes "a JSON string with no whitespace" in its Voice article (§3b, §11 item 12), and removing
// white space changes no value a JSON reader sees, so it widens nothing an attacker could use.
// `iat` (s, required) is held to CALLBRIDGE_MAX_CLOCK_SKEW either way, `exp` and `nbf` when
// present. That Video signs exactly this claim set, and whether a retry (Vonage retries for up to
// 24 h) is signed again with a new `iat`, is UNCONFIRMED (§3b, §3c):
// CALLBRIDGE_VONAGE_VIDEO_VERIFY=report with one captured request and one captured retry confirms
// it. Self vector V2 of §3g is reproduced in vonage_test.go.
//
// The body has no event id (§3e): session monitoring events hash the project, `sessionId`,
// `timestamp`, `connection.id` and `stream.id`; status callbacks the project, `id`, `status` and
// `updatedAt`; events whose payload is not documented (SIP, codes the table lacks) hash their
// data. Nothing of the JWT (`iat`, `jti`) is used: it is per request. `connection.data` is the
// token data the client application set (§3f 2, §11 item 7): it may hold application secrets or
// personal data, so it is removed from the event (also under `stream.connection`).
var VonageVideo = Provider{
	ID:          "vonage-video",
	TypePrefix:  vonagePrefix,
	Reply:       []byte(`{}`), // only the status is read: any 2xx (§3d)
	SecretName:  "signature secret (application's Video capability, secure callbacks)",
	SecretVar:   "SIGNATURE_SECRET",
	Scheme:      "header `Authorization: Bearer <JWT>`, alg exactly HS256 (`none` and every other algorithm, a repeated `alg` and `crit` refused) under the signature secret; the claim `payload_hash` (required) = lower-hex SHA-256 of the raw body, or of the body without insignificant white space (json.Compact, Vonage hashes a compact serialisation). That Video signs this claim set is UNCONFIRMED: `CALLBRIDGE_VONAGE_VIDEO_VERIFY=report` with one captured request confirms it",
	Window:      "`iat` (s, required) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way; `exp` and `nbf` when present, with the same leeway. Whether a retry (for up to 24 h) carries a new `iat` is UNCONFIRMED: `CALLBRIDGE_VONAGE_VIDEO_VERIFY=report` with one captured retry confirms it",
	Subject:     "status callbacks (archive, render, broadcast, captions): `id` (else `sessionId`); others: `sessionId`",
	TimeSource:  "`timestamp` (ms, session monitoring), else `updatedAt` (ms, status callbacks), else `createdAt` (ms), else receipt",
	Events:      vonageEvents,
	Data:        vonageFields,
	EventData:   vonageEventFields,
	Canonical:   vonageCanonical,
	Unknown:     "unknown.<event> (status callbacks: unknown.<event>/<status>)",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      vonageVerify,
	Normalize:   vonageNormalize,
	Sign:        signVonage,
	Distinct:    []string{"connection.id"},
	Code:        "event",
	Credentials: []string{"connection.data", "stream.connection.data"},
	Sample:      []byte(`{"sessionId":"2_MX4xMjM0NTY3OH5-MTczNTY4OTYwMDAwMH5JTlZFTlRFRH5-fg","projectId":"12345678","event":"connectionCreated","timestamp":1735689600123,"connection":{"id":"c1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b","createdAt":1735689600100,"data":"name=alice&role=host"}}`),
}

const vonagePrefix = "com.vonage.video."

// The event codes of §3a. Status callbacks are "<event>/<status>".
var vonageEvents = []EventDef{
	{"sessionCreated", "session.created", "session created (first client connected)"},
	{"sessionDestroyed", "session.destroyed", "session destroyed (reason, e.g. forceDisconnected after a media-server failure)"},
	{"sessionNotification", "session.notification", "platform notice, e.g. reason serverRotation before a media-server rotation"},
	{"connectionCreated", "connection.created", "client connected to the session"},
	{"connectionDestroyed", "connection.destroyed", "client disconnected (clientDisconnected, forceDisconnected, networkDisconnected)"},
	{"streamCreated", "stream.created", "client started publishing a stream"},
	{"streamDestroyed", "stream.destroyed", "stream ended (clientDisconnected, forceDisconnected, forceUnpublished, mediaStopped, networkDisconnected)"},
	{"callCreated", "sip.call.created", "SIP call created (payload UNCONFIRMED)"},
	{"callUpdated", "sip.call.updated", "SIP call updated (payload UNCONFIRMED)"},
	{"callDestroyed", "sip.call.destroyed", "SIP call ended (payload UNCONFIRMED)"},
	{"archive/started", "archive.started", "archive recording started"},
	{"archive/paused", "archive.paused", "archive paused (no streams published)"},
	{"archive/stopped", "archive.stopped", "archive recording stopped"},
	{"archive/uploaded", "archive.uploaded", "archive uploaded to the configured storage"},
	{"archive/available", "archive.available", "archive available for download"},
	{"archive/failed", "archive.failed", "archive failed"},
	{"archive/expired", "archive.expired", "archive expired (no longer downloadable)"},
	{"render/starting", "render.starting", "Experience Composer connecting to the page"},
	{"render/started", "render.started", "Experience Composer publishing the page as a stream"},
	{"render/stopped", "render.stopped", "Experience Composer stopped (Max Duration Exceeded, Stop Requested)"},
	{"render/failed", "render.failed", "Experience Composer failed"},
	{"broadcast/started", "broadcast.started", "live streaming broadcast started (payload UNCONFIRMED)"},
	{"broadcast/stopped", "broadcast.stopped", "broadcast stopped (payload UNCONFIRMED)"},
	{"broadcast/failed", "broadcast.failed", "broadcast failed (payload UNCONFIRMED)"},
	{"captions/started", "captions.started", "live captions started (payload UNCONFIRMED)"},
	{"captions/stopped", "captions.stopped", "live captions stopped (payload UNCONFIRMED)"},
	{"captions/failed", "captions.failed", "live captions failed (payload UNCONFIRMED)"},
}

// vonageStatusFamilies are the `event` values of callbacks that report an object's status.
var vonageStatusFamilies = [...]string{"archive", "render", "broadcast", "captions"}

// vonageSessionEvents are the session monitoring codes whose fields §3a documents: their id is
// made of those fields.
var vonageSessionEvents = [...]string{"sessionCreated", "sessionDestroyed", "sessionNotification",
	"connectionCreated", "connectionDestroyed", "streamCreated", "streamDestroyed"}

// vonageClaimNames are the claims vonageVerify reads.
var vonageClaimNames = []string{"payload_hash", "iat", "exp", "nbf"}

// vonageCompacts holds buffers for a body without white space, for the payload_hash fallback.
var vonageCompacts sync.Pool

// vonageVerify checks the JWT of the Authorization header, the body's hash in it and its iat.
func vonageVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	var v [4][]byte
	buf, err := bearerHS256(c, a.Secret, "Vonage", "the signature secret", vonageClaimNames, v[:])
	if err != nil {
		return Signed, err
	}
	defer jwtBufs.Put(buf)
	if err := vonagePayloadHash(c.Body, v[0]); err != nil {
		return Signed, err
	}
	iat, ok := jwtTime(v[1])
	if !ok {
		return Signed, &AuthError{Reason: "JWT iat missing or not a number of seconds, so the signature window cannot be checked"}
	}
	if err := checkSkew("JWT iat", iat, c.Received, a.MaxSkew); err != nil {
		return Signed, err
	}
	return Signed, jwtWindow(c.Received, a.MaxSkew, v[2], v[3])
}

// vonagePayloadHash checks the claim payload_hash (raw) against the body's SHA-256: of the raw
// bytes, else of the body without insignificant white space.
func vonagePayloadHash(body, raw []byte) error {
	var scratch [2 * sha256.Size]byte
	got, _, ok := stringValue(raw, scratch[:0])
	if !ok || raw[0] != '"' {
		return &AuthError{Reason: "JWT has no payload_hash claim, so it does not sign the body"}
	}
	if len(got) != 2*sha256.Size {
		return &AuthError{Reason: "JWT payload_hash is not a hex SHA-256"}
	}
	if vonageHashMatches(got, body) {
		return nil
	}
	if validValue(body) {
		p, _ := vonageCompacts.Get().(*[]byte)
		if p == nil {
			p = new([]byte)
		}
		defer vonageCompacts.Put(p)
		*p = appendCompact((*p)[:0], body)
		if len(*p) != len(body) && vonageHashMatches(got, *p) {
			return nil
		}
	}
	return &AuthError{Reason: "JWT payload_hash does not match the body"}
}

// vonageHashMatches compares a hex digest with SHA-256(b) in constant time.
func vonageHashMatches(got, b []byte) bool {
	sum := sha256.Sum256(b)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], sum[:])
	return equalHex(got, want[:])
}

func vonageNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	raw := lookup(top, "event")
	code, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(code) == 0 || raw[0] != '"' {
		return payloadErr("event", "missing or not a string")
	}
	ev.scratch = scratch
	status := vonageIsStatus(code)
	if status {
		raw := lookup(top, "status")
		st, scratch, ok := stringValue(raw, ev.scratch)
		if !ok || len(st) == 0 || raw[0] != '"' {
			return payloadErr("status", "missing or not a string: a %s callback reports a status", excerpt(code))
		}
		ev.scratch = scratch
		ev.ProviderEventType = ev.keep(code, []byte("/"), st)
	} else {
		ev.ProviderEventType = ev.keep(code)
	}
	ev.setTypeFrom(vonageEvents, vonagePrefix)

	subjectRaw := lookup(top, "sessionId")
	if id := lookup(top, "id"); status && id != nil {
		subjectRaw = id
	}
	subject, scratch, _ := stringValue(subjectRaw, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	for _, name := range [...]string{"timestamp", "updatedAt", "createdAt"} {
		if ev.setTime(intValue(lookup(top, name))) {
			break
		}
	}

	vonageData(ev, top)
	project := lookup(top, "projectId")
	if project == nil {
		project = lookup(top, "partnerId") // legacy archive callbacks (§3f 1)
	}
	app, scratch, _ := stringValue(project, ev.scratch[:0])
	ev.scratch = scratch
	ev.setSource(app)
	vonageSetID(ev, top, app, code, status)
	return nil
}

// vonageIsStatus reports an `event` that names a status callback family.
func vonageIsStatus(code []byte) bool {
	for _, f := range vonageStatusFamilies {
		if string(code) == f {
			return true
		}
	}
	return false
}

// vonageData sets data to the body compacted, without connection.data (the client's token data)
// wherever a connection appears: top-level, and under stream.
func vonageData(ev *Event, top []member) {
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "connection", "stream":
			if len(d) > 1 {
				d = append(d, ',')
			}
			d = appendWithout(appendKey(d, m), m.val, vonageCredentials)
		default:
			d = appendMember(d, m)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
}

// vonageCredentials are the members removed from connection and stream, at any depth.
var vonageCredentials = []string{"data"}

// vonageSetID sets the id from the fields §3e names for the event's family; an event whose
// payload is not documented hashes its data (the body carries no send time: the JWT does).
func vonageSetID(ev *Event, top []member, project, code []byte, status bool) {
	switch {
	case status:
		ev.hashID(project, vonageText(lookup(top, "id")), vonageText(lookup(top, "updatedAt")))
	case vonageIsSession(code):
		conn := nestedMember(lookup(top, "connection"), "id")
		stream := nestedMember(lookup(top, "stream"), "id")
		ev.hashID(project, vonageText(lookup(top, "sessionId")), vonageText(lookup(top, "timestamp")),
			vonageText(conn), vonageText(stream))
	default:
		ev.hashID(project, []byte("data"), ev.Data)
	}
}

// vonageText is a raw scalar for an id: a string's contents as written (escapes kept: the same
// bytes on every retry), a number's digits.
func vonageText(raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' {
		return raw[1 : len(raw)-1]
	}
	return raw
}

func vonageIsSession(code []byte) bool {
	for _, e := range vonageSessionEvents {
		if string(code) == e {
			return true
		}
	}
	return false
}

// signVonage signs body as Vonage's secure callbacks do at now: a JWT with iat, a jti, iss
// "Vonage" and the body's payload_hash, in Authorization: Bearer. The body is sent as it is.
func signVonage(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	sum := sha256.Sum256(body)
	// jti: a UUID-shaped value of its own per body and send time, as Vonage's is per request.
	jti := sha256.Sum256(strconv.AppendInt(append([]byte(nil), body...), now.UnixNano(), 10))
	claims := []byte(`{"iat":`)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, `,"jti":"`...)
	claims = hex.AppendEncode(claims, jti[:4])
	claims = append(claims, '-')
	claims = hex.AppendEncode(claims, jti[4:6])
	claims = append(claims, '-')
	claims = hex.AppendEncode(claims, jti[6:8])
	claims = append(claims, '-')
	claims = hex.AppendEncode(claims, jti[8:10])
	claims = append(claims, '-')
	claims = hex.AppendEncode(claims, jti[10:16])
	claims = append(claims, `","iss":"Vonage","payload_hash":"`...)
	claims = hex.AppendEncode(claims, sum[:])
	claims = append(claims, `"}`...)
	tok := signHS256(claims, a.Secret)
	return body, append(headers, Header{"Authorization", "Bearer " + string(tok)}), nil
}

// vonageFields: what every callback carries (§3a); connection.data, the client's token data, is
// removed before publishing (§3f 2).
var vonageFields = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the session monitoring event (connectionCreated, …) or the status callback's family (archive, render, broadcast, captions)"},
	{Path: "sessionId", Type: TString, Required: true, Desc: "the session"},
	{Path: "projectId", Type: TString, Desc: "the project (application): its API key, a decimal string"},
	{Path: "partnerId", Type: TInteger, Desc: "projectId, as legacy projects write it in archive callbacks (§3f 1)"},
	{Path: "applicationId", Type: TString, Desc: "the Vonage application, in unified accounts' callbacks (§3f 1)"},
}

// vonageEventFields: each event's own members (§3a): session monitoring by event, the status
// callbacks the REST object of their family. The SIP callbacks' payload is not documented
// (UNCONFIRMED): declared are the members of the service-disruption guide's callDestroyed.
var vonageEventFields = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range vonageEvents {
		family, _, status := strings.Cut(e.Code, "/")
		switch {
		case !status:
			m[e.Name] = vonageMonitoring(e.Code)
		case family == "archive":
			m[e.Name] = vonageArchive
		case family == "render":
			m[e.Name] = vonageRender
		case family == "broadcast":
			m[e.Name] = vonageBroadcast
		default: // captions
			m[e.Name] = vonageCaptions
		}
	}
	return m
}()

// vonageMonitoring: a session monitoring (or SIP) event's members, by its code.
func vonageMonitoring(code string) []Field {
	fs := []Field{
		{Path: "timestamp", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened (Unix time)"},
		{Path: "reason", Type: TString, Desc: "why, on *Destroyed and sessionNotification (serverRotation, clientDisconnected, forceDisconnected, …)"},
	}
	switch code {
	case "connectionCreated", "connectionDestroyed":
		fs = append(fs, Field{Path: "connection", Type: TObject, Required: true})
		fs = append(fs, under("connection", vonageConnection...)...)
	case "streamCreated", "streamDestroyed":
		fs = append(fs, vonageStream...)
	}
	return fs
}

var (
	vonageConnection = []Field{
		{Path: "id", Type: TString, Required: true, Desc: "the connection's id"},
		{Path: "createdAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
	}

	vonageStream = append([]Field{
		{Path: "stream", Type: TObject, Required: true},
		{Path: "stream.id", Type: TString, Required: true, Desc: "the stream's id"},
		{Path: "stream.connection", Type: TObject, Desc: "the publishing connection"},
		{Path: "stream.createdAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
		{Path: "stream.name", Type: TString},
		{Path: "stream.videoType", Type: TString, Desc: "camera, screen or custom"},
	}, under("stream.connection", vonageConnection...)...)

	// vonageStatus: the members of every status callback's object (§3a).
	vonageStatus = []Field{
		{Path: "id", Type: TString, Required: true, Desc: "the archive's, composer's or broadcast's id (a UUID); the CloudEvent's subject"},
		{Path: "status", Type: TString, Required: true, Desc: "the status the callback reports"},
		{Path: "reason", Type: TString},
		{Path: "createdAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
		{Path: "updatedAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
		{Path: "resolution", Type: TString, Desc: "WIDTHxHEIGHT, such as 1280x720"},
	}

	vonageArchive = append(slices.Clone(vonageStatus), []Field{
		{Path: "name", Type: TString},
		{Path: "duration", Type: TInteger, Unit: "s"},
		{Path: "size", Type: TInteger, Unit: "bytes"},
		{Path: "outputMode", Type: TString, Desc: "composed or individual"},
		{Path: "streamMode", Type: TString, Desc: "auto or manual"},
		{Path: "hasAudio", Type: TBool},
		{Path: "hasVideo", Type: TBool},
		{Path: "sha256sum", Type: TString},
		{Path: "url", Type: "string|null", Desc: "where to download the archive; null until it is available"},
		{Path: "password", Type: TString, Desc: "of an encrypted archive's download"},
		{Path: "multiArchiveTag", Type: TString},
	}...)

	vonageRender = append(slices.Clone(vonageStatus), []Field{
		{Path: "streamId", Type: TString, Desc: "the stream the composer publishes"},
		{Path: "url", Type: TString, Desc: "the page the composer renders"},
		{Path: "name", Type: TString},
	}...)

	// vonageBroadcast: the REST API's broadcast object; the callback's payload is UNCONFIRMED (§3f 4).
	vonageBroadcast = append(slices.Clone(vonageStatus), []Field{
		{Path: "multiBroadcastTag", Type: TString},
		{Path: "maxDuration", Type: TInteger, Unit: "s"},
		{Path: "maxBitrate", Type: TInteger, Unit: "bps"},
		{Path: "streamMode", Type: TString, Desc: "auto or manual"},
		{Path: "hasAudio", Type: TBool},
		{Path: "hasVideo", Type: TBool},
		{Path: "broadcastUrls", Type: TObject, Desc: "the HLS and RTMP outputs, as the start request set them (open)"},
		{Path: "settings", Type: TObject, Desc: "the HLS settings of the start request, echoed (open)"},
		{Path: "streams", Type: TArray, Desc: "the streams of a manual broadcast (open items)"},
	}...)

	// vonageCaptions: the REST API's captions object; the callback's payload is UNCONFIRMED (§3f 4).
	vonageCaptions = []Field{
		{Path: "captionId", Type: TString, Desc: "the captions' id; the CloudEvent's subject"},
		{Path: "id", Type: TString},
		{Path: "status", Type: TString, Required: true, Desc: "the status the callback reports"},
		{Path: "reason", Type: TString},
		{Path: "createdAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
		{Path: "updatedAt", Type: TInteger, Unit: "ms", Desc: "Unix time"},
		{Path: "duration", Type: TInteger, Unit: "s"},
		{Path: "languageCode", Type: TString},
		{Path: "provider", Type: TString},
	}
)

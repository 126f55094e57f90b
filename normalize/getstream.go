package normalize

import "time"

// Stream (GetStream) Video webhooks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §7.2): one JSON
// object per event, {"type","created_at", "call_cid","call","session_id","participant","user"…},
// POSTed with the headers X-Signature, X-Api-Key (which app's key pair signed), X-Webhook-Id
// (unique per event, the same on every retry) and X-Webhook-Attempt (the retry counter). The
// signature is lower-hex HMAC-SHA256(API secret, body), over the decompressed body when Stream
// sends it gzip (Content-Encoding: gzip): the bridge's ingest decompresses such a body, bounded,
// before Verify and Normalize see it, so this file only ever reads the plain JSON the signature
// covers (vector G1 of §10 is reproduced in getstream_test.go). Stream signs no time, so there
// is no signature window: retries and replays are caught by the id, X-Webhook-Id — a header the
// signature does not cover, so a captured body replayed under another X-Webhook-Id is a new
// event (nothing in Stream's scheme can tell). Without the header (callbridge send names none)
// the id is a hash of the body as sent (compacted), which carries no attempt counter. The type is Stream's own, already
// dotted (call.session_started): kept as it is; a type the table lacks is kept as well when it
// is dotted lower-case ASCII (user.updated), else it is unknown.<type>. The catalogue is the
// call events named in §7.2 and in Stream's SDKs; §7.2 marks the full list UNCONFIRMED.
var GetStream = Provider{
	ID:         "getstream",
	TypePrefix: getstreamPrefix,
	Reply:      []byte(`{}`), // any 2xx within about 6 s; the body is not read
	SecretName: "API secret (Dashboard > app > App Access Keys)",
	SecretVar:  "API_SECRET",
	Scheme: "header `X-Signature` = lower-hex HMAC-SHA256(API secret, body); a gzip body (`Content-Encoding: gzip`) is accepted: " +
		"the bridge decompresses it before the check, and the signature covers the decompressed JSON, as Stream signs it",
	Window:        "none: Stream signs no time; retries and replays are deduplicated by `X-Webhook-Id` (not signed), else a hash of the body",
	Subject:       "`call_cid` (`<call type>:<call id>`)",
	TimeSource:    "`created_at` (RFC 3339, ns), else receipt",
	Events:        getstreamEvents,
	Data:          getstreamData,
	EventData:     getstreamEventData,
	Canonical:     getstreamCanonical,
	Unknown:       "<type> as sent when dotted lower-case ASCII (user.updated), else unknown.<type>",
	IsProbe:       func(*Callback) bool { return false },
	Verify:        func(c *Callback, a *Auth) (Verified, error) { return getstreamSig.Verify(c, a) },
	Normalize:     getstreamNormalize,
	Sign:          signGetStream,
	Distinct:      []string{"session_id"},
	Credentials:   []string{"call.egress.rtmps[].stream_key"},
	Code:          "type",
	Sample:        []byte(`{"type":"call.session_participant_joined","created_at":"2025-01-01T00:00:00.123456789Z","call_cid":"default:INVENTEDcall","session_id":"INVENTED-session","participant":{"user":{"id":"alice"},"user_session_id":"INVENTED-us","joined_at":"2025-01-01T00:00:00.1Z","role":"user"}}`),
	SampleHeaders: getstreamHeaders,
}

const getstreamPrefix = "io.getstream."

// getstreamSig is X-Signature = hex(HMAC-SHA256(API secret, body)) (§7.2b).
var getstreamSig = MustCompileHMAC(HMACSpec{Header: "X-Signature"})

// getstreamHeaders: Stream names the app's API key (not a secret) in every callback.
var getstreamHeaders = []Header{{"X-Api-Key", "INVENTEDapikey"}}

// The type names as Stream Video spells them (§7.2a; Stream's SDK event enums).
var getstreamEvents = []EventDef{
	{"call.created", "call.created", "call created"},
	{"call.updated", "call.updated", "call settings or custom data updated"},
	{"call.ended", "call.ended", "call ended for everyone"},
	{"call.deleted", "call.deleted", "call deleted"},
	{"call.ring", "call.ring", "call ringing the members"},
	{"call.notification", "call.notification", "members notified of the call"},
	{"call.accepted", "call.accepted", "a callee accepted a ringing call"},
	{"call.rejected", "call.rejected", "a callee rejected a ringing call"},
	{"call.missed", "call.missed", "a ringing call was missed"},
	{"call.live_started", "call.live_started", "backstage ended: the call went live"},
	{"call.session_started", "call.session_started", "a session (the first participant joined) started"},
	{"call.session_ended", "call.session_ended", "the session ended (the last participant left)"},
	{"call.session_participant_joined", "call.session_participant_joined", "a participant joined the session"},
	{"call.session_participant_left", "call.session_participant_left", "a participant left the session"},
	{"call.session_participant_count_updated", "call.session_participant_count_updated", "participant counts by role changed"},
	{"call.member_added", "call.member_added", "members added to the call"},
	{"call.member_removed", "call.member_removed", "members removed from the call"},
	{"call.member_updated", "call.member_updated", "members updated"},
	{"call.member_updated_permission", "call.member_updated_permission", "members' roles or permissions changed"},
	{"call.permission_request", "call.permission_request", "a user asked for a permission"},
	{"call.permissions_updated", "call.permissions_updated", "a user's permissions changed"},
	{"call.blocked_user", "call.blocked_user", "a user was blocked from the call"},
	{"call.unblocked_user", "call.unblocked_user", "a user was unblocked"},
	{"call.user_muted", "call.user_muted", "users were muted"},
	{"call.reaction_new", "call.reaction_new", "a reaction was sent"},
	{"call.recording_started", "call.recording_started", "recording started"},
	{"call.recording_stopped", "call.recording_stopped", "recording stopped"},
	{"call.recording_ready", "call.recording_ready", "a recording file is ready (call_recording.url)"},
	{"call.recording_failed", "call.recording_failed", "recording failed"},
	{"call.hls_broadcasting_started", "call.hls_broadcasting_started", "HLS broadcast started"},
	{"call.hls_broadcasting_stopped", "call.hls_broadcasting_stopped", "HLS broadcast stopped"},
	{"call.hls_broadcasting_failed", "call.hls_broadcasting_failed", "HLS broadcast failed"},
	{"call.transcription_started", "call.transcription_started", "transcription started"},
	{"call.transcription_stopped", "call.transcription_stopped", "transcription stopped"},
	{"call.transcription_ready", "call.transcription_ready", "a transcription file is ready"},
	{"call.transcription_failed", "call.transcription_failed", "transcription failed"},
	{"call.closed_caption", "call.closed_caption", "a closed caption line"},
}

// getstreamMaxType bounds a type kept as Stream sent it (a longer one is unknown.<type>, cut
// downstream as unknown codes are).
const getstreamMaxType = 128

func getstreamNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	raw := lookup(top, "type")
	code, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(code) == 0 || raw[0] != '"' {
		return payloadErr("type", "missing or not a non-empty string")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	switch {
	case findEvent(getstreamEvents, code) != nil:
		ev.setTypeFrom(getstreamEvents, getstreamPrefix)
	case len(code) <= getstreamMaxType && dottedLower(code):
		// A type of Stream's own not (yet) in the table, safe in a subject as it is.
		ev.Type = ev.keep([]byte(getstreamPrefix), code)
		ev.EventType = ev.Type[len(getstreamPrefix):]
	default:
		ev.setUnknownType(getstreamPrefix, code)
	}

	subject, scratch, _ := stringValue(lookup(top, "call_cid"), ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	if at, ok := parseRFC3339(lookup(top, "created_at")); ok && at.Year() >= 1970 && at.Year() <= 9999 {
		ev.Time = at.UTC().Truncate(time.Millisecond) // as published: CloudEvents time is written in ms
	}

	// data is the event as sent, compacted (no signature material or send time is in the body),
	// without the RTMP egress stream keys: a credential (call.egress.rtmps[].stream_key).
	ev.data = appendWithout(ev.data[:0], c.Body, getstreamCredentials)
	ev.Data = ev.data

	ev.setSource(nil)
	if id := c.Header.Peek("X-Webhook-Id"); len(id) > 0 {
		ev.setProviderID(id)
	} else {
		ev.hashID(ev.Data)
	}
	return nil
}

// signGetStream signs body as Stream does. It names no X-Webhook-Id: the event sent is then
// identified by its body, as one without the header is, so a resend of one body (callbridge
// send, bench) is one event and signing never changes the id.
func signGetStream(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	sig, err := getstreamSig.Sign(body, a.Secret, now, getstreamHeaders)
	if err != nil {
		return nil, nil, err
	}
	return body, append([]Header{{"Content-Type", "application/json"}}, sig...), nil
}

// getstreamCredentials are members kept off the bus wherever they are in the body: an RTMP
// egress's stream key. Provider.Credentials names where the call object carries it
// (call.egress.rtmps[].stream_key), so a dead letter has it redacted.
var getstreamCredentials = []string{"stream_key"}

// getstreamCanonical maps Stream Video's call sessions, their participants, recordings and HLS
// broadcasts to the canonical RTC events (SPEC §9). The room is the call (call_cid), one run of
// it a session: a call is an object that outlives its sessions (created ahead, ended by a host),
// so call.created and call.ended are not the room's start and end, its sessions are.
var getstreamCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "call_cid"},
		{To: "room_session_id", From: "session_id"},
	},
	Events: map[string][]Mapping{
		"call.session_started":            {{Type: RoomStarted}},
		"call.session_ended":              {{Type: RoomEnded}},
		"call.session_participant_joined": {{Type: ParticipantJoined, Set: getstreamParticipantSets()}},
		"call.session_participant_left": {{Type: ParticipantLeft, Set: getstreamParticipantSets(
			Set{To: "reason", From: "reason"},
			Set{To: "duration_s", From: "duration_seconds"})}},

		"call.recording_started": {{Type: RecordingStarted, Set: getstreamRecordingSets()}},
		"call.recording_stopped": {{Type: RecordingEnded, Set: getstreamRecordingSets()}},
		"call.recording_ready": {{Type: RecordingFileReady, Set: getstreamRecordingSets(
			Set{To: "room_session_id", From: "call_recording.session_id"},
			Set{To: "recording.files", From: "call_recording.url"})}},
		"call.recording_failed": {{Type: RecordingFailed, Set: getstreamRecordingSets(Set{To: "recording.error", From: "error"})}},

		"call.hls_broadcasting_started": {{Type: RelayStarted, Set: getstreamHLSSets(Set{To: "relay.url", From: "hls_playlist_url"})}},
		"call.hls_broadcasting_stopped": {{Type: RelayEnded, Set: getstreamHLSSets()}},
		"call.hls_broadcasting_failed":  {{Type: RelayEnded, Set: getstreamHLSSets(Set{To: "relay.error", From: "error"})}},
	},
	Gaps: "no app id in the body (X-Api-Key is a header), no track publish or unpublish, no sequence; a leave's reason is not a documented code (it is other, with the text); roles are the app's own names (host and admin are host, user, call_member and guest participant, others left out); role changes come per call member (call.member_updated_permission), not per participant, and are not mapped; RTMP broadcasts, transcriptions and call.live_started have no counterpart",
}

// getstreamParticipantSets: the participant's user, its session and its call role.
func getstreamParticipantSets(more ...Set) []Set {
	return append([]Set{
		{To: "participant_id", From: "participant.user.id"},
		{To: "participant_session_id", From: "participant.user_session_id"},
		{To: "role", From: "participant.role", Values: map[string]string{
			"host": "host", "admin": "host", "user": "participant", "call_member": "participant", "guest": "participant"}},
	}, more...)
}

// getstreamRecordingSets: a recording is an egress of the call.
func getstreamRecordingSets(more ...Set) []Set {
	return append([]Set{{To: "recording.task_id", From: "egress_id"}}, more...)
}

// getstreamHLSSets: an HLS broadcast pushes the call to Stream's CDN.
func getstreamHLSSets(more ...Set) []Set {
	return append([]Set{
		{To: "relay.task_id", From: "egress_id"},
		{To: "relay.direction", Value: "push"},
	}, more...)
}

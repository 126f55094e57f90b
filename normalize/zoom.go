package normalize

import (
	"time"
)

// Zoom webhooks of a Video SDK app (session.*) and of a Meetings app (meeting.*, recording.*,
// webinar.*): {"event","event_ts" (ms, when the event occurred),"payload":{"account_id",
// "object":{…}}} (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §2; event names and payloads as
// zoom/rivet-javascript types them, videosdk.d.ts and meetings.d.ts @7309ea3). Every request
// carries x-zm-signature = "v0=" + hex(HMAC-SHA256(Secret Token, "v0:" +
// x-zm-request-timestamp + ":" + raw body)), declared below as an HMACScheme (§2b; self vector
// Z4 reproduced in zoom_test.go). x-zm-request-timestamp (s) is signed and held to the signature
// window. Zoom publishes no tolerance, and whether a retry (+5, +20, +60 min) carries a fresh
// timestamp is UNCONFIRMED (§2c): if it does not, a 5-minute window refuses every retry, and
// raising CALLBRIDGE_MAX_CLOCK_SKEW (to 90m, past the last retry) is the remedy;
// CALLBRIDGE_ZOOM_VERIFY=report with one captured retry settles it.
//
// endpoint.url_validation (sent when the endpoint is saved and every 72 h) is answered as Zoom
// requires, {"plainToken","encryptedToken"} (handshake.go; vectors Z1 and Z5), only once its own
// signature verified, and never published.
//
// Zoom sends no event id (§2e): the id hashes the event name, event_ts, the entity
// (payload.object session_id, id, uuid), the user or participant, and the ids of the recording
// files — never x-zm-request-id (its stability across retries is UNCONFIRMED) nor the header
// timestamp. Event names are dotted already: the type is the name itself, for names the table
// lacks too when they are dotted lower-case ASCII (as generic sources keep theirs), else
// unknown.<name sanitised>. Credentials are dropped from data at any depth of objects:
// download_token (recording download), password and recording_play_passcode (meeting and
// recording passcodes), join_url and start_url (links that carry the passcode or the host's
// ZAK), stream_key (live streaming).
var Zoom = Provider{
	ID:         "zoom",
	TypePrefix: zoomPrefix,
	Reply:      []byte(`{}`), // Zoom reads only the status: 200 or 204 within 3 s
	SecretName: "Secret Token (app > Features > Access > Secret Token)",
	SecretVar:  "SECRET_TOKEN",
	// Zoom waits 3 s for the answer; 2.5 s leaves it room to travel.
	PublishTimeout: 2500 * time.Millisecond,
	Scheme: "header `x-zm-signature` = `v0=` + lower hex(HMAC-SHA256(secret token, `v0:<x-zm-request-timestamp>:<body>`)); " +
		"`endpoint.url_validation` is answered `{\"plainToken\",\"encryptedToken\"}` (hex HMAC-SHA256 of plainToken) only when its own signature verifies, and never published",
	Window: "`x-zm-request-timestamp` (s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way. Zoom documents no window, and whether a retry (+5, +20, +60 min) carries a fresh timestamp is UNCONFIRMED: " +
		"if not, the default 5m refuses every retry and raising `CALLBRIDGE_MAX_CLOCK_SKEW` (to 90m) is the remedy; `CALLBRIDGE_ZOOM_VERIFY=report` with one captured retry confirms it",
	Subject:    "`payload.object.session_id` (Video SDK), else `payload.object.id` (meeting or webinar number), else `payload.object.uuid`",
	TimeSource: "`event_ts` (ms, when the event occurred); else receipt",
	Events:     zoomEvents,
	Data:       zoomData,
	EventData:  zoomEventData,
	Canonical:  zoomCanonical,
	Unknown:    "the event name itself when it is dotted lower-case ASCII, else unknown.<event>; `endpoint.url_validation`: answered when signed, not published",
	IsProbe:    zoomIsChallenge,
	Answer:     zoomAnswer,
	Verify:     zoomSig.Verify,
	Normalize:  zoomNormalize,
	Sign:       signZoom,
	Distinct:   []string{"payload.object.session_id"},
	Code:       "event",
	Sample:     []byte(`{"event":"session.user_joined","event_ts":1739923528123,"payload":{"account_id":"EXAMPLEacct","object":{"id":"EXAMPLEid","session_id":"EXAMPLEsid==","session_name":"demo-session","session_key":"","user":{"id":"16778240","name":"Alice","join_time":"2025-02-19T00:05:28Z","user_key":"alice"}}}}`),
}

const zoomPrefix = "us.zoom."

// zoomSig is x-zm-signature (§2b, §2h).
var zoomSig = MustCompileHMAC(HMACSpec{
	Content:   "v0:{header:x-zm-request-timestamp}:{body}",
	Header:    "x-zm-signature",
	Prefix:    "v0=",
	Timestamp: "header:x-zm-request-timestamp",
	Unit:      Seconds,
})

// zoomEvents: the Video SDK events of §2a, and the Meetings events most apps subscribe to.
var zoomEvents = []EventDef{
	{"session.started", "session.started", "Video SDK session began"},
	{"session.ended", "session.ended", "Video SDK session ended"},
	{"session.user_joined", "session.user_joined", "a user joined the session"},
	{"session.user_left", "session.user_left", "a user left the session (leave_reason)"},
	{"session.sharing_started", "session.sharing_started", "screen share started"},
	{"session.sharing_ended", "session.sharing_ended", "screen share ended"},
	{"session.recording_started", "session.recording_started", "cloud recording started"},
	{"session.recording_paused", "session.recording_paused", "cloud recording paused"},
	{"session.recording_resumed", "session.recording_resumed", "cloud recording resumed"},
	{"session.recording_stopped", "session.recording_stopped", "cloud recording stopped"},
	{"session.recording_completed", "session.recording_completed", "recording files ready (recording_files, participant_audio_files, participant_video_files)"},
	{"session.recording_deleted", "session.recording_deleted", "recording deleted"},
	{"session.recording_trashed", "session.recording_trashed", "recording moved to trash"},
	{"session.recording_recovered", "session.recording_recovered", "recording recovered from trash"},
	{"session.recording_transcript_completed", "session.recording_transcript_completed", "transcript ready"},
	{"session.recording_transcript_failed", "session.recording_transcript_failed", "transcript failed"},
	{"session.live_streaming_started", "session.live_streaming_started", "live streaming started"},
	{"session.live_streaming_stopped", "session.live_streaming_stopped", "live streaming stopped"},
	{"session.alert", "session.alert", "quality alert (issues)"},
	{"session.user_phone_callout_ringing", "session.user_phone_callout_ringing", "phone dial-out ringing"},
	{"session.user_phone_callout_accepted", "session.user_phone_callout_accepted", "phone dial-out accepted"},
	{"session.user_phone_callout_rejected", "session.user_phone_callout_rejected", "phone dial-out rejected"},
	{"session.user_phone_callout_missed", "session.user_phone_callout_missed", "phone dial-out missed"},
	{"session.user_room_system_callout_ringing", "session.user_room_system_callout_ringing", "room system dial-out ringing"},
	{"session.user_room_system_callout_accepted", "session.user_room_system_callout_accepted", "room system dial-out accepted"},
	{"session.user_room_system_callout_rejected", "session.user_room_system_callout_rejected", "room system dial-out rejected"},
	{"session.user_room_system_callout_missed", "session.user_room_system_callout_missed", "room system dial-out missed"},
	{"session.user_room_system_callout_failed", "session.user_room_system_callout_failed", "room system dial-out failed (reason_type)"},
	{"meeting.started", "meeting.started", "Meetings: meeting started"},
	{"meeting.ended", "meeting.ended", "Meetings: meeting ended"},
	{"meeting.participant_joined", "meeting.participant_joined", "Meetings: participant joined"},
	{"meeting.participant_left", "meeting.participant_left", "Meetings: participant left (leave_reason)"},
	{"meeting.participant_joined_waiting_room", "meeting.participant_joined_waiting_room", "Meetings: participant entered the waiting room"},
	{"meeting.participant_admitted", "meeting.participant_admitted", "Meetings: participant admitted from the waiting room"},
	{"meeting.sharing_started", "meeting.sharing_started", "Meetings: screen share started"},
	{"meeting.sharing_ended", "meeting.sharing_ended", "Meetings: screen share ended"},
	{"meeting.live_streaming_started", "meeting.live_streaming_started", "Meetings: live streaming started"},
	{"meeting.live_streaming_stopped", "meeting.live_streaming_stopped", "Meetings: live streaming stopped"},
	{"meeting.created", "meeting.created", "Meetings: meeting scheduled"},
	{"meeting.updated", "meeting.updated", "Meetings: meeting changed"},
	{"meeting.deleted", "meeting.deleted", "Meetings: meeting deleted"},
	{"recording.started", "recording.started", "Meetings: cloud recording started"},
	{"recording.stopped", "recording.stopped", "Meetings: cloud recording stopped"},
	{"recording.completed", "recording.completed", "Meetings: recording files ready (recording_files)"},
	{"recording.transcript_completed", "recording.transcript_completed", "Meetings: transcript ready"},
	{"webinar.started", "webinar.started", "Meetings: webinar started"},
	{"webinar.ended", "webinar.ended", "Meetings: webinar ended"},
	{"webinar.participant_joined", "webinar.participant_joined", "Meetings: webinar participant joined"},
	{"webinar.participant_left", "webinar.participant_left", "Meetings: webinar participant left"},
}

// zoomCredentials are the members dropped from data wherever they are in an object.
var zoomCredentials = [...]string{"download_token", "password", "recording_play_passcode", "join_url", "start_url", "stream_key"}

// zoomObject is what the event's id and subject take from payload.object: the last of each
// member, but the first of each file list (recording_files, participant_audio_files,
// participant_video_files: the arrays whose elements' ids make a recording event's id).
type zoomObject struct {
	sessionID, id, uuid, user, participant []byte
	files                                  [3][]byte
}

func (o *zoomObject) collect(m member) {
	switch string(m.key) {
	case "session_id":
		o.sessionID = m.val
	case "id":
		o.id = m.val
	case "uuid":
		o.uuid = m.val
	case "user":
		o.user = m.val
	case "participant":
		o.participant = m.val
	case "recording_files":
		o.setFiles(0, m.val)
	case "participant_audio_files":
		o.setFiles(1, m.val)
	case "participant_video_files":
		o.setFiles(2, m.val)
	}
}

func (o *zoomObject) setFiles(i int, list []byte) {
	if o.files[i] == nil {
		o.files[i] = list
	}
}

func zoomNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	if err := setDottedType(ev, lookup(top, "event"), "event", zoomEvents, zoomPrefix); err != nil {
		return err
	}
	// data and payload.object's members in one walk over the body, which is valid JSON once
	// members accepted it: each object is read once, never checked again.
	w := zoomWalk{d: append(ev.data[:0], '{')}
	first := true
	for _, m := range top {
		_, first = w.member(m, first, zoomAtTop)
	}
	ev.data = append(w.d, '}')
	ev.Data = ev.data

	ev.setFirstSubject(w.o.sessionID, w.o.id, w.o.uuid)

	eventTS := lookup(top, "event_ts")
	ev.Time = c.Received.UTC()
	ev.setTime(intValue(eventTS))

	ev.setSource(nil)
	zoomSetID(ev, &w.o, eventTS)
	return nil
}

// setDottedType sets the type from a sender's dotted event name (Zoom, Daily), in the member
// field: the table's, or the name itself when it is dotted lower-case ASCII (as generic sources
// keep theirs), else unknown.<name sanitised>.
func setDottedType(ev *Event, raw []byte, field string, defs []EventDef, prefix string) error {
	name, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || raw[0] != '"' || len(name) == 0 {
		return payloadErr(field, "want a non-empty string: %s", excerpt(raw))
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(name)
	switch {
	case findEvent(defs, name) != nil:
		ev.setTypeFrom(defs, prefix)
	case len(name) <= maxWebhookType && dottedLower(name):
		ev.Type = ev.keep([]byte(prefix), name) // setType's, without converting name to a string
		ev.EventType = ev.Type[len(prefix):]
	default:
		ev.setUnknownType(prefix, ev.ProviderEventType)
	}
	return nil
}

// setFirstSubject sets the subject to the first of raws that is a non-empty string or number.
func (ev *Event) setFirstSubject(raws ...[]byte) {
	for _, raw := range raws {
		if subject, scratch, ok := stringValue(raw, ev.scratch[:0]); ok && len(subject) > 0 {
			ev.scratch = scratch
			ev.Subject = ev.keep(subject)
			return
		}
	}
}

// zoomWalk builds data: the members of the body without zoomCredentials, looking into nested
// objects too (arrays are copied as they are: Zoom's arrays hold files and issues). On the way
// it collects the members of payload.object (its first member of that name) into o.
type zoomWalk struct {
	d          []byte
	o          zoomObject
	objectSeen bool
}

// Where a member is: what the walk does with the object it holds.
const (
	zoomAtTop     = iota // the body's: payload is walked as zoomAtPayload
	zoomAtPayload        // payload's: object (the first) is walked as zoomAtObject
	zoomAtObject         // payload.object's: collected
	zoomAtNested         // any other
)

// member appends m, a member of an object at where, after a comma unless first is true. m.val
// starts with the member's value and may run past it: member returns the value's length, and
// whether the object's next member is still the first. An object is walked as it is copied, once.
func (w *zoomWalk) member(m member, first bool, where int) (n int, stillFirst bool) {
	for _, k := range zoomCredentials {
		if string(m.key) == k {
			return skipValid(m.val, 0), first
		}
	}
	if !first {
		w.d = append(w.d, ',')
	}
	w.d = appendKey(w.d, m)
	inner := zoomAtNested
	switch {
	case where == zoomAtTop && string(m.key) == "payload":
		inner = zoomAtPayload
	case where == zoomAtPayload && string(m.key) == "object" && !w.objectSeen:
		w.objectSeen, inner = true, zoomAtObject
	}
	if len(m.val) == 0 || m.val[0] != '{' {
		n = skipValid(m.val, 0)
		w.d = appendValidCompact(w.d, m.val[:n])
		return n, false
	}
	v := m.val
	w.d = append(w.d, '{')
	innerFirst := true
	n = walkObject(v, 0, func(key []byte, escaped bool, at int) int {
		var k int
		k, innerFirst = w.member(member{key: key, val: v[at:], escaped: escaped}, innerFirst, inner)
		if inner == zoomAtObject {
			w.o.collect(member{key: key, val: v[at : at+k], escaped: escaped})
		}
		return at + k
	})
	w.d = append(w.d, '}')
	return n, false
}

// zoomSetID hashes what identifies the event (§2e): event_ts, the entity, the user or
// participant, and the recording files' ids, as sent.
func zoomSetID(ev *Event, o *zoomObject, eventTS []byte) {
	start := len(ev.scratch)
	ids := ev.scratch
	for _, list := range o.files {
		eachValidElement(list, func(f []byte) { ids = appendIdentityPart(ids, validMember(f, "id")) })
	}
	ev.scratch = ids
	var userID, participantUserID, participantUUID, participantID []byte
	userID = validMember(o.user, "id")
	eachValidMember(o.participant, func(m member) {
		switch {
		case participantUserID == nil && string(m.key) == "user_id":
			participantUserID = m.val
		case participantUUID == nil && string(m.key) == "participant_uuid":
			participantUUID = m.val
		case participantID == nil && string(m.key) == "id":
			participantID = m.val
		}
	})
	ev.hashID(eventTS, o.sessionID, o.id, o.uuid, userID, participantUserID, participantUUID, participantID, ids[start:])
	ev.scratch = ev.scratch[:start]
}

// signZoom signs body as Zoom does at now: x-zm-request-timestamp and x-zm-signature. The body
// is sent as it is: event_ts is when the event occurred, not the send time.
func signZoom(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers, err := zoomSig.Sign(body, a.Secret, now, nil)
	if err != nil {
		return nil, nil, err
	}
	return body, append([]Header{{"Content-Type", "application/json; charset=utf-8"}}, headers...), nil
}

// zoomCanonical maps Zoom's Video SDK sessions and Meetings (meetings, webinars, cloud
// recordings) to the canonical RTC events (SPEC §9). A session's room is its session_name (the
// topic participants join) and its run the session_id; a meeting's room is its number and its
// run the instance's uuid. Zoom's leave_reason is a sentence that names the user ("Alice left the
// session."), not a code: reason is other, with the sentence in reason_native.
var zoomCanonical = &Canonical{
	Base: []Set{{To: "app_id", From: "payload.account_id"}},
	Events: map[string][]Mapping{
		"session.started":                {{Type: RoomStarted, Set: zoomSessionSets()}},
		"session.ended":                  {{Type: RoomEnded, Set: zoomSessionSets()}},
		"session.user_joined":            {{Type: ParticipantJoined, Set: zoomSessionSets(zoomSessionUser)}},
		"session.user_left":              {{Type: ParticipantLeft, Set: zoomSessionSets(zoomSessionUser, zoomSet("reason", "payload.object.user.leave_reason"))}},
		"session.sharing_started":        {{Type: StreamPublished, Set: zoomSessionSets(zoomSessionUser, zoomScreen)}},
		"session.sharing_ended":          {{Type: StreamUnpublished, Set: zoomSessionSets(zoomSessionUser, zoomScreen)}},
		"session.recording_started":      {{Type: RecordingStarted, Set: zoomSessionSets()}},
		"session.recording_stopped":      {{Type: RecordingEnded, Set: zoomSessionSets()}},
		"session.recording_completed":    {{Type: RecordingFileReady, Set: zoomSessionSets(zoomRecFiles)}},
		"session.live_streaming_started": {{Type: RelayStarted, Set: zoomSessionSets(zoomRelay...)}},
		"session.live_streaming_stopped": {{Type: RelayEnded, Set: zoomSessionSets(zoomRelay...)}},

		"meeting.started":                {{Type: RoomStarted, Set: zoomMeetingSets()}},
		"meeting.ended":                  {{Type: RoomEnded, Set: zoomMeetingSets()}},
		"meeting.participant_joined":     {{Type: ParticipantJoined, Set: zoomMeetingSets(zoomMeetingUser)}},
		"meeting.participant_left":       {{Type: ParticipantLeft, Set: zoomMeetingSets(zoomMeetingUser, zoomSet("reason", "payload.object.participant.leave_reason"))}},
		"meeting.sharing_started":        {{Type: StreamPublished, Set: zoomMeetingSets(zoomMeetingUser, zoomScreen)}},
		"meeting.sharing_ended":          {{Type: StreamUnpublished, Set: zoomMeetingSets(zoomMeetingUser, zoomScreen)}},
		"meeting.live_streaming_started": {{Type: RelayStarted, Set: zoomMeetingSets(zoomRelay...)}},
		"meeting.live_streaming_stopped": {{Type: RelayEnded, Set: zoomMeetingSets(zoomRelay...)}},
		"recording.started":              {{Type: RecordingStarted, Set: zoomMeetingSets()}},
		"recording.stopped":              {{Type: RecordingEnded, Set: zoomMeetingSets()}},
		"recording.completed":            {{Type: RecordingFileReady, Set: zoomMeetingSets(zoomRecFiles)}},
		"webinar.started":                {{Type: RoomStarted, Set: zoomMeetingSets()}},
		"webinar.ended":                  {{Type: RoomEnded, Set: zoomMeetingSets()}},
		"webinar.participant_joined":     {{Type: ParticipantJoined, Set: zoomMeetingSets(zoomMeetingUser)}},
		"webinar.participant_left":       {{Type: ParticipantLeft, Set: zoomMeetingSets(zoomMeetingUser, zoomSet("reason", "payload.object.participant.leave_reason"))}},
	},
	Gaps: "no role (host, panelist or attendee is not in the participant events), no participant session, no sequence and no durations (meetings give a scheduled duration in minutes); leave_reason is a sentence, so reason is always other; no recording id, and only recording_files are listed (not the per-participant audio and video files); recording pause and resume, waiting-room, callout and transcript events have no counterpart",
}

// zoomSet: a field read from the native data.
func zoomSet(to, from string) Set { return Set{To: to, From: from} }

var (
	zoomSessionUser = zoomSet("participant_id", "payload.object.user.id")
	zoomMeetingUser = zoomSet("participant_id", "payload.object.participant.user_id")
	zoomScreen      = Set{To: "track.kind", Value: "screen"}
	zoomRecFiles    = zoomSet("recording.files", "payload.object.recording_files[].download_url")
	zoomRelay       = []Set{
		{To: "relay.direction", Value: "push"},
		zoomSet("relay.url", "payload.object.live_streaming.custom_live_streaming_settings.stream_url"),
	}
)

// zoomSessionSets: a Video SDK session's name and id.
func zoomSessionSets(more ...Set) []Set {
	return append([]Set{
		zoomSet("room_id", "payload.object.session_name"),
		zoomSet("room_session_id", "payload.object.session_id"),
	}, more...)
}

// zoomMeetingSets: a meeting's or webinar's number and instance.
func zoomMeetingSets(more ...Set) []Set {
	return append([]Set{
		zoomSet("room_id", "payload.object.id"),
		zoomSet("room_session_id", "payload.object.uuid"),
	}, more...)
}

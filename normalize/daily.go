package normalize

import (
	"bytes"
	"strings"
	"sync/atomic"
	"time"
)

// Daily (daily.co) webhooks: {"version","type","id","payload":{…},"event_ts"} for every room of
// the domain (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §4). X-Webhook-Signature = base64
// (HMAC-SHA256(base64-decoded hmac secret, X-Webhook-Timestamp + "." + raw body)), declared
// below as an HMACScheme (§4b, from Daily's sample code as quoted by integrators: medium
// confidence; self vectors D1 and D2 reproduced in daily_test.go). X-Webhook-Timestamp is signed
// and held to the signature window; its unit is not stated by Daily (observed as 13 digits, ms,
// by integrators: UNCONFIRMED, §4c), so both readings are accepted: 12 digits or more are ms,
// fewer are s. Sign writes ms, as observed. CALLBRIDGE_DAILY_VERIFY=report with one captured
// request confirms the algorithm and the unit.
//
// Daily's hmac is base64 (Daily returns one, or takes one that "must be BASE-64 encoded"): the
// key is its decoding. A configured secret that is not base64 at all, which Daily never issues,
// is used as written, and a failed check then says so.
//
// When a webhook is created Daily posts {"test":"test"} and fails the create call unless it gets
// 200 quickly (§4d). The ping is answered 200 `{}` and never published, without checking its
// signature: Daily returns the hmac in the response to that very create call, so the bridge
// usually cannot know it yet, and a ping that publishes nothing proves nothing to anyone.
//
// The id is Daily's `id` ("identifier representing this specific event"). Event types are dotted
// already (meeting.started): the type is the name itself, for names the table lacks too when
// they are dotted lower-case ASCII (dialin.*, dialout.*), else unknown.<type sanitised>.
// event_ts is float seconds (1708972280.048); whether it is the send time or the event time is
// UNCONFIRMED (Daily's pages say both, §4f), so a retry may carry another: it is the event's time
// and stays in data, and the id does not depend on it.
var Daily = Provider{
	ID:         "daily",
	TypePrefix: dailyPrefix,
	Reply:      []byte(`{}`), // Daily reads only the status: 200
	SecretName: "hmac (returned by POST /webhooks, or the base64 secret passed to it)",
	SecretVar:  "HMAC_SECRET",
	Scheme: "header `X-Webhook-Signature` = base64(HMAC-SHA256(base64-decoded hmac, `<X-Webhook-Timestamp>.<body>`)), as Daily's sample code is quoted by integrators " +
		"(`CALLBRIDGE_DAILY_VERIFY=report` with one captured request confirms it); a secret that is not base64 is used as written; " +
		"the creation ping `{\"test\":\"test\"}` is answered 200 without a check and never published",
	Window: "`X-Webhook-Timestamp` (signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way; its unit is not documented (13 digits, ms, observed: UNCONFIRMED), " +
		"so 12 digits or more are read as ms and fewer as s",
	Subject:     "`meeting.*`: `payload.meeting_id`; else `payload.room`, else `payload.room_name` (recordings), else `payload.meeting_id`",
	TimeSource:  "`event_ts` (s with a fraction, to the ms); else receipt",
	Events:      dailyEvents,
	Data:        dailyData,
	EventData:   dailyEventData,
	Canonical:   dailyCanonical,
	Unknown:     "the type itself when it is dotted lower-case ASCII (dialin.*, dialout.*), else unknown.<type>; the creation ping `{\"test\":\"test\"}`: answered, not published",
	IsProbe:     dailyIsProbe,
	Verify:      dailyVerify,
	Normalize:   dailyNormalize,
	Sign:        signDaily,
	Distinct:    []string{"id"},
	Code:        "type",
	Credentials: []string{"payload.share_token"},
	Sample:      []byte(`{"version":"1.0.0","type":"participant.joined","id":"ev-EXAMPLE-0001","payload":{"room":"example-room","user_id":"example-user","user_name":"Alice","session_id":"example-session","joined_at":1708972300,"owner":false},"event_ts":1708972300.125}`),
}

const dailyPrefix = "co.daily."

// dailySpec is X-Webhook-Signature (§4b, §4h).
var dailySpec = HMACSpec{
	Content:      "{header:X-Webhook-Timestamp}.{body}",
	Header:       "X-Webhook-Signature",
	SecretBase64: true,
	Encoding:     Base64,
	Timestamp:    "header:X-Webhook-Timestamp",
	Unit:         SecondsOrMillis,
}

var (
	dailySig = MustCompileHMAC(dailySpec)
	// dailySigPlain checks with a secret that is not base64, as written.
	dailySigPlain = MustCompileHMAC(dailyWith(false, SecondsOrMillis))
	// dailyStamp signs with the key itself, stamping ms as Daily is observed to.
	dailyStamp = MustCompileHMAC(dailyWith(false, Millis))
	// dailyPlainSecret remembers the last secret found not to be base64: a secret is decoded
	// once, not on every request.
	dailyPlainSecret atomic.Pointer[[]byte]
)

func dailyWith(base64 bool, unit TimeUnit) HMACSpec {
	s := dailySpec
	s.SecretBase64, s.Unit = base64, unit
	return s
}

var dailyEvents = []EventDef{
	{"meeting.started", "meeting.started", "a meeting began in a room (start_ts, meeting_id, room)"},
	{"meeting.ended", "meeting.ended", "a meeting ended (start_ts, end_ts, meeting_id, room)"},
	{"participant.joined", "participant.joined", "a participant joined (joined_at, session_id, user_id, user_name, owner)"},
	{"participant.left", "participant.left", "a participant left (as joined + duration)"},
	{"waiting-participant.joined", "waiting-participant.joined", "a participant is waiting to be admitted"},
	{"waiting-participant.left", "waiting-participant.left", "a waiting participant left the waiting room"},
	{"recording.started", "recording.started", "recording started"},
	{"recording.ready-to-download", "recording.ready-to-download", "recording ready (type, recording_id, room_name, s3_key, duration)"},
	{"recording.error", "recording.error", "recording failed"},
	{"transcript.started", "transcript.started", "transcription started"},
	{"transcript.ready-to-download", "transcript.ready-to-download", "transcript ready"},
	{"transcript.error", "transcript.error", "transcription failed"},
	{"streaming.started", "streaming.started", "live streaming started"},
	{"streaming.updated", "streaming.updated", "live streaming updated"},
	{"streaming.ended", "streaming.ended", "live streaming ended"},
	{"streaming.error", "streaming.error", "live streaming failed"},
	{"batch-processor.job-finished", "batch-processor.job-finished", "batch processor job finished"},
	{"batch-processor.error", "batch-processor.error", "batch processor job failed"},
}

// dailyIsProbe reports the creation ping: the object {"test":"test"} and nothing else.
func dailyIsProbe(c *Callback) bool {
	top, err := c.members()
	return err == nil && len(top) == 1 && string(top[0].key) == "test" && string(top[0].val) == `"test"`
}

// dailyBase64 reports whether secret is base64 (then dailySig decodes it), remembering the
// answer for the last secret that is not.
func dailyBase64(secret []byte) bool {
	if p := dailyPlainSecret.Load(); p != nil && bytes.Equal(*p, secret) {
		return false
	}
	if _, ok := dailySig.key(secret); ok {
		return true
	}
	plain := bytes.Clone(secret)
	dailyPlainSecret.Store(&plain)
	return false
}

func dailyVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 || dailyBase64(a.Secret) {
		return dailySig.Verify(c, a)
	}
	v, err := dailySigPlain.Verify(c, a)
	if err != nil {
		err = &AuthError{Reason: err.Error() + " (the configured secret is not base64, as Daily's hmac is: it was used as written)"}
	}
	return v, err
}

func dailyNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	if err := setDottedType(ev, lookup(top, "type"), "type", dailyEvents, dailyPrefix); err != nil {
		return err
	}
	payload := lookup(top, "payload")
	var room, roomName, meetingID []byte
	eachMember(payload, func(m member) {
		switch string(m.key) {
		case "room":
			room = m.val
		case "room_name":
			roomName = m.val
		case "meeting_id":
			meetingID = m.val
		}
	})
	if strings.HasPrefix(string(ev.ProviderEventType), "meeting.") {
		room, meetingID = meetingID, room
	}
	ev.setFirstSubject(room, roomName, meetingID)

	ev.Time = c.Received.UTC()
	ts := lookup(top, "event_ts")
	_ = ev.setTime(intValue(ts)) || ev.setTime(decimalSeconds(ts))

	// data: the event as sent, but for the recording's share token (a credential: it opens the
	// recording to whoever holds it).
	d := append(ev.data[:0], '{')
	for _, m := range top {
		if len(d) > 1 {
			d = append(d, ',')
		}
		if d = appendKey(d, m); string(m.key) == "payload" {
			d = appendWithout(d, m.val, dailyCredentials)
		} else {
			d = appendValidCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
	ev.setSource(nil)
	return dailySetID(ev, lookup(top, "id"))
}

// dailySetID uses Daily's id; a callback without one is identified by its data.
func dailySetID(ev *Event, raw []byte) error {
	if raw == nil {
		ev.hashID([]byte("data"), ev.Data)
		return nil
	}
	id, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(id) == 0 {
		return payloadErr("id", "want a non-empty string: %s", excerpt(raw))
	}
	ev.scratch = scratch
	ev.setProviderID(id)
	return nil
}

// signDaily signs body as Daily does at now: X-Webhook-Timestamp in ms and X-Webhook-Signature,
// with the key the secret stands for.
func signDaily(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	key := a.Secret
	if len(key) > 0 && dailyBase64(key) {
		key, _ = dailySig.key(key)
	}
	headers, err := dailyStamp.Sign(body, key, now, nil)
	if err != nil {
		return nil, nil, err
	}
	return body, append([]Header{{"Content-Type", "application/json"}}, headers...), nil
}

// dailyData: Daily's envelope (PROTOCOLS-WAVE3-GLOBAL.md §4a, Daily's webhook event pages).
var dailyData = []Field{
	{Path: "version", Type: TString, Required: true, Desc: "the envelope's version, 1.0.0"},
	{Path: "type", Type: TString, Required: true, Desc: "the event's type, such as meeting.started"},
	{Path: "id", Type: TString, Required: true, Desc: "the event's id; the CloudEvent's id"},
	{Path: "event_ts", Type: TNumber, Unit: "s", Required: true, Desc: "Unix time with a fraction; the send or the event time (Daily's pages say both)"},
	{Path: "payload", Type: TObject, Required: true, Desc: "the event's own members"},
}

// dailyEventData: each event's payload, by family, from the event pages of Daily's webhook
// reference; the batch processor's and the error events' members were not re-read (UNCONFIRMED).
var dailyEventData = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range dailyEvents {
		var fs []Field
		switch n := e.Name; {
		case strings.HasPrefix(n, "meeting."):
			fs = dailyMeeting
		case strings.Contains(n, "participant."):
			fs = dailyParticipant
		case strings.HasPrefix(n, "batch-processor."):
			fs = dailyBatch
		case strings.HasPrefix(n, "transcript."):
			fs = dailyTranscript
		default: // recording.*, streaming.*
			fs = dailyRecording
		}
		m[e.Name] = under("payload", fs...)
	}
	return m
}()

var (
	dailyMeeting = []Field{
		{Path: "start_ts", Type: TNumber, Unit: "s", Required: true, Desc: "when the meeting began (Unix time)"},
		{Path: "end_ts", Type: TNumber, Unit: "s", Desc: "when it ended, on meeting.ended"},
		{Path: "meeting_id", Type: TString, Required: true, Desc: "the meeting's id (a UUID); the CloudEvent's subject"},
		{Path: "room", Type: TString, Required: true, Desc: "the room's name"},
	}

	dailyParticipant = []Field{
		{Path: "room", Type: TString, Desc: "the room's name"},
		{Path: "session_id", Type: TString, Desc: "the participant's session id (a UUID)"},
		{Path: "user_id", Type: TString},
		{Path: "user_name", Type: TString},
		{Path: "joined_at", Type: TNumber, Unit: "s", Desc: "Unix time"},
		{Path: "will_eject_at", Type: TNumber, Unit: "s", Desc: "when the token or room ejects the participant (Unix time)"},
		{Path: "owner", Type: TBool, Desc: "joined with an owner token"},
		{Path: "networkQualityState", Type: TString, Desc: "the participant's network quality, on participant.joined"},
		{Path: "duration", Type: TNumber, Unit: "s", Desc: "time in the room, on participant.left"},
		{Path: "permissions", Type: TObject},
		{Path: "permissions.hasPresence", Type: TBool},
		{Path: "permissions.canSend", Type: "boolean|array", Desc: "true, false, or the kinds of media it may send"},
		{Path: "permissions.canSend[]", Type: TString},
		{Path: "permissions.canAdmin", Type: "boolean|array", Desc: "true, false, or what it may administer"},
		{Path: "permissions.canAdmin[]", Type: TString},
		{Path: "permissions.canReceive", Type: TObject, Desc: "what it may receive, by kind and participant (open)"},
	}

	// dailyRecording: recording.* and streaming.* (Daily's event pages: integers where they say so).
	dailyRecording = []Field{
		{Path: "action", Type: TString, Desc: "start-cloud-recording, …"},
		{Path: "type", Type: TString, Desc: "cloud or raw-tracks"},
		{Path: "recording_id", Type: TString},
		{Path: "instance_id", Type: TString, Desc: "the recording or streaming instance"},
		{Path: "domain_id", Type: TString, Desc: "the Daily domain, on streaming events"},
		{Path: "room_name", Type: TString},
		{Path: "started_by", Type: TString, Desc: "the participant id of who started the recording"},
		{Path: "start_ts", Type: TInteger, Unit: "s", Desc: "when the recording started (Unix time)"},
		{Path: "timestamp", Type: TInteger, Unit: "s", Desc: "when streaming started, changed, ended or failed (Unix time)"},
		{Path: "status", Type: TString, Desc: "finished, on recording.ready-to-download"},
		{Path: "max_participants", Type: TInteger, Desc: "the participants recorded"},
		{Path: "duration", Type: TInteger, Unit: "s"},
		{Path: "s3_key", Type: TString, Desc: "the file's key in the bucket"},
		{Path: "tracks", Type: "array|null", Desc: "raw-tracks files (open items); null when role permissions were removed"},
		{Path: "layout", Type: TObject, Desc: "the layout of the start or update request, echoed (open)"},
		{Path: "error_msg", Type: TString, Desc: "on *.error"},
	}

	// dailyTranscript: transcript.* (Daily's transcript-started, -ready-to-download and -error pages).
	dailyTranscript = []Field{
		{Path: "id", Type: TString, Desc: "the transcription's id"},
		{Path: "info", Type: TObject, Desc: "on transcript.started and transcript.error"},
		{Path: "info.instanceId", Type: TString},
		{Path: "room_id", Type: TString},
		{Path: "room_name", Type: TString},
		{Path: "domain_id", Type: TString},
		{Path: "mtg_session_id", Type: TString, Desc: "the meeting session"},
		{Path: "max_participants", Type: TInteger},
		{Path: "duration", Type: TNumber, Unit: "s"},
		{Path: "participant_minutes", Type: TNumber, Unit: "min"},
		{Path: "status", Type: TString, Desc: "t_in_progress, t_completed or t_failed"},
		{Path: "out_params", Type: TObject, Desc: "where the transcript is written"},
		{Path: "out_params.s3", Type: TObject},
		{Path: "out_params.s3.key", Type: TString},
		{Path: "out_params.s3.bucket", Type: TString},
		{Path: "out_params.s3.region", Type: TString},
		{Path: "error", Type: TString, Desc: "on transcript.error"},
	}

	dailyBatch = []Field{
		{Path: "id", Type: TString, Desc: "the job's id"},
		{Path: "preset", Type: TString},
		{Path: "status", Type: TString},
		{Path: "input", Type: TObject, Desc: "the job's request input, echoed (open)"},
		{Path: "output", Type: TObject, Desc: "the job's outputs, by kind (open)"},
		{Path: "error", Type: TString, Desc: "on batch-processor.error"},
	}
)

// dailyCredentials are payload members kept off the bus: a recording's share token.
var dailyCredentials = []string{"share_token"}

// dailyCanonical maps Daily's meetings, participants, cloud recordings and live streams to the
// canonical RTC events (SPEC §9). A room is Daily's room name, one meeting in it its meeting_id.
var dailyCanonical = &Canonical{
	Events: map[string][]Mapping{
		"meeting.started":    {{Type: RoomStarted, Set: dailyMeetingSets}},
		"meeting.ended":      {{Type: RoomEnded, Set: dailyMeetingSets}},
		"participant.joined": {{Type: ParticipantJoined, Set: dailyParticipantSets()}},
		"participant.left": {{Type: ParticipantLeft, Set: dailyParticipantSets(
			Set{To: "duration_s", From: "payload.duration"})}},

		"recording.started": {{Type: RecordingStarted, Set: dailyRecordingSets()}},
		"recording.ready-to-download": {{Type: RecordingFileReady, Set: dailyRecordingSets(
			Set{To: "recording.status", From: "payload.status"},
			Set{To: "recording.files", From: "payload.s3_key"},
			Set{To: "duration_s", From: "payload.duration"})}},
		"recording.error": {{Type: RecordingFailed, Set: dailyRecordingSets(
			Set{To: "recording.error", From: "payload.error_msg"})}},

		"streaming.started": {{Type: RelayStarted, Set: dailyStreamingSets()}},
		"streaming.updated": {{Type: RelayStateChanged, Set: dailyStreamingSets()}},
		"streaming.ended":   {{Type: RelayEnded, Set: dailyStreamingSets()}},
		"streaming.error": {{Type: RelayStateChanged, Set: dailyStreamingSets(
			Set{To: "relay.error", From: "payload.error_msg"})}},
	},
	Gaps: "no track publish or unpublish, no leave reason and no sequence; a room's duration is not sent (start_ts and end_ts are); role is host for an owner token, else participant; a raw-tracks recording's per-track files are not listed (only s3_key), and its start names no room in Daily's pages; a live stream's endpoints and state are not in its events; waiting-room, transcript, batch-processor, dial-in and dial-out events have no counterpart",
}

var dailyMeetingSets = []Set{
	{To: "room_id", From: "payload.room"},
	{To: "room_session_id", From: "payload.meeting_id"},
}

// dailyParticipantSets: a participant's user id, its session and whether its token is an owner's.
func dailyParticipantSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "payload.room"},
		{To: "participant_id", From: "payload.user_id"},
		{To: "participant_session_id", From: "payload.session_id"},
		{To: "role", From: "payload.owner", Values: map[string]string{"true": "host", "false": "participant"}},
	}, more...)
}

// dailyRecordingSets: a recording names its room and its id.
func dailyRecordingSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "payload.room_name"},
		{To: "recording.task_id", From: "payload.recording_id"},
	}, more...)
}

// dailyStreamingSets: a live stream pushes the room to its endpoints; instance_id names it.
func dailyStreamingSets(more ...Set) []Set {
	return append([]Set{
		{To: "app_id", From: "payload.domain_id"},
		{To: "room_id", From: "payload.room_name"},
		{To: "relay.task_id", From: "payload.instance_id"},
		{To: "relay.direction", Value: "push"},
	}, more...)
}

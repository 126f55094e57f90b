package normalize

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strconv"
	"time"
)

// Tencent Cloud TRTC (实时音视频) room, media and cloud-recording callbacks:
// {"EventGroupId","EventType","CallbackTs","EventInfo":{...}} (shared/providers/PROTOCOLS-MORE.md
// §2). The Sign header is base64(HMAC-SHA256(key, raw body)) over the bytes as sent, which TRTC
// pretty-prints with tabs and newlines: the body is never re-serialised before the check. The
// SdkAppId header names the application and goes into source. EventType alone tells events apart
// (101-105 room, 201-206 media, 301-312 recording). There is no event id: the id hashes the
// documented identity fields (SdkAppId, EventGroupId, EventType, RoomId, UserId, EventMsTs,
// TaskId) and the recording Payload, which tells the several 310 events of one task apart.
// CallbackTs (ms, signed) is the send time: it bounds the signature window (retries stop a minute
// after the first attempt) and stays out of the event, since whether retries refresh it is not
// documented.
//
// The doc pages disagree on names, so each is read under every spelling seen: the send time is
// CallbackTs (room, media, recording pages) or CallbackMsTs (the 701/702 and 901-903 tables);
// the event time in ms is EventMsTs (tables) or EventTsMs (the 401 example), and is preferred to
// EventTs (s, "kept for compatibility"; a string in the recording examples, and on one example
// not even the same instant as EventMsTs). Timestamps are read as numbers or strings of digits.
var TencentTRTC = Provider{
	ID:         "tencent-trtc",
	TypePrefix: trtcPrefix,
	// TRTC ignores the body and recommends {"code":0}; the whole answer must stay under 2000 bytes.
	Reply:      []byte(`{"code":0}`),
	SecretName: "回调密钥 callback key",
	SecretVar:  "CALLBACK_KEY",
	Scheme:     "header `Sign = base64(HMAC-SHA256(key, body))` over the body as sent (pretty-printed: never re-serialised)",
	Window:     "`CallbackTs` (or `CallbackMsTs`; ms, in the signed body) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:    "`EventInfo.TaskId` when there is one (recording and other task events), else `EventInfo.RoomId` (string or number)",
	TimeSource: "`EventInfo.EventMsTs` (or `EventTsMs`; ms), else `EventInfo.EventTs` (s), else `CallbackTs`/`CallbackMsTs` (ms), else receipt",
	Events:     trtcEvents,
	Data:       trtcData,
	EventData:  trtcEventData,
	Unknown:    "unknown.<EventType>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     trtcVerify,
	Normalize:  trtcNormalize,
	Sign:       signTencentTRTC,
	Distinct:   []string{"EventInfo.UserId"},
	Canonical:  trtcCanonical,
	Code:       "EventType",
	Sample: []byte("{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1700000000234,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t\"room_8489\"," +
		"\n\t\t\"EventTs\":\t1700000000,\n\t\t\"EventMsTs\":\t1700000000200,\n\t\t\"UserId\":\t\"user_85034614\",\n\t\t\"Role\":\t20,\n\t\t\"TerminalType\":\t3," +
		"\n\t\t\"UserType\":\t3,\n\t\t\"Reason\":\t1\n\t}\n}"),
	SampleHeaders: []Header{{"SdkAppId", "1400188366"}},
}

const trtcPrefix = "com.tencent.trtc."

// Codes are EventType, unique across event groups.
var trtcEvents = []EventDef{
	{"101", "room.created", "创建房间 room created"},
	{"102", "room.dismissed", "解散房间 room dismissed"},
	{"103", "room.user.entered", "进入房间 user entered (Role, TerminalType, UserType, Reason)"},
	{"104", "room.user.exited", "退出房间 user exited (Reason); exiting sends no 202/204"},
	{"105", "room.user.role_changed", "切换角色 user changed role"},
	{"201", "media.video.started", "开始推送视频数据 video push started"},
	{"202", "media.video.stopped", "停止推送视频数据 video push stopped"},
	{"203", "media.audio.started", "开始推送音频数据 audio push started"},
	{"204", "media.audio.stopped", "停止推送音频数据 audio push stopped"},
	{"205", "media.substream.started", "开始推送辅路数据 substream (screen share) push started"},
	{"206", "media.substream.stopped", "停止推送辅路数据 substream push stopped"},
	{"301", "recording.recorder.started", "云端录制 recorder module started (Payload.Status)"},
	{"302", "recording.recorder.stopped", "recorder module stopped (Payload.LeaveCode)"},
	{"303", "recording.upload.started", "upload module started (Payload.Status)"},
	{"304", "recording.file.info", "m3u8 index file written (Payload.FileList)"},
	{"305", "recording.upload.stopped", "upload module stopped (Payload.LeaveCode)"},
	{"306", "recording.failover", "recording task migrated (Payload.Status)"},
	{"307", "recording.file.slice", "new file slice (Payload.FileName, UserId, TrackType, BeginTimeStamp)"},
	{"309", "recording.image.download_failed", "an image could not be downloaded (Payload.Url)"},
	{"310", "recording.mp4.stopped", "MP4 files closed (Payload.FileList, FileMessage); may come several times per task"},
	{"311", "recording.vod.committed", "file uploaded to VOD (Payload.TencentVod)"},
	{"312", "recording.vod.stopped", "VOD upload finished (Payload.Status)"},
}

func trtcVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	got := c.Header.Peek("Sign")
	if len(got) == 0 {
		return Signed, &AuthError{Reason: "Sign header missing"}
	}
	var sum [sha256.Size]byte
	hmacSum(&sum, a.Secret, true, c.Body)
	var want [44]byte // base64 of 32 bytes, padded
	base64.StdEncoding.Encode(want[:], sum[:])
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return Signed, &AuthError{Reason: "Sign does not match the body"}
	}
	top, err := c.members()
	if err != nil {
		return Signed, nil // authentic but malformed: Normalize names the problem
	}
	sent := lookup(top, "CallbackTs")
	if sent == nil {
		sent = lookup(top, "CallbackMsTs")
	}
	ms, ok := intValue(sent)
	if !ok {
		return Signed, &AuthError{Reason: "CallbackTs missing or not a millisecond timestamp, so the signature window cannot be checked"}
	}
	return Signed, checkSkew("CallbackTs", unixTime(ms), c.Received, a.MaxSkew)
}

func trtcNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	code, ok := intValue(lookup(top, "EventType"))
	if !ok {
		return payloadErr("EventType", "missing or not an integer")
	}
	groupRaw := lookup(top, "EventGroupId")
	if _, ok := intValue(groupRaw); !ok {
		return payloadErr("EventGroupId", "missing or not an integer")
	}
	info := lookup(top, "EventInfo")
	if len(info) == 0 || info[0] != '{' {
		return payloadErr("EventInfo", "missing or not an object")
	}
	var roomID, userID, taskID, eventMs, eventS, payload []byte
	eachMember(info, func(m member) {
		switch string(m.key) {
		case "RoomId":
			roomID = m.val
		case "UserId":
			userID = m.val
		case "TaskId":
			taskID = m.val
		case "EventMsTs", "EventTsMs":
			if eventMs == nil {
				eventMs = m.val
			}
		case "EventTs":
			eventS = m.val
		case "Payload":
			payload = m.val
		}
	})

	ev.ProviderEventType = ev.keepInt(code)
	ev.setTypeFrom(trtcEvents, trtcPrefix)

	// A task's events (recording, CDN relay, stream ingest, ...) follow the task; room and
	// media events, which name none, the room.
	subjectRaw := roomID
	if taskID != nil {
		subjectRaw = taskID
	}
	subject, scratch, _ := stringValue(subjectRaw, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	sent := lookup(top, "CallbackTs")
	if sent == nil {
		sent = lookup(top, "CallbackMsTs")
	}
	_ = ev.setTime(intValue(eventMs)) || ev.setTime(intValue(eventS)) || ev.setTime(intValue(sent))

	// data is the callback without its send time: EventGroupId, EventType and EventInfo.
	ev.setDataWithout(top, "CallbackTs", "CallbackMsTs")

	ev.setSource(c.Header.Peek("SdkAppId"))
	// Identity: RoomId raw, so that room "8489" (a string room) and room 8489 stay apart; the
	// event time as written; the recording payload compacted, as retries may indent it anew.
	start := len(ev.scratch)
	ev.scratch = appendCompact(ev.scratch, payload)
	compactPayload := ev.scratch[start:]
	if len(eventMs) == 0 {
		eventMs = eventS
	}
	ev.hashID(c.Header.Peek("SdkAppId"), groupRaw, roomID, userID, eventMs, taskID, compactPayload)
	return nil
}

// signTencentTRTC sets the send time to now, in place (the rest of the body keeps its bytes, as
// TRTC's own indentation), and signs the body.
func signTencentTRTC(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	field := "CallbackTs"
	if lookup(topMembers(body), "CallbackTs") == nil && lookup(topMembers(body), "CallbackMsTs") != nil {
		field = "CallbackMsTs"
	}
	body, headers, err := stampJSON(body, field, strconv.AppendInt(nil, now.UnixMilli(), 10))
	if err != nil || len(a.Secret) == 0 {
		return body, headers, err
	}
	var sum [sha256.Size]byte
	hmacSum(&sum, a.Secret, true, body)
	return body, append(headers, Header{"Sign", base64.StdEncoding.EncodeToString(sum[:])}), nil
}

// trtcRecStatus: a cloud-recording event reporting a Status.
var trtcRecStatus = []Field{
	trtcUserID,
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
	{Path: "EventInfo.Payload.Status", Type: TInteger, Desc: "0 success, else a failure"},
}

// trtcRecLeave: a cloud-recording event reporting a LeaveCode.
var trtcRecLeave = []Field{
	trtcUserID,
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
	{Path: "EventInfo.Payload.LeaveCode", Type: TInteger, Desc: "why the module stopped: 0 normal, else abnormal"},
}

// trtcRecording: the members of every cloud-recording event (EventGroupId 3).
var trtcRecording = []Field{
	trtcUserID,
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
}

// trtcData: the callback as published, from TRTC's room, media and cloud-recording callback pages
// (PROTOCOLS-MORE.md §2); CallbackTs, the send time, is left out.
var trtcData = []Field{
	{Path: "EventGroupId", Type: TInteger, Required: true, Desc: "1 room events, 2 media events, 3 cloud recording"},
	{Path: "EventType", Type: TInteger, Required: true, Desc: "the event's code, unique across groups"},
	{Path: "EventInfo", Type: TObject, Required: true, Desc: "the event's members"},
	{Path: "EventInfo.RoomId", Type: TString + "|" + TInteger, Required: true, Desc: "the room: a string room id, or a number (the media examples write one)"},
	{Path: "EventInfo.EventTs", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time), kept for compatibility; a decimal string in the recording examples"},
	{Path: "EventInfo.EventMsTs", Type: TInteger, Unit: "ms", Desc: "when the event happened (Unix time)"},
}

// trtcEventData: each event's own members, by EventDef Name.
var trtcEventData = map[string][]Field{
	"room.created": {
		trtcUserID,
	},
	"room.dismissed": {},
	"room.user.entered": {
		trtcUserID,
		{Path: "EventInfo.UniqueId", Type: TInteger, Desc: "a value unique to this entry, to tell a user's entries apart"},
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
		{Path: "EventInfo.TerminalType", Type: TInteger, Desc: "the user's terminal: 1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, ..."},
		{Path: "EventInfo.UserType", Type: TInteger, Desc: "the SDK: 3 native, 6 web, ..."},
		trtcReason,
	},
	"room.user.exited": {
		trtcUserID,
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
		trtcReason,
	},
	"room.user.role_changed": {
		trtcUserID,
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
	},
	"media.video.started": {
		trtcUserID,
	},
	"media.video.stopped": {
		trtcUserID,
		trtcReason,
	},
	"media.audio.started": {
		trtcUserID,
	},
	"media.audio.stopped": {
		trtcUserID,
		trtcReason,
	},
	"media.substream.started": {
		trtcUserID,
	},
	"media.substream.stopped": {
		trtcUserID,
		trtcReason,
	},
	"recording.recorder.started": trtcRecStatus,
	"recording.recorder.stopped": trtcRecLeave,
	"recording.upload.started":   trtcRecStatus,
	"recording.file.info": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.FileList", Type: TString, Desc: "the m3u8 index file's name"},
	}),
	"recording.upload.stopped": trtcRecLeave,
	"recording.failover":       trtcRecStatus,
	"recording.file.slice": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.FileName", Type: TString, Desc: "the file's name"},
		{Path: "EventInfo.Payload.UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.BeginTimeStamp", Type: TString, Unit: "ms", Desc: "when the slice started (Unix time, a decimal string)"},
	}),
	"recording.image.download_failed": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.Url", Type: TString, Desc: "the image that failed to download"},
	}),
	"recording.mp4.stopped": slices.Concat(trtcRecStatus, []Field{
		{Path: "EventInfo.Payload.FileList", Type: TArray, Desc: "the files written"},
		{Path: "EventInfo.Payload.FileList[]", Type: TString, Desc: "a file's name"},
		{Path: "EventInfo.Payload.FileMessage", Type: TArray, Desc: "the files written, in detail"},
		{Path: "EventInfo.Payload.FileMessage[]", Type: TObject, Desc: "a file"},
		{Path: "EventInfo.Payload.FileMessage[].FileName", Type: TString, Desc: "the file's name"},
		{Path: "EventInfo.Payload.FileMessage[].UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.FileMessage[].TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.FileMessage[].MediaId", Type: TString, Desc: "main or aux (the substream)"},
		{Path: "EventInfo.Payload.FileMessage[].StartTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording started (Unix time)"},
		{Path: "EventInfo.Payload.FileMessage[].EndTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording ended (Unix time)"},
	}),
	"recording.vod.committed": slices.Concat(trtcRecStatus, []Field{
		{Path: "EventInfo.Payload.TencentVod", Type: TObject, Desc: "the file committed to VOD"},
		{Path: "EventInfo.Payload.TencentVod.UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.TencentVod.TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.TencentVod.MediaId", Type: TString, Desc: "main or aux (the substream)"},
		{Path: "EventInfo.Payload.TencentVod.FileId", Type: TString, BigID: true, Desc: "the file's VOD id (a 64-bit decimal string)"},
		{Path: "EventInfo.Payload.TencentVod.VideoUrl", Type: TString, Desc: "the file's playback URL"},
		{Path: "EventInfo.Payload.TencentVod.CacheFile", Type: TString, Desc: "the file's name before upload"},
		{Path: "EventInfo.Payload.TencentVod.StartTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording started (Unix time)"},
		{Path: "EventInfo.Payload.TencentVod.EndTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording ended (Unix time)"},
	}),
	"recording.vod.stopped": trtcRecStatus,
}

// trtcCanonical maps TRTC's room, media and cloud-recording events to the canonical RTC events
// (SPEC §9). Role 20 is the anchor, 21 the audience; exit reasons 1 normal, 2 timed out, 3
// removed, 4 left a cross-room link, 5 the app killed. A recording module's Status or LeaveCode
// 0 is success; another value is its failure.
var trtcCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "EventInfo.RoomId"},
		{To: "provider_sequence", From: "EventInfo.EventMsTs"},
	},
	Events: map[string][]Mapping{
		"room.created":   {{Type: RoomStarted}},
		"room.dismissed": {{Type: RoomEnded}},
		"room.user.entered": {{Type: ParticipantJoined, Set: trtcUserSets(trtcRole,
			Set{To: "participant_session_id", From: "EventInfo.UniqueId"})}},
		"room.user.exited": {{Type: ParticipantLeft, Set: trtcUserSets(trtcRole,
			Set{To: "reason", From: "EventInfo.Reason", Values: map[string]string{
				"1": "left", "2": "timeout", "3": "kicked", "4": "other", "5": "other"}})}},
		"room.user.role_changed":  {{Type: ParticipantRole, Set: trtcUserSets(trtcRole)}},
		"media.video.started":     {{Type: StreamPublished, Set: trtcUserSets(Set{To: "track.kind", Value: "video"})}},
		"media.video.stopped":     {{Type: StreamUnpublished, Set: trtcUserSets(Set{To: "track.kind", Value: "video"})}},
		"media.audio.started":     {{Type: StreamPublished, Set: trtcUserSets(Set{To: "track.kind", Value: "audio"})}},
		"media.audio.stopped":     {{Type: StreamUnpublished, Set: trtcUserSets(Set{To: "track.kind", Value: "audio"})}},
		"media.substream.started": {{Type: StreamPublished, Set: trtcUserSets(Set{To: "track.kind", Value: "screen"})}},
		"media.substream.stopped": {{Type: StreamUnpublished, Set: trtcUserSets(Set{To: "track.kind", Value: "screen"})}},

		"recording.recorder.started": {
			{Type: RecordingStarted, If: trtcOK("EventInfo.Payload.Status"), Set: trtcRecSets()},
			{Type: RecordingFailed, Set: trtcRecSets(Set{To: "recording.error", From: "EventInfo.Payload.Status"})},
		},
		"recording.recorder.stopped": {
			{Type: RecordingEnded, If: trtcOK("EventInfo.Payload.LeaveCode"), Set: trtcRecSets()},
			{Type: RecordingFailed, Set: trtcRecSets(Set{To: "recording.error", From: "EventInfo.Payload.LeaveCode"})},
		},
		"recording.upload.started": {{Type: RecordingFailed, If: &Cond{Path: "EventInfo.Payload.Status", Values: []string{"1"}},
			Set: trtcRecSets(Set{To: "recording.error", From: "EventInfo.Payload.Status"})}},
		"recording.upload.stopped": {{Type: RecordingFailed, If: &Cond{Path: "EventInfo.Payload.LeaveCode", Values: []string{"1", "2"}},
			Set: trtcRecSets(Set{To: "recording.error", From: "EventInfo.Payload.LeaveCode"})}},
		"recording.file.info": {{Type: RecordingFileReady, Set: trtcRecSets(Set{To: "recording.files", From: "EventInfo.Payload.FileList"})}},
		"recording.mp4.stopped": {{Type: RecordingFileReady, Set: trtcRecSets(
			Set{To: "recording.status", From: "EventInfo.Payload.Status"},
			Set{To: "recording.files", From: "EventInfo.Payload.FileList[]"})}},
		"recording.vod.committed": {{Type: RecordingFileReady, Set: trtcRecSets(
			Set{To: "recording.status", From: "EventInfo.Payload.Status"},
			Set{To: "recording.files", From: "EventInfo.Payload.TencentVod.VideoUrl"})}},
	},
	Gaps: "no unpublish when a participant leaves the room (TRTC: exiting sends only 104, no 202/204); no app id in the " +
		"data (the SdkAppId header, in source); no room session id; participant_session_id only where UniqueId is sent " +
		"(apps onboarded before 2021-07-30); CDN relay (401) and stream ingest (701/702) are not among the documented events",
}

// trtcRole: TRTC's Role, 20 anchor and 21 audience.
var trtcRole = Set{To: "role", From: "EventInfo.Role", Values: map[string]string{"20": "host", "21": "audience"}}

// trtcOK: a recording module's Status or LeaveCode at path is 0, success.
func trtcOK(path string) *Cond { return &Cond{Path: path, Values: []string{"0"}} }

// trtcUserSets: a room or media event about the user UserId.
func trtcUserSets(more ...Set) []Set {
	return append([]Set{{To: "participant_id", From: "EventInfo.UserId"}}, more...)
}

// trtcRecSets: a cloud-recording event of the task TaskId (its UserId is the recording robot).
func trtcRecSets(more ...Set) []Set {
	return append([]Set{{To: "recording.task_id", From: "EventInfo.TaskId"}}, more...)
}

// trtcUserID and trtcReason are EventInfo members the room and media events share.
var (
	trtcUserID = Field{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"}
	trtcReason = Field{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"}
)

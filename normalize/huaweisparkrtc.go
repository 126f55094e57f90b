package normalize

import (
	"time"
)

// Huawei Cloud SparkRTC (华为云 实时音视频) callbacks (shared/providers/PROTOCOLS-WAVE3-CHINA.md
// §3, the SparkRTC parts; Huawei Cloud Live is the huawei-live provider): one flat JSON object per
// event, configured per app (应用管理 > 配置 > 回调配置) with a URL and a 回调秘钥 of 32–64
// characters. Cloud recording sends {"event_type","app_id","room_id","job_id","stream_name",
// "record_format","download_url","record_duration","width","height","start_time","end_time",
// "obs_location","obs_bucket","obs_object","detail_message"} (§3a); the user-role and audio/video
// stream events that UpdateRecordCallback subscribes have bodies no source shows (UNCONFIRMED):
// they are read the same way. With a key set, three headers sign the callback (§3b):
// X-Rtc-Signature = lower-hex HMAC-SHA256(key, X-Rtc-Rand + X-Rtc-Timestamp + raw body), vector
// 10 of §8 reproduced in huaweisparkrtc_test.go; without one Huawei adds no auth header. The unit
// of X-Rtc-Timestamp is UNCONFIRMED (§3c): 12 digits or more are read as ms, fewer as s, each held
// to the window; CALLBRIDGE_HUAWEI_SPARKRTC_VERIFY=report with one captured request confirms it.
// Rand and timestamp change on every send, so neither is in the id: SparkRTC sends no event id,
// and it is derived from app_id, job_id (task_id), event_type and the file (obs_object, asset_id),
// as §3e says; a callback with neither job_id nor task_id (the UNCONFIRMED stream events) is
// identified by its body, which holds no send-time field. The event's time is end_time, else
// start_time (UTC, YYYY-MM-DDThh:mm:ssZ), else receipt. Huawei wants 200 with a JSON body of the
// receiver's choosing; the doc's example is {"status":1,"result":"success"} (§3d). Retries are
// UNCONFIRMED.
var HuaweiSparkRTC = Provider{
	ID:         "huawei-sparkrtc",
	TypePrefix: sparkPrefix,
	Reply:      []byte(`{"status":1,"result":"success"}`),
	SecretName: "回调秘钥 callback key (应用管理 > 配置 > 回调配置)",
	SecretVar:  "KEY",
	Scheme:     "header `X-Rtc-Signature` = lower-hex HMAC-SHA256(key, `X-Rtc-Rand` + `X-Rtc-Timestamp` + body); with no key set in the console Huawei sends no signature headers",
	Window: "header `X-Rtc-Timestamp` (signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way; its unit is UNCONFIRMED: " +
		"12 digits or more are read as ms, fewer as s (`CALLBRIDGE_HUAWEI_SPARKRTC_VERIFY=report` with one captured request confirms it)",
	Subject:    "`room_id`",
	TimeSource: "`end_time`, else `start_time` (UTC, `YYYY-MM-DDThh:mm:ssZ`), else receipt",
	Events:     sparkEvents,
	Data:       sparkData,
	EventData:  sparkEventData,
	Unknown:    "unknown.<event_type>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     func(c *Callback, a *Auth) (Verified, error) { return sparkSig.Verify(c, a) },
	Normalize:  sparkNormalize,
	Sign:       signSparkRTC,
	Distinct:   []string{"job_id"},
	Canonical:  sparkCanonical,
	Code:       "event_type",
	Sample:     []byte(`{"event_type":"RECORD_FILE_COMPLETE","app_id":"5fcdf5651xxxxxx6f835d0d4","room_id":"room01","job_id":"608196a2fa1xxxxxx515147f32ef463b","stream_name":"room01_alice","record_format":"MP4","download_url":"https://mybucket.obs.cn-north-4.myhuaweicloud.com/rtc/room01/20250101.mp4","record_duration":65,"width":1280,"height":720,"start_time":"2025-01-01T00:00:00Z","end_time":"2025-01-01T00:01:05Z","obs_location":"cn-north-4","obs_bucket":"mybucket","obs_object":"rtc/room01/20250101.mp4"}`),
}

const sparkPrefix = "com.huaweicloud.sparkrtc."

// sparkSig is §3b's scheme: the random number and the timestamp headers, then the raw body.
var sparkSig = MustCompileHMAC(HMACSpec{
	Content:   "{header:X-Rtc-Rand}{header:X-Rtc-Timestamp}{body}",
	Header:    "X-Rtc-Signature",
	Timestamp: "header:X-Rtc-Timestamp",
	Unit:      SecondsOrMillis, // UNCONFIRMED (§3c)
})

// The event_type values of rtc_07_0021 and UpdateRecordCallback (§3a).
var sparkEvents = []EventDef{
	{"RECORD_NEW_FILE_START", "record.file.started", "录制新文件开始 a recording file started"},
	{"RECORD_FILE_COMPLETE", "record.file.completed", "录制文件完成 a recording file is complete (download_url, obs_object)"},
	{"CLOUD_RECORD_SERVER_OVER", "record.over", "云端录制结束 the cloud recording ended (detail_message)"},
	{"CLOUD_RECORD_OVER", "record.over", "the same, as a subscription example spells it (§3f; which one is sent is UNCONFIRMED)"},
	{"RTC_USER_ROLE_CHANGED", "user.role.changed", "a user's role changed (body UNCONFIRMED)"},
	{"RTC_AUDIO_STREAM_OPEN", "audio.stream.opened", "a user opened an audio stream (body UNCONFIRMED)"},
	{"RTC_AUDIO_STREAM_CLOSE", "audio.stream.closed", "a user closed an audio stream (body UNCONFIRMED)"},
	{"RTC_VIDEO_STREAM_OPEN", "video.stream.opened", "a user opened a video stream (body UNCONFIRMED)"},
	{"RTC_VIDEO_STREAM_CLOSE", "video.stream.closed", "a user closed a video stream (body UNCONFIRMED)"},
}

// sparkData: the members every callback has, as published (the signature, rand and timestamp are
// headers), from rtc_07_0021's field table and rtc_04_0007's example (§3a).
var sparkData = []Field{
	{Path: "event_type", Type: TString, Required: true, Desc: "the event, such as RECORD_FILE_COMPLETE"},
	{Path: "app_id", Type: TString, Required: true, Desc: "the SparkRTC app; the CloudEvent's source"},
	{Path: "room_id", Type: TString, Required: true, Desc: "the room; the CloudEvent's subject"},
}

// sparkRecord: a recording callback's members. The field table does not say which event carries
// which, so each recording event may carry all of them; job_id is on every example.
var sparkRecord = []Field{
	{Path: "job_id", Type: TString, Required: true, Desc: "the recording job"},
	{Path: "stream_name", Type: TString, Desc: "the stream recorded"},
	{Path: "record_format", Type: TString, Desc: "HLS or MP4"},
	{Path: "download_url", Type: TString, Desc: "the file's URL"},
	{Path: "record_duration", Type: TInteger, Unit: "s", Desc: "the file's duration"},
	{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size (in rtc_04_0007's example, not in the field table)"},
	{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
	{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
	{Path: "start_time", Type: TString, Desc: "when the recording began (UTC, YYYY-MM-DDThh:mm:ssZ)"},
	{Path: "end_time", Type: TString, Desc: "when it ended (UTC, YYYY-MM-DDThh:mm:ssZ)"},
	{Path: "obs_location", Type: TString, Desc: "the OBS region or endpoint"},
	{Path: "obs_bucket", Type: TString, Desc: "the OBS bucket"},
	{Path: "obs_object", Type: TString, Desc: "the file's object in the bucket"},
	{Path: "detail_message", Type: TString, Desc: "more on the event, such as why the recording ended"},
}

// sparkEventData: each event's own members, by EventDef Name. The user-role and stream events'
// bodies are UNCONFIRMED (no source shows one): declared as the common members alone, so the
// first real one with more fails the goldens' check and shows what to declare.
var sparkEventData = map[string][]Field{
	"record.file.started":   sparkRecord,
	"record.file.completed": sparkRecord,
	"record.over":           sparkRecord,
	"user.role.changed":     nil,
	"audio.stream.opened":   nil,
	"audio.stream.closed":   nil,
	"video.stream.opened":   nil,
	"video.stream.closed":   nil,
}

// sparkFields is what Normalize reads of the body, in one pass over its members (which are
// unique: members refuses a body with two of a name).
type sparkFields struct {
	eventType, room, app, end, start, job, task, obsObject, asset []byte
}

func (f *sparkFields) collect(top []member) {
	for _, m := range top {
		switch string(m.key) {
		case "event_type":
			f.eventType = m.val
		case "room_id":
			f.room = m.val
		case "app_id":
			f.app = m.val
		case "end_time":
			f.end = m.val
		case "start_time":
			f.start = m.val
		case "job_id":
			f.job = m.val
		case "task_id":
			f.task = m.val
		case "obs_object":
			f.obsObject = m.val
		case "asset_id":
			f.asset = m.val
		}
	}
}

func sparkNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	var f sparkFields
	f.collect(top)
	code, scratch, ok := stringValue(f.eventType, ev.scratch[:0])
	if !ok || len(code) == 0 || f.eventType[0] != '"' {
		return payloadErr("event_type", "missing or not a non-empty string")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(sparkEvents, sparkPrefix)

	subject, scratch, _ := stringValue(f.room, ev.scratch[:0])
	ev.Subject = ev.keep(subject)
	app, scratch, _ := stringValue(f.app, scratch[:0])
	ev.scratch = scratch
	ev.setSource(app)

	ev.Time = c.Received.UTC()
	for _, raw := range [...][]byte{f.end, f.start} {
		if at, ok := parseRFC3339(raw); ok && at.Year() >= 1970 && at.Year() <= 9999 {
			ev.Time = at.UTC()
			break
		}
	}

	// data is the callback as sent, compacted: the signature, rand and timestamp are headers.
	ev.data = appendCompactObject(ev.data[:0], c.Body, top)
	ev.Data = ev.data

	if f.job == nil && f.task == nil {
		ev.hashID([]byte("body"), ev.Data)
		return nil
	}
	ev.hashID(f.app, f.task, f.job, f.obsObject, f.asset)
	return nil
}

// signSparkRTC signs body as SparkRTC does at now: a random number and the timestamp (s) in
// headers, the signature over them and the body, which is sent as it is.
func signSparkRTC(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	sig, err := sparkSig.Sign(body, a.Secret, now, nil)
	if err != nil {
		return nil, nil, err
	}
	return body, append([]Header{{"Content-Type", "application/json"}}, sig...), nil
}

// sparkCanonical maps SparkRTC's cloud recording and stream events to the canonical RTC events
// (SPEC §9). A recording job starts a file at a time: RECORD_NEW_FILE_START is its start, sent
// again for each new file. The stream events' bodies are not documented: only the room is read.
var sparkCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "app_id"},
		{To: "room_id", From: "room_id"},
	},
	Events: map[string][]Mapping{
		"record.file.started": {{Type: RecordingStarted, Set: []Set{{To: "recording.task_id", From: "job_id"}}}},
		"record.file.completed": {{Type: RecordingFileReady, Set: []Set{
			{To: "duration_s", From: "record_duration"},
			{To: "recording.task_id", From: "job_id"},
			{To: "recording.files", From: "download_url"},
		}}},
		"record.over":         {{Type: RecordingEnded, Set: []Set{{To: "recording.task_id", From: "job_id"}}}},
		"audio.stream.opened": {{Type: StreamPublished, Set: []Set{{To: "track.kind", Value: "audio"}}}},
		"audio.stream.closed": {{Type: StreamUnpublished, Set: []Set{{To: "track.kind", Value: "audio"}}}},
		"video.stream.opened": {{Type: StreamPublished, Set: []Set{{To: "track.kind", Value: "video"}}}},
		"video.stream.closed": {{Type: StreamUnpublished, Set: []Set{{To: "track.kind", Value: "video"}}}},
	},
	Gaps: "no room or participant events; the role change and stream events' bodies are not documented, so no participant " +
		"or role is read (the role change is not mapped); recording.started repeats for each new file of a job; " +
		"no recording failure is reported (detail_message is free text); no relay events",
}

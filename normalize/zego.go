package normalize

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"
)

// ZEGOCLOUD (即构) server callbacks: room, stream, mixing, CDN recording and VOD, single-stream
// transcoding, moderation, cloud recording (v2) and cloud player, one flat JSON object each
// (shared/providers/PROTOCOLS-WAVE3-CHINA.md §1). Every family signs the same way: `signature`
// (PascalCase families: `Signature`) is lower-hex SHA-1 of the three strings callbacksecret,
// `timestamp` and `nonce`, sorted bytewise and joined (§1b; the published vector is reproduced
// in zego_test.go). `timestamp` is a JSON string in most events and a number in room_create,
// room_close and moderation: its literal text is hashed either way. The signature covers neither
// the body nor the event: it authenticates the sender, not the payload, and a captured
// (timestamp, nonce, signature) triple verifies any body until the window closes. `timestamp`
// is the send time (s): it bounds the window and, with nonce and signature, stays out of the
// event, whose id is derived from the fields §1e names for each kind (ZEGO sends no event id).
//
// The event code is in `event` (snake_case families), `Event` (PascalCase: transcoding,
// moderation), `event_type` (cloud recording, a number) or `EventType` (cloud player, a number):
// cloud recording and cloud player codes are "event_type/<n>" and "EventType/<n>" in the table,
// as their numbers overlap (the digital human service also sends EventType 3 and 4: route it
// elsewhere). stream_attr, third_define_data, snapshot_pic_list and extra_params are JSON inside
// strings and are decoded into data. Numbers (room_session_id is a UInt64) are copied as written.
// Left alone: form-encoded callbacks (sent only when ZEGO support enables them) and the
// "UrlDecode" the pages ask for (what is encoded is UNCONFIRMED: values are kept as sent).
var Zego = Provider{
	ID:         "zego",
	TypePrefix: zegoPrefix,
	Reply:      []byte(`{"code":0}`), // ZEGO reads only the status: any 2xx
	SecretName: "CallbackSecret (项目配置 > 项目信息 > 配置信息)",
	SecretVar:  "CALLBACK_SECRET",
	Scheme:     "body `signature` (or `Signature`) = lower-hex SHA-1 of `callbacksecret`, `timestamp` and `nonce` (from the body; a number's literal text) sorted as strings and joined; the body is not covered: it authenticates the sender, not the payload",
	Window:     "`timestamp` (or `Timestamp`; the send time, s, string or number) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way (ZEGO documents no window)",
	Subject:    "`stream_id`, else `task_id`/`TaskId`, else `PlayerId`/`UploadTaskId`, else `stream_alias`, else `room_id`/`RoomId`",
	TimeSource: "stream_close `destroy_timemillis`, logout `logout_time`, `room_close_time`, `room_create_time`, `login_time`, `create_time_ms` (ms), `create_time` (s), record `end_time`, cloud player `EventTime` (ms), moderation `AuxInfo.ProcessFinishTime`/`ProcessBeginTime` (ms); else receipt",
	Events:     zegoEvents,
	EventData:  zegoEventData,
	Unknown:    "unknown.<event>; cloud recording unknown.event_type/<n>; cloud player unknown.EventType/<n>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     zegoVerify,
	Normalize:  zegoNormalize,
	Sign:       signZego,
	Distinct:   []string{"stream_sid"},
	Canonical:  zegoCanonical,
	Code:       "event",
	Sample:     []byte(`{"event":"stream_close","appid":"1","timestamp":"1666786067","nonce":"7266888922840654370","signature":"049bc6fd7f6127bf56d19a8f0d241d00c7dabab6","room_id":"room1","room_session_id":"123456789","user_id":"user1","user_name":"user1_name","channel_id":"0xb-0x1","type":"0","stream_alias":"aaa","stream_id":"stream_id","stream_sid":"s-115205136669740000000000104","stream_seq":"700","third_define_data":"{\"u\":\"S1lxOUxMN2tRZ3lIY0JMSUs3VlMxZz09\"}","create_time_ms":"1666786067353","destroy_timemillis":"1666986067248"}`),
}

const zegoPrefix = "com.zegocloud."

var zegoEvents = []EventDef{
	{"room_create", "room.created", "房间创建 room created"},
	{"room_close", "room.closed", "房间关闭 room closed (close_reason)"},
	{"room_login", "room.user.logged_in", "登录房间 user logged into the room"},
	{"room_logout", "room.user.logged_out", "退出房间 user left the room (reason)"},
	{"stream_create", "stream.created", "流创建 stream published"},
	{"stream_close", "stream.closed", "流关闭 stream stopped (type)"},
	{"mix_start", "mix.started", "混流开始 stream mixing started"},
	{"mix_stop", "mix.stopped", "混流结束 stream mixing stopped"},
	{"record", "cdn.recording.completed", "CDN 录制文件生成 CDN recording file ready (one per format)"},
	{"snapshot", "vod.snapshot.completed", "点播截图完成 VOD snapshot done"},
	{"compose", "vod.compose.completed", "媒体合并完成 media merge done"},
	{"procedure", "vod.transcode.completed", "点播转码完成 VOD transcoding done"},
	{"transcode_start", "transcode.started", "单流转码开始 single-stream transcoding started"},
	{"transcode_stop", "transcode.stopped", "单流转码结束 single-stream transcoding stopped (StopReason)"},
	{"censor_audio_v2_result", "moderation.audio.result", "音频流审核结果 audio stream moderation result"},
	{"censor_audio_v2_status", "moderation.audio.status", "音频流审核状态 audio stream moderation status"},
	{"censor_video_v2_audio_result", "moderation.video.audio.result", "视频流审核音频结果 video stream moderation, audio result"},
	{"censor_video_v2_img_result", "moderation.video.image.result", "视频流审核画面结果 video stream moderation, image result"},
	{"censor_video_v2_audio_status", "moderation.video.audio.status", "视频流审核音频状态 video stream moderation, audio status"},
	{"censor_video_v2_img_status", "moderation.video.image.status", "视频流审核画面状态 video stream moderation, image status"},
	{"event_type/1", "recording.uploaded", "云端录制 file upload status (detail.upload_status, file_info)"},
	{"event_type/2", "recording.aborted", "recording ended abnormally (detail.quit_reason)"},
	{"event_type/3", "recording.image.download_failed", "background or watermark image download failed"},
	{"event_type/4", "recording.room.empty", "no stream in the room (re-sent every 30 s while empty; sequence tells them apart)"},
	{"event_type/5", "recording.exited", "recording exited normally"},
	{"event_type/6", "recording.stream.not_found", "recorded stream does not exist"},
	{"event_type/7", "recording.stopped", "recording stopped, files uploading"},
	{"event_type/102", "recording.m3u8.ready", "live upload: M3U8 file address"},
	{"event_type/201", "recording.paused", "recording paused"},
	{"event_type/202", "recording.resumed", "recording resumed"},
	{"EventType/1", "cloudplayer.created", "云端播放器 player created"},
	{"EventType/2", "cloudplayer.destroyed", "player destroyed (Detail.Reason)"},
	{"EventType/3", "cloudplayer.status.changed", "player status changed (Detail.Status)"},
	{"EventType/4", "cloudplayer.exception", "player exception (Detail.Code)"},
	{"EventType/10001", "cloudplayer.upload.succeeded", "上传任务 file uploaded"},
	{"EventType/10002", "cloudplayer.upload.failed", "file upload failed (Detail.Reason)"},
	{"EventType/10003", "cloudplayer.upload.status.changed", "upload task status changed (Detail.Status)"},
	{"EventType/10004", "cloudplayer.upload.cancel_failed", "cancelling the upload failed (Detail.Reason)"},
	{"EventType/10005", "cloudplayer.upload.exception", "upload exception, retried (Detail.Code)"},
	{"EventType/10006", "cloudplayer.upload.expired", "uploaded file expired"},
}

// zegoCodeMembers are the members that carry the event code, in the order they are looked for,
// and whether the code is a number (then the table key is "<member>/<n>").
var zegoCodeMembers = [...]struct {
	name    string
	numeric bool
}{{"event", false}, {"Event", false}, {"event_type", true}, {"EventType", true}}

// zegoSignedNames are the signature members under both spellings: dropped from data.
var zegoSignedNames = [...]string{"signature", "Signature", "nonce", "Nonce", "timestamp", "Timestamp"}

// zegoSigned returns the member named lower (snake_case families) or its PascalCase spelling;
// one under both spellings, or twice, is refused: a verifier and a consumer could read different
// ones.
func zegoSigned(top []member, lower, upper string) ([]byte, *AuthError) {
	v, dup := lookupOnce(top, lower)
	u, dupU := lookupOnce(top, upper)
	switch {
	case dup || dupU || (v != nil && u != nil):
		return nil, &AuthError{Reason: lower + " appears twice (or as both " + lower + " and " + upper + ")"}
	case v == nil && u == nil:
		return nil, &AuthError{Reason: lower + " missing"}
	case v == nil:
		v = u
	}
	return v, nil
}

// zegoSum writes the lower-hex signature of (secret, timestamp, nonce) into out: the three sorted
// bytewise and joined, SHA-1.
func zegoSum(out *[sha1.Size * 2]byte, secret, ts, nonce []byte) {
	a, b, c := secret, ts, nonce
	if string(b) < string(a) {
		a, b = b, a
	}
	if string(c) < string(b) {
		b, c = c, b
		if string(b) < string(a) {
			a, b = b, a
		}
	}
	var buf [256]byte
	sum := sha1.Sum(append(append(append(buf[:0], a...), b...), c...))
	hex.Encode(out[:], sum[:])
}

func zegoVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	top, err := c.members()
	if err != nil && len(top) == 0 {
		return Signed, &AuthError{Reason: "body is not a JSON object, so signature, timestamp and nonce cannot be read"}
	}
	sig, aerr := zegoSigned(top, "signature", "Signature")
	if aerr != nil {
		return Signed, aerr
	}
	ts, aerr := zegoSigned(top, "timestamp", "Timestamp")
	if aerr != nil {
		return Signed, aerr
	}
	nonce, aerr := zegoSigned(top, "nonce", "Nonce")
	if aerr != nil {
		return Signed, aerr
	}
	var scratch [128]byte
	sigText, s, ok := stringValue(sig, scratch[:0])
	if !ok || sig[0] != '"' {
		return Signed, &AuthError{Reason: "signature is not a string"}
	}
	tsText, s, ok := stringValue(ts, s) // a number's literal text, a string's contents
	if !ok {
		return Signed, &AuthError{Reason: "timestamp is not a string or a number"}
	}
	nonceText, _, ok := stringValue(nonce, s)
	if !ok {
		return Signed, &AuthError{Reason: "nonce is not a string or a number"}
	}
	var want [sha1.Size * 2]byte
	zegoSum(&want, a.Secret, tsText, nonceText)
	if !equalHex(sigText, want[:]) {
		return Signed, &AuthError{Reason: "signature does not match sha1(sort(secret, timestamp, nonce))"}
	}
	sent, ok := intValue(ts)
	if !ok {
		return Signed, &AuthError{Reason: "timestamp is not a unix time, so the signature window cannot be checked"}
	}
	return Signed, checkSkew("timestamp", unixTime(sent), c.Received, a.MaxSkew)
}

func zegoNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	key, err := zegoSetType(ev, top)
	if err != nil {
		return err
	}

	// data: every member but the signature triple, JSON-in-string members decoded.
	d := append(ev.data[:0], '{')
members:
	for _, m := range top {
		for _, k := range zegoSignedNames {
			if string(m.key) == k {
				continue members
			}
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		d = appendKey(d, m)
		switch string(m.key) {
		case "stream_attr", "third_define_data", "snapshot_pic_list", "extra_params":
			d, ev.scratch = appendEmbeddedJSON(d, m.val, ev.scratch)
		default:
			d = appendCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data

	var subjectRaw, appRaw []byte
	for _, name := range [...]string{"stream_id", "task_id", "TaskId", "PlayerId", "UploadTaskId", "stream_alias", "room_id", "RoomId"} {
		if subjectRaw = lookup(top, name); subjectRaw != nil {
			break
		}
	}
	subject, scratch, _ := stringValue(subjectRaw, ev.scratch[:0])
	ev.Subject = ev.keep(subject)
	for _, name := range [...]string{"appid", "AppId", "Appid", "AppID", "app_id"} {
		if appRaw = lookup(top, name); appRaw != nil {
			break
		}
	}
	app, scratch, _ := stringValue(appRaw, scratch[:0])
	ev.scratch = scratch
	ev.setSource(app)

	zegoSetTime(c, ev, top)
	zegoSetID(ev, top, key, app)
	return nil
}

// zegoSetType reads the event code from the member its family carries it in, sets the type and
// returns the Events table key.
func zegoSetType(ev *Event, top []member) ([]byte, error) {
	for _, cm := range zegoCodeMembers {
		raw := lookup(top, cm.name)
		if raw == nil {
			continue
		}
		if !cm.numeric {
			code, scratch, ok := stringValue(raw, ev.scratch[:0])
			if !ok || raw[0] != '"' || len(code) == 0 {
				return nil, payloadErr(cm.name, "not a non-empty string: %s", excerpt(raw))
			}
			ev.scratch = scratch
			ev.ProviderEventType = ev.keep(code)
			ev.setTypeFrom(zegoEvents, zegoPrefix)
			return ev.ProviderEventType, nil
		}
		n, ok := intValue(raw)
		if !ok {
			return nil, payloadErr(cm.name, "not an integer: %s", excerpt(raw))
		}
		ev.ProviderEventType = ev.keepInt(n)
		key := ev.keep([]byte(cm.name), []byte{'/'}, ev.ProviderEventType)
		if def := findEvent(zegoEvents, key); def != nil {
			ev.setType(zegoPrefix, def.Name)
		} else {
			ev.setUnknownType(zegoPrefix, key)
		}
		return key, nil
	}
	return nil, payloadErr("event", "missing (nor Event, event_type or EventType)")
}

// zegoTimes are the event-time members, most specific first (a logout carries login_time too,
// a stream_close create_time_ms): ms, except create_time (s) and record's end_time (s in the
// examples; unixTime reads either).
var zegoTimes = [...]string{"destroy_timemillis", "logout_time", "room_close_time", "room_create_time", "login_time",
	"create_time_ms", "create_time", "end_time", "EventTime"}

func zegoSetTime(c *Callback, ev *Event, top []member) {
	ev.Time = c.Received.UTC()
	for _, name := range zegoTimes {
		if ev.setTime(intValue(lookup(top, name))) {
			return
		}
	}
	if aux := lookup(top, "AuxInfo"); len(aux) > 0 && aux[0] == '{' {
		var finish, begin []byte
		eachMember(aux, func(m member) {
			switch string(m.key) {
			case "ProcessFinishTime":
				finish = m.val
			case "ProcessBeginTime":
				begin = m.val
			}
		})
		_ = ev.setTime(intValue(finish)) || ev.setTime(intValue(begin))
	}
}

// zegoIdentities name, for each kind of event (a code, or a code prefix), the members that
// identify one event (§1e), and the ones to use instead when the first of them is missing. A
// kind not here is identified by its data.
var zegoIdentities = [...]struct {
	codes            []string
	prefix           bool // codes are prefixes: the cloud recording and cloud player numbers
	fields, fallback []string
}{
	{[]string{"room_create", "room_close"}, false, []string{"room_id", "room_session_id"}, nil},
	{[]string{"room_login", "room_logout"}, false, []string{"room_id", "room_seq", "session_id", "user_update_seq"}, nil},
	{[]string{"stream_create", "stream_close"}, false, []string{"stream_sid", "stream_seq"}, []string{"stream_id", "create_time_ms", "destroy_timemillis"}},
	{[]string{"mix_start", "mix_stop"}, false, []string{"task_id", "seq"}, nil},
	// one callback per file format: the URL tells them apart
	{[]string{"record"}, false, []string{"stream_alias", "begin_time", "end_time", "replay_url"}, nil},
	{[]string{"snapshot", "compose", "procedure"}, false, []string{"task_id"}, nil},
	{[]string{"transcode_start", "transcode_stop"}, false, []string{"TaskId", "Sequence", "Status"}, nil},
	{[]string{"censor_audio_v2_result", "censor_video_v2_audio_result", "censor_video_v2_img_result"}, false, []string{"ResultTaskId"}, []string{"TaskId"}},
	{[]string{"censor_audio_v2_status", "censor_video_v2_audio_status", "censor_video_v2_img_status"}, false, []string{"TaskId", "Status"}, nil},
	// room-empty (4) is re-sent every 30 s: sequence tells them apart
	{[]string{"event_type/"}, true, []string{"task_id", "sequence"}, nil},
	{[]string{"EventType/"}, true, []string{"PlayerId", "UploadTaskId", "EventTime"}, nil},
}

func zegoIdentity(key []byte) (fields, fallback []string) {
	for i := range zegoIdentities {
		r := &zegoIdentities[i]
		for _, code := range r.codes {
			if string(key) == code || (r.prefix && len(key) > len(code) && string(key[:len(code)]) == code) {
				return r.fields, r.fallback
			}
		}
	}
	return nil, nil
}

// zegoSetID sets the id: a hash of the app, the code and the members that identify the event,
// as sent (never timestamp, nonce or signature, which change between retries); the data when
// the kind has none of them.
func zegoSetID(ev *Event, top []member, key, app []byte) {
	fields, fallback := zegoIdentity(key)
	if len(fields) > 0 && lookup(top, fields[0]) == nil && fallback != nil {
		fields = fallback
	}
	var parts [6][]byte
	parts[0] = app
	n, found := 1, false
	for _, name := range fields {
		if n == len(parts) {
			break
		}
		parts[n] = lookup(top, name)
		found = found || parts[n] != nil
		n++
	}
	if !found {
		ev.hashID(app, []byte("data"), ev.Data)
		return
	}
	ev.hashID(parts[:n]...)
}

// signZego stamps the send time (as its family writes it: a number where the body has a number)
// and a nonce where the body has none, and sets the signature under a.Secret.
func signZego(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	top := topMembers(body)
	tsName, nonceName, sigName := "timestamp", "nonce", "signature"
	if lookup(top, "timestamp") == nil && lookup(top, "event") == nil && lookup(top, "event_type") == nil &&
		(lookup(top, "Timestamp") != nil || lookup(top, "Event") != nil || lookup(top, "EventType") != nil) {
		tsName, nonceName, sigName = "Timestamp", "Nonce", "Signature"
	}
	ts := strconv.AppendInt(nil, now.Unix(), 10)
	if old := lookup(top, tsName); len(old) == 0 || old[0] == '"' {
		ts = strconv.AppendQuote(nil, string(ts))
	}
	body, headers, err := stampJSON(body, tsName, ts)
	if err != nil {
		return nil, nil, err
	}
	nonce := lookup(topMembers(body), nonceName)
	if nonce == nil {
		nonce = strconv.AppendQuote(nil, strconv.FormatInt(now.UnixNano()%1e9, 10))
		if body, err = replaceMember(body, nonceName, nonce); err != nil {
			return nil, nil, err
		}
	}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	tsText, _, _ := stringValue(ts, nil)
	nonceText, _, _ := stringValue(nonce, nil)
	var sum [sha1.Size * 2]byte
	zegoSum(&sum, a.Secret, tsText, nonceText)
	body, err = replaceMember(body, sigName, strconv.AppendQuote(nil, string(sum[:])))
	return body, headers, err
}

// zegoCanonical maps ZEGO's room, login, stream, mixing, CDN recording, cloud recording (v2)
// and cloud player events to the canonical RTC events (SPEC §9). ZEGO documents close_reason,
// logout reason, stream_close type and user_role; cloud recording sends no start (the API's
// answer is the start) and exits normally with event_type 5.
var zegoCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "appid"},
		{To: "room_id", From: "room_id"},
	},
	Events: map[string][]Mapping{
		"room.created": {{Type: RoomStarted, Set: []Set{{To: "room_session_id", From: "room_session_id"}}}},
		"room.closed": {{Type: RoomEnded, Set: []Set{{To: "room_session_id", From: "room_session_id"},
			{To: "reason", From: "close_reason", Values: map[string]string{"0": "left", "1": "timeout", "2": "timeout", "3": "kicked"}}}}},
		"room.user.logged_in": {{Type: ParticipantJoined, Set: zegoUserSets()}},
		"room.user.logged_out": {{Type: ParticipantLeft, Set: zegoUserSets(Set{To: "reason", From: "reason",
			Values: map[string]string{"0": "left", "1": "timeout", "2": "timeout", "3": "kicked", "4": "other"}})}},
		"stream.created": {{Type: StreamPublished, Set: zegoStreamSets()}},
		"stream.closed": {{Type: StreamUnpublished, Set: zegoStreamSets(Set{To: "reason", From: "type", Values: map[string]string{
			"0": "left", "1": "timeout", "2": "replaced", "3": "kicked", "4": "timeout", "5": "room_ended", "100": "kicked"}})}},
		"mix.started":             {{Type: RelayStarted, Set: zegoMixSets()}},
		"mix.stopped":             {{Type: RelayEnded, Set: zegoMixSets()}},
		"cdn.recording.completed": {{Type: RecordingFileReady, Set: []Set{{To: "room_id", From: "stream_alias"}, {To: "recording.files", From: "replay_url"}}}},

		"recording.uploaded": {{Type: RecordingFileReady, Set: zegoRecSets(
			Set{To: "recording.status", From: "detail.upload_status"},
			Set{To: "recording.files", From: "detail.file_info[].file_url"})}},
		"recording.aborted": {{Type: RecordingFailed, Set: zegoRecSets(Set{To: "recording.error", From: "detail.quit_reason"})}},
		"recording.exited":  {{Type: RecordingEnded, Set: zegoRecSets()}},

		"cloudplayer.created":        {{Type: RelayStarted, Set: zegoPlayerSets(Set{To: "relay.url", From: "Detail.StreamUrl"})}},
		"cloudplayer.status.changed": {{Type: RelayStateChanged, Set: zegoPlayerSets(Set{To: "relay.state", From: "Detail.Status"})}},
		"cloudplayer.exception":      {{Type: RelayStateChanged, Set: zegoPlayerSets(Set{To: "relay.error", From: "Detail.Code"})}},
		"cloudplayer.destroyed":      {{Type: RelayEnded, Set: zegoPlayerSets(Set{To: "relay.error", From: "Detail.Reason"})}},
	},
	Gaps: "no recording start (cloud recording reports only its files, abnormal and normal ends); no track kind (a ZEGO " +
		"stream carries audio and video); a login's duration is not sent; mixing sends no callback when it ends " +
		"abnormally; single-stream transcoding, VOD and moderation have no counterpart",
}

// zegoUserSets: a login or logout of user_account, whose session_id is the connection and
// user_role (1 host, 2 audience; 4 admin has no counterpart) the role.
func zegoUserSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_session_id", From: "room_seq"},
		{To: "participant_id", From: "user_account"},
		{To: "participant_session_id", From: "session_id"},
		{To: "role", From: "user_role", Values: map[string]string{"1": "host", "2": "audience"}},
		{To: "provider_sequence", From: "user_update_seq"},
	}, more...)
}

// zegoStreamSets: the stream stream_id of user_id; stream_sid is its unique id.
func zegoStreamSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_session_id", From: "room_session_id"},
		{To: "participant_id", From: "user_id"},
		{To: "provider_sequence", From: "stream_seq"},
		{To: "track.id", From: "stream_sid"},
		{To: "track.name", From: "stream_id"},
	}, more...)
}

// zegoMixSets: a mixing task pushes the room's (channel_id) mix to mix_url.
func zegoMixSets() []Set {
	return []Set{
		{To: "room_id", From: "channel_id"},
		{To: "provider_sequence", From: "seq"},
		{To: "relay.task_id", From: "task_id"},
		{To: "relay.direction", Value: "push"},
		{To: "relay.url", From: "mix_url"},
	}
}

// zegoRecSets: a cloud recording (v2) task's event.
func zegoRecSets(more ...Set) []Set {
	return append([]Set{
		{To: "app_id", From: "app_id"},
		{To: "provider_sequence", From: "sequence"},
		{To: "recording.task_id", From: "task_id"},
	}, more...)
}

// zegoPlayerSets: a cloud player pulls StreamUrl into RoomId; EventTime orders its events.
func zegoPlayerSets(more ...Set) []Set {
	return append([]Set{
		{To: "app_id", From: "AppID"},
		{To: "room_id", From: "RoomId"},
		{To: "provider_sequence", From: "EventTime"},
		{To: "relay.task_id", From: "PlayerId"},
		{To: "relay.direction", Value: "pull"},
	}, more...)
}

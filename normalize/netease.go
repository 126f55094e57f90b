package normalize

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"
)

// NetEase Yunxin NERTC 消息抄送: {"eventType":N,"data":{...}}, signed in headers with
// MD5 = md5hex(body) and CheckSum = sha1hex(AppSecret + MD5 + CurTime), CurTime in milliseconds.
// The console checks the URL with an empty or {} body. The body carries no send time, so a retry
// re-signed with a new CurTime has the same body, and the id hashes the event code and data.
var NetEaseNERTC = Provider{
	ID:            "netease-nertc",
	TypePrefix:    neteasePrefix,
	Reply:         []byte(`{"code":200}`),
	SecretName:    "AppSecret",
	SecretVar:     "APP_SECRET",
	Scheme:        "headers `MD5 = md5hex(body)`, `CheckSum = sha1hex(AppSecret + MD5 + CurTime)`",
	Window:        "`CurTime` (ms) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:       "cloud player: `data.taskId`; room events: `data.channelId` (else `data.channelName`)",
	TimeSource:    "`data.timestamp` (ms), else `data.createtime`/`data.creaetime` (ms), else receipt",
	Events:        neteaseEvents,
	Data:          neteaseData,
	EventData:     neteaseEventData,
	Unknown:       "unknown.<eventType>",
	IsProbe:       neteaseIsProbe,
	Verify:        neteaseVerify,
	Normalize:     neteaseNormalize,
	Sign:          signNetEase,
	SampleHeaders: []Header{{"AppKey", "a1b2c3d4e5f6"}},
	Canonical:     neteaseCanonical,
	Distinct:      []string{"data.taskId"},
	Code:          "eventType",
	Sample:        []byte(`{"eventType":503,"data":{"channelId":1144880576163552,"code":200,"idleTimeout":300,"playTs":1712900013,"streamUrl":"http://example.com/live/a.mp4","taskId":"9aad689e-ba91-4764-bed1-b2e09bc21f5d","timestamp":1712900013002}}`),
}

const neteasePrefix = "com.netease.nertc."

var neteaseEvents = []EventDef{
	{"1", "room.started", "房间启动 room started"},
	{"2", "room.ended", "房间结束 room ended (example spells createtime as creaetime)"},
	{"3", "room.recording.ready", "录制文件下载信息 recording file ready"},
	{"4", "room.user.joined", "用户进入房间 user joined"},
	{"5", "room.user.left", "用户离开房间 user left"},
	{"6", "room.user.join_failed", "用户加入房间失败 join failed"},
	{"7", "room.create_failed", "创建房间失败 room creation failed"},
	{"8", "room.duration", "房间时长 room duration"},
	{"9", "room.user.role.audience", "用户角色变更为观众 role changed to audience"},
	{"10", "room.user.role.broadcaster", "用户角色变更为主播 role changed to broadcaster"},
	{"11", "room.user.video.started", "用户开始发布视频流 video publishing started"},
	{"12", "room.user.video.stopped", "用户停止发布视频流 video publishing stopped"},
	{"13", "room.user.audio.started", "用户开始发布音频流 audio publishing started"},
	{"14", "room.user.audio.stopped", "用户停止发布音频流 audio publishing stopped"},
	{"500", "cloudplayer.task.created", "创建任务成功 task created"},
	{"501", "cloudplayer.task.updated", "更新任务成功 task updated"},
	{"502", "cloudplayer.task.destroyed", "销毁任务成功 task destroyed"},
	{"503", "cloudplayer.play.started", "开始播放 playing started"},
	{"504", "cloudplayer.play.ended", "播放结束 playing ended"},
	{"505", "cloudplayer.play.failed", "播放异常 play error, carries reason (the page lists it as a second 506)"},
	{"506", "cloudplayer.play.paused", "暂停播放 paused"},
	{"507", "cloudplayer.play.resumed", "恢复播放 resumed"},
}

// neteaseData: the members of data every event carries. channelId is a 64-bit number (the
// examples show 16 digits, past 2^53 in the wild).
var neteaseData = []Field{
	{Path: "channelId", Type: TInteger, BigID: true, Desc: "房间 ID, the room's id"},
	{Path: "timestamp", Type: TInteger, Unit: "ms", Desc: "when the event happened"},
}

// neteaseRoom, neteaseUser and neteasePlayer are the members of room, user and cloud player
// events beside neteaseData (1-14 and 500-507 as the pages list them; 4-14 as the examples show).
var (
	neteaseRoom = []Field{
		{Path: "channelName", Type: TString, Desc: "the room's name"},
	}
	neteaseUser = append(neteaseRoom[:1:1],
		Field{Path: "uid", Type: TInteger, BigID: true, Desc: "the user's id"},
	)
	neteasePlayer = []Field{
		{Path: "taskId", Type: TString, Required: true, Desc: "the cloud player task's id"},
		{Path: "streamUrl", Type: TString, Desc: "the online media stream played"},
		{Path: "playTs", Type: TInteger, Unit: "s", Desc: "when playing started (Unix time)"},
		{Path: "idleTimeout", Type: TInteger, Unit: "s", Desc: "longest the player stays idle"},
		{Path: "code", Type: TInteger, Desc: "在线媒体流状态码, the stream's status code"},
		{Path: "eventType", Type: TInteger, Desc: "the event code again (the 501 table lists it in data)"},
	}
)

// neteaseEventData: each event's own members, by EventDef Name.
var neteaseEventData = map[string][]Field{
	"room.started": append(neteaseRoom[:1:1],
		Field{Path: "createtime", Type: TInteger, Unit: "ms", Desc: "when the room was created"}),
	"room.ended": append(neteaseRoom[:1:1],
		Field{Path: "createtime", Type: TInteger, Unit: "ms", Desc: "when the room was created"},
		Field{Path: "creaetime", Type: TInteger, Unit: "ms", Desc: "createtime as the documented example spells it"}),
	"room.recording.ready": {
		{Path: "caller", Type: TBool, Desc: "无效字段 (the page says to ignore it)"},
		{Path: "filename", Type: TString, Desc: "the file's name"},
		{Path: "md5", Type: TString, Desc: "MD5 of the file, hex"},
		{Path: "size", Type: TString, Unit: "bytes", Desc: "the file's size, as a decimal string"},
		{Path: "type", Type: TString, Desc: "aac, mp4 or flv"},
		{Path: "url", Type: TString, Desc: "where to download the file"},
		{Path: "uid", Type: TInteger, BigID: true, Desc: "the user recorded; 0 for a mixed file"},
		{Path: "taskId", Type: TString, Desc: "the recording task's id"},
		{Path: "mix", Type: TBool, Desc: "a mixed (all users) file"},
		{Path: "vid", Type: TString, Desc: "the file's id in NetEase's VOD"},
	},
	"room.user.joined":           neteaseUser,
	"room.user.left":             append(neteaseUser[:2:2], Field{Path: "reason", Type: TInteger, Desc: "why the user left, NetEase's code"}),
	"room.user.join_failed":      neteaseUser,
	"room.create_failed":         neteaseUser,
	"room.duration":              append(neteaseUser[:2:2], Field{Path: "duration", Type: TInteger, Unit: "s", Desc: "how long the user was in the room"}),
	"room.user.role.audience":    neteaseUser,
	"room.user.role.broadcaster": neteaseUser,
	"room.user.video.started":    neteaseUser,
	"room.user.video.stopped":    neteaseUser,
	"room.user.audio.started":    neteaseUser,
	"room.user.audio.stopped":    neteaseUser,
	"cloudplayer.task.created":   neteasePlayer,
	"cloudplayer.task.updated":   neteasePlayer,
	"cloudplayer.task.destroyed": neteasePlayer,
	"cloudplayer.play.started":   neteasePlayer,
	"cloudplayer.play.ended":     neteasePlayer,
	"cloudplayer.play.failed":    append(neteasePlayer[:len(neteasePlayer):len(neteasePlayer)], Field{Path: "reason", Type: TString, Desc: "why playing failed"}),
	"cloudplayer.play.paused":    neteasePlayer,
	"cloudplayer.play.resumed":   neteasePlayer,
}

func neteaseIsProbe(c *Callback) bool {
	b := c.Body[skipSpace(c.Body, 0):]
	if len(b) == 0 {
		return true
	}
	if b[0] != '{' {
		return false
	}
	i := skipSpace(b, 1)
	return i < len(b) && b[i] == '}' && skipSpace(b, i+1) == len(b)
}

func neteaseVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	md5Header, curTime, checkSum := c.Header.Peek("MD5"), c.Header.Peek("CurTime"), c.Header.Peek("CheckSum")
	switch {
	case len(checkSum) == 0:
		return Signed, &AuthError{Reason: "CheckSum header missing"}
	case len(md5Header) == 0:
		return Signed, &AuthError{Reason: "MD5 header missing"}
	case len(curTime) == 0:
		return Signed, &AuthError{Reason: "CurTime header missing"}
	}
	var sum [md5.Size * 2]byte
	bodyMD5 := md5.Sum(c.Body)
	hex.Encode(sum[:], bodyMD5[:])
	if !equalHex(md5Header, sum[:]) {
		return Signed, &AuthError{Reason: "MD5 header does not match the body"}
	}
	var buf [256]byte
	in := append(append(append(buf[:0], a.Secret...), md5Header...), curTime...)
	want := sha1.Sum(in)
	var wantHex [sha1.Size * 2]byte
	hex.Encode(wantHex[:], want[:])
	if !equalHex(checkSum, wantHex[:]) {
		return Signed, &AuthError{Reason: "CheckSum does not match"}
	}
	ms, ok := intValue(curTime)
	if !ok {
		return Signed, &AuthError{Reason: "CurTime is not a millisecond timestamp"}
	}
	return Signed, checkSkew("CurTime", unixTime(ms), c.Received, a.MaxSkew)
}

func neteaseNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	codeRaw := lookup(top, "eventType")
	if codeRaw == nil {
		return payloadErr("eventType", "missing")
	}
	// IM callbacks that share the URL send eventType as a string.
	code, ok := intValue(codeRaw)
	if !ok {
		return payloadErr("eventType", "not an integer: %s", excerpt(codeRaw))
	}
	data := lookup(top, "data")
	if len(data) == 0 || data[0] != '{' {
		return payloadErr("data", "missing or not an object")
	}
	var taskID, channelID, channelName, stamp, created []byte
	eachMember(data, func(m member) {
		switch string(m.key) {
		case "taskId":
			taskID = m.val
		case "channelId":
			channelID = m.val
		case "channelName":
			channelName = m.val
		case "timestamp":
			stamp = m.val
		case "createtime", "creaetime":
			created = m.val
		}
	})

	ev.ProviderEventType = ev.keepInt(code)
	ev.setTypeFrom(neteaseEvents, neteasePrefix)

	var subject []byte
	if code >= 500 && code <= 507 {
		if subject, ev.scratch, ok = stringValue(taskID, ev.scratch[:0]); !ok || len(subject) == 0 {
			return payloadErr("data.taskId", "missing or empty")
		}
	} else if subject, ev.scratch, ok = stringValue(channelID, ev.scratch[:0]); !ok {
		subject, ev.scratch, _ = stringValue(channelName, ev.scratch[:0])
	}
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	_ = ev.setTime(intValue(stamp)) || ev.setTime(intValue(created))

	ev.setSource(c.Header.Peek("AppKey"))
	ev.data = appendCompact(ev.data[:0], data)
	ev.Data = ev.data
	ev.hashID(ev.Data)
	return nil
}

func signNetEase(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	sum := md5.Sum(body)
	md5Hex := hex.EncodeToString(sum[:])
	curTime := strconv.FormatInt(now.UnixMilli(), 10)
	check := sha1.Sum([]byte(string(a.Secret) + md5Hex + curTime))
	return body, append(headers, Header{"MD5", md5Hex}, Header{"CurTime", curTime}, Header{"CheckSum", hex.EncodeToString(check[:])}), nil
}

// neteaseCanonical maps NERTC's room, user, publish and recording events and the cloud player
// (which pulls an online stream into a room) to the canonical RTC events (SPEC §9). channelName
// is the room, channelId the one run of it NetEase numbers. NetEase's pages list no codes for a
// leave's reason: every reason is other, with reason_native kept.
var neteaseCanonical = &Canonical{
	Base: []Set{
		{To: "room_session_id", From: "channelId"},
		{To: "provider_sequence", From: "timestamp"},
	},
	Events: map[string][]Mapping{
		"room.started":               {{Type: RoomStarted, Set: neteaseUserSets()[1:]}},
		"room.ended":                 {{Type: RoomEnded, Set: neteaseUserSets()[1:]}},
		"room.user.joined":           {{Type: ParticipantJoined, Set: neteaseUserSets()}},
		"room.user.left":             {{Type: ParticipantLeft, Set: neteaseUserSets(Set{To: "reason", From: "reason"})}},
		"room.user.join_failed":      {{Type: ParticipantLeft, Set: neteaseUserSets(Set{To: "reason", Value: "join_failed"})}},
		"room.create_failed":         {{Type: ParticipantLeft, Set: neteaseUserSets(Set{To: "reason", Value: "join_failed"})}},
		"room.user.role.audience":    {{Type: ParticipantRole, Set: neteaseUserSets(Set{To: "role", Value: "audience"})}},
		"room.user.role.broadcaster": {{Type: ParticipantRole, Set: neteaseUserSets(Set{To: "role", Value: "host"})}},
		"room.user.video.started":    {{Type: StreamPublished, Set: neteaseUserSets(Set{To: "track.kind", Value: "video"})}},
		"room.user.video.stopped":    {{Type: StreamUnpublished, Set: neteaseUserSets(Set{To: "track.kind", Value: "video"})}},
		"room.user.audio.started":    {{Type: StreamPublished, Set: neteaseUserSets(Set{To: "track.kind", Value: "audio"})}},
		"room.user.audio.stopped":    {{Type: StreamUnpublished, Set: neteaseUserSets(Set{To: "track.kind", Value: "audio"})}},
		// uid 0 is the mixed file: no participant.
		"room.recording.ready": {
			{Type: RecordingFileReady, If: &Cond{Path: "uid", Values: []string{"0"}}, Set: neteaseRecSets()},
			{Type: RecordingFileReady, Set: neteaseRecSets(Set{To: "participant_id", From: "uid"})},
		},

		"cloudplayer.task.created":   {{Type: RelayStarted, Set: neteasePlayerSets("task.created")}},
		"cloudplayer.task.updated":   {{Type: RelayStateChanged, Set: neteasePlayerSets("task.updated")}},
		"cloudplayer.play.started":   {{Type: RelayStateChanged, Set: neteasePlayerSets("play.started")}},
		"cloudplayer.play.ended":     {{Type: RelayStateChanged, Set: neteasePlayerSets("play.ended")}},
		"cloudplayer.play.failed":    {{Type: RelayStateChanged, Set: neteasePlayerSets("play.failed", Set{To: "relay.error", From: "reason"})}},
		"cloudplayer.play.paused":    {{Type: RelayStateChanged, Set: neteasePlayerSets("play.paused")}},
		"cloudplayer.play.resumed":   {{Type: RelayStateChanged, Set: neteasePlayerSets("play.resumed")}},
		"cloudplayer.task.destroyed": {{Type: RelayEnded, Set: neteasePlayerSets("task.destroyed")}},
	},
	Gaps: "no app id in the data (it is the AppKey header, in source); no reason codes documented for a leave; " +
		"no recording start, end or failure (only the file-ready event, which names the channelId but not the channelName); " +
		"the cloud player's events name the channelId only; no push to CDN events",
}

// neteaseUserSets: an event about one user (uid, a 64-bit id written as text) in the room
// channelName; [1:] is the room alone.
func neteaseUserSets(more ...Set) []Set {
	return append([]Set{{To: "participant_id", From: "uid"}, {To: "room_id", From: "channelName"}}, more...)
}

// neteaseRecSets: a recording file ready, its download URL the file.
func neteaseRecSets(more ...Set) []Set {
	return append([]Set{
		{To: "recording.task_id", From: "taskId"},
		{To: "recording.files", From: "url"},
	}, more...)
}

// neteasePlayerSets: the cloud player pulls streamUrl into the room; its state is the event.
func neteasePlayerSets(state string, more ...Set) []Set {
	return append([]Set{
		{To: "relay.task_id", From: "taskId"},
		{To: "relay.direction", Value: "pull"},
		{To: "relay.url", From: "streamUrl"},
		{To: "relay.state", Value: state},
	}, more...)
}

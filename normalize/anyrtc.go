package normalize

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// anyRTC 消息通知服务 (NCS): Agora's envelope {"noticeId","productId","eventType","notifyMs",
// "payload"}. anyRTC does not publish its signature scheme; the Ar-Signature header is checked
// as Agora's, hex HMAC-SHA1 (or HMAC-SHA256) of the raw body, so run it in report mode until a
// captured request confirms it. Event numbers repeat across products, so the key is
// (productId, eventType). noticeId identifies one notification and is the event id; notifyMs
// changes between retries and is used only for the signature window.
var AnyRTC = Provider{
	ID:         "anyrtc",
	TypePrefix: anyrtcPrefix,
	Reply:      []byte(`{"code":0}`),
	SecretName: "NCS secret (from anyRTC support)",
	SecretVar:  "SECRET",
	Settings:   anyrtcSettings,
	Scheme:     "header `Ar-Signature = hex(HMAC-SHA1(secret, body))`, or HMAC-SHA256 with `CALLBRIDGE_ANYRTC_SIGNATURE=hmac-sha256`",
	Window:     "`notifyMs` (ms, in the signed body) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:    "RTC: `payload.channelName`; CDN push: `payload.stream` (else `payload.channel`)",
	TimeSource: "RTC: `payload.ts` (s); CDN push: `payload.time` (ms); recording: `payload.sendts` (ms); else `notifyMs` (ms)",
	Events:     anyrtcEvents,
	EventData:  anyrtcEventData,
	Unknown:    "unknown.<productId>.<eventType>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     anyrtcVerify,
	Normalize:  anyrtcNormalize,
	Sign:       signAnyRTC,
	Distinct:   []string{"noticeId"},
	Canonical:  anyrtcCanonical,
	Code:       "eventType",
	Sample:     []byte(`{"noticeId":"2000001428:4331:103","productId":1,"eventType":103,"notifyMs":1712902003412,"payload":{"channelName":"room1","uid":12345,"platform":7,"ts":1712902003,"channelSId":"c6a1f0e2b7d94e0f9a5c3b8d2e71f604","uSId":"5b7e0c9a41d2f3e86a9d0c1b2e3f4a57"}}`),
}

const anyrtcPrefix = "io.anyrtc."

// anyrtcSettings: anyRTC does not publish which HMAC it uses, so the operator chooses.
var anyrtcSettings = []Setting{
	{Name: "SIGNATURE", Kind: Choice, Choices: []string{"hmac-sha1", "hmac-sha256"}, Default: "hmac-sha1",
		Description: "Ar-Signature scheme: hmac-sha1 or hmac-sha256"},
}

// The choices of the SIGNATURE setting.
const (
	anyrtcHMACSHA1 = iota
	anyrtcHMACSHA256
)

// anyrtcUsesSHA256 reports whether a selects HMAC-SHA256.
func anyrtcUsesSHA256(a *Auth) bool {
	return a.setting(anyrtcSettings, "SIGNATURE").Choice == anyrtcHMACSHA256
}

// Codes are "<productId>/<eventType>".
var anyrtcEvents = []EventDef{
	{"1/101", "rtc.channel.created", "channel create 创建频道"},
	{"1/102", "rtc.channel.destroyed", "channel destroy 销毁频道"},
	{"1/103", "rtc.broadcaster.joined", "broadcaster join channel 主播加入频道"},
	{"1/104", "rtc.broadcaster.left", "broadcaster leave channel 主播离开频道"},
	{"1/105", "rtc.audience.joined", "audience join channel 观众加入频道"},
	{"1/106", "rtc.audience.left", "audience leave channel 观众离开频道"},
	{"1/107", "rtc.user.joined", "user join channel, communication mode 通信场景用户加入"},
	{"1/108", "rtc.user.left", "user leave channel, communication mode 通信场景用户离开"},
	{"1/111", "rtc.role.broadcaster", "client role change to broadcaster 切换为主播"},
	{"1/112", "rtc.role.audience", "client role change to audience 切换为观众"},
	{"2/1", "cdn.publish.started", "PublishStream 开始推流"},
	{"2/2", "cdn.publish.stopped", "UnpublishStream 取消推流"},
	{"2/3", "cdn.publish.status", "PublishStatus 推流状态改变"},
	{"2/4", "cdn.transcoding.updated", "UpdateTranscoding 转码布局已更新"},
	{"2/5", "cdn.publish.requested", "PublishRequest 推流服务器收到推流请求"},
	{"2/6", "cdn.publish.first_frame", "PublishFirstFrame 视频首帧已推到 CDN"},
}

func anyrtcVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	got := c.Header.Peek("Ar-Signature")
	if len(got) == 0 {
		return Signed, &AuthError{Reason: "Ar-Signature header missing"}
	}
	var sum [sha256.Size]byte
	var want [sha256.Size * 2]byte
	n := hex.Encode(want[:], sum[:hmacSum(&sum, a.Secret, anyrtcUsesSHA256(a), c.Body)])
	if !equalHex(got, want[:n]) {
		return Signed, &AuthError{Reason: "Ar-Signature does not match the body"}
	}
	return ncsWindow(c, a)
}

func anyrtcNormalize(c *Callback, ev *Event) error {
	top, product, code, payload, err := ncsEnvelope(c)
	if err != nil {
		return err
	}
	var channelName, channel, cname, stream, ts, tms []byte
	eachMember(payload, func(m member) {
		switch string(m.key) {
		case "channelName":
			channelName = m.val
		case "channel":
			channel = m.val
		case "cname":
			cname = m.val
		case "stream":
			stream = m.val
		case "ts":
			ts = m.val
		case "time", "sendts": // CDN push; cloud recording (Agora's layout)
			tms = m.val
		}
	})

	key := ncsSetType(ev, anyrtcEvents, anyrtcPrefix, product, code)

	var subject []byte
	var ok bool
	for _, raw := range [...][]byte{channelName, stream, channel, cname} {
		if subject, ev.scratch, ok = stringValue(raw, ev.scratch[:0]); ok && len(subject) > 0 {
			break
		}
	}
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	_ = ev.setTime(intValue(ts)) || ev.setTime(intValue(tms)) || ev.setTime(intValue(lookup(top, "notifyMs")))

	ev.setSource(nil)
	ev.data = appendCompact(ev.data[:0], payload)
	ev.Data = ev.data
	ncsSetID(ev, top, key)
	return nil
}

// signAnyRTC sets notifyMs to now, as a retry does, then signs the body.
func signAnyRTC(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	body, err := setMembers(body, member{key: []byte("notifyMs"), val: strconv.AppendInt(nil, now.UnixMilli(), 10)})
	if err != nil {
		return nil, nil, err
	}
	headers := []Header{{"Content-Type", "application/json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	newHash := sha1.New
	if anyrtcUsesSHA256(a) {
		newHash = sha256.New
	}
	mac := hmac.New(newHash, a.Secret)
	mac.Write(body)
	return body, append(headers, Header{"Ar-Signature", hex.EncodeToString(mac.Sum(nil))}), nil
}

// anyrtcUser: the members of an RTC event about a user joining or leaving.
var anyrtcUser = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TInteger, Required: true, Desc: "the user's UID"},
	{Path: "platform", Type: TInteger, Required: true, Desc: "the user's device: 1 Android, 2 iOS, 5 Windows, 6 Linux, 7 Web, 8 macOS, 0 other"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
	{Path: "uSId", Type: TString, Required: true, Desc: "the user's session id, telling apart a user's entries"},
}

// anyrtcRole: the members of an RTC role change.
var anyrtcRole = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TInteger, Required: true, Desc: "the user's UID"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
	{Path: "uSId", Type: TString, Required: true, Desc: "the user's session id, telling apart a user's entries"},
}

// anyrtcChannel: the members of an RTC channel event.
var anyrtcChannel = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
}

// anyrtcPush: the members of a CDN push state event.
var anyrtcPush = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the push event: PublishStream, UnpublishStream, PublishStatus, UpdateTranscoding, PublishRequest or PublishFirstFrame"},
	{Path: "stream", Type: TString, Required: true, Desc: "the RTMP push URL"},
	{Path: "code", Type: TInteger, Required: true, Desc: "200 success; 450-456 request errors; 30-33 RTMP handshake, connect, publish failed, TCP closed"},
	{Path: "time", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "reason", Type: TString, Required: true, Desc: "the reason, as text"},
	{Path: "channel", Type: TString, Required: true, Desc: "the channel's name"},
}

// anyrtcMedia: the output's media, on PublishStream and UpdateTranscoding.
var anyrtcMedia = []Field{
	{Path: "videoCodec", Type: TString, Required: true, Desc: "H.264 or H.265"},
	{Path: "videoProfile", Type: TString, Required: true, Desc: "High, Main or Baseline"},
	{Path: "width", Type: TInteger, Unit: "px", Required: true, Desc: "the output video's width"},
	{Path: "height", Type: TInteger, Unit: "px", Required: true, Desc: "the output video's height"},
	{Path: "audioCodec", Type: TString, Required: true, Desc: "AAC"},
	{Path: "audioProfile", Type: TString, Required: true, Desc: "LC or HE"},
	{Path: "audioChannels", Type: TInteger, Required: true, Desc: "the output audio's channels"},
	{Path: "audioSampleRate", Type: TInteger, Unit: "Hz", Required: true, Desc: "the output audio's sample rate"},
}

// anyrtcRequest: the members of a CDN push request event.
var anyrtcRequest = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the push event: PublishStream, UnpublishStream, PublishStatus, UpdateTranscoding, PublishRequest or PublishFirstFrame"},
	{Path: "stream", Type: TString, Required: true, Desc: "the RTMP push URL"},
	{Path: "time", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channel", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TString, Required: true, Desc: "the user's UID"},
}

// anyrtcEventData: each event's own members, by EventDef Name: the notification's payload as
// published, from anyRTC's NCS event-type page (anyrtc-ncs-event-types.zh.txt), which lists the
// members of each event: every one listed is Required. RTC and CDN push events share none (uid is a
// number on RTC events, a string on CDN push events), so Data is not set.
var anyrtcEventData = map[string][]Field{
	"rtc.channel.created":    anyrtcChannel,
	"rtc.channel.destroyed":  anyrtcChannel,
	"rtc.broadcaster.joined": anyrtcUser,
	"rtc.broadcaster.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.audience.joined": anyrtcUser,
	"rtc.audience.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.user.joined": anyrtcUser,
	"rtc.user.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.role.broadcaster":    anyrtcRole,
	"rtc.role.audience":       anyrtcRole,
	"cdn.publish.started":     slices.Concat(anyrtcPush, anyrtcMedia),
	"cdn.publish.stopped":     anyrtcPush,
	"cdn.publish.status":      anyrtcPush,
	"cdn.transcoding.updated": slices.Concat(anyrtcPush, anyrtcMedia),
	"cdn.publish.requested":   anyrtcRequest,
	"cdn.publish.first_frame": slices.Concat(anyrtcRequest, []Field{
		{Path: "elapse", Type: TInteger, Unit: "ms", Required: true, Desc: "from the push request to the first video frame pushed"},
		{Path: "retry", Type: TBool, Required: true, Desc: "true: anyRTC's server pushing again; false: the first push"},
	}),
}

// anyrtcCanonical maps anyRTC's RTC channel events and its push to CDN (product 2) to the
// canonical RTC events (SPEC §9). channelSId and uSId tell apart the runs of a channel and a
// user's entries; a CDN push names the channel and its RTMP URL, not a task.
var anyrtcCanonical = &Canonical{
	Events: map[string][]Mapping{
		"rtc.channel.created":    {{Type: RoomStarted, Set: anyrtcRoomSets()}},
		"rtc.channel.destroyed":  {{Type: RoomEnded, Set: anyrtcRoomSets()}},
		"rtc.broadcaster.joined": {{Type: ParticipantJoined, Set: anyrtcUserSets("host")}},
		"rtc.broadcaster.left":   {{Type: ParticipantLeft, Set: anyrtcLeftSets("host")}},
		"rtc.audience.joined":    {{Type: ParticipantJoined, Set: anyrtcUserSets("audience")}},
		"rtc.audience.left":      {{Type: ParticipantLeft, Set: anyrtcLeftSets("audience")}},
		"rtc.user.joined":        {{Type: ParticipantJoined, Set: anyrtcUserSets("participant")}},
		"rtc.user.left":          {{Type: ParticipantLeft, Set: anyrtcLeftSets("participant")}},
		"rtc.role.broadcaster":   {{Type: ParticipantRole, Set: anyrtcUserSets("host")}},
		"rtc.role.audience":      {{Type: ParticipantRole, Set: anyrtcUserSets("audience")}},

		"cdn.publish.started":     anyrtcPushMappings(RelayStarted),
		"cdn.publish.status":      anyrtcPushMappings(RelayStateChanged),
		"cdn.transcoding.updated": anyrtcPushMappings(RelayStateChanged),
		"cdn.publish.stopped":     anyrtcPushMappings(RelayEnded),
		"cdn.publish.requested":   {{Type: RelayStateChanged, Set: anyrtcPushSets(Set{To: "relay.state", From: "event"}, Set{To: "participant_id", From: "uid"})}},
		"cdn.publish.first_frame": {{Type: RelayStateChanged, Set: anyrtcPushSets(Set{To: "relay.state", From: "event"}, Set{To: "participant_id", From: "uid"})}},
	},
	Gaps: "no app id, sequence number or track publish and unpublish; cloud recording (product 3) and the cloud player " +
		"(product 4) are not among the events the bridge documents for anyRTC; a CDN push has no task id",
}

// anyrtcRoomSets: a channel by name and session.
func anyrtcRoomSets() []Set {
	return []Set{{To: "room_id", From: "channelName"}, {To: "room_session_id", From: "channelSId"}}
}

// anyrtcUserSets: an event about one user, whose role its event code says.
func anyrtcUserSets(role string) []Set {
	return append(anyrtcRoomSets(),
		Set{To: "participant_id", From: "uid"},
		Set{To: "participant_session_id", From: "uSId"},
		Set{To: "role", Value: role},
	)
}

// anyrtcLeftSets: a leave adds anyRTC's reason: 1 normal, 2 timed out, 3 permission (kicked),
// 4 server, 5 switched device, 0 other.
func anyrtcLeftSets(role string) []Set {
	return append(anyrtcUserSets(role), Set{To: "reason", From: "reason", Values: map[string]string{
		"1": "left", "2": "timeout", "3": "kicked", "4": "server", "5": "replaced", "0": "other"}})
}

// anyrtcPushMappings: a CDN push event with a code, 200 success, else an error whose reason
// is the text.
func anyrtcPushMappings(typ string) []Mapping {
	state := Set{To: "relay.state", From: "code"}
	return []Mapping{
		{Type: typ, If: &Cond{Path: "code", Values: []string{"200"}}, Set: anyrtcPushSets(state)},
		{Type: typ, Set: anyrtcPushSets(state, Set{To: "relay.error", From: "reason"})},
	}
}

// anyrtcPushSets: the channel pushed to the RTMP URL stream.
func anyrtcPushSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "channel"},
		{To: "relay.direction", Value: "push"},
		{To: "relay.url", From: "stream"},
	}, more...)
}

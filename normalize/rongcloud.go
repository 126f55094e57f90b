package normalize

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"
)

// Rongcloud (融云) RTC room status callbacks (房间状态同步, version 1.1):
// {"appKey","channelId","userId","event","timestamp","durationTime","token","members":[...]}
// (shared/providers/PROTOCOLS-WAVE3-CHINA.md §6). Four headers carry the signature: appKey,
// nonce, timestamp (ms) and signature = lower-hex SHA-1(AppSecret + nonce + timestamp), compared
// case-insensitively. The signature covers neither the body nor the event: it authenticates the
// sender, not the payload, and a captured header triple verifies any body until the window on the
// timestamp header closes. The body's timestamp is the event's time (ms, §6a), not the send
// time, so it stays in the event and makes its id with channelId, event, userId (and sessionId,
// should version 1.1 send one): Rongcloud sends no event id. Retries are not documented
// (UNCONFIRMED): a retry that kept the body but not its timestamp would be a second event. The periodic sync (event 1) is a snapshot
// sent every period with its own timestamp, so each period is an event of its own. token (the
// media subscribe token) is a credential and is dropped; members[].data.uris is JSON inside a
// string and is decoded. Rongcloud's other RTC callbacks (CDN, recording, snapshot, player,
// moderation) are signed by a rule not published (UNCONFIRMED) and are not handled here. The
// answer Rongcloud expects is not published either (UNCONFIRMED): 200 with a small JSON body.
var RongcloudRTC = Provider{
	ID:            "rongcloud-rtc",
	TypePrefix:    rongPrefix,
	Reply:         []byte(`{"code":200}`), // UNCONFIRMED: the docs read do not say what Rongcloud expects
	SecretName:    "App Secret",
	SecretVar:     "APP_SECRET",
	Scheme:        "headers `signature` = lower-hex SHA-1(`AppSecret` + `nonce` + `timestamp`) (compared case-insensitively); the body is not covered: it authenticates the sender, not the payload",
	Window:        "header `timestamp` (ms, the send time) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:       "`channelId`",
	TimeSource:    "`timestamp` (ms, the event's time), else receipt",
	Events:        rongEvents,
	Data:          rongData,
	EventData:     rongEventData,
	Unknown:       "unknown.<event>",
	IsProbe:       func(*Callback) bool { return false },
	Verify:        rongVerify,
	Normalize:     rongNormalize,
	Sign:          signRongcloud,
	SampleHeaders: []Header{{"appKey", "uwd1c0sxdlx2"}},
	Distinct:      []string{"userId"},
	Canonical:     rongCanonical,
	Code:          "event",
	Sample:        []byte(`{"appKey":"uwd1c0sxdlx2","channelId":"roomId","userId":"123","event":11,"timestamp":1586244141831,"token":"tokenXXXX","members":[{"userId":"123","data":{"uris":"[{\"mediaType\":1,\"msid\":\"123_abc\"}]"}}]}`),
}

const rongPrefix = "cn.rongcloud.rtc."

var rongEvents = []EventDef{
	{"1", "room.synced", "房间信息定期同步 periodic room info sync (full member list; a snapshot, one per period)"},
	{"2", "room.created", "创建房间 room created"},
	{"3", "room.destroyed", "销毁房间 room destroyed (durationTime: room lifetime, ms)"},
	{"11", "room.member.joined", "成员加入 member joined"},
	{"12", "room.member.left", "成员退出 member left (durationTime: stay, ms)"},
	{"20", "room.resource.changed", "资源变化 member published or unpublished a resource"},
}

// rongData: the room status callback as published (token, the media subscribe token, left out),
// from the field table of Rongcloud's room status page (RTCRoomState, §6a) and the goldens.
var rongData = []Field{
	{Path: "appKey", Type: TString, Required: true, Desc: "the App Key; the CloudEvent's source"},
	{Path: "channelId", Type: TString, Required: true, Desc: "the room; the CloudEvent's subject"},
	{Path: "event", Type: TInteger, Required: true, Desc: "1 periodic sync, 2 room created, 3 room destroyed, 11 member joined, 12 member left, 20 resource changed"},
	{Path: "timestamp", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened"},
	{Path: "sessionId", Type: TString, Desc: "the room's session, should version 1.1 send one (UNCONFIRMED)"},
	{Path: "members", Type: TArray, Desc: "users' resources: every user on the periodic sync, else the event's user"},
	{Path: "members[].userId", Type: TString, Desc: "the user"},
	{Path: "members[].data", Type: TObject, Desc: "the user's published resources"},
	{Path: "members[].data.uris", Type: "array|string", Desc: "the resource list, JSON in a string, decoded"},
	{Path: "members[].data.uris[].mediaType", Type: TInteger, Desc: "0 audio, 1 video"},
	{Path: "members[].data.uris[].msid", Type: TString, Desc: "the media stream's id"},
	{Path: "members[].data.uris[].uri", Type: TString, Desc: "the resource's address"},
	{Path: "members[].data.uris[].tag", Type: TString, Desc: "the stream's tag"},
	{Path: "members[].data.uris[].state", Type: TInteger, Desc: "1 published, 0 unpublished"},
}

// rongUser: the user, on every event but the periodic sync.
var rongUser = Field{Path: "userId", Type: TString, Required: true, Desc: "the user the event is about"}

// rongEventData: each event's own members, by EventDef Name: the user, and durationTime where
// the page documents it.
var rongEventData = map[string][]Field{
	"room.synced":           {{Path: "userId", Type: TString, Desc: "none in the examples: the sync is about the room"}},
	"room.created":          {rongUser},
	"room.destroyed":        {rongUser, {Path: "durationTime", Type: TInteger, Unit: "ms", Desc: "the room's lifetime"}},
	"room.member.joined":    {rongUser},
	"room.member.left":      {rongUser, {Path: "durationTime", Type: TInteger, Unit: "ms", Desc: "the user's stay in the room"}},
	"room.resource.changed": {rongUser},
}

// rongSum writes lower-hex SHA-1(secret + nonce + timestamp) into out.
func rongSum(out *[sha1.Size * 2]byte, secret, nonce, ts []byte) {
	var buf [256]byte
	sum := sha1.Sum(append(append(append(buf[:0], secret...), nonce...), ts...))
	hex.Encode(out[:], sum[:])
}

func rongVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	nonce, ts, sig := c.Header.Peek("nonce"), c.Header.Peek("timestamp"), c.Header.Peek("signature")
	switch {
	case len(sig) == 0:
		return Signed, &AuthError{Reason: "signature header missing"}
	case len(nonce) == 0:
		return Signed, &AuthError{Reason: "nonce header missing"}
	case len(ts) == 0:
		return Signed, &AuthError{Reason: "timestamp header missing"}
	}
	var want [sha1.Size * 2]byte
	rongSum(&want, a.Secret, nonce, ts)
	if !equalHex(sig, want[:]) {
		return Signed, &AuthError{Reason: "signature does not match sha1(AppSecret + nonce + timestamp)"}
	}
	ms, ok := intValue(ts)
	if !ok {
		return Signed, &AuthError{Reason: "timestamp header is not a millisecond timestamp"}
	}
	return Signed, checkSkew("timestamp", unixTime(ms), c.Received, a.MaxSkew)
}

func rongNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	code, ok := intValue(lookup(top, "event"))
	if !ok {
		return payloadErr("event", "missing or not an integer")
	}
	ev.ProviderEventType = ev.keepInt(code)
	ev.setTypeFrom(rongEvents, rongPrefix)

	// data: the callback without the subscribe token, members' uris decoded.
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "token":
			continue
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		d = appendKey(d, m)
		if string(m.key) == "members" {
			d, ev.scratch = appendRongMembers(d, m.val, ev.scratch)
		} else {
			d = appendCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data

	channel := lookup(top, "channelId")
	subject, scratch, _ := stringValue(channel, ev.scratch[:0])
	ev.Subject = ev.keep(subject)

	appRaw := lookup(top, "appKey")
	app, scratch, ok := stringValue(appRaw, scratch[:0])
	if !ok || len(app) == 0 {
		app = c.Header.Peek("appKey")
	}
	ev.scratch = scratch
	ev.setSource(app)

	stamp := lookup(top, "timestamp")
	ev.Time = c.Received.UTC()
	ev.setTime(intValue(stamp))

	ev.hashID(app, channel, lookup(top, "userId"), stamp, lookup(top, "sessionId"))
	return nil
}

// appendRongMembers appends the members array raw with each member's data.uris, a resource list
// serialised into a string, decoded; anything of another shape is appended as it is.
func appendRongMembers(dst, raw, scratch []byte) ([]byte, []byte) {
	if len(raw) == 0 || raw[0] != '[' {
		return appendCompact(dst, raw), scratch
	}
	dst = append(dst, '[')
	first := true
	eachElement(raw, func(el []byte) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if el[0] != '{' {
			dst = appendCompact(dst, el)
			return
		}
		dst = append(dst, '{')
		n := len(dst)
		eachMember(el, func(m member) {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = appendKey(dst, m)
			if string(m.key) != "data" || m.val[0] != '{' {
				dst = appendCompact(dst, m.val)
				return
			}
			dst = append(dst, '{')
			k := len(dst)
			eachMember(m.val, func(dm member) {
				if len(dst) > k {
					dst = append(dst, ',')
				}
				dst = appendKey(dst, dm)
				if string(dm.key) == "uris" {
					dst, scratch = appendEmbeddedJSON(dst, dm.val, scratch)
				} else {
					dst = appendCompact(dst, dm.val)
				}
			})
			dst = append(dst, '}')
		})
		dst = append(dst, '}')
	})
	return append(dst, ']'), scratch
}

// eachElement calls fn for every element of the JSON array b, which must be valid JSON.
func eachElement(b []byte, fn func(el []byte)) {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		return
	}
	for i < len(b) {
		end, err := scanValue(b, i, 1)
		if err != nil {
			return
		}
		fn(b[i:end])
		var done bool
		if i, done, err = nextElement(b, end, ']'); err != nil || done {
			return
		}
	}
}

// signRongcloud signs a callback sent at now: a nonce and the timestamp (ms) in headers, with the
// signature over them; the body is sent as it is.
func signRongcloud(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	nonce := strconv.FormatInt(now.UnixNano()%1e9, 10)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	var sum [sha1.Size * 2]byte
	rongSum(&sum, a.Secret, []byte(nonce), []byte(ts))
	return body, append(headers, Header{"nonce", nonce}, Header{"timestamp", ts}, Header{"signature", string(sum[:])}), nil
}

// rongCanonical maps Rongcloud's room status events to the canonical RTC events (SPEC §9).
// durationTime is in ms: the room's lifetime on 3, the member's stay on 12. The resource change
// (20) lists the member's resources after the change, not what was published or unpublished,
// and the periodic sync (1) is a snapshot: neither has a counterpart.
var rongCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "appKey"},
		{To: "room_id", From: "channelId"},
		{To: "provider_sequence", From: "timestamp"},
	},
	Events: map[string][]Mapping{
		"room.created":       {{Type: RoomStarted}},
		"room.destroyed":     {{Type: RoomEnded, Set: []Set{{To: "duration_s", From: "durationTime", Unit: "ms"}}}},
		"room.member.joined": {{Type: ParticipantJoined, Set: []Set{{To: "participant_id", From: "userId"}}}},
		"room.member.left": {{Type: ParticipantLeft, Set: []Set{{To: "participant_id", From: "userId"},
			{To: "duration_s", From: "durationTime", Unit: "ms"}}}},
	},
	Gaps: "no leave reason, roles or session ids; no stream publish or unpublish (event 20 gives a member's resources " +
		"after a change, not the change, and audience actions in live rooms send nothing); CDN push, recording and " +
		"player callbacks are signed by an unpublished rule and not handled",
}

package normalize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Volcengine RTC (火山引擎 实时音视频) / BytePlus RTC callbacks: {"EventType","EventData","EventTime",
// "EventId","AppId","Version","Signature","Nonce"}, every value a string, EventData a JSON
// document serialised into a string (shared/providers/PROTOCOLS-MORE.md §3). Signature is
// hex(SHA-256) of the eight strings EventType, EventData, EventTime, EventId, AppId, Version,
// Nonce and the secret key, decoded, sorted bytewise and joined without separator: a plain hash,
// not an HMAC, of values rather than of the body. BytePlus spells Nonce "Noce"; both are read,
// and a callback with neither is checked with an empty nonce. EventId is documented as unique
// and meant for deduplication: it is the id. EventTime (RFC 3339; BytePlus's example has spaces
// and nanoseconds) is the only signed time and is the event's time, not the send time, so its
// signature window is an age of its own (retries keep it, at an interval not documented) and it
// becomes the CloudEvent's time rather than part of data. The room and user events' EventData
// fields are not documented (only RecordStarted's are): subject is TaskId, else RoomId, else
// UserId, wherever EventData has them.
var VolcengineRTC = Provider{
	ID:         "volcengine-rtc",
	TypePrefix: volcPrefix,
	Reply:      []byte(`{}`), // any body: only the status 200 is read
	SecretName: "回调密钥 SecretKey",
	SecretVar:  "SECRET_KEY",
	Settings:   volcSettings,
	Scheme:     "body field `Signature = hex(SHA-256(join(sort([EventType, EventData, EventTime, EventId, AppId, Version, Nonce, SecretKey]))))` (values decoded, sorted bytewise; not an HMAC)",
	Window:     "`EventTime` (the event's time, signed) at most `CALLBRIDGE_VOLCENGINE_RTC_MAX_EVENT_AGE` old and at most `CALLBRIDGE_MAX_CLOCK_SKEW` ahead",
	Subject:    "`EventData.TaskId`, else `EventData.RoomId`, else `EventData.UserId`",
	TimeSource: "`EventTime` (RFC 3339), else receipt",
	Events:     volcEvents,
	Data:       volcData,
	EventData:  volcEventData,
	Unknown:    "unknown.<EventType>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     volcVerify,
	Normalize:  volcNormalize,
	Sign:       signVolcengine,
	Distinct:   []string{"EventId"},
	Canonical:  volcCanonical,
	Code:       "EventType",
	Sample:     []byte(`{"AppId":"661e4a2f0000000000000000","EventData":"{\"AppId\":\"661e4a2f0000000000000000\",\"BusinessId\":\"biz1\",\"RoomId\":\"room1\",\"TaskId\":\"task1\",\"Code\":0}","EventId":"ev-0001","EventTime":"2024-05-20T08:00:00Z","EventType":"RecordStarted","Nonce":"4821","Signature":"779782a0bc90e21fb082205b0f3e25a19163a12b8f791d26ba2573906e6068af","Version":"2020-12-01"}`),
}

const volcPrefix = "com.volcengine.rtc."

var volcSettings = []Setting{
	{Name: "MAX_EVENT_AGE", Kind: Duration, Default: "10m",
		Description: "how long after its EventTime a Volcengine RTC callback is still accepted (retries keep the event time)"},
}

// Codes are EventType, as BytePlus lists them.
var volcEvents = []EventDef{
	{"RecordStarted", "recording.started", "云端录制开始 recording started (Code 0) or failed to (Code 1, ErrorMessage)"},
	{"RecordStopped", "recording.stopped", "云端录制结束 recording stopped"},
	{"UserJoinRoom", "room.user.joined", "用户进房 user joined"},
	{"UserLeaveRoom", "room.user.left", "用户离房 user left"},
	{"InvisibleUserJoinRoom", "room.invisible_user.joined", "不可见用户进房 invisible user joined"},
	{"InvisibleUserLeaveRoom", "room.invisible_user.left", "不可见用户离房 invisible user left"},
	{"RoleChangeInvisible2Visible", "room.user.visible", "用户切换为可见 user became visible"},
	{"RoleChangeVisible2Invisible", "room.user.invisible", "用户切换为不可见 user became invisible"},
	{"RoomDestroy", "room.destroyed", "房间销毁 room destroyed"},
	{"TranscodeStarted", "transcode.started", "合流转推开始 transcoding started"},
	{"TranscodeStopped", "transcode.stopped", "合流转推结束 transcoding stopped"},
	{"TranscodeUpdated", "transcode.updated", "合流转推更新 transcoding updated"},
	{"TranscodeStateChanged", "transcode.state_changed", "合流转推状态变化 transcoding state changed"},
	{"SegmentRealTimeData", "segment.realtime_data", "切片实时数据 audio segment ready"},
	{"SnapshotRealTimeData", "snapshot.realtime_data", "截图实时数据 snapshot ready"},
}

// volcSigned names the signed values in the order the docs list them; the secret comes last.
var volcSigned = [...]string{"EventType", "EventData", "EventTime", "EventId", "AppId", "Version", "Nonce"}

// volcBuffers hold the decoded values and their joined hash input between requests.
var volcBuffers = sync.Pool{New: func() any { return new([]byte) }}

// volcSignature computes the signature of the members top under secret into out. A missing value
// other than Nonce, or one that is not a string, is an error naming it.
func volcSignature(out *[sha256.Size]byte, top []member, secret []byte) error {
	bp := volcBuffers.Get().(*[]byte)
	defer volcBuffers.Put(bp)
	b := (*bp)[:0]
	var bounds [len(volcSigned) + 1][2]int
	for i, name := range volcSigned {
		raw, dup := lookupOnce(top, name)
		if name == "Nonce" && raw == nil {
			raw, dup = lookupOnce(top, "Noce") // BytePlus's spelling
		}
		switch {
		case dup:
			return fmt.Errorf("%s appears twice", name)
		case raw == nil && name == "Nonce":
		case raw == nil:
			return fmt.Errorf("%s missing", name)
		case raw[0] != '"':
			return fmt.Errorf("%s is not a string", name)
		default:
			start := len(b)
			b = appendUnquoted(b, raw)
			bounds[i] = [2]int{start, len(b)}
		}
	}
	start := len(b)
	b = append(b, secret...)
	bounds[len(volcSigned)] = [2]int{start, len(b)}
	joined := len(b)
	if cap(b) < 2*joined {
		b = append(make([]byte, 0, 2*joined), b...)
	}
	// Insertion sort of eight values, by their bounds: no slice header leaves the stack.
	for i := 1; i < len(bounds); i++ {
		for j := i; j > 0 && string(b[bounds[j][0]:bounds[j][1]]) < string(b[bounds[j-1][0]:bounds[j-1][1]]); j-- {
			bounds[j], bounds[j-1] = bounds[j-1], bounds[j]
		}
	}
	for _, bd := range bounds {
		b = append(b, b[bd[0]:bd[1]]...)
	}
	*out = sha256.Sum256(b[joined:])
	*bp = b
	return nil
}

func volcVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	top, err := c.members()
	if err != nil && len(top) == 0 {
		return Signed, &AuthError{Reason: "body is not a JSON object, so Signature cannot be read"}
	}
	got, dup := lookupOnce(top, "Signature")
	if dup {
		return Signed, &AuthError{Reason: "Signature appears twice"}
	}
	if len(got) < 2 || got[0] != '"' {
		return Signed, &AuthError{Reason: "Signature missing or not a string"}
	}
	var sum [sha256.Size]byte
	if err := volcSignature(&sum, top, a.Secret); err != nil {
		return Signed, &AuthError{Reason: "cannot compute the signature: " + err.Error()}
	}
	var want [sha256.Size * 2]byte
	hex.Encode(want[:], sum[:])
	if !equalHex(got[1:len(got)-1], want[:]) {
		return Signed, &AuthError{Reason: "Signature does not match"}
	}
	at, ok := parseRFC3339(lookup(top, "EventTime"))
	if !ok {
		return Signed, &AuthError{Reason: "EventTime is not an RFC 3339 time, so the signature window cannot be checked"}
	}
	if age, max := c.Received.Sub(at), a.setting(volcSettings, "MAX_EVENT_AGE").Duration; age > max {
		return Signed, &AuthError{Reason: fmt.Sprintf("EventTime is %s old, more than CALLBRIDGE_VOLCENGINE_RTC_MAX_EVENT_AGE (%s) (signature window)", age.Round(time.Second), max)}
	}
	if ahead := at.Sub(c.Received); ahead > a.MaxSkew {
		return Signed, &AuthError{Reason: fmt.Sprintf("EventTime is %s in the future, more than the allowed clock skew of %s", ahead.Round(time.Second), a.MaxSkew)}
	}
	return Signed, nil
}

func volcNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	code, scratch, ok := stringValue(lookup(top, "EventType"), ev.scratch[:0])
	if !ok || len(code) == 0 {
		return payloadErr("EventType", "missing or empty")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(volcEvents, volcPrefix)

	// data: every member but the signature material and EventTime (the event's time), EventData
	// decoded from its string.
	var eventData []byte
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "Signature", "Nonce", "Noce", "EventTime":
			continue
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		d = appendKey(d, m)
		start := len(d)
		if string(m.key) == "EventData" {
			d, ev.scratch = appendEmbeddedJSON(d, m.val, ev.scratch)
			if d[start] == '{' {
				eventData = d[start:]
			}
		} else {
			d = appendCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
	if eventData == nil {
		return payloadErr("EventData", "missing or not a JSON object inside a string")
	}

	var task, room, user []byte
	eachMember(eventData, func(m member) {
		switch string(m.key) {
		case "TaskId":
			task = m.val
		case "RoomId":
			room = m.val
		case "UserId":
			user = m.val
		}
	})
	var subject []byte
	for _, raw := range [...][]byte{task, room, user} {
		if subject, ev.scratch, ok = stringValue(raw, ev.scratch[:0]); ok && len(subject) > 0 {
			break
		}
	}
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	if at, ok := parseRFC3339(lookup(top, "EventTime")); ok {
		ev.Time = at
	}

	app, scratch, _ := stringValue(lookup(top, "AppId"), ev.scratch[:0])
	ev.scratch = scratch
	ev.setSource(app)
	if id, scratch, ok := stringValue(lookup(top, "EventId"), ev.scratch[:0]); ok && len(id) > 0 {
		ev.scratch = scratch
		ev.setProviderID(id)
	} else {
		ev.hashID(ev.Data)
	}
	return nil
}

// parseRFC3339 reads a JSON string holding an RFC 3339 time, ignoring spaces (BytePlus's example
// reads "1970-07-01T 00:00:00.000000000 Z"), without allocating.
func parseRFC3339(raw []byte) (time.Time, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return time.Time{}, false
	}
	var buf [40]byte
	b, ok := withoutSpaces(raw[1:len(raw)-1], &buf)
	if !ok {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(s) > 0
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest, nsec := b[19:], 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 9 {
				nsec = nsec*10 + int(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		for d := i; d <= 9; d++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := num(rest[1:3])
		om, okm := num(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	if day > daysIn(month, year) { // 2024-02-30 would roll over
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// withoutSpaces is s without its spaces, in buf when it has any: false when that is longer than buf.
func withoutSpaces(s []byte, buf *[40]byte) ([]byte, bool) {
	if bytes.IndexByte(s, ' ') < 0 {
		return s, len(s) <= len(buf)
	}
	b := buf[:0]
	for _, c := range s {
		if c == ' ' {
			continue
		}
		if len(b) == len(buf) {
			return nil, false
		}
		b = append(b, c)
	}
	return b, true
}

// daysIn is the number of days of month (1-12) in year, in the proleptic Gregorian calendar
// time.Date counts in.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// signVolcengine sets EventTime to now, as a fresh event has it, and Signature to the signature
// under a.Secret; without a secret Signature is left as it is.
func signVolcengine(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	body, headers, err := stampJSON(body, "EventTime", fmt.Appendf(nil, "%q", now.UTC().Format(time.RFC3339)))
	if err != nil || len(a.Secret) == 0 {
		return body, headers, err
	}
	var sum [sha256.Size]byte
	if err := volcSignature(&sum, topMembers(body), a.Secret); err != nil {
		return nil, nil, err
	}
	body, err = replaceMember(body, "Signature", fmt.Appendf(nil, "%q", hex.EncodeToString(sum[:])))
	return body, headers, err
}

// volcTask: the members of a task event reporting a Code (not documented but for RecordStarted).
var volcTask = []Field{
	{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
	{Path: "EventData.Code", Type: TInteger, Desc: "0 success, 1 failure"},
}

// volcStreams: the members of a segment or snapshot event: its task and, per file, the stream
// captured.
var volcStreams = []Field{
	{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
	{Path: "EventData.Data", Type: TArray, Desc: "the files made"},
	{Path: "EventData.Data[]", Type: TObject, Desc: "a file"},
	{Path: "EventData.Data[].Stream", Type: TObject, Desc: "the stream captured"},
	{Path: "EventData.Data[].Stream.UserId", Type: TString, Desc: "the user whose stream it is"},
	{Path: "EventData.Data[].Stream.StreamType", Type: TInteger, Desc: "0 main stream, 1 screen share"},
}

// volcData: the callback as published, from Volcengine's callback pages (75124 the envelope, 75125
// RecordStarted's EventData; PROTOCOLS-MORE.md §3), with EventData decoded from its string and
// EventTime (the event's time), Signature and Nonce left out. Only RecordStarted's EventData is
// documented: the other events' members are those the examples carry, and none is Required.
var volcData = []Field{
	{Path: "AppId", Type: TString, Required: true, Desc: "the RTC application's id"},
	{Path: "EventData", Type: TObject, Required: true, Desc: "the event's members, decoded from the JSON string Volcengine sends"},
	{Path: "EventData.AppId", Type: TString, Desc: "the RTC application's id"},
	{Path: "EventData.BusinessId", Type: TString, Desc: "the business id the task or room was given"},
	{Path: "EventData.RoomId", Type: TString, Desc: "the room's id"},
	{Path: "EventId", Type: TString, Required: true, Desc: "the event's id, unique, for deduplication; the CloudEvent's id"},
	{Path: "EventType", Type: TString, Required: true, Desc: "the event's name, such as RecordStarted"},
	{Path: "Version", Type: TString, Required: true, Desc: "the callback's version, 2020-12-01"},
}

// volcEventData: each event's own members, by EventDef Name.
var volcEventData = map[string][]Field{
	"room.invisible_user.joined": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.invisible_user.left": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"recording.started": {
		{Path: "EventData.TaskId", Type: TString, Required: true, Desc: "the task's id"},
		{Path: "EventData.Code", Type: TInteger, Required: true, Desc: "0 success, 1 failure"},
		{Path: "EventData.ErrorMessage", Type: TString, Desc: "why it failed, when Code is not 0"},
	},
	"recording.stopped": volcTask,
	"room.user.visible": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.user.invisible": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.destroyed": {},
	"segment.realtime_data": slices.Concat(volcStreams, []Field{
		{Path: "EventData.Data[].Segment", Type: TString, Desc: "the audio segment's URL"},
		{Path: "EventData.Data[].Duration", Type: TInteger, Unit: "s", Desc: "the segment's length"},
	}),
	"snapshot.realtime_data": slices.Concat(volcStreams, []Field{
		{Path: "EventData.Data[].Snapshot", Type: TString, Desc: "the snapshot's URL"},
	}),
	"transcode.started": volcTask,
	"transcode.state_changed": {
		{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
		{Path: "EventData.State", Type: TInteger, Desc: "the transcoding task's new state"},
	},
	"transcode.stopped": volcTask,
	"transcode.updated": volcTask,
	"room.user.joined": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.user.left": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
}

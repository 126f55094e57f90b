package normalize

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Tencent Cloud CSS (云直播) callbacks: one flat object discriminated by event_type, with t (an
// expiry in unix seconds, by default send time + 10 min) and sign = md5hex(key + t) beside the
// event fields. The signature does not cover the body, so t and sign are removed from the event:
// a pair read off the bus would let anyone forge callbacks until t passes. Retries are re-signed,
// so the id hashes the body without them. Relay (314) callbacks carry no t/sign at all and are
// accepted only on the URL-token route or with unsigned callbacks allowed. msg, source_urls and
// callback_ext are JSON inside strings and are decoded into data.
var TencentCSS = Provider{
	ID:          "tencent-css",
	TypePrefix:  tencentPrefix,
	Reply:       []byte(`{"code":0}`),
	SecretName:  "回调密钥 CallbackKey",
	SecretVar:   "CALLBACK_KEY",
	Settings:    tencentSettings,
	Scheme:      "body fields `sign = md5hex(key + t)` (covers only key and `t`, not the body)",
	Window:      "`t` is an expiry: accepted until `t + CALLBRIDGE_TENCENT_CSS_EXPIRY_GRACE`",
	Subject:     "relay (314): `task_id`; others: `stream_id` (else `streamId`, `channel_id`)",
	TimeSource:  "`event_time` (s, number or string), else `create_time` (s), else push exception `data_time` (ms), else moderation `screenshotTime` (s), else relay `msg.task_exit_time`/`msg.task_start_time` (ms, when not 0), else receipt",
	Events:      tencentEvents,
	Data:        tencentCSSData,
	EventData:   tencentCSSEventData,
	Canonical:   tencentCSSCanonical,
	Unknown:     "unknown.<event_type>; 314: relay.unknown; 332: recording.status.unknown",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      tencentVerify,
	Normalize:   tencentNormalize,
	Sign:        signTencentCSS,
	Distinct:    []string{"sequence", "stream_id"},
	Code:        "event_type",
	Credentials: []string{"stream_param"},
	Sample:      []byte(`{"app":"livepush.example.com","appid":12345678,"appname":"live","channel_id":"test_stream","errcode":0,"errmsg":"ok","event_time":1703731478,"event_type":1,"height":480,"idc_id":34,"node":"42.81.194.37","sequence":"2210464508206756938","set_id":2,"stream_id":"test_stream","stream_param":"","user_ip":"203.0.113.25","width":640}`),
}

const tencentPrefix = "com.tencent.css."

// tencentSettings: t is an expiry Tencent sets (send time + 10 min by default), not a send time,
// so its window is a grace past t rather than the shared clock skew.
var tencentSettings = []Setting{
	{Name: "EXPIRY_GRACE", Kind: Duration, Default: "5m",
		Description: "how long past its expiry t a Tencent CSS callback is still accepted"},
}

// Relay events share event_type 314 and differ by callback_event: codes are "314/<callback_event>";
// recording status events share 332 and differ by record_event: "332/<record_event>".
// 341 (abnormal recording) is published as unknown.341: its fields are not documented.
var tencentEvents = []EventDef{
	{"1", "stream.started", "直播推流 stream push started"},
	{"0", "stream.ended", "直播断流 stream push ended"},
	{"100", "recording.file.created", "直播录制 recording file written"},
	{"200", "snapshot.created", "直播截图 snapshot taken"},
	{"314/TaskStart", "relay.task.started", "拉流转推 relay task started"},
	{"314/VodSourceFileStart", "relay.vodfile.started", "relay: on-demand source file started"},
	{"314/VodSourceFileFinish", "relay.vodfile.finished", "relay: on-demand source file finished"},
	{"314/TaskExit", "relay.task.exited", "relay task exited (not terminal: the task may be retried or migrated)"},
	{"314/TaskAlarm", "relay.task.alarm", "relay task alarm (PullFileUnstable, PushStreamUnstable, ...)"},
	{"317", "moderation.image", "鉴黄 screenshot flagged by moderation (suggestion Block/Review; by default only questionable results)"},
	{"321", "stream.push.abnormal", "推流异常 push exception (abnormal_event: timestamp rollback or jump, frame gap, codec change, ...; no t/sign in the examples)"},
	{"332/record_start_succeeded", "recording.started", "录制状态 recording started"},
	{"332/record_start_failed", "recording.start_failed", "recording failed to start"},
	{"332/record_paused", "recording.paused", "recording paused"},
	{"332/record_resumed", "recording.resumed", "recording resumed"},
	{"332/record_error", "recording.error", "recording error"},
	{"332/record_ended", "recording.ended", "recording ended"},
}

// tencentSubEvents are the event_types whose events are told apart by a member of their own, and
// the type of a value the table lacks.
var tencentSubEvents = [...]struct {
	code    int64
	member  string
	unknown string
}{
	{314, "callback_event", "relay.unknown"},
	{332, "record_event", "recording.status.unknown"},
}

func tencentVerify(c *Callback, a *Auth) (Verified, error) {
	top, err := c.members()
	if err != nil && len(top) == 0 { // not a JSON object: t and sign cannot be read
		if c.TokenRoute {
			return Signed, nil // authenticated by the URL; Normalize names the problem
		}
		return Signed, &AuthError{Reason: "body is not a JSON object, so t and sign cannot be read"}
	}
	t, sign := lookup(top, "t"), lookup(top, "sign")
	if err != nil { // a name appears twice: is it one we verify?
		_, tDup := lookupOnce(top, "t")
		_, signDup := lookupOnce(top, "sign")
		if tDup || signDup {
			return Signed, &AuthError{Reason: "t or sign appears twice"}
		}
	}
	if t == nil && sign == nil {
		switch {
		case c.TokenRoute:
			return Signed, nil
		case a.AllowUnsigned:
			return Unsigned, nil
		}
		return Signed, &AuthError{Reason: "callback carries no t/sign; unsigned callbacks are accepted only on the URL-token route or with CALLBRIDGE_ALLOW_UNSIGNED"}
	}
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	if t == nil || sign == nil {
		return Signed, &AuthError{Reason: "t or sign missing"}
	}
	// md5(key + t) over t as it was sent: a number's digits, or a string's contents.
	tText, _, ok := stringValue(t, nil)
	expiry, isInt := intValue(t)
	if !ok || !isInt {
		return Signed, &AuthError{Reason: "t is not a unix timestamp"}
	}
	sig, _, ok := stringValue(sign, nil)
	if !ok || sign[0] != '"' {
		return Signed, &AuthError{Reason: "sign is not a string"}
	}
	var buf [128]byte
	sum := md5.Sum(append(append(buf[:0], a.Secret...), tText...))
	var want [md5.Size * 2]byte
	hex.Encode(want[:], sum[:])
	if !equalHex(sig, want[:]) {
		return Signed, &AuthError{Reason: "sign does not match md5(key + t)"}
	}
	grace := a.setting(tencentSettings, "EXPIRY_GRACE").Duration
	if late := c.Received.Sub(time.Unix(expiry, 0)); late > grace {
		return Signed, &AuthError{Reason: fmt.Sprintf("t expired %s ago, more than the grace of %s (signature window)", late.Round(time.Second), grace)}
	}
	return Signed, nil
}

func tencentNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	code, ok := intValue(lookup(top, "event_type"))
	if !ok {
		return payloadErr("event_type", "missing or not an integer")
	}
	var appID, subject, eventTime, createTime, dataTime, screenshotTime, msg []byte
	var subEvent [len(tencentSubEvents)][]byte
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "t", "sign", "stream_param":
			continue // signature material, and the push URL's parameters (txSecret, txTime): a credential
		case "appid":
			appID = m.val
		case "stream_id", "streamId", "channel_id":
			if subject == nil || len(subject) <= 2 {
				subject = m.val
			}
		case "task_id":
			if code == 314 {
				subject = m.val
			}
		case "callback_event":
			subEvent[0] = m.val
		case "record_event":
			subEvent[1] = m.val
		case "data_time":
			dataTime = m.val
		case "screenshotTime":
			screenshotTime = m.val
		case "event_time":
			eventTime = m.val
		case "create_time":
			createTime = m.val
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		if m.escaped {
			d = appendKey(d, m)
		} else { // the common case, inline
			d = append(append(append(d, '"'), m.key...), '"', ':')
		}
		start := len(d)
		switch string(m.key) {
		case "msg", "source_urls", "callback_ext", "record_detail":
			d, ev.scratch = appendEmbeddedJSON(d, m.val, ev.scratch)
			if string(m.key) == "msg" && d[start] == '{' {
				msg = d[start:]
			}
		default:
			d = appendCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data

	tencentSetType(ev, code, &subEvent)

	subject, ev.scratch, _ = stringValue(subject, ev.scratch[:0])
	ev.Subject = ev.keep(subject)

	tencentSetTime(c, ev, eventTime, createTime, dataTime, screenshotTime, msg)

	app, scratch, _ := stringValue(appID, ev.scratch[:0])
	ev.scratch = scratch
	ev.setSource(app)
	ev.hashID(ev.Data)
	return nil
}

// tencentSetType sets the type from event_type and, for the events that carry one, the name in
// their sub-event member (subEvent, by tencentSubEvents).
func tencentSetType(ev *Event, code int64, subEvent *[len(tencentSubEvents)][]byte) {
	ev.ProviderEventType = ev.keepInt(code)
	var def *EventDef
	sub := -1
	for i, se := range tencentSubEvents {
		if se.code == code {
			sub = i
		}
	}
	if sub >= 0 {
		var name []byte
		name, ev.scratch, _ = stringValue(subEvent[sub], ev.scratch[:0])
		var keyBuf [64]byte
		key := append(append(append(keyBuf[:0], ev.ProviderEventType...), '/'), name...)
		def = findEvent(tencentEvents, key)
		if def == nil {
			ev.setType(tencentPrefix, tencentSubEvents[sub].unknown)
		}
	} else {
		def = findEvent(tencentEvents, ev.ProviderEventType)
		if def == nil {
			ev.setUnknownType(tencentPrefix, ev.ProviderEventType)
		}
	}
	if def != nil {
		ev.setType(tencentPrefix, def.Name)
	}
}

// tencentSetTime sets the time from the first of the time members the callback has, else from
// the task's exit or start time in msg, else the time it was received.
func tencentSetTime(c *Callback, ev *Event, eventTime, createTime, dataTime, screenshotTime, msg []byte) {
	ev.Time = c.Received.UTC()
	if !ev.setTime(intValue(eventTime)) && !ev.setTime(intValue(createTime)) && !ev.setTime(intValue(dataTime)) &&
		!ev.setTime(intValue(screenshotTime)) && len(msg) > 0 {
		var exit, start []byte
		eachMember(msg, func(m member) {
			switch string(m.key) {
			case "task_exit_time":
				exit = m.val
			case "task_start_time":
				start = m.val
			}
		})
		// TaskStart reports task_start_time 0 in the docs: no time, not 1970.
		_ = ev.setTime(intValue(exit)) || ev.setTime(intValue(start))
	}
}

// signTencentCSS sets t to now plus Tencent's default 10 minutes and sign to md5(key + t); without
// a key the body is sent as it is (relay callbacks carry no t/sign).
func signTencentCSS(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	t := strconv.AppendInt(nil, now.Add(10*time.Minute).Unix(), 10)
	sum := md5.Sum(append(append([]byte(nil), a.Secret...), t...))
	sign := append(append([]byte{'"'}, hex.EncodeToString(sum[:])...), '"')
	body, err := setMembers(body, member{key: []byte("t"), val: t}, member{key: []byte("sign"), val: sign})
	return body, headers, err
}

// tencentPush: the members of stream push started and ended (event_type 1 and 0).
var tencentPush = []Field{
	{Path: "app", Type: TString, Desc: "the push domain"},
	{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
	{Path: "errcode", Type: TInteger, Desc: "the push's error code, 0 none"},
	{Path: "errmsg", Type: TString, Desc: "the push's error message"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
	{Path: "idc_id", Type: TInteger, Desc: "Tencent's data centre id"},
	{Path: "node", Type: TString, Desc: "the edge node's IP"},
	{Path: "sequence", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
	{Path: "set_id", Type: TInteger, Desc: "1 not a Tencent Cloud push, 2 a Tencent Cloud push"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "user_ip", Type: TString, Desc: "the pushing user's IP"},
	{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
}

// tencentRelay: the members of every relay (拉流转推) event, event_type 314.
var tencentRelay = []Field{
	{Path: "callback_event", Type: TString, Required: true, Desc: "the relay event: TaskStart, TaskExit, VodSourceFileStart, VodSourceFileFinish or TaskAlarm"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "interface", Type: TString, Desc: "general_callback"},
	{Path: "msg", Type: TObject, Desc: "the relay event's details"},
	{Path: "product_name", Type: TString, Desc: "pullpush"},
	{Path: "source_urls", Type: TArray, Desc: "the task's sources"},
	{Path: "source_urls[]", Type: TString, Desc: "a source's URL"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "task_id", Type: TString, Desc: "the task's id"},
	{Path: "to_url", Type: TString, Desc: "where the task pushes"},
}

// tencentRelayFile: the members a relay event about an on-demand source file adds.
var tencentRelayFile = []Field{
	{Path: "callback_url", Type: TString, Desc: "the URL the callback was sent to"},
	{Path: "msg.url", Type: TString, Desc: "the source file's URL"},
	{Path: "msg.index", Type: TInteger, Desc: "the source file's index in source_urls, from 0"},
	{Path: "msg.duration", Type: TInteger, Unit: "ms", Desc: "the source file's length"},
}

// tencentRecordStatus: the members of every recording status event, event_type 332.
var tencentRecordStatus = []Field{
	{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	{Path: "domain", Type: TString, Desc: "the push domain"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "record_detail", Type: TObject, Desc: "the recording's settings"},
	{Path: "record_detail.file_format", Type: TInteger, Desc: "the file format: 1 flv, 2 hls, 3 mp4, 4 aac"},
	{Path: "record_detail.record_bps", Type: TInteger, Unit: "kbps", Desc: "the recording's bitrate, 0 the source's"},
	{Path: "record_detail.start_model", Type: TInteger, Desc: "how the recording was started"},
	{Path: "record_detail.record_content", Type: TInteger, Desc: "what is recorded"},
	{Path: "record_detail.source_type", Type: TInteger, Desc: "the recording's source"},
	{Path: "record_detail.codec_temp_id", Type: TInteger, Desc: "the transcoding template's id, 0 none"},
	{Path: "record_event", Type: TString, Required: true, Desc: "the recording status: record_start_succeeded, record_start_failed, record_paused, record_resumed, record_error or record_ended"},
	{Path: "seq", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
	{Path: "session_id", Type: TString, BigID: true, Desc: "the recording session's id (a 64-bit decimal string)"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "task_id", Type: TString, Desc: "the task's id"},
}

// tencentCSSData: the callback as published, from Tencent's CSS callback pages and examples
// (PROTOCOLS.md); t and sign (signature material) and stream_param (the push URL's parameters) are
// left out, msg, source_urls, callback_ext and record_detail are decoded from their JSON strings.
var tencentCSSData = []Field{
	{Path: "appid", Type: TInteger, Required: true, Desc: "the Tencent Cloud account's APPID"},
	{Path: "event_type", Type: TInteger, Required: true, Desc: "the event's code: 0 push ended, 1 push started, 100 recording, 200 snapshot, 314 relay, 317 moderation, 321 push exception, 332 recording status"},
}

// tencentCSSEventData: each event's own members, by EventDef Name.
var tencentCSSEventData = map[string][]Field{
	"stream.ended": slices.Concat(tencentPush, []Field{
		{Path: "push_duration", Type: TString, Unit: "ms", Desc: "how long the push lasted (a decimal string)"},
	}),
	"stream.started": tencentPush,
	"recording.file.created": {
		{Path: "app", Type: TString, Desc: "the push domain"},
		{Path: "appname", Type: TString, Desc: "the push path (application name)"},
		{Path: "callback_ext", Type: TObject, Desc: "extra members of the recording, as set when it was created"},
		{Path: "callback_ext.video_codec", Type: TString, Desc: "the video codec"},
		{Path: "callback_ext.resolution", Type: TString, Desc: "the video's resolution, WxH"},
		{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
		{Path: "duration", Type: TInteger, Unit: "s", Desc: "the recording file's length"},
		{Path: "end_time", Type: TInteger, Unit: "s", Desc: "when the file's recording ended (Unix time)"},
		{Path: "end_time_usec", Type: TInteger, Unit: "us", Desc: "the microseconds of end_time"},
		{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
		{Path: "file_format", Type: TString, Desc: "the file's format: flv, hls, mp4 or aac"},
		{Path: "file_id", Type: TString, BigID: true, Desc: "the file's VOD id (a 64-bit decimal string)"},
		{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size"},
		{Path: "media_start_time", Type: TInteger, Unit: "ms", Desc: "the offset of the file's first media timestamp"},
		{Path: "record_bps", Type: TInteger, Unit: "kbps", Desc: "the recording's bitrate, 0 the source's"},
		{Path: "record_file_id", Type: TString, BigID: true, Desc: "the file's VOD id, as file_id"},
		{Path: "record_temp_id", Type: TInteger, Desc: "the recording template's id"},
		{Path: "start_time", Type: TInteger, Unit: "s", Desc: "when the file's recording started (Unix time)"},
		{Path: "start_time_usec", Type: TInteger, Unit: "us", Desc: "the microseconds of start_time"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "task_id", Type: TString, Desc: "the task's id"},
		{Path: "video_url", Type: TString, Desc: "the file's URL"},
	},
	"snapshot.created": {
		{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
		{Path: "create_time", Type: TInteger, Unit: "s", Desc: "when the snapshot was taken (Unix time)"},
		{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
		{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size"},
		{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
		{Path: "pic_full_url", Type: TString, Desc: "the snapshot's full URL"},
		{Path: "pic_url", Type: TString, Desc: "the snapshot's path in storage"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "task_id", Type: TString, Desc: "the task's id"},
		{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
	},
	"relay.task.alarm": slices.Concat(tencentRelay, []Field{
		{Path: "msg.type", Type: TString, Desc: "the alarm: PullFileUnstable, PushStreamUnstable, ..."},
		{Path: "msg.message", Type: TString, Desc: "what happened"},
		{Path: "msg.alarm_time", Type: TInteger, Unit: "ms", Desc: "when the alarm was raised"},
	}),
	"relay.task.exited": slices.Concat(tencentRelay, []Field{
		{Path: "msg.message", Type: TString, Desc: "what happened"},
		{Path: "msg.code", Type: TInteger, Desc: "the exit's error code"},
		{Path: "msg.task_exit_time", Type: TInteger, Unit: "ms", Desc: "when the task exited"},
	}),
	"relay.task.started": slices.Concat(tencentRelay, []Field{
		{Path: "msg.task_start_time", Type: TInteger, Unit: "ms", Desc: "when the task started; 0 in Tencent's example"},
	}),
	"relay.vodfile.finished": slices.Concat(tencentRelay, tencentRelayFile),
	"relay.vodfile.started":  slices.Concat(tencentRelay, tencentRelayFile),
	"moderation.image": {
		{Path: "streamId", Type: TString, Desc: "the stream's name"},
		{Path: "channelId", Type: TString, Desc: "the stream's channel id"},
		{Path: "img", Type: TString, Desc: "the screenshot's URL"},
		{Path: "type", Type: TArray, Desc: "the moderation types hit"},
		{Path: "type[]", Type: TInteger, Desc: "a moderation type: 1 porn, ..."},
		{Path: "score", Type: TArray, Desc: "the scores, per type"},
		{Path: "score[]", Type: TInteger, Desc: "a score, 0 to 100"},
		{Path: "ocrMsg", Type: TString, Desc: "the text recognised in the image"},
		{Path: "suggestion", Type: TString, Desc: "Block, Review or Pass"},
		{Path: "label", Type: TString, Desc: "the label hit, such as Porn"},
		{Path: "subLabel", Type: TString, Desc: "the sub-label hit"},
		{Path: "labelResults", Type: TArray, Desc: "the results per scene"},
		{Path: "labelResults[]", Type: TObject, Desc: "a scene's result"},
		{Path: "labelResults[].HitFlag", Type: TInteger, Desc: "1 the scene hit"},
		{Path: "labelResults[].Scene", Type: TString, Desc: "the scene"},
		{Path: "labelResults[].Suggestion", Type: TString, Desc: "Block, Review or Pass"},
		{Path: "labelResults[].Label", Type: TString, Desc: "the label"},
		{Path: "labelResults[].SubLabel", Type: TString, Desc: "the sub-label"},
		{Path: "labelResults[].Score", Type: TInteger, Desc: "the score, 0 to 100"},
		{Path: "labelResults[].Details", Type: TArray, Desc: "the labels in detail"},
		{Path: "labelResults[].Details[]", Type: TObject, Desc: "a label"},
		{Path: "labelResults[].Details[].Id", Type: TInteger, Desc: "the detail's index"},
		{Path: "labelResults[].Details[].Name", Type: TString, Desc: "the label's name"},
		{Path: "labelResults[].Details[].Score", Type: TInteger, Desc: "the score, 0 to 100"},
		{Path: "screenshotTime", Type: TInteger, Unit: "s", Desc: "when the screenshot was taken (Unix time)"},
		{Path: "sendTime", Type: TInteger, Unit: "s", Desc: "when the result was sent (Unix time)"},
		{Path: "app", Type: TString, Desc: "the push domain"},
		{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	},
	"stream.push.abnormal": {
		{Path: "abnormal_event", Type: TArray, Desc: "the exceptions in the report interval"},
		{Path: "abnormal_event[]", Type: TObject, Desc: "an exception"},
		{Path: "abnormal_event[].count", Type: TInteger, Desc: "how many times the exception happened"},
		{Path: "abnormal_event[].detail", Type: TArray, Desc: "each occurrence"},
		{Path: "abnormal_event[].detail[]", Type: TObject, Desc: "an occurrence"},
		{Path: "abnormal_event[].detail[].desc", Type: TString, Desc: "what happened"},
		{Path: "abnormal_event[].detail[].occur_time", Type: TInteger, Unit: "ms", Desc: "when it happened"},
		{Path: "abnormal_event[].type", Type: TInteger, Desc: "the exception's code"},
		{Path: "abnormal_event[].type_desc_cn", Type: TString, Desc: "the exception, in Chinese"},
		{Path: "abnormal_event[].type_desc_en", Type: TString, Desc: "the exception, in English"},
		{Path: "data_time", Type: TInteger, Unit: "ms", Desc: "when the report was made"},
		{Path: "domain", Type: TString, Desc: "the push domain"},
		{Path: "interface", Type: TString, Desc: "general_callback"},
		{Path: "path", Type: TString, Desc: "the push path (application name)"},
		{Path: "report_interval", Type: TInteger, Unit: "ms", Desc: "the report interval"},
		{Path: "sequence", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "timeout", Type: TInteger, Unit: "ms", Desc: "the report's timeout"},
	},
	"recording.ended":        tencentRecordStatus,
	"recording.error":        tencentRecordStatus,
	"recording.paused":       tencentRecordStatus,
	"recording.resumed":      tencentRecordStatus,
	"recording.start_failed": tencentRecordStatus,
	"recording.started":      tencentRecordStatus,
}

package normalize

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
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

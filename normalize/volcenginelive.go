package normalize

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Volcengine Live (火山引擎 视频直播) / BytePlus MediaLive callbacks, distinct from Volcengine RTC
// (shared/providers/PROTOCOLS-WAVE3-CHINA.md §4). One JSON object discriminated by event_type,
// in one of two shapes the docs disagree on: flat (Volcengine 2025), or nested as
// {"code","message","data":{…,"event_type","sign","t","detail":{…}}} (BytePlus, Volcengine
// 2023). Both are read: the event is data's when data carries event_type, else the top level's,
// and data.detail is merged into it, so both shapes publish the same flat data.
//
// sign = md5hex(key + t) says Volcengine; BytePlus reads "the concatenation of t and key". Both
// orders are accepted: each is a digest of the same two values, key included, so accepting the
// other order lets no one without the key sign anything. The signature covers neither the body
// nor the event: t and sign are removed from the data (a pair read off the bus would sign any
// body until t passes), and so is fp_user_url, the push URL's query, which carries the push's
// auth parameters. t is an expiry on Volcengine (send + 10 min by default) and the send time on
// BytePlus (0, with sign empty, when authentication is off): it is accepted from
// MaxSkew before now to EXPIRY + MaxSkew after now, which holds for both readings, and a
// captured pair serves at most until t + MaxSkew either way.
//
// Push events (push_start, push_end) carry sequence_id, "the unique identifier of one push": the
// id hashes it with the stream and the event type. Others hash the data, whose fields retries
// repeat (t and sign, the only re-signed ones, are out of it). Body event types other than
// push_start are UNCONFIRMED (the docs list the console's message types push, push_end,
// snapshot, record and audit_snapshot); CALLBRIDGE_VOLCENGINE_LIVE_VERIFY=report with one
// captured callback confirms them and the shape sent today.
var VolcengineLive = Provider{
	ID:          "volcengine-live",
	TypePrefix:  volcLivePrefix,
	Reply:       []byte(`{}`), // only the status 200 is read
	SecretName:  "回调鉴权密钥 AuthKeyPrimary",
	SecretVar:   "AUTH_KEY",
	Settings:    volcLvSettings,
	Scheme:      "body fields `sign = md5hex(key + t)` (Volcengine) or `md5hex(t + key)` (BytePlus's reading): both orders accepted, each needs the key; covers only key and `t`, not the body; in `data` in the nested shape",
	Window:      "`t` (s) from `CALLBRIDGE_MAX_CLOCK_SKEW` before now to `CALLBRIDGE_VOLCENGINE_LIVE_EXPIRY` + skew after: an expiry on Volcengine (send + 10 min), the send time on BytePlus",
	Subject:     "`stream`",
	TimeSource:  "`time_ms` (ms), else `time` (s), in the event or its `detail`; else receipt",
	Events:      volcLiveEvents,
	Data:        volcLiveData,
	EventData:   volcLiveEventData,
	Canonical:   volcLiveCanonical,
	Unknown:     "unknown.<event_type>",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      volcLiveVerify,
	Normalize:   volcLiveNormalize,
	Sign:        signVolcengineLive,
	Distinct:    []string{"sequence_id"},
	Code:        "event_type",
	Credentials: []string{"fp_user_url"},
	Sample:      []byte(`{"vhost":"push.example.com","domain":"push.example.com","app":"live","stream":"stream-123456","priority":0,"backup_count":"1","event_type":"push_start","sign":"413060a39e65a3ac5ede672c4a707a31","t":1700000600,"time":1700000000,"time_ms":1700000000123,"transcoded":false,"fp_node_ip":"10.10.10.1","fp_client_ip":"10.10.10.2","fp_user_url":"volcTime=1700003600&volcSecret=0123456789abcdef","session_id":"3693930911_1","sequence_id":"seq-0001"}`),
}

const volcLivePrefix = "com.volcengine.live."

// volcLvSettings: Volcengine signs an expiry, by default send time + 10 minutes.
var volcLvSettings = []Setting{
	{Name: "EXPIRY", Kind: Duration, Default: "10m",
		Description: "how far ahead of now a Volcengine Live t may be: the expiry Volcengine signs (send + 10 min by default); BytePlus signs the send time"},
}

// Codes are event_type. The console's message types are push, push_end, snapshot, record and
// audit_snapshot; push sends push_start.
var volcLiveEvents = []EventDef{
	{"push_start", "stream.started", "推流开始 stream push started (console message type push)"},
	{"push_end", "stream.ended", "推流结束 stream push ended (body value UNCONFIRMED)"},
	{"record", "recording.status", "录制任务状态 recording task status (body value UNCONFIRMED)"},
	{"snapshot", "snapshot.created", "截图 snapshot taken (body value UNCONFIRMED)"},
	{"audit_snapshot", "moderation.snapshot", "截图审核结果 snapshot moderation result (body value UNCONFIRMED)"},
}

// volcLiveData: what every event carries: event_type, which Normalize requires. The rest is
// declared by event: push_start's members are documented (§4a: 1126932's table, the nested
// sample of BytePlus and 93892), the other types' bodies are UNCONFIRMED, declared as far as
// the stream members and times push_start documents. Both shapes publish the same flat data
// (data.detail merged, the nested envelope's code and message left out); sign, t and
// fp_user_url are never in it.
var volcLiveData = []Field{
	{Path: "event_type", Type: TString, Required: true, Desc: "the event: push_start, push_end, record, snapshot, audit_snapshot"},
}

// volcLiveStream: the stream and time members; required (documented) for push_start only.
func volcLiveStream(required bool) []Field {
	return []Field{
		{Path: "vhost", Type: TString, Required: required, Desc: "the push domain's vhost"},
		{Path: "domain", Type: TString, Required: required, Desc: "the push domain"},
		{Path: "app", Type: TString, Required: required},
		{Path: "stream", Type: TString, Required: required, Desc: "the stream name; the CloudEvent's subject"},
		{Path: "time", Type: TInteger, Unit: "s", Required: required, Desc: "when the event happened (Unix time)"},
		{Path: "time_ms", Type: TInteger, Unit: "ms", Required: required, Desc: "time, in ms (Unix time); the CloudEvent's time"},
	}
}

// volcLivePush: push_start's own members (§4a), the push's session; priority, backup_count and
// sequence_id only in the flat shape (the 2025 table), the others in both.
func volcLivePush(required bool) []Field {
	return append(volcLiveStream(required), []Field{
		{Path: "priority", Type: TInteger, Desc: "the push's priority among same-name streams"},
		{Path: "backup_count", Type: TString, Desc: "how many same-name streams are online: a count written as a string"},
		{Path: "transcoded", Type: TBool, Required: required, Desc: "a transcoded stream's push"},
		{Path: "fp_node_ip", Type: TString, Required: required, Desc: "the edge node that took the push"},
		{Path: "fp_client_ip", Type: TString, Required: required, Desc: "the pushing client's IP address"},
		{Path: "session_id", Type: TString, Required: required, Desc: "本次推流的会话 ID: the push's session"},
		{Path: "sequence_id", Type: TString, Desc: "本次推流的推流序列 ID: the push's unique id (flat shape)"},
	}...)
}

// volcLiveEventData: push_start as documented; push_end as a push's members (UNCONFIRMED), the
// recording, snapshot and moderation events as far as their examples carry (UNCONFIRMED).
var volcLiveEventData = map[string][]Field{
	"stream.started": volcLivePush(true),
	"stream.ended":   volcLivePush(false),
	"recording.status": append(volcLiveStream(false),
		Field{Path: "session_id", Type: TString, Desc: "the push's session recorded"}),
	"snapshot.created":    volcLiveStream(false),
	"moderation.snapshot": volcLiveStream(false),
}

// volcLiveDropped are removed from the data: the signature pair and the push URL's query, which
// carries the push's auth parameters (a credential).
var volcLiveDropped = [...]string{"sign", "t", "fp_user_url"}

// volcLiveEvent returns the object that holds the event: data in the nested shape (data an
// object with event_type), else the body; nested reports which.
func volcLiveEvent(top []member, body []byte) (event []byte, nested bool) {
	if data := lookup(top, "data"); len(data) > 0 && data[0] == '{' && nestedMember(data, "event_type") != nil {
		return data, true
	}
	return body, false
}

func volcLiveVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	top, err := c.members()
	if len(top) == 0 && err != nil {
		return Signed, &AuthError{Reason: "body is not a JSON object, so t and sign cannot be read"}
	}
	var t, sign []byte
	if event, nested := volcLiveEvent(top, c.Body); nested {
		t, sign = nestedMember(event, "t"), nestedMember(event, "sign")
	} else {
		var tDup, signDup bool
		t, tDup = lookupOnce(top, "t")
		sign, signDup = lookupOnce(top, "sign")
		if err != nil && (tDup || signDup) {
			return Signed, &AuthError{Reason: "t or sign appears twice"}
		}
	}
	if t == nil || sign == nil {
		return Signed, &AuthError{Reason: "t or sign missing"}
	}
	tText, _, ok := stringValue(t, nil)
	stamp, isInt := intValue(t)
	if !ok || !isInt {
		return Signed, &AuthError{Reason: "t is not a unix timestamp"}
	}
	sig, _, ok := stringValue(sign, nil)
	switch {
	case !ok || sign[0] != '"':
		return Signed, &AuthError{Reason: "sign is not a string"}
	case len(sig) == 0:
		return Signed, &AuthError{Reason: "sign is empty: callback authentication is off in the console, but a key is configured here"}
	}
	var buf [128]byte
	keyFirst := volcLiveDigest(append(append(buf[:0], a.Secret...), tText...))
	tFirst := volcLiveDigest(append(append(buf[:0], tText...), a.Secret...))
	if !equalHex(sig, keyFirst[:]) && !equalHex(sig, tFirst[:]) {
		return Signed, &AuthError{Reason: "sign matches neither md5(key + t) nor md5(t + key)"}
	}
	return Signed, volcLiveWindow(time.Unix(stamp, 0), c.Received, a)
}

func volcLiveDigest(in []byte) (hexSum [md5.Size * 2]byte) {
	sum := md5.Sum(in)
	hex.Encode(hexSum[:], sum[:])
	return hexSum
}

// volcLiveWindow accepts t from MaxSkew before now (a BytePlus send time, or a Volcengine expiry
// just passed) to EXPIRY + MaxSkew after now (a Volcengine expiry, send + 10 min).
func volcLiveWindow(t, now time.Time, a *Auth) error {
	ahead := a.setting(volcLvSettings, "EXPIRY").Duration + a.MaxSkew
	switch d := t.Sub(now); {
	case -d > a.MaxSkew:
		return &AuthError{Reason: fmt.Sprintf("t is %s past, more than the allowed clock skew of %s (signature window)", (-d).Round(time.Second), a.MaxSkew)}
	case d > ahead:
		return &AuthError{Reason: fmt.Sprintf("t is %s ahead, more than the expiry and clock skew of %s (signature window)", d.Round(time.Second), ahead)}
	}
	return nil
}

func volcLiveNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	event, nested := volcLiveEvent(top, c.Body)
	var f volcLiveFields
	d := append(ev.data[:0], '{')
	if nested {
		if d, err = f.appendEvent(d, event); err != nil {
			return err
		}
	} else {
		for _, m := range top {
			d = f.appendMember(d, m)
		}
	}
	if f.detail != nil {
		f.inDetail = true
		var derr error
		if d, derr = f.appendEvent(d, f.detail); derr != nil {
			return derr
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
	if err := f.checkUnique(ev.Data); err != nil {
		return err
	}

	code, scratch, ok := stringValue(f.eventType, ev.scratch[:0])
	ev.scratch = scratch
	if !ok || len(code) == 0 || f.eventType[0] != '"' {
		return payloadErr("event_type", "missing or not a string")
	}
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(volcLiveEvents, volcLivePrefix)

	ev.Subject = ev.keep(scalarText(ev, f.stream))
	ev.Time = c.Received.UTC()
	_ = ev.setTime(intValue(f.timeMs)) || ev.setTime(intValue(f.time))
	host := f.vhost
	if host == nil {
		host = f.domain
	}
	ev.setSource(scalarText(ev, host))
	// One push, one sequence_id: another kind of event of that push (a recording's several
	// statuses, say) may carry it too, so only the push events take their id from it.
	isPush := string(ev.ProviderEventType) == "push_start" || string(ev.ProviderEventType) == "push_end"
	if isPush && f.sequence != nil {
		ev.hashID([]byte("sequence_id"), f.vhost, f.app, f.stream, f.sequence)
	} else {
		ev.hashID(ev.Data)
	}
	return nil
}

// volcLiveFields are the members volcLiveNormalize reads, from the event and its detail.
type volcLiveFields struct {
	eventType, vhost, domain, app, stream, time, timeMs, sequence, detail []byte
	inDetail                                                              bool // reading the detail: a detail inside it is data
}

// appendEvent appends the members of the object obj (the nested event, or its detail) to d.
func (f *volcLiveFields) appendEvent(d, obj []byte) ([]byte, error) {
	if len(obj) == 0 || obj[0] != '{' {
		return d, payloadErr("data.detail", "not a JSON object")
	}
	err := eachMember(obj, func(m member) { d = f.appendMember(d, m) })
	if err != nil {
		return d, payloadErr("data", "not a JSON object: %v", err)
	}
	return d, nil
}

// appendMember collects m when volcLiveNormalize reads it and appends it to d unless it is
// dropped; an event's detail is merged, not appended.
func (f *volcLiveFields) appendMember(d []byte, m member) []byte {
	switch string(m.key) {
	case "event_type":
		f.eventType = m.val
	case "vhost":
		f.vhost = m.val
	case "domain":
		f.domain = m.val
	case "app":
		f.app = m.val
	case "stream":
		f.stream = m.val
	case "time":
		f.time = m.val
	case "time_ms":
		f.timeMs = m.val
	case "sequence_id":
		f.sequence = m.val
	case "detail":
		if !f.inDetail && len(m.val) > 0 && m.val[0] == '{' {
			f.detail = m.val
			return d
		}
	}
	for _, k := range volcLiveDropped {
		if string(m.key) == k {
			return d
		}
	}
	return appendMember(d, m)
}

// checkUnique refuses data in which a name appears twice: a member of detail that the event
// also has, or a name repeated inside the nested event.
func (f *volcLiveFields) checkUnique(data []byte) error {
	var ms [64]member
	n := 0
	eachMember(data, func(m member) {
		if n < len(ms) {
			ms[n] = m
			n++
		}
	})
	if dup := duplicateKey(ms[:n]); dup != nil {
		return &PayloadError{Field: excerpt(dup), Reason: "the member appears twice (in the event and its detail, or twice in one); JSON readers disagree on which one counts"}
	}
	return nil
}

// scalarText is the text of the scalar raw (stringValue), decoded into ev's scratch when it must
// be: keep it (ev.keep) before scratch is used again.
func scalarText(ev *Event, raw []byte) []byte {
	s, scratch, _ := stringValue(raw, ev.scratch[:0])
	ev.scratch = scratch
	return s
}

// signVolcengineLive sets t to now plus Volcengine's default 10 minutes and sign to
// md5hex(key + t), in the object that holds the event (data, in the nested shape). Without a key
// the body is sent as it is.
func signVolcengineLive(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers := []Header{{"Content-Type", "application/json"}}
	if err := eachMember(body, nil); err != nil {
		return nil, nil, err
	}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	t := strconv.AppendInt(nil, now.Add(10*time.Minute).Unix(), 10)
	sum := volcLiveDigest(append(append([]byte(nil), a.Secret...), t...))
	sign := append(append([]byte{'"'}, sum[:]...), '"')
	set := []member{{key: []byte("t"), val: t}, {key: []byte("sign"), val: sign}}
	event, nested := volcLiveEvent(topMembers(body), body)
	if !nested {
		body, err := setMembers(body, set...)
		return body, headers, err
	}
	data, err := setMembers(event, set...)
	if err != nil {
		return nil, nil, err
	}
	body, err = setMembers(body, member{key: []byte("data"), val: data})
	return body, headers, err
}

// volcLiveCanonical maps Volcengine Live's push_start and push_end to the canonical RTC events
// (SPEC §9). A stream is the room (room_id stream), its push session (session_id) the room's
// session, and sequence_id, "the unique identifier of one push", the track's id.
var volcLiveCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "stream"},
		{To: "room_session_id", From: "session_id"},
		{To: "track.id", From: "sequence_id"},
		{To: "track.name", From: "stream"},
	},
	Events: map[string][]Mapping{
		"stream.started": {{Type: StreamPublished}},
		"stream.ended":   {{Type: StreamUnpublished}},
	},
	Gaps: "no participants and no app or account id (vhost and domain only); push_end gives no reason or duration; the record callback's status members are undocumented, so a recording's start, file, end or failure cannot be told apart and it is not mapped; no relay events",
}

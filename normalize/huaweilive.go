package normalize

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Huawei Cloud Live (华为云 视频直播) push/interrupt notifications (开停播通知) and recording
// callbacks (录制回调, new version), shared/providers/PROTOCOLS-WAVE3-CHINA.md §3 (SparkRTC, in
// the same section, is a provider of its own). Both are POSTed JSON objects, each kind with a
// signature of its own in the body field auth_sign, beside auth_timestamp (unix s), both present
// only when a key is set in the console (§3a, §3b):
//
//   - push callbacks ({domain, app, stream, user_args, client_ip, node_ip, publish_timestamp,
//     event}): auth_sign = hex(HMAC-SHA256(key, event + domain + app + stream + auth_timestamp));
//   - recording callbacks ({project_id, task_id, job_id, event_type, publish_domain, app, stream,
//     download_url, asset_id, ..., start_time, end_time}): the console's sign_type chooses either
//     MD5(key + auth_timestamp) or HMACSHA256(auth_timestamp + event_type + publish_domain + app +
//     stream + download_url + play_url, key). Both are accepted, told apart by the signature's
//     length (32 hex: MD5, 64 hex: HMAC); play_url is no body field in any table and counts as
//     "" when absent, as does any other missing field (UNCONFIRMED: one captured request in
//     CALLBRIDGE_HUAWEI_LIVE_VERIFY=report confirms). The MD5 form covers only the key and the
//     time, not the body: a captured pair could be replayed with other fields within the window,
//     as with Tencent CSS; push callbacks accept the HMAC form only.
//
// A callback with event_type is a recording callback, any other a push callback. Fields are
// hashed as sent: a number's digits as written, a string's contents unescaped, never
// re-serialised JSON. auth_timestamp is called an expiry by the doc, but the examples show a
// send (or event) time (§3c): it is accepted within CALLBRIDGE_MAX_CLOCK_SKEW either way, which
// holds for both readings while Huawei's expiry offset stays below the window (UNCONFIRMED).
// auth_sign and auth_timestamp stay out of the event, and so does the value of a secret or
// hwSecret parameter in user_args (the push URL's query string, which carries the stream's
// URL-authentication token, as CreateUrlAuthchain builds it): masked as "***". No callback has
// an id: push callbacks hash domain, app, stream, publish_timestamp (a string in the doc, with
// a stray comma in its example: a number, or digits with stray non-digits at either end, read as
// the digits) and event; recording callbacks task_id, job_id, event_type and asset_id (§3e).
// The answer is any 200; the doc's example body is sent (§3d).
var HuaweiLive = Provider{
	ID:         "huawei-live",
	TypePrefix: huaweiLivePrefix,
	Reply:      []byte(`{"status":1,"result":"success"}`),
	SecretName: "鉴权密钥 key (开停播通知 auth_sign_key; 录制回调 key)",
	SecretVar:  "KEY",
	Scheme: "body field `auth_sign`: push callbacks `hex(HMAC-SHA256(key, event + domain + app + stream + auth_timestamp))`; " +
		"recording callbacks (with `event_type`) the console's choice, told by length: 32 hex `md5hex(key + auth_timestamp)` (covers no body field), " +
		"64 hex `hex(HMAC-SHA256(key, auth_timestamp + event_type + publish_domain + app + stream + download_url + play_url))`, " +
		"a missing field (`play_url` is in no field table) as \"\" (UNCONFIRMED: `CALLBRIDGE_HUAWEI_LIVE_VERIFY=report` with one captured request confirms); fields as sent, strings unescaped",
	Window: "`auth_timestamp` (s) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way: the doc calls it an expiry, its examples show a send time, " +
		"and a symmetric window holds for both while Huawei's expiry offset stays below it (UNCONFIRMED)",
	Subject:    "`stream`",
	TimeSource: "push `PUBLISH`: `publish_timestamp` (s, string or number); recording: `end_time`, else `start_time` (ISO-8601 UTC); else receipt",
	Events:     huaweiLiveEvents,
	Data:       huaweiLiveData,
	EventData:  huaweiLiveEventData,
	Canonical:  huaweiLiveCanonical,
	Unknown:    "unknown.<event or event_type>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     huaweiLiveVerify,
	Normalize:  huaweiLiveNormalize,
	Sign:       signHuaweiLive,
	Distinct:   []string{"stream"},
	Code:       "event",
	Sample:     []byte(`{"domain":"push.example.com","app":"live","stream":"example_stream","user_args":"cdn=hw","client_ip":"100.111.1.1","node_ip":"112.11.1.1","publish_timestamp":"1587954134","event":"PUBLISH","auth_timestamp":1700000600,"auth_sign":"bf2c1e0359f4e38ca6e004777269da963fee3468c48db8efdf750c58393207b3"}`),
}

const huaweiLivePrefix = "com.huaweicloud.live."

// Codes are a push callback's event and a recording callback's event_type.
var huaweiLiveEvents = []EventDef{
	{"PUBLISH", "stream.published", "开播 stream push started"},
	{"PUBLISH_DONE", "stream.unpublished", "停播 stream push ended (pair it with PUBLISH by publish_timestamp: the order is not guaranteed)"},
	{"RECORD_START", "recording.started", "录制开始 recording started"},
	{"RECORD_NEW_FILE_START", "recording.file.started", "开始创建新的录制文件 a new recording file started (job_id)"},
	{"RECORD_FILE_COMPLETE", "recording.file.completed", "录制文件生成完成 recording file written (job_id, download_url, asset_id)"},
	{"RECORD_OVER", "recording.ended", "录制结束 recording ended"},
	{"RECORD_FAILED", "recording.failed", "录制失败 recording failed"},
}

// huaweiLiveData: the members of both kinds of callback, as published (auth_sign and
// auth_timestamp left out), from the field lists of live_14_0003, live_01_0043 and live_01_0011
// (PROTOCOLS-WAVE3-CHINA.md §3a), checked against the goldens.
var huaweiLiveData = []Field{
	{Path: "app", Type: TString, Required: true, Desc: "the application (the push URL's path)"},
	{Path: "stream", Type: TString, Required: true, Desc: "the stream; the CloudEvent's subject"},
}

// huaweiLivePush: a push or interrupt notification (开停播通知).
var huaweiLivePush = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "PUBLISH or PUBLISH_DONE"},
	{Path: "domain", Type: TString, Required: true, Desc: "the push domain"},
	{Path: "user_args", Type: TString, Desc: "the push URL's query string, a secret or hwSecret parameter's value masked as ***"},
	{Path: "client_ip", Type: TString, Desc: "the publisher's address"},
	{Path: "node_ip", Type: TString, Desc: "the Huawei node's address"},
	{Path: "publish_timestamp", Type: "string|integer", Unit: "s", Desc: "when the push began, the same on its PUBLISH and PUBLISH_DONE (a string in the doc, whose example has a stray comma in it)"},
}

// huaweiLiveRecord: a recording callback (录制回调, new version). The field table does not say
// which kind carries which member, so every kind may carry the file's; job_id, the file, is
// required on the two kinds the table names it on.
func huaweiLiveRecord(jobRequired bool) []Field {
	return append([]Field{
		{Path: "job_id", Type: TString, Required: jobRequired, Desc: "the file (on RECORD_NEW_FILE_START and RECORD_FILE_COMPLETE)"},
		{Path: "event_type", Type: TString, Required: true, Desc: "RECORD_START, RECORD_NEW_FILE_START, RECORD_FILE_COMPLETE, RECORD_OVER or RECORD_FAILED"},
		{Path: "project_id", Type: TString, Desc: "the Huawei Cloud project"},
		{Path: "task_id", Type: TString, Required: true, Desc: "the recording task"},
		{Path: "publish_domain", Type: TString, Required: true, Desc: "the push domain"},
		{Path: "record_format", Type: TString, Desc: "HLS, FLV or MP4"},
		{Path: "start_time", Type: TString, Desc: "when the recording (or the file) began (yyyy-mm-ddThh:mm:ssZ)"},
		{Path: "end_time", Type: TString, Desc: "when it ended (yyyy-mm-ddThh:mm:ssZ)"},
		{Path: "play_url", Type: TString, Desc: "named by the HMAC signature's formula, in no field table"},
	}, huaweiLiveFile...)
}

var huaweiLiveFile = []Field{
	{Path: "download_url", Type: TString, Desc: "the file's URL"},
	{Path: "asset_id", Type: TString, Desc: "the media asset's id"},
	{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size"},
	{Path: "record_duration", Type: TInteger, Unit: "s", Desc: "the file's duration"},
	{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
	{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
	{Path: "obs_location", Type: TString, Desc: "the OBS endpoint"},
	{Path: "obs_bucket", Type: TString, Desc: "the OBS bucket"},
	{Path: "obs_object", Type: TString, Desc: "the file's object in the bucket"},
}

// huaweiLiveEventData: each event's own members, by EventDef Name.
var huaweiLiveEventData = map[string][]Field{
	"stream.published":         huaweiLivePush,
	"stream.unpublished":       huaweiLivePush,
	"recording.started":        huaweiLiveRecord(false),
	"recording.file.started":   huaweiLiveRecord(true),
	"recording.file.completed": huaweiLiveRecord(true),
	"recording.ended":          huaweiLiveRecord(false),
	"recording.failed":         huaweiLiveRecord(false),
}

// huaweiPushSigned and huaweiRecordSigned are the fields the HMAC forms cover, in their order:
// the push form puts auth_timestamp last, the recording form first.
var (
	huaweiPushSigned   = [...]string{"event", "domain", "app", "stream", "auth_timestamp"}
	huaweiRecordSigned = [...]string{"auth_timestamp", "event_type", "publish_domain", "app", "stream", "download_url", "play_url"}
)

// huaweiBuffers hold the signed text between requests: HMAC takes it through an interface, so a
// buffer on the stack would escape.
var huaweiBuffers = sync.Pool{New: func() any { return new([]byte) }}

// huaweiIsRecord reports whether top is a recording callback: it has an event_type.
func huaweiIsRecord(top []member) bool { return lookup(top, "event_type") != nil }

// appendSignedField appends the text of the field name of top as Huawei signs it: a string's
// contents unescaped, a number as written, "" when absent or null.
func appendSignedField(b []byte, top []member, name string) ([]byte, error) {
	raw, dup := lookupOnce(top, name)
	switch {
	case dup:
		return b, fmt.Errorf("%s appears twice", name)
	case raw == nil || raw[0] == 'n':
		return b, nil
	case raw[0] == '"':
		return appendUnquoted(b, raw), nil
	case raw[0] == '{' || raw[0] == '[':
		return b, fmt.Errorf("%s is not a string or a number", name)
	}
	return append(b, raw...), nil
}

// huaweiExpected writes into want the lower-hex auth_sign Huawei would send for the callback
// top under key, in the MD5 form when md5Form (recording callbacks only), and returns it.
func huaweiExpected(want *[2 * sha256.Size]byte, top []member, key []byte, md5Form bool) ([]byte, error) {
	bp := huaweiBuffers.Get().(*[]byte)
	defer huaweiBuffers.Put(bp)
	b := (*bp)[:0]
	var err error
	fields := huaweiPushSigned[:]
	if huaweiIsRecord(top) {
		fields = huaweiRecordSigned[:]
	}
	if md5Form {
		b = append(b, key...)
		fields = huaweiRecordSigned[:1] // auth_timestamp
	}
	for _, name := range fields {
		if b, err = appendSignedField(b, top, name); err != nil {
			*bp = b
			return nil, err
		}
	}
	*bp = b
	if md5Form {
		sum := md5.Sum(b)
		return want[:hex.Encode(want[:], sum[:])], nil
	}
	var sum [sha256.Size]byte
	n := hmacSum(&sum, key, true, b)
	return want[:hex.Encode(want[:], sum[:n])], nil
}

func huaweiLiveVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	top, err := c.members()
	if err != nil && len(top) == 0 {
		return Signed, &AuthError{Reason: "body is not a JSON object, so auth_sign cannot be read"}
	}
	sign, signDup := lookupOnce(top, "auth_sign")
	ts, tsDup := lookupOnce(top, "auth_timestamp")
	switch {
	case signDup || tsDup:
		return Signed, &AuthError{Reason: "auth_sign or auth_timestamp appears twice"}
	case sign == nil || ts == nil:
		return Signed, &AuthError{Reason: "auth_sign or auth_timestamp missing: Huawei sends both whenever a key is set"}
	case len(sign) < 2 || sign[0] != '"':
		return Signed, &AuthError{Reason: "auth_sign is not a string"}
	}
	sec, isInt := intValue(ts)
	if !isInt {
		return Signed, &AuthError{Reason: "auth_timestamp is not a unix timestamp"}
	}
	got := sign[1 : len(sign)-1]
	record := huaweiIsRecord(top)
	var md5Form bool
	switch {
	case len(got) == 2*md5.Size && record:
		md5Form = true
	case len(got) != 2*sha256.Size:
		return Signed, &AuthError{Reason: "auth_sign is neither 64 hex characters (HMAC-SHA256) nor, on a recording callback, 32 (MD5)"}
	}
	var buf [2 * sha256.Size]byte
	want, err := huaweiExpected(&buf, top, a.Secret, md5Form)
	if err != nil {
		return Signed, &AuthError{Reason: "cannot compute auth_sign: " + err.Error()}
	}
	if !equalHex(got, want) {
		switch {
		case md5Form:
			return Signed, &AuthError{Reason: "auth_sign does not match md5(key + auth_timestamp)"}
		case record:
			return Signed, &AuthError{Reason: "auth_sign does not match HMAC-SHA256(auth_timestamp + event_type + publish_domain + app + stream + download_url + play_url)"}
		}
		return Signed, &AuthError{Reason: "auth_sign does not match HMAC-SHA256(event + domain + app + stream + auth_timestamp)"}
	}
	return Signed, checkSkew("auth_timestamp", time.Unix(sec, 0), c.Received, a.MaxSkew)
}

// huaweiFields are the members huaweiLiveNormalize reads.
type huaweiFields struct {
	event, eventType, domain, publishDomain, app, stream, publishTS []byte
	taskID, jobID, assetID, startTime, endTime                      []byte
}

func (f *huaweiFields) collect(m member) {
	switch string(m.key) {
	case "event":
		f.event = m.val
	case "event_type":
		f.eventType = m.val
	case "domain":
		f.domain = m.val
	case "publish_domain":
		f.publishDomain = m.val
	case "app":
		f.app = m.val
	case "stream":
		f.stream = m.val
	case "publish_timestamp":
		f.publishTS = m.val
	case "task_id":
		f.taskID = m.val
	case "job_id":
		f.jobID = m.val
	case "asset_id":
		f.assetID = m.val
	case "start_time":
		f.startTime = m.val
	case "end_time":
		f.endTime = m.val
	}
}

func huaweiLiveNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	var f huaweiFields
	for _, m := range top {
		f.collect(m)
	}
	record := f.eventType != nil
	codeRaw, codeName := f.event, "event"
	if record {
		codeRaw, codeName = f.eventType, "event_type"
	}
	code, scratch, ok := stringValue(codeRaw, ev.scratch[:0])
	if !ok || len(code) == 0 || codeRaw[0] != '"' {
		return payloadErr(codeName, "missing or not a string naming the event")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(huaweiLiveEvents, huaweiLivePrefix)
	huaweiData(top, ev)

	subject, scratch, _ := stringValue(f.stream, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	domain := f.domain
	if record {
		domain = f.publishDomain
		if at, ok := parseRFC3339(f.endTime); ok {
			ev.Time = at
		} else if at, ok := parseRFC3339(f.startTime); ok {
			ev.Time = at
		}
	} else if string(ev.ProviderEventType) == "PUBLISH" {
		ev.setTime(intValue(huaweiDigits(f.publishTS)))
	}
	src, scratch, _ := stringValue(domain, ev.scratch[:0])
	ev.scratch = scratch
	ev.setSource(src)
	huaweiID(ev, &f, record)
	return nil
}

// huaweiID sets the event's id from the fields that name it (§3e), decoded, or from its data
// when the field that tells one push or task from another is missing.
func huaweiID(ev *Event, f *huaweiFields, record bool) {
	var parts [4][]byte
	raws := [4][]byte{f.taskID, f.jobID, f.assetID}
	if !record {
		raws = [4][]byte{f.domain, f.app, f.stream, huaweiDigits(f.publishTS)}
	}
	scratch := ev.scratch[:0]
	for i, raw := range raws {
		parts[i], scratch, _ = stringValue(raw, scratch)
	}
	ev.scratch = scratch
	if (record && len(parts[0]) == 0) || (!record && len(parts[3]) == 0) {
		ev.hashID(ev.Data)
		return
	}
	ev.hashID(parts[0], parts[1], parts[2], parts[3])
}

// huaweiDigits returns publish_timestamp as the digits it stands for: a number as written, and
// a string's contents without the stray non-digits at either end that the doc's example has
// ("1587954134,"), when digits remain between them; any other value as it is.
func huaweiDigits(raw []byte) []byte {
	if len(raw) < 2 || raw[0] != '"' {
		return raw
	}
	s := raw[1 : len(raw)-1]
	i, j := 0, len(s)
	for i < j && (s[i] < '0' || s[i] > '9') {
		i++
	}
	for j > i && (s[j-1] < '0' || s[j-1] > '9') {
		j--
	}
	for _, c := range s[i:j] {
		if c < '0' || c > '9' {
			return raw
		}
	}
	for _, c := range s {
		if c == '\\' { // an escape: the digits may be written inside one
			return raw
		}
	}
	if i == j {
		return raw
	}
	return s[i:j]
}

// huaweiData sets the event's data: every member but the signature material, with the value of
// a credential parameter in user_args masked.
func huaweiData(top []member, ev *Event) {
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "auth_sign", "auth_timestamp":
			continue
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		d = appendKey(d, m)
		if string(m.key) == "user_args" && len(m.val) > 0 && m.val[0] == '"' {
			var args []byte
			args, ev.scratch, _ = stringValue(m.val, ev.scratch[:0])
			start := len(ev.scratch)
			ev.scratch = appendMaskedQuery(ev.scratch, args)
			d = appendString(d, ev.scratch[start:])
			continue
		}
		d = appendCompact(d, m.val)
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
}

// huaweiMask is what stands for a credential's value in data.
const huaweiMask = "***"

// appendMaskedQuery appends the query string q with the value of every secret or hwSecret
// parameter (any case, a leading '?' allowed) replaced by huaweiMask.
func appendMaskedQuery(dst, q []byte) []byte {
	for i := 0; ; i++ {
		end := i
		for end < len(q) && q[end] != '&' {
			end++
		}
		pair := q[i:end]
		name := pair
		if len(name) > 0 && name[0] == '?' {
			name = name[1:]
		}
		eq := 0
		for eq < len(name) && name[eq] != '=' {
			eq++
		}
		if eq < len(name) && (bytes.EqualFold(name[:eq], []byte("secret")) || bytes.EqualFold(name[:eq], []byte("hwSecret"))) {
			dst = append(append(dst, pair[:len(pair)-len(name)+eq+1]...), huaweiMask...)
		} else {
			dst = append(dst, pair...)
		}
		if end == len(q) {
			return dst
		}
		dst = append(dst, '&')
		i = end
	}
}

// signHuaweiLive sets auth_timestamp to now and auth_sign to the signature Huawei would send
// under a.Secret: a recording callback in the MD5 form when body's auth_sign already has its 32
// hex characters, else in the HMAC form (the console's default). Without a secret the body is
// sent as it is.
func signHuaweiLive(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	if len(a.Secret) == 0 {
		return body, []Header{{"Content-Type", "application/json"}}, eachMember(body, nil)
	}
	body, headers, err := stampJSON(body, "auth_timestamp", strconv.AppendInt(nil, now.Unix(), 10))
	if err != nil {
		return nil, nil, err
	}
	top := topMembers(body)
	prev, _, _ := stringValue(lookup(top, "auth_sign"), nil)
	var buf [2 * sha256.Size]byte
	want, err := huaweiExpected(&buf, top, a.Secret, huaweiIsRecord(top) && len(prev) == 2*md5.Size)
	if err != nil {
		return nil, nil, err
	}
	body, err = replaceMember(body, "auth_sign", strconv.AppendQuote(nil, string(want)))
	return body, headers, err
}

// huaweiLiveCanonical maps Huawei Cloud Live's push notifications and recording callbacks to
// the canonical RTC events (SPEC §9). A stream is the room (room_id stream); a push's
// publish_timestamp, shared by PUBLISH and PUBLISH_DONE (Huawei pairs them by it), is the room's
// session; a recording's task_id its task.
var huaweiLiveCanonical = &Canonical{
	Base: []Set{{To: "room_id", From: "stream"}},
	Events: map[string][]Mapping{
		"stream.published":   {{Type: StreamPublished, Set: huaweiLivePushSets()}},
		"stream.unpublished": {{Type: StreamUnpublished, Set: huaweiLivePushSets()}},
		"recording.started":  {{Type: RecordingStarted, Set: huaweiLiveRecSets()}},
		"recording.file.completed": {{Type: RecordingFileReady, Set: huaweiLiveRecSets(
			Set{To: "recording.files", From: "download_url"},
			Set{To: "duration_s", From: "record_duration"})}},
		"recording.ended":  {{Type: RecordingEnded, Set: huaweiLiveRecSets()}},
		"recording.failed": {{Type: RecordingFailed, Set: huaweiLiveRecSets()}},
	},
	Gaps: "no participants; a push names no account or app id (only the domain), no reason for PUBLISH_DONE and no duration; a recording failure carries no error text; no sequence (PUBLISH and PUBLISH_DONE may arrive out of order)",
}

// huaweiLivePushSets: a push callback names its stream and, as its session, publish_timestamp.
func huaweiLivePushSets() []Set {
	return []Set{
		{To: "room_session_id", From: "publish_timestamp"},
		{To: "track.name", From: "stream"},
	}
}

// huaweiLiveRecSets: a recording callback names its project and task.
func huaweiLiveRecSets(more ...Set) []Set {
	return append([]Set{{To: "app_id", From: "project_id"}, {To: "recording.task_id", From: "task_id"}}, more...)
}

package normalize

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Alibaba Cloud ApsaraVideo Live (阿里云 视频直播) callbacks (shared/providers/PROTOCOLS-MORE.md §4).
// Stream publish and unpublish come as GET, their fields in the query string (action, ip, id,
// app, appname, time, usrargs, node, height, width): the bridge hands the query string to
// Normalize as the body, and a dead letter keeps it. Recording callbacks come as POSTed JSON: a
// file ({domain, app, stream, uri, duration, start_time, stop_time, push_args}) or a status
// ({domain, app, stream, event}). When a key is configured in the console, every callback
// carries ALI-LIVE-TIMESTAMP (unix s, the send time) and ALI-LIVE-SIGNATURE =
// md5hex(domain|timestamp|key), where domain is the ingest domain for publish callbacks (their
// app parameter) and the callback URL's host for the others (CALLBRIDGE_ALIBABA_LIVE_CALLBACK_DOMAIN,
// else the Host header). The signature covers neither the query nor the body: a captured
// request's headers could be replayed with other fields within the signature window, as with
// Tencent CSS. A new key applies only to streams pushed after the change, so a previous key may
// be configured during the rotation. There is no event id: the id hashes data, the callback's
// fields, which its retries repeat.
var AlibabaLive = Provider{
	ID:         "alibaba-live",
	TypePrefix: alibabaPrefix,
	Reply:      []byte(`{"code":0}`), // only the status is read
	SecretName: "回调鉴权 KEY NotifyAuthKey",
	SecretVar:  "AUTH_KEY",
	AcceptsGET: true,
	Settings:   alibabaSettings,
	Scheme:     "headers `ALI-LIVE-SIGNATURE = md5hex(domain + \"|\" + ALI-LIVE-TIMESTAMP + \"|\" + key)`, domain the ingest domain (`app`) for publish callbacks, else the callback URL's host; covers neither query nor body",
	Window:     "`ALI-LIVE-TIMESTAMP` (s) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:    "publish: `id` (the stream); recording: `stream`",
	TimeSource: "publish: `time` (s); recording file: `stop_time` (s); recording status: `ALI-LIVE-TIMESTAMP` (s); else receipt",
	Events:     alibabaEvents,
	EventData:  alibabaEventData,
	Canonical:  alibabaCanonical,
	Unknown:    "unknown.<action or event>; a callback with neither, nor uri: unknown.callback",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     alibabaVerify,
	Normalize:  alibabaNormalize,
	Sign:       signAlibabaLive,
	Distinct:   []string{"id"},
	Code:       "action",
	Sample:     []byte(`{"action":"publish","ip":"203.0.113.7","id":"world","app":"push.example.com","appname":"liveApp","time":1609220385,"usrargs":"auth_key=1609224000-0-0-abc","node":"cdnvideocenter010207110000.cm3","height":720,"width":1280}`),
}

const alibabaPrefix = "com.aliyun.live."

var alibabaSettings = []Setting{
	{Name: "CALLBACK_DOMAIN", Kind: Text,
		Description: "host of the callback URL set in the console for recording callbacks, which are signed with it; empty: the request's Host header"},
	{Name: "PREVIOUS_AUTH_KEY", Kind: Text, Secret: true,
		Description: "the key before a rotation: streams pushed before it keep signing with it"},
}

// Codes are the action (publish callbacks), the event (recording status) or record_file.
var alibabaEvents = []EventDef{
	{"publish", "stream.published", "推流 stream pushed (GET)"},
	{"publish_done", "stream.unpublished", "断流 stream push ended (GET)"},
	{"record_file", "recording.file.created", "录制文件生成 recording file written (no event field: told by uri)"},
	{"record_started", "recording.started", "录制开始 recording started (NeedStatusNotify)"},
	{"record_paused", "recording.paused", "录制暂停 recording paused (NeedStatusNotify)"},
	{"record_resumed", "recording.resumed", "录制恢复 recording resumed (NeedStatusNotify)"},
}

// alibabaSignHost is the Host that Sign sends a recording callback to when no callback domain is
// configured: Verify then reads it back from the Host header.
const alibabaSignHost = "localhost"

// isQuery reports whether body is a query string rather than a JSON object.
func isQuery(body []byte) bool {
	i := skipSpace(body, 0)
	return i == len(body) || body[i] != '{'
}

// queryParam returns the value of the first parameter key of the query q, decoded into dst.
func queryParam(dst, q []byte, key string) ([]byte, bool) {
	for len(q) > 0 {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte{'&'})
		k, v, _ := bytes.Cut(pair, []byte{'='})
		var kb [64]byte
		if dk, ok := appendQueryUnescaped(kb[:0], k); ok && string(dk) == key {
			return appendQueryUnescaped(dst, v)
		}
	}
	return dst, false
}

// appendQueryUnescaped appends s with %XX and '+' decoded, as a form value; ok is false on a
// malformed escape.
func appendQueryUnescaped(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) || hexVal(s[i+1]) < 0 || hexVal(s[i+2]) < 0 {
				return dst, false
			}
			dst = append(dst, byte(hexVal(s[i+1])<<4|hexVal(s[i+2])))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// alibabaDomain returns the domain the callback is signed with, in buf.
func alibabaDomain(buf []byte, c *Callback, a *Auth) ([]byte, bool) {
	if isQuery(c.Body) {
		return queryParam(buf, c.Body, "app")
	}
	if d := a.setting(alibabaSettings, "CALLBACK_DOMAIN").Bytes; len(d) > 0 {
		return append(buf, d...), true
	}
	host := c.Header.Peek("Host")
	if i := bytes.LastIndexByte(host, ':'); i >= 0 && bytes.IndexByte(host[i:], ']') < 0 {
		host = host[:i] // the port; not the colons of an IPv6 literal
	}
	return append(buf, host...), len(host) > 0
}

func alibabaVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	ts, sig := c.Header.Peek("ALI-LIVE-TIMESTAMP"), c.Header.Peek("ALI-LIVE-SIGNATURE")
	switch {
	case len(sig) == 0:
		return Signed, &AuthError{Reason: "ALI-LIVE-SIGNATURE header missing"}
	case len(ts) == 0:
		return Signed, &AuthError{Reason: "ALI-LIVE-TIMESTAMP header missing"}
	}
	var buf [512]byte
	in, ok := alibabaDomain(buf[:0], c, a)
	if !ok {
		return Signed, &AuthError{Reason: "the domain the signature covers is missing (app parameter, or Host header)"}
	}
	in = append(append(append(in, '|'), ts...), '|')
	n := len(in)
	ok = alibabaSignatureMatches(sig, append(in, a.Secret...))
	if previous := a.setting(alibabaSettings, "PREVIOUS_AUTH_KEY").Bytes; !ok && len(previous) > 0 {
		ok = alibabaSignatureMatches(sig, append(in[:n], previous...))
	}
	if !ok {
		return Signed, &AuthError{Reason: "ALI-LIVE-SIGNATURE does not match md5(domain|ALI-LIVE-TIMESTAMP|key)"}
	}
	sec, isInt := intValue(ts)
	if !isInt {
		return Signed, &AuthError{Reason: "ALI-LIVE-TIMESTAMP is not a unix timestamp"}
	}
	return Signed, checkSkew("ALI-LIVE-TIMESTAMP", unixTime(sec), c.Received, a.MaxSkew)
}

func alibabaSignatureMatches(sig, input []byte) bool {
	sum := md5.Sum(input)
	var want [md5.Size * 2]byte
	hex.Encode(want[:], sum[:])
	return equalHex(sig, want[:])
}

// alibabaIntParams are the query parameters Alibaba's own sample reads as integers.
var alibabaIntParams = []string{"time", "height", "width"}

// isOneOf reports whether key is one of names.
func isOneOf(key []byte, names []string) bool {
	for _, n := range names {
		if string(key) == n {
			return true
		}
	}
	return false
}

// appendQueryJSON appends the query (or form body) q as a JSON object: parameters in order,
// decoded, those named in ints as numbers when they are plain integers. It fails on a malformed
// escape or a parameter given twice.
func appendQueryJSON(dst, q []byte, ints []string) ([]byte, *PayloadError) {
	start := len(dst)
	dst = append(dst, '{')
	var seen [32][2]int // bounds of the decoded keys, in dst
	keys := 0
	var kb, vb [256]byte
	for len(q) > 0 {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte{'&'})
		if len(pair) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(pair, []byte{'='})
		key, ok1 := appendQueryUnescaped(kb[:0], k)
		val, ok2 := appendQueryUnescaped(vb[:0], v)
		if !ok1 || !ok2 || !utf8.Valid(key) || !utf8.Valid(val) {
			return dst[:start], &PayloadError{Field: excerpt(k), Reason: "not a URL query: a malformed escape or invalid UTF-8"}
		}
		if keys == len(seen) {
			return dst[:start], &PayloadError{Reason: fmt.Sprintf("more than %d query parameters", len(seen))}
		}
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		kStart := len(dst)
		dst = appendString(dst, key)
		for _, s := range seen[:keys] {
			if string(dst[s[0]:s[1]]) == string(dst[kStart:]) {
				return dst[:start], &PayloadError{Field: excerpt(key), Reason: "the parameter appears twice; readers disagree on which one counts"}
			}
		}
		seen[keys] = [2]int{kStart, len(dst)}
		keys++
		dst = append(dst, ':')
		if isOneOf(key, ints) && plainInteger(val) {
			dst = append(dst, val...)
		} else {
			dst = appendString(dst, val)
		}
	}
	return append(dst, '}'), nil
}

// plainInteger reports whether s is a JSON integer without sign, of at most 18 digits.
func plainInteger(s []byte) bool {
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func alibabaNormalize(c *Callback, ev *Event) error {
	var f alibabaFields
	if err := alibabaData(c, ev, &f); err != nil {
		return err
	}

	var code, subject, sourceDomain []byte
	ok := true
	switch {
	case f.action != nil:
		code, ev.scratch, ok = stringValue(f.action, ev.scratch[:0])
		subject, sourceDomain = f.id, f.app
	case f.event != nil:
		code, ev.scratch, ok = stringValue(f.event, ev.scratch[:0])
		subject, sourceDomain = f.stream, f.domain
	case f.uri != nil:
		code = []byte("record_file")
		subject, sourceDomain = f.stream, f.domain
	default:
		code = []byte("callback")
		subject, sourceDomain = f.stream, f.domain
		if subject == nil {
			subject, sourceDomain = f.id, f.app
		}
	}
	if !ok || len(code) == 0 {
		return payloadErr("action", "not a string naming the event")
	}
	ev.ProviderEventType = ev.keep(code)
	ev.setTypeFrom(alibabaEvents, alibabaPrefix)

	s, scratch, _ := stringValue(subject, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(s)

	ev.Time = c.Received.UTC()
	switch {
	case f.action != nil:
		ev.setTime(intValue(f.stamp))
	case f.uri != nil:
		ev.setTime(intValue(f.stop))
	default:
		ev.setTime(intValue(c.Header.Peek("ALI-LIVE-TIMESTAMP")))
	}

	src, scratch, _ := stringValue(sourceDomain, ev.scratch[:0])
	ev.scratch = scratch
	ev.setSource(src)
	ev.hashID(ev.Data)
	return nil
}

// alibabaFields are the members alibabaNormalize reads, from a query string or a JSON object.
type alibabaFields struct {
	action, event, uri, stream, id, domain, app, stamp, stop []byte
}

func (f *alibabaFields) collect(m member) {
	switch string(m.key) {
	case "action":
		f.action = m.val
	case "event":
		f.event = m.val
	case "uri":
		f.uri = m.val
	case "stream":
		f.stream = m.val
	case "id":
		f.id = m.val
	case "domain":
		f.domain = m.val
	case "app":
		f.app = m.val
	case "time":
		f.stamp = m.val
	case "stop_time":
		f.stop = m.val
	}
}

// alibabaData reads the callback, a publish callback's query string or a JSON object, into the
// event's data and f.
func alibabaData(c *Callback, ev *Event, f *alibabaFields) error {
	if isQuery(c.Body) {
		if len(bytes.TrimSpace(c.Body)) == 0 {
			return payloadErr("", "empty callback: no query parameters and no body")
		}
		d, perr := appendQueryJSON(ev.data[:0], c.Body, alibabaIntParams)
		if perr != nil {
			return perr
		}
		ev.data = d
		eachMember(ev.data, f.collect) // valid: built above
		if f.action == nil {
			// Only publish callbacks come as a query; anything else is neither shape.
			return payloadErr("", "neither a JSON object nor a query string with an action parameter")
		}
	} else {
		top, err := c.members()
		if err != nil {
			return err
		}
		for _, m := range top {
			f.collect(m)
		}
		ev.data = appendCompact(ev.data[:0], c.Body)
	}
	ev.Data = ev.data
	return nil
}

// signAlibabaLive makes the request Alibaba would send for body: a JSON object with an action is
// a publish callback, sent as GET with its members as query parameters and signed with its app
// (the ingest domain); any other JSON object is a recording callback, POSTed and signed with the
// callback domain (the setting, else alibabaSignHost, sent as the Host header). A query string
// is sent as it is.
func signAlibabaLive(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	var headers []Header
	var domain []byte
	switch {
	case isQuery(body):
		domain, _ = queryParam(nil, body, "app")
	case lookup(topMembers(body), "action") != nil:
		ms := topMembers(body)
		var q []byte
		for _, m := range ms {
			text, _, ok := stringValue(m.val, nil)
			if !ok {
				text = appendCompact(nil, m.val)
			}
			if len(q) > 0 {
				q = append(q, '&')
			}
			q = append(append(append(q, url.QueryEscape(string(m.key))...), '='), url.QueryEscape(string(text))...)
			if string(m.key) == "app" {
				domain = text
			}
		}
		body = q
	default:
		if err := eachMember(body, nil); err != nil {
			return nil, nil, err
		}
		headers = append(headers, Header{"Content-Type", "application/json"})
		domain = a.setting(alibabaSettings, "CALLBACK_DOMAIN").Bytes
		if len(domain) == 0 {
			domain = []byte(alibabaSignHost)
			headers = append(headers, Header{"Host", alibabaSignHost})
		}
	}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	sum := md5.Sum([]byte(string(domain) + "|" + ts + "|" + string(a.Secret)))
	return body, append(headers, Header{"ALI-LIVE-TIMESTAMP", ts}, Header{"ALI-LIVE-SIGNATURE", hex.EncodeToString(sum[:])}), nil
}

// alibabaPublish: the members of publish and publish_done callbacks (query parameters).
var alibabaPublish = []Field{
	{Path: "action", Type: TString, Required: true, Desc: "publish or publish_done"},
	{Path: "ip", Type: TString, Required: true, Desc: "the pushing client's IP"},
	{Path: "id", Type: TString, Required: true, Desc: "the stream's name"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "appname", Type: TString, Required: true, Desc: "the application name"},
	{Path: "time", Type: TString + "|" + TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time); a string if the query's value is not a plain integer"},
	{Path: "usrargs", Type: TString, Required: true, Desc: "the push URL's parameters, as the user gave them"},
	{Path: "node", Type: TString, Required: true, Desc: "the CDN node's name"},
}

// alibabaStatus: the members of a recording status callback (NeedStatusNotify).
var alibabaStatus = []Field{
	{Path: "domain", Type: TString, Required: true, Desc: "the streaming domain"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "stream", Type: TString, Required: true, Desc: "the stream's name"},
	{Path: "event", Type: TString, Required: true, Desc: "record_started, record_paused or record_resumed"},
}

// alibabaRecording: the members every recording callback has.
var alibabaRecording = []Field{
	{Path: "domain", Type: TString, Required: true, Desc: "the streaming domain"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "stream", Type: TString, Required: true, Desc: "the stream's name"},
}

// alibabaEventData: each event's own members, by EventDef Name: the callback's fields as published,
// from Alibaba Cloud's callback pages (199365 publish, 55016 recording; PROTOCOLS-MORE.md §4):
// publish callbacks' query parameters decoded into members, time, height and width as numbers when
// they are plain integers. Publish and recording callbacks share no member (app is the ingest
// domain on one, the application name on the other), so Data is not set.
var alibabaEventData = map[string][]Field{
	"stream.published": slices.Concat(alibabaPublish, []Field{
		{Path: "height", Type: TString + "|" + TInteger, Unit: "px", Desc: "the video's height, on the first callback only; a string if the query's value is not a plain integer"},
		{Path: "width", Type: TString + "|" + TInteger, Unit: "px", Desc: "the video's width, on the first callback only; a string if the query's value is not a plain integer"},
	}),
	"stream.unpublished": alibabaPublish,
	"recording.file.created": slices.Concat(alibabaRecording, []Field{
		{Path: "uri", Type: TString, Required: true, Desc: "the file's path in OSS"},
		{Path: "duration", Type: TNumber, Unit: "s", Required: true, Desc: "the file's length"},
		{Path: "start_time", Type: TInteger, Unit: "s", Required: true, Desc: "when the file's recording started (Unix time)"},
		{Path: "stop_time", Type: TInteger, Unit: "s", Required: true, Desc: "when the file's recording stopped (Unix time)"},
		{Path: "push_args", Type: TObject, Desc: "the push URL's parameters whose names start with callback_, first value of each: a free map of strings (open)"},
	}),
	"recording.paused":  alibabaStatus,
	"recording.resumed": alibabaStatus,
	"recording.started": alibabaStatus,
}

// alibabaCanonical maps Alibaba Cloud Live's publish, publish_done and recording callbacks to the
// canonical RTC events (SPEC §9). A live stream is the room: room_id is the stream's name (id on
// publish callbacks, stream on recording ones), track.name the same.
var alibabaCanonical = &Canonical{
	Events: map[string][]Mapping{
		"stream.published":   {{Type: StreamPublished, Set: []Set{{To: "room_id", From: "id"}, {To: "track.name", From: "id"}}}},
		"stream.unpublished": {{Type: StreamUnpublished, Set: []Set{{To: "room_id", From: "id"}, {To: "track.name", From: "id"}}}},
		"recording.file.created": {{Type: RecordingFileReady, Set: []Set{
			{To: "room_id", From: "stream"},
			{To: "recording.files", From: "uri"},
			{To: "duration_s", From: "duration"},
		}}},
		"recording.started": {{Type: RecordingStarted, Set: []Set{
			{To: "room_id", From: "stream"},
			{To: "recording.status", From: "event"},
		}}},
	},
	Gaps: "no participants; no account or app id (app is the ingest domain), no session or sequence; publish_done gives no reason or duration; a recording has no task id, no end or failure callback (only started, paused, resumed and each file), and its files are OSS paths",
}

package normalize

import (
	"bytes"
	"time"
)

// OvenMediaEngine AdmissionWebhooks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §9.2): OME asks
// its control server before a publish (direction incoming) or a playback (outgoing) opens, and
// tells it when one closes: one JSON POST per session change, {"client":{"address","port",
// "real_ip"?,"user_agent"?},"request":{"direction","protocol","status","url","new_url"?,"time"}}.
// X-OME-Signature is HMAC-SHA1 under the VirtualHost's <SecretKey> over the raw body, written
// base64url without padding (§9.2b; OME's ov::Base64::Encode(…, url_safe=true)); padded input
// is accepted too. The self vector O1 (§10) is reproduced in ovenmediaengine_test.go.
//
// request.time is OME's send time (system_clock::now() when the body is made, admission_webhooks.cpp)
// and is signed: it is held to CALLBRIDGE_MAX_CLOCK_SKEW either way, so a captured callback
// cannot be replayed later (§9.2c leaves the tolerance to the receiver). Being a send time, it is
// neither in the id nor in data (it is the event's `time`): OME never retries (§9.2d), and the
// id is a hash of the client's address and port, the direction, the protocol, the status and
// the URL without its query (§9.2e).
//
// The answer decides: 200 with {"allowed":true} admits an opening, {} acknowledges a closing
// (ReplyTo); any other status, a timeout or another body denies the stream (§9.2d). The
// allowing answer is given only once the event is stored, so a broker outage refuses streams
// in broker mode: run OME's route with CALLBRIDGE_ACK_MODE=buffer (docs/providers/ovenmediaengine.md).
// The URL's query carries the viewer's or publisher's token (§9.2f): request.url and
// request.new_url keep only the part before '?' in the event.
var OvenMediaEngine = Provider{
	ID:          "ovenmediaengine",
	TypePrefix:  omePrefix,
	Reply:       omeAllowed,
	ReplyTo:     omeReplyTo,
	SecretName:  "`<AdmissionWebhooks><SecretKey>` of the VirtualHost (Server.xml)",
	SecretVar:   "SECRET_KEY",
	Scheme:      "header `X-OME-Signature` = base64url (padding optional; OME writes none) of HMAC-SHA1 under the SecretKey over the raw body",
	Window:      "`request.time` (ISO 8601, OME's send time, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way; OME never retries",
	Subject:     "`request.url` without its query (`scheme://host[:port]/app/stream[/file]`)",
	TimeSource:  "`request.time` (ISO 8601, ms), else receipt",
	Events:      omeEvents,
	Data:        omeFields,
	Canonical:   omeCanonical,
	Unknown:     "unknown.<direction>_<protocol>_<status>",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      omeVerify,
	Normalize:   omeNormalize,
	Sign:        signOvenMediaEngine,
	Distinct:    []string{"client.address", "client.port"},
	Code:        "request.status",
	Credentials: []string{"request.url?", "request.new_url?"},
	Sample:      []byte(`{"client":{"address":"203.0.113.10","port":29291,"user_agent":"Mozilla/5.0"},"request":{"direction":"incoming","protocol":"webrtc","status":"closing","url":"ws://ome.example.com:3333/app/stream?token=INVENTED","new_url":"ws://ome.example.com:3333/app/stream_o?token=INVENTED","time":"2025-01-01T00:30:00+00:00"}}`),

	// Under OME's <AdmissionWebhooks><Timeout>, 3000 ms in its documented configuration: an
	// answer after it is a stream refused while the bridge would count a 200. A <Timeout> set
	// lower needs CALLBRIDGE_OVENMEDIAENGINE_PUBLISH_TIMEOUT lower still.
	PublishTimeout: 2500 * time.Millisecond,
}

const omePrefix = "com.airensoft.ovenmediaengine."

// omeSig is X-OME-Signature (§9.2b).
var omeSig = MustCompileHMAC(HMACSpec{SHA1: true, Header: "X-OME-Signature", Encoding: Base64URL})

// The answers of §9.2d: allowed for an opening, an empty object for a closing.
var (
	omeAllowed = []byte(`{"allowed":true}`)
	omeEmpty   = []byte(`{}`)
)

// Codes are direction/protocol/status; the protocols are those AdmissionWebhooks can be enabled
// for (<Providers> for incoming, <Publishers> for outgoing, §9.2a).
var omeEvents = []EventDef{
	{"incoming/rtmp/opening", "publish.rtmp.opening", "an RTMP encoder asks to publish (answered allowed once stored)"},
	{"incoming/rtmp/closing", "publish.rtmp.closing", "an RTMP publish ended"},
	{"incoming/webrtc/opening", "publish.webrtc.opening", "a WebRTC (WHIP or signalling) publisher asks to publish"},
	{"incoming/webrtc/closing", "publish.webrtc.closing", "a WebRTC publish ended"},
	{"incoming/srt/opening", "publish.srt.opening", "an SRT encoder asks to publish (its streamid)"},
	{"incoming/srt/closing", "publish.srt.closing", "an SRT publish ended"},
	{"outgoing/webrtc/opening", "play.webrtc.opening", "a WebRTC player asks to play (offer SDP)"},
	{"outgoing/webrtc/closing", "play.webrtc.closing", "a WebRTC playback ended"},
	{"outgoing/llhls/opening", "play.llhls.opening", "an LL-HLS player asks to play (its first llhls.m3u8)"},
	{"outgoing/llhls/closing", "play.llhls.closing", "an LL-HLS playback ended"},
	{"outgoing/srt/opening", "play.srt.opening", "an SRT player asks to play"},
	{"outgoing/srt/closing", "play.srt.closing", "an SRT playback ended"},
	{"outgoing/thumbnail/opening", "play.thumbnail.opening", "a thumbnail is asked for"},
	{"outgoing/thumbnail/closing", "play.thumbnail.closing", "a thumbnail request ended"},
}

// omeFields: the body of every AdmissionWebhooks request (§9.2a, OME's admission-webhooks.md and
// admission_webhooks.cpp), as published: request.time is the event's time (not in data), and
// the URLs lose their query (a token).
var omeFields = []Field{
	{Path: "client", Type: TObject, Required: true, Desc: "the publisher or player"},
	{Path: "client.address", Type: TString, Required: true, Desc: "its IP address, as OME sees it"},
	{Path: "client.port", Type: TInteger, Required: true, Desc: "its port"},
	{Path: "client.real_ip", Type: TString, Desc: "its address as a proxy's X-Forwarded-For / X-Real-IP gives it"},
	{Path: "client.user_agent", Type: TString, Desc: "its User-Agent (HTTP-based protocols)"},
	{Path: "request", Type: TObject, Required: true},
	{Path: "request.direction", Type: TString, Required: true, Desc: "incoming (a publish) or outgoing (a playback)"},
	{Path: "request.protocol", Type: TString, Required: true, Desc: "webrtc, rtmp, srt, llhls or thumbnail"},
	{Path: "request.status", Type: TString, Required: true, Desc: "opening or closing"},
	{Path: "request.url", Type: TString, Required: true, Desc: "the URL asked for, scheme://host[:port]/app/stream[/file], without its query (dropped: it may carry a token)"},
	{Path: "request.new_url", Type: TString, Desc: "the URL an opening was redirected to by the control server's answer, without its query"},
}

var (
	omeStatusPath = []string{"request", "status"}
	omeTimePath   = []string{"request", "time"}
)

// omeReplyTo answers {} to a closing and {"allowed":true} to anything else.
func omeReplyTo(c *Callback) []byte {
	if raw, err := jsonPath(c, omeStatusPath); err == nil && string(raw) == `"closing"` {
		return omeEmpty
	}
	return omeAllowed
}

// omeVerify checks X-OME-Signature, then holds the signed request.time to the window.
func omeVerify(c *Callback, a *Auth) (Verified, error) {
	v, err := omeSig.Verify(c, a)
	if err != nil || v == Unsigned {
		return v, err
	}
	raw, err := jsonPath(c, omeTimePath)
	if err != nil {
		return Signed, &AuthError{Reason: "request.time appears twice"}
	}
	at, ok := parseRFC3339(raw)
	if !ok {
		return Signed, &AuthError{Reason: "request.time is missing or not an ISO 8601 time: the signature window cannot be applied"}
	}
	return Signed, checkSkew("request.time", at, c.Received, a.MaxSkew)
}

// omeRequest is what Normalize reads of the request object.
type omeRequest struct {
	direction, protocol, status, url, newURL, time []byte
}

func (r *omeRequest) collect(m member) {
	switch string(m.key) {
	case "direction":
		r.direction = m.val
	case "protocol":
		r.protocol = m.val
	case "status":
		r.status = m.val
	case "url":
		r.url = m.val
	case "new_url":
		r.newURL = m.val
	case "time":
		r.time = m.val
	}
}

func omeNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	request := lookup(top, "request")
	if len(request) == 0 || request[0] != '{' {
		return payloadErr("request", "missing or not an object")
	}
	var r omeRequest
	omeData(ev, top, &r) // first: it uses the scratch space the values are decoded in below
	status, scratch, ok := stringValue(r.status, ev.scratch[:0])
	if !ok || len(status) == 0 || r.status[0] != '"' {
		return payloadErr("request.status", "missing or not a string")
	}
	ev.ProviderEventType = ev.keep(status)
	direction, scratch, _ := stringValue(r.direction, scratch)
	protocol, scratch, _ := stringValue(r.protocol, scratch)
	var keyBuf [64]byte
	key := append(append(append(append(append(keyBuf[:0], direction...), '/'), protocol...), '/'), status...)
	if def := findEvent(omeEvents, key); def != nil {
		ev.setType(omePrefix, def.Name)
	} else {
		for i, c := range key { // no '/' in a type: a Kafka topic cannot hold one
			if c == '/' {
				key[i] = '_'
			}
		}
		ev.setUnknownType(omePrefix, key)
	}
	url, scratch, _ := stringValue(r.url, scratch)
	ev.scratch = scratch
	ev.Subject = ev.keep(withoutQuery(url))

	ev.Time = c.Received.UTC()
	if at, ok := parseRFC3339(r.time); ok {
		ev.Time = at
	}
	ev.setSource(nil)
	client := lookup(top, "client")
	newURL, scratch, _ := stringValue(r.newURL, ev.scratch)
	ev.scratch = scratch
	var address, port []byte
	eachValidMember(client, func(m member) {
		switch {
		case address == nil && string(m.key) == "address":
			address = m.val
		case port == nil && string(m.key) == "port":
			port = m.val
		}
	})
	ev.hashID(address, port, direction, protocol, ev.Subject, withoutQuery(newURL))
	return nil
}

// omeData sets data: the body compacted, request without time (a send time) and with the
// queries of url and new_url left out (they carry tokens). It collects request's members into r
// on the way, reading the body once (it is valid JSON once members accepted it).
func omeData(ev *Event, top []member, r *omeRequest) {
	d := append(ev.data[:0], '{')
	for _, m := range top {
		if string(m.key) != "request" || len(m.val) == 0 || m.val[0] != '{' {
			d = appendMember(d, m)
			continue
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		d = append(appendKey(d, m), '{')
		first := true
		eachValidMember(m.val, func(rm member) {
			if r.collect(rm); string(rm.key) == "time" {
				return
			}
			if !first {
				d = append(d, ',')
			}
			first = false
			d = appendKey(d, rm)
			if string(rm.key) == "url" || string(rm.key) == "new_url" {
				d, ev.scratch = appendURLWithoutQuery(d, rm.val, ev.scratch)
			} else {
				d = appendValidCompact(d, rm.val)
			}
		})
		d = append(d, '}')
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
}

// withoutQuery is the URL u up to its '?'.
func withoutQuery(u []byte) []byte {
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// appendURLWithoutQuery appends the JSON value raw, a URL whose query is a credential, without
// that query: a string is decoded (an escaped '?' is a '?'), cut at '?' and encoded again; any
// other value is appended compacted.
func appendURLWithoutQuery(dst, raw, scratch []byte) ([]byte, []byte) {
	if len(raw) == 0 || raw[0] != '"' {
		return appendCompact(dst, raw), scratch
	}
	text, scratch, _ := stringValue(raw, scratch[:0])
	return appendString(dst, withoutQuery(text)), scratch
}

// signOvenMediaEngine stamps request.time with now, as OME writes it when it sends, and signs
// the body: X-OME-Signature.
func signOvenMediaEngine(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	request := nestedMember(body, "request")
	if len(request) == 0 || request[0] != '{' {
		return nil, nil, payloadErr("request", "missing or not an object: request.time cannot be stamped")
	}
	stamp := now.UTC().AppendFormat([]byte{'"'}, "2006-01-02T15:04:05.000Z07:00")
	request, err := replaceMember(request, "time", append(stamp, '"'))
	if err != nil {
		return nil, nil, err
	}
	body, err = replaceMember(body, "request", request)
	if err != nil {
		return nil, nil, err
	}
	headers, err := omeSig.Sign(body, a.Secret, now, nil)
	return body, append([]Header{{"Content-Type", "application/json"}}, headers...), err
}

// omeCanonical maps OvenMediaEngine's publish admissions to the canonical RTC events (SPEC §9):
// an opening (admitted once stored: the bridge answers allowed) is the stream's publish, a
// closing its unpublish. OME names a stream only by its URL, so room_id and track.name are
// request.url without its query (the subject), scheme and port included.
var omeCanonical = &Canonical{
	Base: []Set{{To: "room_id", From: "request.url"}, {To: "track.name", From: "request.url"}},
	Events: map[string][]Mapping{
		"publish.rtmp.opening":   {{Type: StreamPublished}},
		"publish.rtmp.closing":   {{Type: StreamUnpublished}},
		"publish.webrtc.opening": {{Type: StreamPublished}},
		"publish.webrtc.closing": {{Type: StreamUnpublished}},
		"publish.srt.opening":    {{Type: StreamPublished}},
		"publish.srt.closing":    {{Type: StreamUnpublished}},
	},
	Gaps: "no participants (playbacks are not mapped), no app id, session, sequence, reason or duration; a stream is named by its URL, so one stream published over two protocols is two rooms, and a URL rewritten by the control server (new_url) is not followed; no recording or relay events (OME reports them to no webhook)",
}

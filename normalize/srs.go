package normalize

import "time"

// SRS (Simple Realtime Server) HTTP callbacks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §9.1):
// http_hooks POST one flat JSON object per hook, told apart by `action` (on_connect, on_close,
// on_publish, on_unpublish, on_play, on_stop, on_dvr, on_hls), with server_id, service_id,
// client_id, ip, vhost, app, tcUrl and, for stream hooks, stream, param, stream_url and stream_id.
// on_hls_notify is no callback of this kind (a GET of an operator-written URL template with
// [app], [stream], [ts_url] substituted into the path, no fields by name) and is not served.
//
// SRS signs nothing and sends no time (§9.1b, c). Its callbacks are authenticated by the URL
// token: with CALLBRIDGE_SRS_URL_TOKEN set, the bridge serves SRS only on
// /v1/callbacks/srs/<token> (SRS posts to the hook URL as written, query and path); that token
// is this provider's secret (SecretVar "URL_TOKEN": one variable, no second secret that would
// verify nothing). Without it, callbacks are accepted only with CALLBRIDGE_ALLOW_UNSIGNED, like
// Tencent CSS's unsigned relay callbacks.
//
// SRS never retries and sends no id (§9.1d, e): every field is stable, so the id is a hash of
// the event's data (credentials removed); subject is vhost/app/stream, time the receipt. The
// publisher's token arrives in `param` (`?token=…`) and may be in tcUrl's query (§9.1f): param
// is removed and tcUrl keeps only the part before '?'.
//
// The answer decides: on_connect, on_publish, on_play, on_dvr and on_hls are refused unless
// SRS gets 200 (or 201) with `0` or an object whose integer code is 0 (§9.1d); `{"code":0}` is
// given only once the event is stored, so a broker outage refuses streams in broker mode: run
// SRS's route with CALLBRIDGE_ACK_MODE=buffer (docs/providers/srs.md).
var SRS = Provider{
	ID:          "srs",
	TypePrefix:  srsPrefix,
	Reply:       []byte(`{"code":0}`),
	SecretName:  "token you put in the hook URLs (`on_publish http://bridge:8080/v1/callbacks/srs/<token>;`): SRS signs nothing, the URL token is what authenticates it",
	SecretVar:   TokenSecret,
	Scheme:      "none: SRS signs nothing (§9.1b). Accepted on `/v1/callbacks/srs/<token>` with `CALLBRIDGE_SRS_URL_TOKEN` set (the route refuses any other path with 404), else only with `CALLBRIDGE_ALLOW_UNSIGNED`",
	Window:      "none: SRS sends no time and never retries",
	Subject:     "`vhost`/`app`/`stream` (`vhost`/`app` for on_connect and on_close)",
	TimeSource:  "receipt (SRS sends no time)",
	Events:      srsEvents,
	Data:        srsData,
	EventData:   srsEventData,
	Canonical:   srsCanonical,
	Unknown:     "unknown.<action>",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      srsVerify,
	Normalize:   srsNormalize,
	Sign:        signSRS,
	Distinct:    []string{"client_id"},
	Code:        "action",
	Credentials: []string{"param", "tcUrl?"},
	Sample:      []byte(`{"server_id":"vid-INVENTED","service_id":"INVENTEDsvc","action":"on_publish","client_id":"INVENTEDcid","ip":"203.0.113.10","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://media.example.com/live","stream":"livestream","param":"?token=INVENTED","stream_url":"/live/livestream","stream_id":"vid-INVENTEDstream"}`),
}

const srsPrefix = "io.ossrs.srs."

// The hooks of §9.1a (ossrs/srs trunk/src/app/srs_app_http_hooks.cpp).
var srsEvents = []EventDef{
	{"on_connect", "client.connected", "a client connected to an app (blocking: a refusal rejects it)"},
	{"on_close", "client.closed", "a client disconnected (send_bytes, recv_bytes)"},
	{"on_publish", "publish.started", "a client asks to publish a stream (blocking)"},
	{"on_unpublish", "publish.stopped", "a publish stopped"},
	{"on_play", "play.started", "a client asks to play a stream (blocking)"},
	{"on_stop", "play.stopped", "a playback stopped"},
	{"on_dvr", "dvr.file.written", "a DVR file was written (cwd, file)"},
	{"on_hls", "hls.segment.written", "an HLS segment was written (duration, file, url, m3u8, seq_no)"},
}

// srsVerify accepts what the route authenticated: a callback on the URL-token route, or any
// callback when the secret (which is the URL token) is set, as the route then serves no other
// path. Without it, the unsigned policy decides.
func srsVerify(c *Callback, a *Auth) (Verified, error) {
	if c.TokenRoute || len(a.Secret) > 0 {
		return Signed, nil
	}
	if a.AllowUnsigned {
		return Unsigned, nil
	}
	return Signed, &AuthError{Reason: "no secret is configured for this provider and unsigned callbacks are not allowed: SRS signs nothing; set CALLBRIDGE_SRS_URL_TOKEN and put the token in the hook URLs"}
}

func srsNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	raw := lookup(top, "action")
	action, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(action) == 0 || raw[0] != '"' {
		return payloadErr("action", "missing or not a string")
	}
	ev.ProviderEventType = ev.keep(action)
	ev.setTypeFrom(srsEvents, srsPrefix)

	vhost, scratch, _ := stringValue(lookup(top, "vhost"), scratch)
	app, scratch, _ := stringValue(lookup(top, "app"), scratch)
	stream, scratch, _ := stringValue(lookup(top, "stream"), scratch)
	ev.scratch = scratch
	if len(stream) > 0 {
		ev.Subject = ev.keep(vhost, srsSlash, app, srsSlash, stream)
	} else if len(vhost)+len(app) > 0 {
		ev.Subject = ev.keep(vhost, srsSlash, app)
	}
	ev.Time = c.Received.UTC()

	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "param": // the client's query: its publish or play token
		case "tcUrl":
			if len(d) > 1 {
				d = append(d, ',')
			}
			d, ev.scratch = appendURLWithoutQuery(appendKey(d, m), m.val, ev.scratch)
		default:
			d = appendMember(d, m)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
	ev.setSource(nil)
	ev.hashID(ev.Data) // with the action, as ProviderEventType
	return nil
}

var srsSlash = []byte{'/'}

// srsData: the members every hook posts (§9.1a, the field table from ossrs/srs's
// srs_app_http_hooks.cpp), tcUrl without its query (the bridge strips it: a token may be there).
// Required are those SRS 2 already sent (its hooks, in ossrs/srs's older
// srs_app_http_hooks.cpp, carry no server_id, service_id, stream_url or stream_id, and tcUrl
// only on on_connect); current SRS adds the others.
var srsData = []Field{
	{Path: "server_id", Type: TString, Desc: "the SRS server's id (current SRS)"},
	{Path: "service_id", Type: TString, Desc: "the SRS process's id, new on each restart (current SRS)"},
	{Path: "action", Type: TString, Required: true, Desc: "the hook: on_connect, on_close, on_publish, …"},
	{Path: "client_id", Type: "string|integer", Required: true, Desc: "the client connection's id: a string in current SRS, an integer in SRS 2"},
	{Path: "ip", Type: TString, Required: true, Desc: "the client's IP address"},
	{Path: "vhost", Type: TString, Required: true, Desc: "the virtual host (__defaultVhost__ when none)"},
	{Path: "app", Type: TString, Required: true},
	{Path: "tcUrl", Type: TString, Desc: "the client's RTMP tcUrl, without its query (dropped: it may carry a token); every hook of current SRS, on_connect only in SRS 2"},
}

// srsStream: the members of the stream hooks (publish, play, dvr, hls: §9.1a); param, the
// client's query with its token, is dropped from the event.
func srsStream(more ...Field) []Field {
	return append([]Field{
		{Path: "stream", Type: TString, Required: true},
		{Path: "stream_url", Type: TString, Desc: "[vhost]/app/stream, the default vhost omitted (current SRS)"},
		{Path: "stream_id", Type: TString, Desc: "the stream's id in SRS (current SRS)"},
	}, more...)
}

// srsEventData: each hook's own members (§9.1a's table).
var srsEventData = func() map[string][]Field {
	page := Field{Path: "pageUrl", Type: TString, Required: true, Desc: "the page the player ran in, as the client said (may be empty)"}
	file := []Field{
		{Path: "cwd", Type: TString, Required: true, Desc: "SRS's working directory, which file is relative to"},
		{Path: "file", Type: TString, Required: true, Desc: "path of the file written"},
	}
	return map[string][]Field{
		"client.connected": {page},
		"client.closed": {{Path: "pageUrl", Type: TString, Desc: "as on_connect's, where SRS sends it"},
			{Path: "send_bytes", Type: TInteger, Unit: "bytes", Required: true, Desc: "sent to the client over the connection"},
			{Path: "recv_bytes", Type: TInteger, Unit: "bytes", Required: true, Desc: "received from the client over the connection"}},
		"publish.started":  srsStream(),
		"publish.stopped":  srsStream(),
		"play.started":     srsStream(page),
		"play.stopped":     srsStream(),
		"dvr.file.written": srsStream(file...),
		"hls.segment.written": srsStream(append(file,
			Field{Path: "duration", Type: TNumber, Unit: "s", Required: true, Desc: "the segment's duration"},
			Field{Path: "url", Type: TString, Required: true, Desc: "the segment's URL path, relative"},
			Field{Path: "m3u8", Type: TString, Required: true, Desc: "path of the playlist file"},
			Field{Path: "m3u8_url", Type: TString, Required: true, Desc: "the playlist's URL path, relative"},
			Field{Path: "seq_no", Type: TInteger, Required: true, Desc: "the segment's sequence number"})...),
	}
}()

// signSRS sends body as it is: SRS signs nothing.
func signSRS(body []byte, _ *Auth, _ time.Time) ([]byte, []Header, error) {
	return body, []Header{{"Content-Type", "application/json"}}, nil
}

// srsCanonical maps SRS's publish, unpublish and DVR hooks to the canonical RTC events (SPEC
// §9). A stream is the room: room_id is stream, track.name stream_url (/app/stream), track.id
// SRS's stream_id, and the publishing client's client_id the participant's session.
var srsCanonical = &Canonical{
	Base: []Set{{To: "room_id", From: "stream"}},
	Events: map[string][]Mapping{
		"publish.started": {{Type: StreamPublished, Set: srsStreamSets()}},
		"publish.stopped": {{Type: StreamUnpublished, Set: srsStreamSets()}},
		"dvr.file.written": {{Type: RecordingFileReady, Set: []Set{
			{To: "participant_session_id", From: "client_id"},
			{To: "recording.files", From: "file"},
		}}},
	},
	Gaps: "no participants (players are not mapped), no app id, session or sequence (SRS sends no time: occurred_at is the receipt); no unpublish reason or duration; DVR reports each file written, not a recording's start, end or failure; HLS segments are not mapped",
}

// srsStreamSets: a publish names its stream and the publishing client.
func srsStreamSets() []Set {
	return []Set{
		{To: "participant_session_id", From: "client_id"},
		{To: "track.id", From: "stream_id"},
		{To: "track.name", From: "stream_url"},
	}
}

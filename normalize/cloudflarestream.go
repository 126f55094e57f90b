package normalize

import "time"

// Cloudflare Stream webhooks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §6.1): one URL per
// account (PUT /accounts/{account_id}/stream/webhook, whose answer holds the signing secret), to
// which Stream POSTs the video object when a video finishes processing, ready or in error. The
// body is the object of the Stream API: `uid`, `readyToStream`, `status {state, pctComplete,
// errorReasonCode, errorReasonText}`, `meta`, `created`, `modified`, ... Webhook-Signature is
// `time=<unix s>,sig1=<hex>`, sig1 = lower-hex HMAC-SHA256 under the secret of `time` + "." +
// the raw body (§6.1b; self vector C1 in cloudflarestream_test.go; Cloudflare's example has no
// secret). No tolerance is published for `time` (§6.1c, UNCONFIRMED): it is held to
// CALLBRIDGE_MAX_CLOCK_SKEW either way. A second sig1 during a secret change is not documented
// (UNCONFIRMED); any sig1 matching passes.
//
// The body has no type and no event id: events are told apart by status.state alone (§6.1a).
// The type is video.<state> from the table (ready and error are the states the webhook is
// documented to send; the others are the API's states, which a webhook is not documented to
// carry); a state missing is read from readyToStream (true: ready) or a non-empty
// errorReasonCode (error), under both spellings the page uses (readytoStream, errReasonCode,
// §6.1f), and data keeps the members as sent. The id is a hash of uid, the state and `modified`
// (§6.1e), all the same on a retry of one notification; a video that reaches a state again
// after a change (a new `modified`) is a new event.
//
// Cloudflare Stream Live input events (live_input.connected, ...) come through Cloudflare
// Notifications with a static token in cf-webhook-auth and no signature (§6.2): they are not
// this provider's; docs/generic-sources.md has a static-token recipe for them.
var CloudflareStream = Provider{
	ID:         "cloudflare-stream",
	TypePrefix: cfStreamPrefix,
	Reply:      []byte(`{}`), // a 2xx is expected (UNCONFIRMED); the body is not read
	SecretName: "`secret` in the answer to PUT /accounts/{account_id}/stream/webhook",
	SecretVar:  "SECRET",
	Scheme:     "header `Webhook-Signature: time=<unix s>,sig1=<hex>`; `sig1` is a lower-hex HMAC-SHA256 under the secret of `time` + `.` + the raw body. Cloudflare documents one signature; any `sig1` matching passes, but a second one during a secret change is UNCONFIRMED",
	Window:     "`time` (s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way; Cloudflare publishes no tolerance (UNCONFIRMED): `CALLBRIDGE_CLOUDFLARE_STREAM_VERIFY=report` with one captured retry shows whether a retry is signed again",
	Subject:    "`uid` (the video)",
	TimeSource: "`modified` (RFC 3339), else `created`",
	Events:     cfStreamEvents,
	Data:       cfStreamData,
	Canonical:  cfStreamCanonical,
	Unknown:    "unknown.<status.state>",
	IsProbe:    func(*Callback) bool { return false },
	Verify:     cfStreamSig.Verify,
	Normalize:  cfStreamNormalize,
	Sign:       signCloudflareStream,
	Distinct:   []string{"uid"},
	Code:       "status.state",
	Sample:     []byte(`{"uid":"INVENTEDuid0123456789abcdef0123456","readyToStream":true,"status":{"state":"ready","pctComplete":"100.000000","errorReasonCode":"","errorReasonText":""},"meta":{"name":"demo.mp4"},"created":"2025-01-01T00:00:00.000000Z","modified":"2025-01-01T00:01:00.000000Z"}`),
}

const cfStreamPrefix = "com.cloudflare.stream."

// cfStreamSig is Webhook-Signature (§6.1b).
var cfStreamSig = MustCompileHMAC(HMACSpec{Content: "{sig:time}.{body}", Header: "Webhook-Signature", Param: "sig1", Timestamp: "sig:time"})

// The states of status.state (Stream API, stream_media_state); the webhook is documented to
// send ready and error.
var cfStreamEvents = []EventDef{
	{"ready", "video.ready", "video processed, ready to stream (the webhook's success)"},
	{"error", "video.error", "processing failed (status.errorReasonCode, errorReasonText)"},
	{"inprogress", "video.inprogress", "being encoded (status.pctComplete); an API state, not documented as sent"},
	{"queued", "video.queued", "queued for encoding; an API state, not documented as sent"},
	{"downloading", "video.downloading", "being fetched from a link; an API state, not documented as sent"},
	{"pendingupload", "video.pendingupload", "waiting for its upload; an API state, not documented as sent"},
}

var (
	cfStreamState = []string{"status", "state"}
	// Both spellings of §6.1f, the example's first.
	cfStreamReady     = []string{"readyToStream", "readytoStream"}
	cfStreamErrorCode = []string{"errorReasonCode", "errReasonCode"}

	cfStreamReadyState, cfStreamErrorState = []byte("ready"), []byte("error")
)

func cfStreamNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	raw := lookup(top, "uid")
	uid, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(uid) == 0 || raw[0] != '"' {
		return payloadErr("uid", "missing or not a string")
	}
	ev.scratch = scratch
	ev.Subject = ev.keep(uid)

	state, err := cfStreamStateOf(c, ev, top)
	if err != nil {
		return err
	}
	ev.ProviderEventType = ev.keep(state)
	ev.setTypeFrom(cfStreamEvents, cfStreamPrefix)

	ev.Time = c.Received.UTC()
	modified := lookup(top, "modified")
	if at, ok := parseRFC3339(modified); ok {
		ev.Time = at
	} else if at, ok := parseRFC3339(lookup(top, "created")); ok {
		ev.Time = at
	}

	ev.data = appendCompact(ev.data[:0], c.Body[skipSpace(c.Body, 0):])
	ev.Data = ev.data
	ev.setSource(nil)
	ev.hashID(ev.Subject, modified) // with the state, as ProviderEventType
	return nil
}

// cfStreamStateOf returns status.state, or the state readyToStream or errorReasonCode tell
// when there is none.
func cfStreamStateOf(c *Callback, ev *Event, top []member) ([]byte, error) {
	raw, err := jsonPath(c, cfStreamState)
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 && string(raw) != "null" {
		state, scratch, ok := stringValue(raw, ev.scratch)
		if !ok || len(state) == 0 || raw[0] != '"' {
			return nil, payloadErr("status.state", "not a string")
		}
		ev.scratch = scratch
		return state, nil
	}
	for _, k := range cfStreamReady {
		if string(lookup(top, k)) == "true" {
			return cfStreamReadyState, nil
		}
	}
	status := lookup(top, "status")
	for _, k := range cfStreamErrorCode {
		if v := nestedMember(status, k); len(v) > 2 && v[0] == '"' {
			return cfStreamErrorState, nil
		}
	}
	return nil, payloadErr("status.state", "missing, and neither readyToStream nor status.errorReasonCode tells the state")
}

// signCloudflareStream signs body as Stream does at now: Webhook-Signature
// time=<now>,sig1=<hex>. The body is sent as it is.
func signCloudflareStream(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers, err := cfStreamSig.Sign(body, a.Secret, now, nil)
	return body, headers, err
}

// cfStreamData: the video object of the Stream API, as the webhook posts it (§6.1a, the example
// of cloudflare-docs' using-webhooks.mdx, and the API's video type); status's members under
// both spellings the page uses (§6.1f).
var cfStreamData = []Field{
	{Path: "uid", Type: TString, Required: true, Desc: "the video's id (32 hex); the CloudEvent's subject"},
	{Path: "readyToStream", Type: TBool, Desc: "ready for playback"},
	{Path: "readytoStream", Type: TBool, Desc: "readyToStream, as one spelling of the page writes it"},
	{Path: "readyToStreamAt", Type: TString, Desc: "RFC 3339"},
	{Path: "status", Type: TObject, Required: true},
	{Path: "status.state", Type: TString, Desc: "ready or error (the API's: inprogress, queued, downloading, pendingupload, live-inprogress)"},
	{Path: "status.pctComplete", Type: TString, Desc: "percent encoded, a decimal string (100.000000)"},
	{Path: "status.errorReasonCode", Type: TString, Desc: "ERR_NON_VIDEO, …; empty when none"},
	{Path: "status.errorReasonText", Type: TString},
	{Path: "status.errReasonCode", Type: TString, Desc: "errorReasonCode, as one spelling of the page writes it"},
	{Path: "status.errReasonText", Type: TString, Desc: "errorReasonText, as one spelling of the page writes it"},
	{Path: "meta", Type: TObject, Desc: "the video's key-value store, set by its owner (a free map, open; name: the upload's file name)"},
	{Path: "created", Type: TString, Desc: "RFC 3339"},
	{Path: "modified", Type: TString, Desc: "RFC 3339"},
	{Path: "uploaded", Type: TString, Desc: "RFC 3339"},
	{Path: "uploadExpiry", Type: "string|null", Desc: "RFC 3339"},
	{Path: "scheduledDeletion", Type: "string|null", Desc: "RFC 3339"},
	{Path: "thumbnail", Type: TString, Desc: "URL"},
	{Path: "thumbnailTimestampPct", Type: TNumber, Desc: "where the thumbnail is taken, a fraction of the duration"},
	{Path: "preview", Type: TString, Desc: "URL"},
	{Path: "duration", Type: TNumber, Unit: "s", Desc: "-1 while unknown"},
	{Path: "size", Type: TInteger, Unit: "bytes"},
	{Path: "input", Type: TObject},
	{Path: "input.width", Type: TInteger, Unit: "px", Desc: "-1 while unknown"},
	{Path: "input.height", Type: TInteger, Unit: "px", Desc: "-1 while unknown"},
	{Path: "playback", Type: TObject},
	{Path: "playback.hls", Type: TString, Desc: "URL"},
	{Path: "playback.dash", Type: TString, Desc: "URL"},
	{Path: "allowedOrigins", Type: TArray},
	{Path: "allowedOrigins[]", Type: TString},
	{Path: "requireSignedURLs", Type: TBool},
	{Path: "creator", Type: "string|null", Desc: "the creator's id, as the upload set it"},
	{Path: "liveInput", Type: TString, Desc: "the live input recorded into the video"},
	{Path: "maxDurationSeconds", Type: "integer|null", Unit: "s"},
	{Path: "maxSizeBytes", Type: "integer|null", Unit: "bytes"},
	{Path: "clippedFrom", Type: TString, Desc: "the video it was clipped from"},
	{Path: "watermark", Type: "object|null", Desc: "the watermark profile applied, as the API returns it (open); null when none"},
	{Path: "publicDetails", Type: TObject, Desc: "the video's public details, as set by its owner (open)"},
}

// cfStreamCanonical maps Cloudflare Stream's webhook to the canonical RTC events (SPEC §9) for
// the videos recorded from a live input (liveInput set), the live input being the room: a ready
// video is a recording's file (its HLS manifest), an error a failed recording. A video uploaded
// has no counterpart.
var cfStreamCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "liveInput"},
		{To: "recording.task_id", From: "uid"},
		{To: "recording.status", From: "status.state"},
	},
	Events: map[string][]Mapping{
		"video.ready": {{Type: RecordingFileReady, If: cfStreamLive, Set: []Set{
			{To: "recording.files", From: "playback.hls"},
			{To: "duration_s", From: "duration"},
		}}},
		"video.error": {{Type: RecordingFailed, If: cfStreamLive, Set: []Set{
			{To: "recording.error", From: "status.errorReasonText"},
		}}},
	},
	Gaps: "the webhook posts videos only: live input connects and disconnects come through Cloudflare Notifications (another sender, a generic source), so no stream, room or participant events; a recording reports no start or end, only its video ready or failed",
}

// cfStreamLive: a video recorded from a live input names it.
var cfStreamLive = &Cond{Path: "liveInput", Values: []string{AnyValue}}

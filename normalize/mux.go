package normalize

import "time"

// Mux Video webhooks (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §5): one JSON envelope per
// event, {"type","id","created_at","object":{"type","id"},"environment","data","attempts",...},
// data being the asset, upload or live stream object of the REST API. Mux-Signature is
// `t=<unix s>,v1=<hex>[,v1=…]`, v1 = lower-hex HMAC-SHA256 under the endpoint's signing secret
// of `t` + "." + the raw body (§5b; the published vector M1 is reproduced in mux_test.go); any
// v1 matching passes, so a rotated secret verifies while Mux signs with both. `t` is signed and
// held to CALLBRIDGE_MAX_CLOCK_SKEW either way (Mux's SDK: 300 s, one-sided). That every retry
// is signed again with its own `t` is implied by the SDK's tolerance, not stated (§5c,
// UNCONFIRMED): CALLBRIDGE_MUX_VERIFY=report with one captured retry confirms it.
//
// The type is Mux's own dotted name (video.live_stream.active) and stays one: the table holds the
// catalogue of §5a, and a type it lacks is kept as Mux wrote it when it is dotted lower-case
// (robots.job.*, types added later), else it becomes unknown.<type>. The id is the event's `id`,
// the same on every attempt; a body without one is refused, never hashed: Mux's body changes
// between attempts (`attempts[]` grows, §5e), so a hash would make every retry a new event.
// For the same reason data is the envelope without `attempts`, so that a retry's event is
// identical. Credentials never reach the broker (SPEC §6b): every `stream_key` (the live stream's
// and its simulcast targets') and `srt_passphrase` under data is removed (§5f).
var Mux = Provider{
	ID:          "mux",
	TypePrefix:  muxPrefix,
	Reply:       []byte(`{}`), // Mux reads only the status: any 2xx within 5 s
	SecretName:  "webhook signing secret (Settings > Webhooks, one per endpoint)",
	SecretVar:   "WEBHOOK_SECRET",
	Scheme:      "header `Mux-Signature: t=<unix s>,v1=<hex>[,v1=…]`; every `v1` is a lower-hex HMAC-SHA256 under the signing secret of `t` + `.` + the raw body, and any one matching passes (key rotation)",
	Window:      "`t` (s, signed) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way (Mux's SDK: 300 s, one-sided). That a retry is signed again with its own `t` is UNCONFIRMED (implied by the SDK's tolerance): `CALLBRIDGE_MUX_VERIFY=report` with one captured retry confirms it",
	Subject:     "`object.id` (the asset, upload or live stream id)",
	TimeSource:  "`created_at` (RFC 3339)",
	Events:      muxEvents,
	Data:        muxData,
	EventData:   muxEventData,
	Canonical:   muxCanonical,
	Unknown:     "a type the table lacks as Mux wrote it when dotted lower-case (`robots.job.*`, new types), else unknown.<type>",
	IsProbe:     func(*Callback) bool { return false },
	Verify:      muxSig.Verify,
	Normalize:   muxNormalize,
	Sign:        signMux,
	Distinct:    []string{"id"},
	Code:        "type",
	Credentials: []string{"data.stream_key"},
	Sample:      []byte(`{"type":"video.live_stream.active","object":{"type":"live","id":"INVENTEDlive0001"},"id":"3a56ac3d-33da-4366-855b-f592d898409d","environment":{"name":"Production","id":"INVENTEDenv"},"data":{"id":"INVENTEDlive0001","stream_key":"INVENTED-stream-key-0001","status":"active","playback_ids":[{"policy":"public","id":"INVENTEDplay"}],"active_asset_id":"INVENTEDasset","latency_mode":"low","reconnect_window":60},"created_at":"2025-01-01T00:00:00.000000Z","attempts":[]}`),
}

const muxPrefix = "com.mux."

// muxSig is Mux-Signature (§5b).
var muxSig = MustCompileHMAC(HMACSpec{Content: "{sig:t}.{body}", Header: "Mux-Signature", Param: "v1", Timestamp: "sig:t"})

// muxCredentials are the members removed from data wherever they appear in it.
var muxCredentials = []string{"stream_key", "srt_passphrase"}

// The catalogue of §5a (mux-node-sdk src/resources/webhooks/webhooks.ts): the name is the type.
var muxEvents = []EventDef{
	{"video.asset.created", "video.asset.created", "asset created"},
	{"video.asset.ready", "video.asset.ready", "asset ready for playback"},
	{"video.asset.errored", "video.asset.errored", "asset could not be processed"},
	{"video.asset.updated", "video.asset.updated", "asset changed"},
	{"video.asset.deleted", "video.asset.deleted", "asset deleted"},
	{"video.asset.live_stream_completed", "video.asset.live_stream_completed", "the live stream recorded into the asset ended"},
	{"video.asset.static_renditions.ready", "video.asset.static_renditions.ready", "static renditions ready"},
	{"video.asset.static_renditions.preparing", "video.asset.static_renditions.preparing", "static renditions being prepared"},
	{"video.asset.static_renditions.deleted", "video.asset.static_renditions.deleted", "static renditions deleted"},
	{"video.asset.static_renditions.errored", "video.asset.static_renditions.errored", "static renditions failed"},
	{"video.asset.master.ready", "video.asset.master.ready", "master access file ready"},
	{"video.asset.master.preparing", "video.asset.master.preparing", "master access file being prepared"},
	{"video.asset.master.deleted", "video.asset.master.deleted", "master access file deleted"},
	{"video.asset.master.errored", "video.asset.master.errored", "master access file failed"},
	{"video.asset.track.created", "video.asset.track.created", "track added to the asset"},
	{"video.asset.track.ready", "video.asset.track.ready", "track ready"},
	{"video.asset.track.errored", "video.asset.track.errored", "track failed"},
	{"video.asset.track.deleted", "video.asset.track.deleted", "track deleted"},
	{"video.asset.static_rendition.created", "video.asset.static_rendition.created", "static rendition created"},
	{"video.asset.static_rendition.ready", "video.asset.static_rendition.ready", "static rendition ready"},
	{"video.asset.static_rendition.errored", "video.asset.static_rendition.errored", "static rendition failed"},
	{"video.asset.static_rendition.deleted", "video.asset.static_rendition.deleted", "static rendition deleted"},
	{"video.asset.static_rendition.skipped", "video.asset.static_rendition.skipped", "static rendition skipped"},
	{"video.asset.warning", "video.asset.warning", "asset processed with a warning"},
	{"video.asset.non_standard_input_detected", "video.asset.non_standard_input_detected", "input is not standard (re-encoded)"},
	{"video.upload.asset_created", "video.upload.asset_created", "direct upload made its asset"},
	{"video.upload.cancelled", "video.upload.cancelled", "direct upload cancelled"},
	{"video.upload.created", "video.upload.created", "direct upload created"},
	{"video.upload.errored", "video.upload.errored", "direct upload failed"},
	{"video.live_stream.created", "video.live_stream.created", "live stream created"},
	{"video.live_stream.connected", "video.live_stream.connected", "encoder connected"},
	{"video.live_stream.recording", "video.live_stream.recording", "media received and recorded"},
	{"video.live_stream.active", "video.live_stream.active", "live stream playable"},
	{"video.live_stream.disconnected", "video.live_stream.disconnected", "encoder disconnected"},
	{"video.live_stream.idle", "video.live_stream.idle", "live stream over (after the reconnect window)"},
	{"video.live_stream.updated", "video.live_stream.updated", "live stream changed"},
	{"video.live_stream.enabled", "video.live_stream.enabled", "live stream enabled"},
	{"video.live_stream.disabled", "video.live_stream.disabled", "live stream disabled"},
	{"video.live_stream.deleted", "video.live_stream.deleted", "live stream deleted"},
	{"video.live_stream.warning", "video.live_stream.warning", "live stream warning"},
	{"video.live_stream.simulcast_target.created", "video.live_stream.simulcast_target.created", "simulcast target created"},
	{"video.live_stream.simulcast_target.idle", "video.live_stream.simulcast_target.idle", "simulcast target idle"},
	{"video.live_stream.simulcast_target.starting", "video.live_stream.simulcast_target.starting", "simulcast target starting"},
	{"video.live_stream.simulcast_target.broadcasting", "video.live_stream.simulcast_target.broadcasting", "simulcast target broadcasting"},
	{"video.live_stream.simulcast_target.errored", "video.live_stream.simulcast_target.errored", "simulcast target failed"},
	{"video.live_stream.simulcast_target.deleted", "video.live_stream.simulcast_target.deleted", "simulcast target deleted"},
	{"video.live_stream.simulcast_target.updated", "video.live_stream.simulcast_target.updated", "simulcast target changed"},
	{"video.delivery.high_traffic", "video.delivery.high_traffic", "delivery usage unusually high"},
}

func muxNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	raw := lookup(top, "type")
	code, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(code) == 0 || raw[0] != '"' {
		return payloadErr("type", "missing or not a string")
	}
	ev.scratch = scratch
	ev.ProviderEventType = ev.keep(code)
	if findEvent(muxEvents, code) != nil || len(code) <= maxWebhookType && dottedLower(code) {
		ev.Type = ev.keep([]byte(muxPrefix), ev.ProviderEventType) // every row's name is its code
		ev.EventType = ev.Type[len(muxPrefix):]
	} else {
		ev.setUnknownType(muxPrefix, ev.ProviderEventType)
	}

	subject, scratch, _ := stringValue(validMember(lookup(top, "object"), "id"), ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	if at, ok := parseRFC3339(lookup(top, "created_at")); ok {
		ev.Time = at
	}

	// data: the envelope without attempts (it grows on every retry), credentials removed.
	d := append(ev.data[:0], '{')
	for _, m := range top {
		if string(m.key) == "attempts" {
			continue
		}
		if len(d) > 1 {
			d = append(d, ',')
		}
		if d = appendKey(d, m); string(m.key) == "data" {
			d = appendWithout(d, m.val, muxCredentials)
		} else {
			d = appendValidCompact(d, m.val)
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data

	ev.setSource(nil)
	raw = lookup(top, "id")
	id, scratch, ok := stringValue(raw, ev.scratch[:0])
	if !ok || len(id) == 0 || raw[0] != '"' {
		return payloadErr("id", "missing or not a string: Mux gives every event its id, and its body changes between attempts, so none can be derived")
	}
	ev.scratch = scratch
	ev.setProviderID(id)
	return nil
}

// appendWithout appends the validated JSON value v compacted, leaving out every member named in
// drop in it and in the objects and arrays it holds, at any depth. v is read as valid (it is
// nested in a body members accepted), each level once.
func appendWithout(dst, v []byte, drop []string) []byte {
	dst, _ = appendValueWithout(dst, v[skipSpace(v, 0):], drop)
	return dst
}

// appendValueWithout is appendWithout for the value v starts with (v may run past it); it
// returns the value's length too.
func appendValueWithout(dst, v []byte, drop []string) ([]byte, int) {
	var n int
	switch {
	case len(v) > 0 && v[0] == '{':
		dst = append(dst, '{')
		first := true
		n = walkObject(v, 0, func(key []byte, escaped bool, at int) int {
			for _, k := range drop {
				if string(key) == k {
					return skipValid(v, at)
				}
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendKey(dst, member{key: key, escaped: escaped})
			var k int
			dst, k = appendValueWithout(dst, v[at:], drop)
			return at + k
		})
		return append(dst, '}'), n
	case len(v) > 0 && v[0] == '[':
		dst = append(dst, '[')
		first := true
		n = walkArray(v, 0, func(at int) int {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			var k int
			dst, k = appendValueWithout(dst, v[at:], drop)
			return at + k
		})
		return append(dst, ']'), n
	}
	n = skipValid(v, 0)
	return appendValidCompact(dst, v[:n]), n
}

// signMux signs body as Mux does at now: Mux-Signature t=<now>,v1=<hex>. The body is sent as
// it is.
func signMux(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	headers, err := muxSig.Sign(body, a.Secret, now, nil)
	return body, headers, err
}

// muxCanonical maps Mux's live stream, its recording into an asset and its simulcast targets to
// the canonical RTC events (SPEC §9). A live stream is the room (room_id its id): the encoder's
// connect and disconnect are the stream's publish and unpublish, active and idle (after the
// reconnect window) the room's start and end. Every live stream is recorded into an asset; a
// simulcast target is a push of the stream to an RTMP or SRT URL.
var muxCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "environment.id"},
		{To: "room_id", From: "data.id"},
	},
	Events: map[string][]Mapping{
		"video.live_stream.active":       {{Type: RoomStarted}},
		"video.live_stream.idle":         {{Type: RoomEnded}},
		"video.live_stream.connected":    {{Type: StreamPublished, Set: []Set{{To: "track.id", From: "data.id"}}}},
		"video.live_stream.disconnected": {{Type: StreamUnpublished, Set: []Set{{To: "track.id", From: "data.id"}}}},
		"video.live_stream.recording": {{Type: RecordingStarted, Set: []Set{
			{To: "recording.task_id", From: "data.active_asset_id"},
		}}},
		"video.asset.live_stream_completed": {{Type: RecordingEnded, Set: []Set{
			{To: "room_id", From: "data.live_stream_id"},
			{To: "recording.task_id", From: "data.id"},
			{To: "recording.status", From: "data.status"},
			{To: "duration_s", From: "data.duration"},
		}}},
		"video.live_stream.simulcast_target.starting":     {{Type: RelayStarted, Set: muxRelaySets()}},
		"video.live_stream.simulcast_target.broadcasting": {{Type: RelayStateChanged, Set: muxRelaySets()}},
		"video.live_stream.simulcast_target.errored":      {{Type: RelayStateChanged, Set: muxRelaySets()}},
		"video.live_stream.simulcast_target.idle":         {{Type: RelayEnded, Set: muxRelaySets()}},
	},
	Gaps: "no participants (one encoder per live stream, viewers are not reported); no reason for a disconnect, no session id or sequence; a recording is an asset, not files (asset and static-rendition events are not mapped, since most assets are uploads, not recordings), and it reports no failure of its own; a simulcast target's error names no cause",
}

// muxRelaySets: a simulcast target pushes its live stream to url.
func muxRelaySets() []Set {
	return []Set{
		{To: "room_id", From: "data.live_stream_id"},
		{To: "relay.task_id", From: "data.id"},
		{To: "relay.direction", Value: "push"},
		{To: "relay.url", From: "data.url"},
		{To: "relay.state", From: "data.status"},
	}
}

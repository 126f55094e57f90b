package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Agora (声网) Notifications, NCS: {"noticeId","productId","eventType","notifyMs","sid"?,
// "payload"} (shared/providers/PROTOCOLS-MORE.md §1). Every callback carries Agora-Signature =
// hex(HMAC-SHA1(secret, raw body)) and Agora-Signature-V2 = hex(HMAC-SHA256(secret, raw body));
// V2 is checked when present, else V1, as Agora recommends. Each product has its own secret in
// the console, so Cloud Recording, Media Pull and Media Push may have one of their own (the
// product is read from the body to pick the key; the signature then proves it). notifyMs is the
// send time, refreshed on every resend: it bounds the signature window and stays out of the event,
// whose id is noticeId. Event numbers repeat across products, so the key is (productId,
// eventType). The console's health check sends test events with channelName "test_webhook": they
// are answered and not published.
var Agora = Provider{
	ID:         "agora",
	TypePrefix: agoraPrefix,
	// Agora requires a JSON body and ignores its content.
	Reply:      []byte(`{"code":0}`),
	SecretName: "Secret (Notifications, per product)",
	SecretVar:  "SECRET",
	Settings:   agoraSettings,
	Scheme:     "header `Agora-Signature-V2 = hex(HMAC-SHA256(secret, body))` when present, else `Agora-Signature = hex(HMAC-SHA1(secret, body))`; Cloud Recording, Media Pull and Media Push may have secrets of their own (`CALLBRIDGE_AGORA_RECORDING_SECRET`, `_MEDIA_PULL_SECRET`, `_MEDIA_PUSH_SECRET`)",
	Window:     "`notifyMs` (ms, in the signed body, refreshed on resend) within `CALLBRIDGE_MAX_CLOCK_SKEW` either way",
	Subject:    "RTC: `payload.channelName`; recording: `payload.cname`; Media Push: `payload.converter.id`; Media Pull: `payload.player.id`",
	TimeSource: "RTC: `payload.ts` (s); recording: `payload.sendts` (ms); Media Push/Pull: `payload.lts` (ms, or s as the examples write it); else `notifyMs` (ms)",
	Events:     agoraEvents,
	Unknown:    "unknown.<productId>.<eventType>; health check (`channelName` `test_webhook`): answered, not published",
	IsProbe:    agoraIsProbe,
	Verify:     agoraVerify,
	Normalize:  agoraNormalize,
	Sign:       signAgora,
	Distinct:   []string{"noticeId"},
	Code:       "eventType",
	Sample:     []byte(`{"noticeId":"2000001428:4330:103","productId":1,"eventType":103,"notifyMs":1611566412672,"sid":"EXAMPLE-SID-0001","payload":{"channelName":"room1","uid":12121213,"platform":1,"clientSeq":1625051030789,"ts":1560396943,"account":"alice"}}`),
}

const agoraPrefix = "io.agora."

// agoraSettings: secrets of the products whose console page shows a secret of its own. Unset,
// the product's callbacks are checked with CALLBRIDGE_AGORA_SECRET.
var agoraSettings = []Setting{
	{Name: "RECORDING_SECRET", Kind: Text, Secret: true,
		Description: "secret of Cloud Recording notifications (productId 3), when it is not CALLBRIDGE_AGORA_SECRET"},
	{Name: "MEDIA_PULL_SECRET", Kind: Text, Secret: true,
		Description: "secret of Media Pull notifications (productId 4), when it is not CALLBRIDGE_AGORA_SECRET"},
	{Name: "MEDIA_PUSH_SECRET", Kind: Text, Secret: true,
		Description: "secret of Media Push notifications (productId 5), when it is not CALLBRIDGE_AGORA_SECRET"},
}

// Products as productId numbers them.
const (
	agoraRTC       = 1
	agoraRecording = 3
	agoraMediaPull = 4
	agoraMediaPush = 5
)

// Codes are "<productId>/<eventType>".
var agoraEvents = []EventDef{
	{"1/101", "rtc.channel.created", "channel create"},
	{"1/102", "rtc.channel.destroyed", "channel destroy (carries lastUid)"},
	{"1/103", "rtc.broadcaster.joined", "broadcaster join channel"},
	{"1/104", "rtc.broadcaster.left", "broadcaster leave channel (reason, duration)"},
	{"1/105", "rtc.audience.joined", "audience join channel"},
	{"1/106", "rtc.audience.left", "audience leave channel (reason, duration)"},
	{"1/107", "rtc.user.joined", "user join channel, communication profile"},
	{"1/108", "rtc.user.left", "user leave channel, communication profile (reason, duration)"},
	{"1/111", "rtc.role.broadcaster", "client role change to broadcaster"},
	{"1/112", "rtc.role.audience", "client role change to audience"},
	{"3/1", "recording.error", "cloud_recording_error"},
	{"3/2", "recording.warning", "cloud_recording_warning"},
	{"3/3", "recording.status.updated", "cloud_recording_status_update"},
	{"3/4", "recording.file.infos", "cloud_recording_file_infos (M3U8 file name)"},
	{"3/11", "recording.session.exited", "session_exit"},
	{"3/12", "recording.session.failover", "session_failover"},
	{"3/30", "recording.uploader.started", "uploader_started"},
	{"3/31", "recording.uploaded", "uploaded: every file is in third-party storage"},
	{"3/32", "recording.backuped", "backuped: some files went to Agora's backup storage"},
	{"3/33", "recording.uploading.progress", "uploading_progress (every minute)"},
	{"3/40", "recording.recorder.started", "recorder_started"},
	{"3/41", "recording.recorder.left", "recorder_leave (leaveCode)"},
	{"3/42", "recording.slice.started", "recorder_slice_start"},
	{"3/43", "recording.audio_stream.changed", "recorder_audio_stream_state_changed"},
	{"3/44", "recording.video_stream.changed", "recorder_video_stream_state_changed"},
	{"3/45", "recording.snapshot.file", "recorder_snapshot_file"},
	{"3/60", "recording.vod.started", "vod_started"},
	{"3/61", "recording.vod.triggered", "vod_triggered"},
	{"3/70", "recording.web.started", "web_recorder_started"},
	{"3/71", "recording.web.stopped", "web_recorder_stopped"},
	{"3/72", "recording.web.capability_limit", "web_recorder_capability_limit"},
	{"3/73", "recording.web.reloaded", "web_recorder_reload"},
	{"3/80", "recording.transcoder.started", "transcoder_started"},
	{"3/81", "recording.transcoder.completed", "transcoder_completed"},
	{"3/90", "recording.download.failed", "download_failed"},
	{"3/100", "recording.rtmp_publish.status", "rtmp_publish_status"},
	{"3/1001", "recording.postpone_transcode.result", "postpone_transcode_final_result"},
	{"4/1", "mediapull.player.created", "Media Pull: Player Created"},
	{"4/3", "mediapull.player.destroyed", "Media Pull: Player Destroyed (destroyReason)"},
	{"4/4", "mediapull.player.status", "Media Pull: Player Status Changed"},
	{"5/1", "mediapush.converter.created", "Media Push: Converter Created"},
	{"5/2", "mediapush.converter.updated", "Media Push: Converter Configuration Changed"},
	{"5/3", "mediapush.converter.status", "Media Push: Converter Status Changed"},
	{"5/4", "mediapush.converter.destroyed", "Media Push: Converter Destroyed (destroyReason)"},
}

// agoraProbeChannel names the channel of the console's test events.
const agoraProbeChannel = "test_webhook"

func agoraIsProbe(c *Callback) bool {
	top, err := c.members()
	if err != nil {
		return false
	}
	payload := lookup(top, "payload")
	if len(payload) == 0 || payload[0] != '{' {
		return false
	}
	probe := false
	eachMember(payload, func(m member) {
		if (string(m.key) == "channelName" || string(m.key) == "cname") && string(m.val) == `"`+agoraProbeChannel+`"` {
			probe = true
		}
	})
	return probe
}

// agoraKey returns the secret that signs a callback of product: the product's own when one is
// configured, else CALLBRIDGE_AGORA_SECRET.
func agoraKey(a *Auth, product int64) []byte {
	var own []byte
	switch product {
	case agoraRecording:
		own = a.setting(agoraSettings, "RECORDING_SECRET").Bytes
	case agoraMediaPull:
		own = a.setting(agoraSettings, "MEDIA_PULL_SECRET").Bytes
	case agoraMediaPush:
		own = a.setting(agoraSettings, "MEDIA_PUSH_SECRET").Bytes
	}
	if len(own) > 0 {
		return own
	}
	return a.Secret
}

// agoraProduct reads productId before the signature is checked, to choose the key: a wrong
// productId only chooses a key that will not match.
func agoraProduct(c *Callback) int64 {
	top, _ := c.members()
	product, _ := intValue(lookup(top, "productId"))
	return product
}

func agoraVerify(c *Callback, a *Auth) (Verified, error) {
	key := agoraKey(a, agoraProduct(c))
	if len(key) == 0 {
		return unsigned(a)
	}
	header, useSHA256 := "Agora-Signature-V2", true
	got := c.Header.Peek(header)
	if len(got) == 0 {
		header, useSHA256 = "Agora-Signature", false
		got = c.Header.Peek(header)
	}
	if len(got) == 0 {
		return Signed, &AuthError{Reason: "Agora-Signature-V2 and Agora-Signature headers missing"}
	}
	var sum [sha256.Size]byte
	var want [sha256.Size * 2]byte
	n := hex.Encode(want[:], sum[:hmacSum(&sum, key, useSHA256, c.Body)])
	if !equalHex(got, want[:n]) {
		return Signed, &AuthError{Reason: header + " does not match the body"}
	}
	return ncsWindow(c, a)
}

func agoraNormalize(c *Callback, ev *Event) error {
	top, product, code, payload, err := ncsEnvelope(c)
	if err != nil {
		return err
	}
	var channelName, cname, ts, sendts, lts, converter, player []byte
	eachMember(payload, func(m member) {
		switch string(m.key) {
		case "channelName":
			channelName = m.val
		case "cname":
			cname = m.val
		case "ts":
			ts = m.val
		case "sendts":
			sendts = m.val
		case "lts":
			lts = m.val
		case "converter":
			converter = m.val
		case "player":
			player = m.val
		}
	})

	key := ncsSetType(ev, agoraEvents, agoraPrefix, product, code)

	var subjectRaw []byte
	switch product {
	case agoraRTC:
		subjectRaw = channelName
	case agoraRecording:
		subjectRaw = cname
	case agoraMediaPush:
		subjectRaw = nestedMember(converter, "id")
	case agoraMediaPull:
		subjectRaw = nestedMember(player, "id")
	default: // Media Gateway, Fusion CDN, ...: the first that is there
		for _, raw := range [...][]byte{channelName, cname, nestedMember(converter, "id"), nestedMember(player, "id")} {
			if raw != nil {
				subjectRaw = raw
				break
			}
		}
	}
	subject, scratch, _ := stringValue(subjectRaw, ev.scratch[:0])
	ev.scratch = scratch
	ev.Subject = ev.keep(subject)

	ev.Time = c.Received.UTC()
	_ = ev.setTime(intValue(ts)) || ev.setTime(intValue(sendts)) || ev.setTime(intValue(lts)) ||
		ev.setTime(intValue(lookup(top, "notifyMs")))

	// data is the notification without notifyMs, which changes on every resend: noticeId,
	// productId, eventType, sid and payload as sent.
	ev.setDataWithout(top, "notifyMs")

	ev.setSource(nil)
	ncsSetID(ev, top, key)
	return nil
}

// signAgora sets notifyMs to now, as a resend does, and signs the body with both headers, as
// Agora does, with the key Verify will choose for its product.
func signAgora(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	body, headers, err := stampJSON(body, "notifyMs", strconv.AppendInt(nil, now.UnixMilli(), 10))
	if err != nil {
		return nil, nil, err
	}
	product, _ := intValue(lookup(topMembers(body), "productId"))
	key := agoraKey(a, product)
	if len(key) == 0 {
		return body, headers, nil
	}
	var sum [sha256.Size]byte
	v1 := hex.EncodeToString(sum[:hmacSum(&sum, key, false, body)])
	v2 := hex.EncodeToString(sum[:hmacSum(&sum, key, true, body)])
	return body, append(headers, Header{"Agora-Signature", v1}, Header{"Agora-Signature-V2", v2}), nil
}

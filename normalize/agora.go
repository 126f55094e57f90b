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
	Data:       agoraData,
	EventData:  agoraEventData,
	Canonical:  agoraCanonical,
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

// agoraData: the notification as published (notifyMs, the send time, is left out).
var agoraData = []Field{
	{Path: "noticeId", Type: TString, Required: true, Desc: "the notification's id, the same on every resend"},
	{Path: "productId", Type: TInteger, Required: true, Desc: "1 RTC channel events, 3 Cloud Recording, 4 Media Pull, 5 Media Push"},
	{Path: "eventType", Type: TInteger, Required: true, Desc: "the event's number within its product"},
	{Path: "sid", Type: TString, Desc: "the session id Agora adds to some notifications"},
	{Path: "payload", Type: TObject, Required: true, Desc: "the event's own members"},
}

// agoraPayload prefixes each field's path with "payload.".
func agoraPayload(fs ...Field) []Field {
	for i := range fs {
		fs[i].Path = "payload." + fs[i].Path
	}
	return fs
}

// agoraChannel: RTC channel events' members (productId 1).
func agoraChannel(more ...Field) []Field {
	return agoraPayload(append([]Field{
		{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
		{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	}, more...)...)
}

// agoraUser: the members of an RTC event about one user.
func agoraUser(more ...Field) []Field {
	return agoraChannel(append([]Field{
		{Path: "uid", Type: TInteger, Desc: "the user's id in the channel (32-bit)"},
		{Path: "platform", Type: TInteger, Desc: "the user's platform: 1 Android, 2 iOS, 5 Windows, 6 Linux, 7 Web, 8 macOS, 0 other"},
		{Path: "clientType", Type: TInteger, Desc: "on Linux (platform 6): 3 On-Premise Recording, 8 Cloud Recording, 10 Media Push, Pull and others"},
		{Path: "clientSeq", Type: TInteger, Desc: "a sequence number, increasing, to order one user's events"},
		{Path: "account", Type: TString, Desc: "the user's string account, when it joined with one"},
	}, more...)...)
}

// agoraLeft: the members a leave adds.
var agoraLeft = []Field{
	{Path: "reason", Type: TInteger, Desc: "why the user left: 1 quit, 2 timed out, 3 kicked, 4 server, 5 switched to another server, 9 multiple IPs, 10 network, 999 abnormal, 0 other"},
	{Path: "duration", Type: TInteger, Unit: "s", Desc: "how long the user was in the channel"},
}

// agoraRecData: Cloud Recording's members (productId 3); details holds msgName and the event's own.
func agoraRecData(details ...Field) []Field {
	fs := agoraPayload(
		Field{Path: "cname", Type: TString, Required: true, Desc: "the channel recorded"},
		Field{Path: "uid", Type: TString, Desc: "the recording service's user id in the channel"},
		Field{Path: "sid", Type: TString, Desc: "the recording session's id"},
		Field{Path: "sequence", Type: TInteger, Desc: "the notification's number within the session, from 0"},
		Field{Path: "sendts", Type: TInteger, Unit: "ms", Desc: "when the event was sent"},
		Field{Path: "serviceType", Type: TInteger, Desc: "0 recorder, 1 uploader, 2 extension, 3 web recorder"},
		Field{Path: "details", Type: TObject, Required: true, Desc: "the event's own members"},
		Field{Path: "details.msgName", Type: TString, Required: true, Desc: "the event's name"},
	)
	for _, d := range details {
		d.Path = "payload.details." + d.Path
		fs = append(fs, d)
	}
	return fs
}

// agoraFiles: a list of recorded files, at path.
func agoraFiles(path string, more ...Field) []Field {
	fs := []Field{{Path: path, Type: TArray, Desc: "the files"}}
	for _, f := range append([]Field{{Path: "fileName", Type: TString, Desc: "the file's name in storage"}}, more...) {
		f.Path = path + "[]." + f.Path
		fs = append(fs, f)
	}
	return fs
}

// agoraSlices are the members of a recorded file in an uploaded or backuped list.
var agoraSlices = []Field{
	{Path: "trackType", Type: TString, Desc: "audio, video or audio_and_video"},
	{Path: "uid", Type: TString, Desc: "the user recorded; \"0\" for a mixed file"},
	{Path: "mixedAllUser", Type: TBool, Desc: "all users mixed in one file"},
	{Path: "isPlayable", Type: TBool, Desc: "the file plays on its own"},
	{Path: "sliceStartTime", Type: TInteger, Unit: "ms", Desc: "when the file's recording started"},
}

// agoraPlayer: Media Pull's members (productId 4).
func agoraPlayer(more ...Field) []Field {
	return agoraPayload(append([]Field{
		{Path: "player", Type: TObject, Required: true, Desc: "the cloud player"},
		{Path: "player.id", Type: TString, Required: true, Desc: "the player's id"},
		{Path: "player.channelName", Type: TString, Desc: "the channel played into"},
		{Path: "player.createTs", Type: TInteger, Unit: "s", Desc: "when the player was created (Unix time)"},
		{Path: "player.idleTimeout", Type: TInteger, Unit: "s", Desc: "longest the player stays idle"},
		{Path: "player.name", Type: TString, Desc: "the player's name"},
		{Path: "player.streamUrl", Type: TString, Desc: "the stream pulled"},
		{Path: "player.token", Type: TString, Desc: "the RTC token the player joined with"},
		{Path: "player.uid", Type: TInteger, Desc: "the player's user id in the channel"},
		{Path: "player.account", Type: TString, Desc: "the player's string account"},
		{Path: "player.status", Type: TString, Desc: "connecting, success, running, failed, stopped or pending"},
		{Path: "lts", Type: TInteger, Unit: "ms", Desc: "when the event happened"},
		{Path: "xRequestId", Type: TString, Desc: "the id of the API request that caused it"},
		{Path: "fields", Type: TString, Desc: "the player's members the event is about, comma-separated"},
	}, more...)...)
}

// agoraConverter: Media Push's members (productId 5).
func agoraConverter(more ...Field) []Field {
	return agoraPayload(append([]Field{
		{Path: "converter", Type: TObject, Required: true, Desc: "the converter"},
		{Path: "converter.id", Type: TString, Required: true, Desc: "the converter's id"},
		{Path: "converter.name", Type: TString, Desc: "the converter's name"},
		{Path: "converter.transcodeOptions", Type: TObject, Desc: "the transcoding options as created: the Media Push API's own object, echoed (open)"},
		{Path: "converter.rawOptions", Type: TObject, Desc: "the options of a converter that does not transcode, as created (open)"},
		{Path: "converter.rtmpUrl", Type: TString, Desc: "where the converter pushes"},
		{Path: "converter.idleTimeout", Type: TInteger, Unit: "s", Desc: "longest the converter stays idle"},
		{Path: "converter.createTs", Type: TInteger, Unit: "s", Desc: "when the converter was created (Unix time)"},
		{Path: "converter.updateTs", Type: TInteger, Unit: "s", Desc: "when it was last changed (Unix time)"},
		{Path: "converter.state", Type: TString, Desc: "connecting, running or failed"},
		{Path: "lts", Type: TInteger, Unit: "ms", Desc: "when the event happened"},
		{Path: "xRequestId", Type: TString, Desc: "the id of the API request that caused it"},
		{Path: "fields", Type: TString, Desc: "the converter's members the event is about, comma-separated"},
	}, more...)...)
}

var agoraDestroyReason = Field{Path: "destroyReason", Type: TString, Desc: "why it was destroyed: Delete Request, Internal Error, Idle Timeout, ..."}

// agoraEventData: each event's own members, by EventDef Name.
var agoraEventData = map[string][]Field{
	"rtc.channel.created":    agoraChannel(),
	"rtc.channel.destroyed":  agoraChannel(Field{Path: "lastUid", Type: TInteger, Desc: "the last user to leave"}),
	"rtc.broadcaster.joined": agoraUser(),
	"rtc.broadcaster.left":   agoraUser(agoraLeft...),
	"rtc.audience.joined":    agoraUser(),
	"rtc.audience.left":      agoraUser(agoraLeft...),
	"rtc.user.joined":        agoraUser(),
	"rtc.user.left":          agoraUser(agoraLeft...),
	"rtc.role.broadcaster":   agoraUser(),
	"rtc.role.audience":      agoraUser(),

	"recording.error": agoraRecData(
		Field{Path: "module", Type: TInteger, Desc: "0 recorder, 1 uploader, 2 extension"},
		Field{Path: "errorLevel", Type: TInteger, Desc: "1 debug, 2 minor, 3 medium, 4 major, 5 fatal"},
		Field{Path: "errorCode", Type: TInteger, Desc: "Agora's error code"},
		Field{Path: "stat", Type: TInteger, Desc: "0 an error occurred, else the error was recovered from"},
		Field{Path: "errorMsg", Type: TString, Desc: "the error's description"}),
	"recording.warning": agoraRecData(
		Field{Path: "module", Type: TInteger, Desc: "0 recorder, 1 uploader"},
		Field{Path: "warnCode", Type: TInteger, Desc: "Agora's warning code"}),
	"recording.status.updated": agoraRecData(
		Field{Path: "status", Type: TInteger, Desc: "the recording's status"},
		Field{Path: "recordingMode", Type: TInteger, Desc: "0 real-time, 1 delayed"},
		Field{Path: "fileList", Type: TString, Desc: "the M3U8 file's name"}),
	"recording.file.infos":       agoraRecData(Field{Path: "fileList", Type: TString, Desc: "the M3U8 file's name"}),
	"recording.session.exited":   agoraRecData(Field{Path: "exitStatus", Type: TInteger, Desc: "0 normal exit, else abnormal"}),
	"recording.session.failover": agoraRecData(Field{Path: "newUid", Type: TInteger, Desc: "the user id the recording continues with"}),
	"recording.uploader.started": agoraRecData(Field{Path: "status", Type: TInteger, Desc: "0 started"}),
	"recording.uploaded": agoraRecData(append([]Field{{Path: "status", Type: TInteger, Desc: "0 every file uploaded"}},
		agoraFiles("fileList", agoraSlices...)...)...),
	"recording.backuped": agoraRecData(append([]Field{{Path: "status", Type: TInteger, Desc: "0 the files went to backup storage"}},
		agoraFiles("fileList", agoraSlices...)...)...),
	"recording.uploading.progress": agoraRecData(Field{Path: "progress", Type: TInteger, Desc: "the share uploaded, in 1/10 000ths"}),
	"recording.recorder.started":   agoraRecData(Field{Path: "status", Type: TInteger, Desc: "0 started"}),
	"recording.recorder.left":      agoraRecData(Field{Path: "leaveCode", Type: TInteger, Desc: "why the recorder left, a bit field: 0 normal, 2 timed out, 4 every user left, ..."}),
	"recording.slice.started": agoraRecData(
		Field{Path: "startUtcMs", Type: TInteger, Unit: "ms", Desc: "when the first slice's recording started"},
		Field{Path: "discontinueUtcMs", Type: TInteger, Unit: "ms", Desc: "when the previous slice ended, when it was interrupted"},
		Field{Path: "mixedAllUser", Type: TBool, Desc: "all users mixed"},
		Field{Path: "streamUid", Type: TString, Desc: "the user recorded"},
		Field{Path: "trackType", Type: TString, Desc: "audio, video or audio_and_video"}),
	"recording.audio_stream.changed": agoraRecData(agoraStreamState...),
	"recording.video_stream.changed": agoraRecData(agoraStreamState...),
	"recording.snapshot.file":        agoraRecData(Field{Path: "fileName", Type: TString, Desc: "the screenshot's file name"}),
	"recording.vod.started": agoraRecData(
		Field{Path: "aliVodInfo", Type: TObject, Desc: "the ApsaraVideo VOD upload"},
		Field{Path: "aliVodInfo.videoId", Type: TString, Desc: "the video's id in ApsaraVideo VOD"}),
	"recording.vod.triggered": agoraRecData(),
	"recording.web.started":   agoraRecData(Field{Path: "recorderStartTime", Type: TInteger, Unit: "ms", Desc: "when web recording started"}),
	"recording.web.stopped": agoraRecData(
		Field{Path: "code", Type: TInteger, Desc: "why it stopped"},
		Field{Path: "message", Type: TString, Desc: "the reason, in words"},
		Field{Path: "details", Type: TString, Desc: "more on the reason"},
		Field{Path: "fileList", Type: TArray, Desc: "the files"},
		Field{Path: "fileList[].filename", Type: TString, Desc: "the file's name in storage"},
		Field{Path: "fileList[].sliceStartTime", Type: TInteger, Unit: "ms", Desc: "when the file's recording started"}),
	"recording.web.capability_limit": agoraRecData(Field{Path: "limitType", Type: TString, Desc: "the limit reached, such as cpu or memory"}),
	"recording.web.reloaded":         agoraRecData(Field{Path: "reason", Type: TString, Desc: "why the page was reloaded"}),
	"recording.transcoder.started":   agoraRecData(),
	"recording.transcoder.completed": agoraRecData(append([]Field{
		{Path: "result", Type: TString, Desc: "all_success, partial_success or fail"},
		{Path: "uids", Type: TArray, Desc: "the users transcoded"},
		{Path: "uids[].uid", Type: TString, Desc: "the user"},
		{Path: "uids[].result", Type: TString, Desc: "success or fail"}},
		agoraFiles("uids[].fileList")...)...),
	"recording.download.failed": agoraRecData(
		Field{Path: "vendor", Type: TInteger, Desc: "the storage vendor"},
		Field{Path: "region", Type: TInteger, Desc: "the storage region"},
		Field{Path: "bucket", Type: TString, Desc: "the storage bucket"},
		Field{Path: "fileName", Type: TString, Desc: "the file that failed to download"}),
	"recording.rtmp_publish.status": agoraRecData(
		Field{Path: "rtmpUrl", Type: TString, Desc: "the CDN address"},
		Field{Path: "status", Type: TString, Desc: "connecting, publishing, onhold, disconnected, inner-error, ..."}),
	"recording.postpone_transcode.result": agoraRecData(append([]Field{{Path: "result", Type: TString, Desc: "total_success, partial_success or failed"}},
		agoraFiles("fileList")...)...),

	"mediapull.player.created":      agoraPlayer(),
	"mediapull.player.destroyed":    agoraPlayer(agoraDestroyReason),
	"mediapull.player.status":       agoraPlayer(),
	"mediapush.converter.created":   agoraConverter(),
	"mediapush.converter.updated":   agoraConverter(),
	"mediapush.converter.status":    agoraConverter(),
	"mediapush.converter.destroyed": agoraConverter(agoraDestroyReason),
}

// agoraStreamState: the members of an audio or video stream's change of state.
var agoraStreamState = []Field{
	{Path: "streamUid", Type: TString, Desc: "the user whose stream changed"},
	{Path: "state", Type: TInteger, Desc: "0 the stream is received, 1 it is not"},
	{Path: "UtcMs", Type: TInteger, Unit: "ms", Desc: "when the state changed"},
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

package normalize

import "slices"

// zegoEventData: each ZEGO event's data as published (the callback without signature, timestamp
// and nonce, JSON-in-string members decoded), from the callback pages of ZEGO's documentation
// source (spreadingai/spreading-site-template-new, public/: real-time-video-server/callback/…,
// live-streaming-server/callback/…, cloud-recording-server/end-callback.md,
// cloud-player-server/callback/callback.md; PROTOCOLS-WAVE3-CHINA.md §1a), checked against the
// goldens. The families share no member (event/appid, Event/Appid or AppId, event_type/app_id,
// EventType/AppID), so every member is declared per event. A JSON-in-string member that is empty
// or not JSON stays a string, so those are typed object|string (array|string). Open: record's
// extra_params (the CDN vendor's own members, passed through), third_define_data (the publisher's
// own data) and the `detail`/`Detail` of the events whose detail ZEGO documents as empty.
var zegoEventData = map[string][]Field{
	"room.created":         zegoSnake(TInteger, append(slices.Clone(zegoRoom), zegoF("room_create_time", TString, "ms", "when the room was created (Unix ms, a decimal string)"), zegoF("id_name", TString, "", "the user who created the room"))...),
	"room.closed":          zegoSnake(TInteger, append(slices.Clone(zegoRoom), zegoF("room_close_time", TString, "ms", "when the room was closed (Unix ms, a decimal string)"), zegoF("close_reason", TInteger, "", "0 normal, 1 the last user's heartbeat timed out, 2 the last user dropped, 3 the last user was kicked"))...),
	"room.user.logged_in":  zegoSnake(TString, slices.Concat(zegoRoomUser, zegoLogin)...),
	"room.user.logged_out": zegoSnake(TString, append(slices.Clone(zegoRoomUser), zegoF("logout_time", TString, "ms", "when the user left (Unix ms, a decimal string)"), zegoF("reason", TString, "", "0 normal, 1 business heartbeat timeout, 2 access-layer disconnect or heartbeat timeout, 3 kicked by the server API, 4 token expired"))...),
	"stream.created":       zegoSnake(TString, slices.Concat(zegoStream, zegoStreamCreate)...),
	"stream.closed": zegoSnake(TString, append(slices.Clone(zegoStream),
		zegoF("type", TString, "", "why it stopped: 0 normal, 1 heartbeat timeout, 2 duplicate login, 3 kicked, 4 TCP drop, 5 room cleared, 100 DeleteStream API"),
		zegoF("third_define_data", "object|string", "", "the publisher's own data, JSON in a string, decoded (open: the app's own members)"),
		zegoF("destroy_timemillis", TString, "ms", "when the stream stopped (Unix ms, a decimal string)"))...),
	"mix.started": zegoSnake(TString, append(slices.Clone(zegoMix),
		zegoF("stream_alias", TString, "", "the output stream's id"),
		zegoF("rtmp_urls", TArray, "", "RTMP play URLs"), zegoF("rtmp_urls[]", TString, "", ""),
		zegoF("hls_urls", TArray, "", "HLS play URLs"), zegoF("hls_urls[]", TString, "", ""),
		zegoF("hdl_urls", TArray, "", "HTTP-FLV play URLs"), zegoF("hdl_urls[]", TString, "", ""),
		zegoF("rtmp_url", TString, "", "the page example's singular spelling of rtmp_urls"),
		zegoF("hls_url", TString, "", "the page example's singular spelling of hls_urls"),
		zegoF("hdl_url", TString, "", "the page example's singular spelling of hdl_urls"))...),
	"mix.stopped": zegoSnake(TString, zegoMix...),
	"cdn.recording.completed": zegoSnake(TString,
		Field{Path: "stream_alias", Type: TString, Required: true, Desc: "the stream recorded"},
		zegoF("replay_url", TString, "", "the file's URL (one callback per file format)"),
		zegoF("begin_time", TString, "s", "when the recording began (Unix, a decimal string; s in the examples)"),
		zegoF("end_time", TString, "s", "when the recording ended (Unix, a decimal string; s in the examples)"),
		zegoF("extra_params", "object|string", "", "the CDN vendor's own members, JSON in a string, decoded (open: Tencent TaskId, FileID, Duration; Wangsu PersistentId, Duration; Huawei Duration, ObsObject, FileSize)")),
	"vod.snapshot.completed": zegoSnake(TString, zegoTask,
		zegoF("vendor", TString, "", "the CDN vendor: tencent or hw"),
		zegoF("field_id", TString, "", "the source file's id (sic), Tencent only"),
		zegoF("snapshot_pic_list", "array|string", "", "the snapshots, JSON in a string, decoded"),
		zegoF("snapshot_pic_list[]", TObject, "", ""),
		zegoF("snapshot_pic_list[].url", TString, "", "the snapshot's URL"),
		zegoF("snapshot_pic_list[].offset", TNumber, "ms", "its offset in the video, Tencent time-point snapshots only")),
	"vod.compose.completed": zegoSnake(TString, zegoTask,
		zegoF("replay_url", TString, "", "the merged file's URL"),
		zegoF("file_id", TString, "", "the merged file's id, Tencent only"),
		zegoF("code", TString, "", "0 success, 40000 bad input, 60000 bad source file, 70000 internal error (Tencent only)"),
		zegoF("message", TString, "", "the error, in words (Tencent only)")),
	"vod.transcode.completed": zegoSnake(TString, append([]Field{zegoTask,
		zegoF("status", TString, "", "SUCCESS or FAILED"),
		zegoF("fileId", TString, "", "the source file's id, as the page's table spells it"),
		zegoF("file_id", TString, "", "the source file's id, as the page's example spells it"),
		zegoF("extra_params", "object|string", "", "the transcoding results, JSON in a string, decoded (empty on FAILED)"),
		zegoF("extra_params.media", TObject, "", "the media task's results"),
		zegoF("extra_params.media.transcode", TArray, "", "one per output")},
		under("extra_params.media.transcode[]", zegoTranscodeResult...)...)...),
	"transcode.started": zegoTranscode(
		zegoF("Details", TObject, "", "the task's streams"),
		zegoF("Details.Input", TString, "", "the stream transcoded"),
		zegoF("Details.Outputs", TArray, "", "the output streams"), zegoF("Details.Outputs[]", TString, "", "")),
	"transcode.stopped": zegoTranscode(zegoF("StopReason", TInteger, "", "0 stopped by the user, 1 stopped on an error")),
	"moderation.audio.result": zegoCensorResult(zegoCensorDetail("AudioText", false),
		zegoF("AuxInfo.ProcessBeginTime", TInteger, "ms", "when the 10 s piece's moderation began"),
		zegoF("AuxInfo.ProcessFinishTime", TInteger, "ms", "when it ended")),
	"moderation.video.audio.result": zegoCensorResult(zegoCensorDetail("Content", false),
		zegoF("AuxInfo.ProcessBeginTime", TInteger, "ms", "when the 10 s piece's moderation began"),
		zegoF("AuxInfo.ProcessFinishTime", TInteger, "ms", "when it ended")),
	"moderation.video.image.result": zegoCensorResult(zegoCensorDetail("", true), zegoF("AuxInfo.ImgTime", TString, "", "when the frame was taken (Beijing time, 2006-01-02 15:04:05.000)")),
	"moderation.audio.status":       zegoCensorStatus,
	"moderation.video.audio.status": zegoCensorStatus,
	"moderation.video.image.status": zegoCensorStatus,
	"recording.uploaded": zegoRecording(append([]Field{
		zegoF("upload_status", TInteger, "", "1 every file uploaded, 2 some (a file's status is not 3)"),
		zegoF("file_info", TArray, "", "the files; empty when nothing was recorded")},
		under("file_info[]", zegoRecordedFile...)...)...),
	"recording.aborted": zegoRecording(zegoF("quit_reason", TInteger, "", "why: 1 start failed, 2 room login failed, 3 idle (MaxIdleTime), 4 MaxRecordTime reached, 5 engine start failed, 6 network lost, 1001–1011 recording errors")),
	"recording.image.download_failed": zegoRecording(
		zegoF("image_type", TInteger, "", "1 canvas background, 2 watermark, 3 default stream background, 4 custom layout background"),
		zegoF("image_url", TString, "", "the image that failed to download")),
	"recording.room.empty":       zegoRecording(),
	"recording.exited":           zegoRecording(),
	"recording.stream.not_found": zegoRecording(zegoF("stream_id", TString, "", "the stream that does not exist")),
	"recording.stopped":          zegoRecording(),
	"recording.m3u8.ready": zegoRecording(
		zegoF("stream_id", TString, "", "the stream recorded"),
		zegoF("file_id", TString, "", "the M3U8 file's name"),
		zegoF("file_url", TString, "", "its URL"),
		zegoF("media_track_type", TInteger, "", "1 audio, 2 video, 3 both")),
	"recording.paused":  zegoRecording(),
	"recording.resumed": zegoRecording(),
	"cloudplayer.created": zegoPlayer(
		zegoF("Detail.CreateTime", TInteger, "s", "when the player was created"),
		zegoF("Detail.PlayTime", TInteger, "s", "when it began to play"),
		zegoF("Detail.MaxIdleTime", TInteger, "s", "the longest it stays idle"),
		zegoF("Detail.StreamUrl", TString, "", "the media played")),
	"cloudplayer.destroyed": zegoPlayer(
		zegoF("Detail.PlayTime", TInteger, "s", "when it began to play"),
		zegoF("Detail.Reason", TInteger, "", "1 DeletePlayer, 2 idle beyond MaxIdleTime, 3 the media ended, 4 publishing failed, 5 room login failed or kicked")),
	"cloudplayer.status.changed":        zegoPlayer(zegoF("Detail.Status", TInteger, "", "1 creating, 2 connecting, 3 waiting, 4 playing, 5 paused, 6 connection failed, 7 ended, 8 destroyed")),
	"cloudplayer.exception":             zegoPlayer(zegoF("Detail.Code", TInteger, "", "-1 load timeout, -2 seek timeout, -3 seek failed, -4 audio render rate, -5 decode error, -6 A/V out of sync, -7 stalls, 1 progress, 2–3 video frame rate, 4 audio frame rate, 5 flow control over 5 min")),
	"cloudplayer.upload.succeeded":      zegoUpload(),
	"cloudplayer.upload.failed":         zegoUpload(zegoF("Detail.Reason", TInteger, "", "1 downloading StreamUrl failed, 2 upload error (not retried), 3 file too large")),
	"cloudplayer.upload.status.changed": zegoUpload(zegoF("Detail.Status", TInteger, "", "1 waiting, 2 uploading, 3 cancelled")),
	"cloudplayer.upload.cancel_failed":  zegoUpload(zegoF("Detail.Reason", TInteger, "", "1 the file is uploading, 2 the file was uploaded")),
	"cloudplayer.upload.exception":      zegoUpload(zegoF("Detail.Code", TInteger, "", "1 unknown, 2 upload error; ZEGO retries")),
	"cloudplayer.upload.expired":        zegoUpload(),
}

// zegoF is an optional member.
func zegoF(path, typ, unit, desc string) Field {
	return Field{Path: path, Type: typ, Unit: unit, Desc: desc}
}

// zegoSnake: the snake_case RTC and live families: event and appid (a number in room_create and
// room_close, else a string), then the event's own members.
func zegoSnake(appid string, more ...Field) []Field {
	return append([]Field{
		{Path: "event", Type: TString, Required: true, Desc: "the event's name"},
		{Path: "appid", Type: appid, Required: true, Desc: "the ZEGO app; the CloudEvent's source"},
	}, more...)
}

var (
	zegoRoom = []Field{
		{Path: "room_id", Type: TString, Required: true, Desc: "the room"},
		{Path: "room_session_id", Type: TInteger, BigID: true, Desc: "the room's session (a UInt64)"},
	}
	// zegoRoomUser: room_logout's members (logged-out.md); room_login adds zegoLogin's.
	zegoRoomUser = []Field{
		{Path: "room_id", Type: TString, Required: true, Desc: "the room"},
		{Path: "room_seq", Type: TString, BigID: true, Desc: "the room's session (equals room_session_id)"},
		zegoF("user_account", TString, "", "the user's id"),
		zegoF("user_nickname", TString, "", "the user's name"),
		{Path: "session_id", Type: TString, BigID: true, Desc: "the user's session"},
		zegoF("user_role", TString, "", "1 host, 2 audience, 4 admin (LiveRoom only)"),
		zegoF("user_update_seq", TString, "", "+1 on every login and logout: orders them"),
		zegoF("login_time", TString, "ms", "when the user logged in (Unix ms, a decimal string)"),
	}
	zegoLogin = []Field{
		zegoF("room_name", TString, "", "the room's name"),
		zegoF("auth_level", TString, "", "0 no token, 1–4 the token's version"),
		zegoF("relogin", TString, "", "1 a login again"),
		zegoF("callback_data", TString, "", "the client's own data"),
	}
	// zegoStream: stream_close's members (stream/destroyed.md); stream_create adds
	// zegoStreamCreate's.
	zegoStream = []Field{
		zegoF("room_id", TString, "", "the room"),
		{Path: "room_session_id", Type: TString, BigID: true, Desc: "the room's session (a UInt64, here as a string)"},
		zegoF("channel_id", TString, "", "the room, as the CDN names it"),
		zegoF("user_id", TString, "", "the publisher"),
		zegoF("user_name", TString, "", "the publisher's name"),
		zegoF("stream_alias", TString, "", "the stream's name (equals stream_id)"),
		{Path: "stream_id", Type: TString, Required: true, Desc: "the stream; the CloudEvent's subject"},
		zegoF("stream_sid", TString, "", "the stream's unique id"),
		zegoF("stream_seq", TString, "", "orders the stream's events (compare as numbers: \"01\")"),
		zegoF("create_time_ms", TString, "ms", "when the stream was published (Unix ms, a decimal string)"),
	}
	zegoStreamCreate = []Field{
		zegoF("publish_id", TString, "", "the publisher"),
		zegoF("publish_name", TString, "", "the publisher's name"),
		zegoF("title", TString, "", "the stream's title"),
		zegoF("stream_attr", "object|string", "", "the stream's attributes, JSON in a string, decoded"),
		zegoF("stream_attr.cid", TInteger, "", "the codec: 0 H.264, 1 H.264 SVC, 2 VP8, 3 H.265"),
		zegoF("extra_info", TString, "", "the publisher's extra information"),
		zegoF("recreate", TString, "", "1 a republish of an existing stream"),
		zegoF("create_time", TString, "s", "when the stream was published (Unix, a decimal string)"),
		zegoF("rtmp_url", TArray, "", "RTMP play URLs"), zegoF("rtmp_url[]", TString, "", ""),
		zegoF("hls_url", TArray, "", "HLS play URLs"), zegoF("hls_url[]", TString, "", ""),
		zegoF("hdl_url", TArray, "", "HTTP-FLV play URLs"), zegoF("hdl_url[]", TString, "", ""),
		zegoF("pic_url", TArray, "", "snapshot URLs"), zegoF("pic_url[]", TString, "", ""),
	}
	zegoMix = []Field{
		{Path: "task_id", Type: TString, Required: true, Desc: "the mixing task (the app id, a colon, the caller's id)"},
		zegoF("seq", TString, "", "the mixing request's number: orders them"),
		zegoF("channel_id", TString, "", "the room"),
		zegoF("publish_id", TString, "", "the publisher"),
		zegoF("mix_url", TString, "", "the output's RTMP URL"),
		zegoF("mix_stream_alias", TString, "", "the output stream's name"),
	}
	zegoTask = Field{Path: "task_id", Type: TString, Required: true, Desc: "the task; the CloudEvent's subject"}

	zegoTranscodeResult = []Field{
		zegoF("code", TString, "", "0 success, else an error"),
		zegoF("message", TString, "", "the result, in words"),
		zegoF("replay_url", TString, "", "the output's URL"),
		zegoF("size", TInteger, "bytes", "the output's size"),
		zegoF("duration", TNumber, "s", "the output's duration"),
		zegoF("video", TObject, "", "the output's video"),
		zegoF("video.bitrate", TInteger, "bps", ""),
		zegoF("video.codec", TString, "", "such as h264 or hevc"),
		zegoF("video.fps", TInteger, "Hz", ""),
		zegoF("video.height", TInteger, "px", "the largest height"),
		zegoF("video.width", TInteger, "px", "the largest width"),
		zegoF("audio", TObject, "", "the output's audio"),
		zegoF("audio.bitrate", TInteger, "bps", ""),
		zegoF("audio.codec", TString, "", "such as aac"),
		zegoF("audio.sampling_rate", TInteger, "Hz", ""),
	}
)

// zegoTranscode: single-stream transcoding (PascalCase; Appid a string).
func zegoTranscode(more ...Field) []Field {
	return append([]Field{
		{Path: "Event", Type: TString, Required: true, Desc: "the event's name"},
		{Path: "Appid", Type: TString, Required: true, Desc: "the ZEGO app; the CloudEvent's source"},
		{Path: "TaskId", Type: TString, Required: true, Desc: "the transcoding task; the CloudEvent's subject"},
		zegoF("UserId", TString, "", "who started or stopped the task"),
		zegoF("Sequence", TInteger, "", "the request's number"),
		zegoF("Status", TString, "", "TranscodeStarted, TranscodeUpdated or TranscodeStopped"),
	}, more...)
}

// zegoCensor: stream moderation's members (PascalCase; AppId a number), moderation/audio.md and
// moderation/video.md.
func zegoCensor(more ...Field) []Field {
	return append([]Field{
		{Path: "Event", Type: TString, Required: true, Desc: "the event's name"},
		{Path: "AppId", Type: TInteger, Required: true, Desc: "the ZEGO app; the CloudEvent's source"},
		zegoF("Code", TInteger, "", "0 success"),
		zegoF("Message", TString, "", "the result, in words"),
		{Path: "TaskId", Type: TString, Required: true, Desc: "the moderation task; the CloudEvent's subject"},
		zegoF("AuxInfo", TObject, "", "auxiliary information"),
		zegoF("AuxInfo.RoomId", TString, "", "the room moderated"),
	}, more...)
}

var zegoCensorStatus = zegoCensor(
	zegoF("Status", TInteger, "", "0 the moderation ended"),
	zegoF("AuxInfo.CensorStreamTime", TInteger, "s", "how long the stream was moderated"))

// zegoCensorResult: a moderation result: its id, the Detail of the 10 s audio piece or of the
// frame (detail, below Detail), and the AuxInfo members of the event.
func zegoCensorResult(detail []Field, aux ...Field) []Field {
	return zegoCensor(slices.Concat([]Field{
		{Path: "ResultTaskId", Type: TString, Desc: "this result's id (the event's id)"},
		zegoF("Detail", TObject, "", "the result"),
	}, zegoRiskLabels("Detail"), under("Detail", detail...), aux)...)
}

// zegoRiskLabels: the level and labels a result's Detail and each RiskInfoList item carry.
func zegoRiskLabels(prefix string) []Field {
	return under(prefix,
		zegoF("RiskLevel", TString, "", "PASS, REVIEW or REJECT (when Code is 0)"),
		zegoF("RiskDescription", TString, "", "the risk's labels, colon-separated (for people, not logic)"),
		zegoF("RiskLabel1", TString, "", "the first-level label (normal on PASS)"),
		zegoF("RiskLabel2", TString, "", "the second-level label"),
		zegoF("RiskLabel3", TString, "", "the third-level label"))
}

// zegoRiskDetail: a RiskDetail's members, below prefix: an audio piece's (text) or a frame's
// (faces, OCR). RiskInfoList's items carry them flat too, as the pages' tables list them.
func zegoRiskDetail(prefix string, image bool) []Field {
	fs := []Field{
		zegoF("RiskSource", TInteger, "", "1000 none, 1001 text, 1002 image, 1003 audio features"),
		zegoF("MatchedLists", "array|null", "", "the custom lists matched"),
		zegoF("MatchedLists[].Name", TString, "", "the list's name"),
	}
	if !image {
		return under(prefix, append(fs, zegoF("AudioText", TString, "", "the audio's text"))...)
	}
	fs = append(fs,
		zegoF("FaceInfoList", "array|null", "", "the faces found in the frame (at most 10)"),
		zegoF("OcrInfo", TObject, "", "text read in the frame"),
		zegoF("OcrInfo.Text", TString, "", ""),
		zegoF("OcrInfo.MatchedLists", "array|null", "", "the custom lists matched"),
		zegoF("OcrInfo.MatchedLists[].Name", TString, "", "the list's name"))
	return append(under(prefix, fs...), under(prefix+".FaceInfoList[]", zegoFace...)...)
}

// zegoCensorDetail: a result's Detail members past its labels: an audio piece's (text is
// AudioText on audio streams, Content on a video's audio) or a frame's.
func zegoCensorDetail(text string, image bool) []Field {
	var fs []Field
	if image {
		fs = []Field{zegoF("ImgUrl", TString, "", "the frame")}
	} else {
		fs = []Field{
			zegoF(text, TString, "", "the audio piece's text"),
			zegoF("AudioUrl", TString, "", "the 10 s audio piece"),
			zegoF("PreAudioUrl", TString, "", "the piece and the one before (ReturnPreAudio=1)"),
			zegoF("VadStatus", TInteger, "", "0 silence, 1 speech"),
		}
	}
	fs = append(fs,
		zegoF("RiskDetail", TObject, "", "the highest risk's details"),
		zegoF("RiskInfoList", TArray, "", "every risk found, highest first"),
		zegoF("RiskInfoList[].RiskDetail", TObject, "", "the risk's details"),
		zegoF("BusinessInfoList", TArray, "", "the business labels"),
		zegoF("BusinessInfoList[].BusinessDescription", TString, "", "the labels in Chinese, colon-separated"),
		zegoF("BusinessInfoList[].BusinessLabel1", TString, "", ""),
		zegoF("BusinessInfoList[].BusinessLabel2", TString, "", ""),
		zegoF("BusinessInfoList[].BusinessLabel3", TString, "", ""),
		zegoF("BusinessInfoList[].BusinessLabe3", TString, "", "BusinessLabel3 as the pages' tables spell it"),
		zegoF("BusinessInfoList[].ConfidenceLevel", TInteger, "", ""),
		zegoF("BusinessInfoList[].Probability", TNumber, "", "confidence, 0 to 1"))
	if image {
		fs = append(fs, zegoF("RiskInfoList[].Probability", TNumber, "", "confidence, 0 to 1"),
			zegoF("BusinessInfoList[].BusinessDetail", TObject, "", "the business label's details"),
			zegoF("BusinessInfoList[].BusinessDetail.FaceInfoList", "array|null", "", "the faces"))
		fs = append(fs, under("BusinessInfoList[].BusinessDetail.FaceInfoList[]", zegoFace...)...)
	}
	return slices.Concat(fs, zegoRiskDetail("RiskDetail", image), zegoRiskLabels("RiskInfoList[]"),
		zegoRiskDetail("RiskInfoList[].RiskDetail", image), zegoRiskDetail("RiskInfoList[]", image))
}

var zegoFace = []Field{
	zegoF("Name", TString, "", "the person"),
	zegoF("Id", TString, "", "the face's number in the frame"),
	zegoF("FaceRatio", TNumber, "", "the face's share of the frame, 0 to 1"),
	zegoF("Probability", TNumber, "", "confidence, 0 to 1"),
	zegoF("Location", TArray, "px", "left, top, right, bottom"),
	zegoF("Location[]", TNumber, "px", ""),
}

// zegoRecording: cloud recording v2 (cloud-recording-server/end-callback.md): detail holds the
// event's own members; declared without any (the events ZEGO documents as empty), it is open.
func zegoRecording(detail ...Field) []Field {
	return append([]Field{
		{Path: "app_id", Type: TInteger, Required: true, BigID: true, Desc: "the ZEGO app (an Int64); the CloudEvent's source"},
		{Path: "task_id", Type: TString, Required: true, Desc: "the recording task (16 bytes); the CloudEvent's subject"},
		{Path: "room_id", Type: TString, Required: true, Desc: "the room recorded"},
		{Path: "event_type", Type: TInteger, Required: true, Desc: "the event's number"},
		zegoF("message", TString, "", "the event, in words"),
		{Path: "sequence", Type: TInteger, Required: true, Desc: "the message's number, from 0"},
		{Path: "detail", Type: TObject, Required: true, Desc: zegoDetailDesc(detail)},
	}, under("detail", detail...)...)
}

// zegoDetailDesc describes a detail object: the event's own members, or, on an event whose
// detail ZEGO documents as empty, why it is open.
func zegoDetailDesc(members []Field) string {
	if len(members) == 0 {
		return "empty, as ZEGO documents it for this event (declared without members, so open)"
	}
	return "the event's own members"
}

var zegoRecordedFile = []Field{
	zegoF("user_id", TString, "", "the publisher (the mix's output stream when mixed)"),
	zegoF("user_name", TString, "", "the publisher's name"),
	zegoF("stream_id", TString, "", "the stream"),
	zegoF("file_id", TString, "", "the file's name"),
	zegoF("video_id", TString, "", "the Alibaba or Tencent VOD id"),
	zegoF("file_url", TString, "", "the file's URL (not for Qiniu or Alibaba VOD)"),
	zegoF("output_file_format", TString, "", "mp4, flv, hls, aac or jpg"),
	zegoF("file_size", TInteger, "bytes", "the file's size"),
	zegoF("duration", TInteger, "ms", "the file's duration"),
	zegoF("resolution_width", TInteger, "px", ""),
	zegoF("resolution_height", TInteger, "px", ""),
	zegoF("media_track_type", TInteger, "", "1 audio, 2 video, 3 both"),
	zegoF("begin_timestamp", TInteger, "ms", "when the file's recording began"),
	zegoF("status", TInteger, "", "3 uploaded, 4 in ZEGO's backup storage (3 days), 5 upload failed"),
}

// zegoPlayerCommon: the cloud player's members (cloud-player-server/callback/callback.md); AppID
// and EventTime are numbers on player events and strings in the upload example.
func zegoPlayerCommon(own, detail []Field) []Field {
	return append([]Field{
		{Path: "AppID", Type: "integer|string", Required: true, Desc: "the ZEGO app; the CloudEvent's source"},
		{Path: "EventType", Type: TInteger, Required: true, Desc: "the event's number"},
		{Path: "EventTime", Type: "integer|string", Unit: "ms", Required: true, Desc: "when it happened; orders the events"},
		{Path: "Detail", Type: TObject, Required: true, Desc: zegoDetailDesc(detail)},
	}, slices.Concat(own, detail)...)
}

// zegoPlayer: a player event (1–4), Detail's members given.
func zegoPlayer(detail ...Field) []Field {
	return zegoPlayerCommon([]Field{
		zegoF("RoomId", TString, "", "the room"),
		{Path: "PlayerId", Type: TString, Required: true, Desc: "the player; the CloudEvent's subject"},
		zegoF("PlayerName", TString, "", "the player's name"),
	}, detail)
}

// zegoUpload: an upload task event (10001–10006), Detail's members given.
func zegoUpload(detail ...Field) []Field {
	return zegoPlayerCommon([]Field{
		{Path: "UploadTaskId", Type: TString, Required: true, Desc: "the upload task; the CloudEvent's subject"},
		zegoF("StreamUrl", TString, "", "the file uploaded"),
		zegoF("Title", TString, "", "its title"),
	}, detail)
}

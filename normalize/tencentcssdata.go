package normalize

import "slices"

// tencentPush: the members of stream push started and ended (event_type 1 and 0).
var tencentPush = []Field{
	{Path: "app", Type: TString, Desc: "the push domain"},
	{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
	{Path: "errcode", Type: TInteger, Desc: "the push's error code, 0 none"},
	{Path: "errmsg", Type: TString, Desc: "the push's error message"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
	{Path: "idc_id", Type: TInteger, Desc: "Tencent's data centre id"},
	{Path: "node", Type: TString, Desc: "the edge node's IP"},
	{Path: "sequence", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
	{Path: "set_id", Type: TInteger, Desc: "1 not a Tencent Cloud push, 2 a Tencent Cloud push"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "user_ip", Type: TString, Desc: "the pushing user's IP"},
	{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
}

// tencentRelay: the members of every relay (拉流转推) event, event_type 314.
var tencentRelay = []Field{
	{Path: "callback_event", Type: TString, Required: true, Desc: "the relay event: TaskStart, TaskExit, VodSourceFileStart, VodSourceFileFinish or TaskAlarm"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "interface", Type: TString, Desc: "general_callback"},
	{Path: "msg", Type: TObject, Desc: "the relay event's details"},
	{Path: "product_name", Type: TString, Desc: "pullpush"},
	{Path: "source_urls", Type: TArray, Desc: "the task's sources"},
	{Path: "source_urls[]", Type: TString, Desc: "a source's URL"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "task_id", Type: TString, Desc: "the task's id"},
	{Path: "to_url", Type: TString, Desc: "where the task pushes"},
}

// tencentRelayFile: the members a relay event about an on-demand source file adds.
var tencentRelayFile = []Field{
	{Path: "callback_url", Type: TString, Desc: "the URL the callback was sent to"},
	{Path: "msg.url", Type: TString, Desc: "the source file's URL"},
	{Path: "msg.index", Type: TInteger, Desc: "the source file's index in source_urls, from 0"},
	{Path: "msg.duration", Type: TInteger, Unit: "ms", Desc: "the source file's length"},
}

// tencentRecordStatus: the members of every recording status event, event_type 332.
var tencentRecordStatus = []Field{
	{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	{Path: "domain", Type: TString, Desc: "the push domain"},
	{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
	{Path: "record_detail", Type: TObject, Desc: "the recording's settings"},
	{Path: "record_detail.file_format", Type: TInteger, Desc: "the file format: 1 flv, 2 hls, 3 mp4, 4 aac"},
	{Path: "record_detail.record_bps", Type: TInteger, Unit: "kbps", Desc: "the recording's bitrate, 0 the source's"},
	{Path: "record_detail.start_model", Type: TInteger, Desc: "how the recording was started"},
	{Path: "record_detail.record_content", Type: TInteger, Desc: "what is recorded"},
	{Path: "record_detail.source_type", Type: TInteger, Desc: "the recording's source"},
	{Path: "record_detail.codec_temp_id", Type: TInteger, Desc: "the transcoding template's id, 0 none"},
	{Path: "record_event", Type: TString, Required: true, Desc: "the recording status: record_start_succeeded, record_start_failed, record_paused, record_resumed, record_error or record_ended"},
	{Path: "seq", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
	{Path: "session_id", Type: TString, BigID: true, Desc: "the recording session's id (a 64-bit decimal string)"},
	{Path: "stream_id", Type: TString, Desc: "the stream's name"},
	{Path: "task_id", Type: TString, Desc: "the task's id"},
}

// tencentCSSData: the callback as published, from Tencent's CSS callback pages and examples
// (PROTOCOLS.md); t and sign (signature material) and stream_param (the push URL's parameters) are
// left out, msg, source_urls, callback_ext and record_detail are decoded from their JSON strings.
var tencentCSSData = []Field{
	{Path: "appid", Type: TInteger, Required: true, Desc: "the Tencent Cloud account's APPID"},
	{Path: "event_type", Type: TInteger, Required: true, Desc: "the event's code: 0 push ended, 1 push started, 100 recording, 200 snapshot, 314 relay, 317 moderation, 321 push exception, 332 recording status"},
}

// tencentCSSEventData: each event's own members, by EventDef Name.
var tencentCSSEventData = map[string][]Field{
	"stream.ended": slices.Concat(tencentPush, []Field{
		{Path: "push_duration", Type: TString, Unit: "ms", Desc: "how long the push lasted (a decimal string)"},
	}),
	"stream.started": tencentPush,
	"recording.file.created": {
		{Path: "app", Type: TString, Desc: "the push domain"},
		{Path: "appname", Type: TString, Desc: "the push path (application name)"},
		{Path: "callback_ext", Type: TObject, Desc: "extra members of the recording, as set when it was created"},
		{Path: "callback_ext.video_codec", Type: TString, Desc: "the video codec"},
		{Path: "callback_ext.resolution", Type: TString, Desc: "the video's resolution, WxH"},
		{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
		{Path: "duration", Type: TInteger, Unit: "s", Desc: "the recording file's length"},
		{Path: "end_time", Type: TInteger, Unit: "s", Desc: "when the file's recording ended (Unix time)"},
		{Path: "end_time_usec", Type: TInteger, Unit: "us", Desc: "the microseconds of end_time"},
		{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
		{Path: "file_format", Type: TString, Desc: "the file's format: flv, hls, mp4 or aac"},
		{Path: "file_id", Type: TString, BigID: true, Desc: "the file's VOD id (a 64-bit decimal string)"},
		{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size"},
		{Path: "media_start_time", Type: TInteger, Unit: "ms", Desc: "the offset of the file's first media timestamp"},
		{Path: "record_bps", Type: TInteger, Unit: "kbps", Desc: "the recording's bitrate, 0 the source's"},
		{Path: "record_file_id", Type: TString, BigID: true, Desc: "the file's VOD id, as file_id"},
		{Path: "record_temp_id", Type: TInteger, Desc: "the recording template's id"},
		{Path: "start_time", Type: TInteger, Unit: "s", Desc: "when the file's recording started (Unix time)"},
		{Path: "start_time_usec", Type: TInteger, Unit: "us", Desc: "the microseconds of start_time"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "task_id", Type: TString, Desc: "the task's id"},
		{Path: "video_url", Type: TString, Desc: "the file's URL"},
	},
	"snapshot.created": {
		{Path: "channel_id", Type: TString, Desc: "the stream's channel id, the same as stream_id"},
		{Path: "create_time", Type: TInteger, Unit: "s", Desc: "when the snapshot was taken (Unix time)"},
		{Path: "event_time", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time); a number, or a decimal string on relay events"},
		{Path: "file_size", Type: TInteger, Unit: "bytes", Desc: "the file's size"},
		{Path: "height", Type: TInteger, Unit: "px", Desc: "the video's height"},
		{Path: "pic_full_url", Type: TString, Desc: "the snapshot's full URL"},
		{Path: "pic_url", Type: TString, Desc: "the snapshot's path in storage"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "task_id", Type: TString, Desc: "the task's id"},
		{Path: "width", Type: TInteger, Unit: "px", Desc: "the video's width"},
	},
	"relay.task.alarm": slices.Concat(tencentRelay, []Field{
		{Path: "msg.type", Type: TString, Desc: "the alarm: PullFileUnstable, PushStreamUnstable, ..."},
		{Path: "msg.message", Type: TString, Desc: "what happened"},
		{Path: "msg.alarm_time", Type: TInteger, Unit: "ms", Desc: "when the alarm was raised"},
	}),
	"relay.task.exited": slices.Concat(tencentRelay, []Field{
		{Path: "msg.message", Type: TString, Desc: "what happened"},
		{Path: "msg.code", Type: TInteger, Desc: "the exit's error code"},
		{Path: "msg.task_exit_time", Type: TInteger, Unit: "ms", Desc: "when the task exited"},
	}),
	"relay.task.started": slices.Concat(tencentRelay, []Field{
		{Path: "msg.task_start_time", Type: TInteger, Unit: "ms", Desc: "when the task started; 0 in Tencent's example"},
	}),
	"relay.vodfile.finished": slices.Concat(tencentRelay, tencentRelayFile),
	"relay.vodfile.started":  slices.Concat(tencentRelay, tencentRelayFile),
	"moderation.image": {
		{Path: "streamId", Type: TString, Desc: "the stream's name"},
		{Path: "channelId", Type: TString, Desc: "the stream's channel id"},
		{Path: "img", Type: TString, Desc: "the screenshot's URL"},
		{Path: "type", Type: TArray, Desc: "the moderation types hit"},
		{Path: "type[]", Type: TInteger, Desc: "a moderation type: 1 porn, ..."},
		{Path: "score", Type: TArray, Desc: "the scores, per type"},
		{Path: "score[]", Type: TInteger, Desc: "a score, 0 to 100"},
		{Path: "ocrMsg", Type: TString, Desc: "the text recognised in the image"},
		{Path: "suggestion", Type: TString, Desc: "Block, Review or Pass"},
		{Path: "label", Type: TString, Desc: "the label hit, such as Porn"},
		{Path: "subLabel", Type: TString, Desc: "the sub-label hit"},
		{Path: "labelResults", Type: TArray, Desc: "the results per scene"},
		{Path: "labelResults[]", Type: TObject, Desc: "a scene's result"},
		{Path: "labelResults[].HitFlag", Type: TInteger, Desc: "1 the scene hit"},
		{Path: "labelResults[].Scene", Type: TString, Desc: "the scene"},
		{Path: "labelResults[].Suggestion", Type: TString, Desc: "Block, Review or Pass"},
		{Path: "labelResults[].Label", Type: TString, Desc: "the label"},
		{Path: "labelResults[].SubLabel", Type: TString, Desc: "the sub-label"},
		{Path: "labelResults[].Score", Type: TInteger, Desc: "the score, 0 to 100"},
		{Path: "labelResults[].Details", Type: TArray, Desc: "the labels in detail"},
		{Path: "labelResults[].Details[]", Type: TObject, Desc: "a label"},
		{Path: "labelResults[].Details[].Id", Type: TInteger, Desc: "the detail's index"},
		{Path: "labelResults[].Details[].Name", Type: TString, Desc: "the label's name"},
		{Path: "labelResults[].Details[].Score", Type: TInteger, Desc: "the score, 0 to 100"},
		{Path: "screenshotTime", Type: TInteger, Unit: "s", Desc: "when the screenshot was taken (Unix time)"},
		{Path: "sendTime", Type: TInteger, Unit: "s", Desc: "when the result was sent (Unix time)"},
		{Path: "app", Type: TString, Desc: "the push domain"},
		{Path: "appname", Type: TString, Desc: "the push path (application name)"},
	},
	"stream.push.abnormal": {
		{Path: "abnormal_event", Type: TArray, Desc: "the exceptions in the report interval"},
		{Path: "abnormal_event[]", Type: TObject, Desc: "an exception"},
		{Path: "abnormal_event[].count", Type: TInteger, Desc: "how many times the exception happened"},
		{Path: "abnormal_event[].detail", Type: TArray, Desc: "each occurrence"},
		{Path: "abnormal_event[].detail[]", Type: TObject, Desc: "an occurrence"},
		{Path: "abnormal_event[].detail[].desc", Type: TString, Desc: "what happened"},
		{Path: "abnormal_event[].detail[].occur_time", Type: TInteger, Unit: "ms", Desc: "when it happened"},
		{Path: "abnormal_event[].type", Type: TInteger, Desc: "the exception's code"},
		{Path: "abnormal_event[].type_desc_cn", Type: TString, Desc: "the exception, in Chinese"},
		{Path: "abnormal_event[].type_desc_en", Type: TString, Desc: "the exception, in English"},
		{Path: "data_time", Type: TInteger, Unit: "ms", Desc: "when the report was made"},
		{Path: "domain", Type: TString, Desc: "the push domain"},
		{Path: "interface", Type: TString, Desc: "general_callback"},
		{Path: "path", Type: TString, Desc: "the push path (application name)"},
		{Path: "report_interval", Type: TInteger, Unit: "ms", Desc: "the report interval"},
		{Path: "sequence", Type: TString, BigID: true, Desc: "the message's sequence number (a 64-bit decimal string)"},
		{Path: "stream_id", Type: TString, Desc: "the stream's name"},
		{Path: "timeout", Type: TInteger, Unit: "ms", Desc: "the report's timeout"},
	},
	"recording.ended":        tencentRecordStatus,
	"recording.error":        tencentRecordStatus,
	"recording.paused":       tencentRecordStatus,
	"recording.resumed":      tencentRecordStatus,
	"recording.start_failed": tencentRecordStatus,
	"recording.started":      tencentRecordStatus,
}

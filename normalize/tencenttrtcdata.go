package normalize

import "slices"

// trtcRecStatus: a cloud-recording event reporting a Status.
var trtcRecStatus = []Field{
	{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
	{Path: "EventInfo.Payload.Status", Type: TInteger, Desc: "0 success, else a failure"},
}

// trtcRecLeave: a cloud-recording event reporting a LeaveCode.
var trtcRecLeave = []Field{
	{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
	{Path: "EventInfo.Payload.LeaveCode", Type: TInteger, Desc: "why the module stopped: 0 normal, else abnormal"},
}

// trtcRecording: the members of every cloud-recording event (EventGroupId 3).
var trtcRecording = []Field{
	{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	{Path: "EventInfo.TaskId", Type: TString, Desc: "the recording task's id"},
	{Path: "EventInfo.Payload", Type: TObject, Desc: "the recording event's own members"},
}

// trtcData: the callback as published, from TRTC's room, media and cloud-recording callback pages
// (PROTOCOLS-MORE.md §2); CallbackTs, the send time, is left out.
var trtcData = []Field{
	{Path: "EventGroupId", Type: TInteger, Required: true, Desc: "1 room events, 2 media events, 3 cloud recording"},
	{Path: "EventType", Type: TInteger, Required: true, Desc: "the event's code, unique across groups"},
	{Path: "EventInfo", Type: TObject, Required: true, Desc: "the event's members"},
	{Path: "EventInfo.RoomId", Type: TString + "|" + TInteger, Required: true, Desc: "the room: a string room id, or a number (the media examples write one)"},
	{Path: "EventInfo.EventTs", Type: TString + "|" + TInteger, Unit: "s", Desc: "when the event happened (Unix time), kept for compatibility; a decimal string in the recording examples"},
	{Path: "EventInfo.EventMsTs", Type: TInteger, Unit: "ms", Desc: "when the event happened (Unix time)"},
}

// trtcEventData: each event's own members, by EventDef Name.
var trtcEventData = map[string][]Field{
	"room.created": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.dismissed": {},
	"room.user.entered": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.UniqueId", Type: TInteger, Desc: "a value unique to this entry, to tell a user's entries apart"},
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
		{Path: "EventInfo.TerminalType", Type: TInteger, Desc: "the user's terminal: 1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, ..."},
		{Path: "EventInfo.UserType", Type: TInteger, Desc: "the SDK: 3 native, 6 web, ..."},
		{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"},
	},
	"room.user.exited": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
		{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"},
	},
	"room.user.role_changed": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.Role", Type: TInteger, Desc: "the user's role: 20 anchor, 21 audience"},
	},
	"media.video.started": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	},
	"media.video.stopped": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"},
	},
	"media.audio.started": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	},
	"media.audio.stopped": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"},
	},
	"media.substream.started": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
	},
	"media.substream.stopped": {
		{Path: "EventInfo.UserId", Type: TString, Desc: "the user's id"},
		{Path: "EventInfo.Reason", Type: TInteger, Desc: "why: on entering 1 normal, 2 reconnected; on exiting 1 normal, 2 timed out, 3 removed, 4 dismissed; on media stopped 0 normal"},
	},
	"recording.recorder.started": trtcRecStatus,
	"recording.recorder.stopped": trtcRecLeave,
	"recording.upload.started":   trtcRecStatus,
	"recording.file.info": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.FileList", Type: TString, Desc: "the m3u8 index file's name"},
	}),
	"recording.upload.stopped": trtcRecLeave,
	"recording.failover":       trtcRecStatus,
	"recording.file.slice": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.FileName", Type: TString, Desc: "the file's name"},
		{Path: "EventInfo.Payload.UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.BeginTimeStamp", Type: TString, Unit: "ms", Desc: "when the slice started (Unix time, a decimal string)"},
	}),
	"recording.image.download_failed": slices.Concat(trtcRecording, []Field{
		{Path: "EventInfo.Payload.Url", Type: TString, Desc: "the image that failed to download"},
	}),
	"recording.mp4.stopped": slices.Concat(trtcRecStatus, []Field{
		{Path: "EventInfo.Payload.FileList", Type: TArray, Desc: "the files written"},
		{Path: "EventInfo.Payload.FileList[]", Type: TString, Desc: "a file's name"},
		{Path: "EventInfo.Payload.FileMessage", Type: TArray, Desc: "the files written, in detail"},
		{Path: "EventInfo.Payload.FileMessage[]", Type: TObject, Desc: "a file"},
		{Path: "EventInfo.Payload.FileMessage[].FileName", Type: TString, Desc: "the file's name"},
		{Path: "EventInfo.Payload.FileMessage[].UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.FileMessage[].TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.FileMessage[].MediaId", Type: TString, Desc: "main or aux (the substream)"},
		{Path: "EventInfo.Payload.FileMessage[].StartTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording started (Unix time)"},
		{Path: "EventInfo.Payload.FileMessage[].EndTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording ended (Unix time)"},
	}),
	"recording.vod.committed": slices.Concat(trtcRecStatus, []Field{
		{Path: "EventInfo.Payload.TencentVod", Type: TObject, Desc: "the file committed to VOD"},
		{Path: "EventInfo.Payload.TencentVod.UserId", Type: TString, Desc: "the user recorded"},
		{Path: "EventInfo.Payload.TencentVod.TrackType", Type: TString, Desc: "audio, video or audio_video"},
		{Path: "EventInfo.Payload.TencentVod.MediaId", Type: TString, Desc: "main or aux (the substream)"},
		{Path: "EventInfo.Payload.TencentVod.FileId", Type: TString, BigID: true, Desc: "the file's VOD id (a 64-bit decimal string)"},
		{Path: "EventInfo.Payload.TencentVod.VideoUrl", Type: TString, Desc: "the file's playback URL"},
		{Path: "EventInfo.Payload.TencentVod.CacheFile", Type: TString, Desc: "the file's name before upload"},
		{Path: "EventInfo.Payload.TencentVod.StartTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording started (Unix time)"},
		{Path: "EventInfo.Payload.TencentVod.EndTimeStamp", Type: TInteger, Unit: "ms", Desc: "when the file's recording ended (Unix time)"},
	}),
	"recording.vod.stopped": trtcRecStatus,
}

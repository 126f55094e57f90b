package normalize

import "slices"

// volcTask: the members of a task event reporting a Code (not documented but for RecordStarted).
var volcTask = []Field{
	{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
	{Path: "EventData.Code", Type: TInteger, Desc: "0 success, 1 failure"},
}

// volcStreams: the members of a segment or snapshot event: its task and, per file, the stream
// captured.
var volcStreams = []Field{
	{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
	{Path: "EventData.Data", Type: TArray, Desc: "the files made"},
	{Path: "EventData.Data[]", Type: TObject, Desc: "a file"},
	{Path: "EventData.Data[].Stream", Type: TObject, Desc: "the stream captured"},
	{Path: "EventData.Data[].Stream.UserId", Type: TString, Desc: "the user whose stream it is"},
	{Path: "EventData.Data[].Stream.StreamType", Type: TInteger, Desc: "0 main stream, 1 screen share"},
}

// volcData: the callback as published, from Volcengine's callback pages (75124 the envelope, 75125
// RecordStarted's EventData; PROTOCOLS-MORE.md §3), with EventData decoded from its string and
// EventTime (the event's time), Signature and Nonce left out. Only RecordStarted's EventData is
// documented: the other events' members are those the examples carry, and none is Required.
var volcData = []Field{
	{Path: "AppId", Type: TString, Required: true, Desc: "the RTC application's id"},
	{Path: "EventData", Type: TObject, Required: true, Desc: "the event's members, decoded from the JSON string Volcengine sends"},
	{Path: "EventData.AppId", Type: TString, Desc: "the RTC application's id"},
	{Path: "EventData.BusinessId", Type: TString, Desc: "the business id the task or room was given"},
	{Path: "EventData.RoomId", Type: TString, Desc: "the room's id"},
	{Path: "EventId", Type: TString, Required: true, Desc: "the event's id, unique, for deduplication; the CloudEvent's id"},
	{Path: "EventType", Type: TString, Required: true, Desc: "the event's name, such as RecordStarted"},
	{Path: "Version", Type: TString, Required: true, Desc: "the callback's version, 2020-12-01"},
}

// volcEventData: each event's own members, by EventDef Name.
var volcEventData = map[string][]Field{
	"room.invisible_user.joined": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.invisible_user.left": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"recording.started": {
		{Path: "EventData.TaskId", Type: TString, Required: true, Desc: "the task's id"},
		{Path: "EventData.Code", Type: TInteger, Required: true, Desc: "0 success, 1 failure"},
		{Path: "EventData.ErrorMessage", Type: TString, Desc: "why it failed, when Code is not 0"},
	},
	"recording.stopped": volcTask,
	"room.user.visible": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.user.invisible": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.destroyed": {},
	"segment.realtime_data": slices.Concat(volcStreams, []Field{
		{Path: "EventData.Data[].Segment", Type: TString, Desc: "the audio segment's URL"},
		{Path: "EventData.Data[].Duration", Type: TInteger, Unit: "s", Desc: "the segment's length"},
	}),
	"snapshot.realtime_data": slices.Concat(volcStreams, []Field{
		{Path: "EventData.Data[].Snapshot", Type: TString, Desc: "the snapshot's URL"},
	}),
	"transcode.started": volcTask,
	"transcode.state_changed": {
		{Path: "EventData.TaskId", Type: TString, Desc: "the task's id"},
		{Path: "EventData.State", Type: TInteger, Desc: "the transcoding task's new state"},
	},
	"transcode.stopped": volcTask,
	"transcode.updated": volcTask,
	"room.user.joined": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
	"room.user.left": {
		{Path: "EventData.UserId", Type: TString, Desc: "the user's id"},
	},
}

package normalize

import "slices"

// alibabaPublish: the members of publish and publish_done callbacks (query parameters).
var alibabaPublish = []Field{
	{Path: "action", Type: TString, Required: true, Desc: "publish or publish_done"},
	{Path: "ip", Type: TString, Required: true, Desc: "the pushing client's IP"},
	{Path: "id", Type: TString, Required: true, Desc: "the stream's name"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "appname", Type: TString, Required: true, Desc: "the application name"},
	{Path: "time", Type: TString + "|" + TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time); a string if the query's value is not a plain integer"},
	{Path: "usrargs", Type: TString, Required: true, Desc: "the push URL's parameters, as the user gave them"},
	{Path: "node", Type: TString, Required: true, Desc: "the CDN node's name"},
}

// alibabaStatus: the members of a recording status callback (NeedStatusNotify).
var alibabaStatus = []Field{
	{Path: "domain", Type: TString, Required: true, Desc: "the streaming domain"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "stream", Type: TString, Required: true, Desc: "the stream's name"},
	{Path: "event", Type: TString, Required: true, Desc: "record_started, record_paused or record_resumed"},
}

// alibabaRecording: the members every recording callback has.
var alibabaRecording = []Field{
	{Path: "domain", Type: TString, Required: true, Desc: "the streaming domain"},
	{Path: "app", Type: TString, Required: true, Desc: "on publish callbacks the ingest domain; on recording callbacks the application name"},
	{Path: "stream", Type: TString, Required: true, Desc: "the stream's name"},
}

// alibabaEventData: each event's own members, by EventDef Name: the callback's fields as published,
// from Alibaba Cloud's callback pages (199365 publish, 55016 recording; PROTOCOLS-MORE.md §4):
// publish callbacks' query parameters decoded into members, time, height and width as numbers when
// they are plain integers. Publish and recording callbacks share no member (app is the ingest
// domain on one, the application name on the other), so Data is not set.
var alibabaEventData = map[string][]Field{
	"stream.published": slices.Concat(alibabaPublish, []Field{
		{Path: "height", Type: TString + "|" + TInteger, Unit: "px", Desc: "the video's height, on the first callback only; a string if the query's value is not a plain integer"},
		{Path: "width", Type: TString + "|" + TInteger, Unit: "px", Desc: "the video's width, on the first callback only; a string if the query's value is not a plain integer"},
	}),
	"stream.unpublished": alibabaPublish,
	"recording.file.created": slices.Concat(alibabaRecording, []Field{
		{Path: "uri", Type: TString, Required: true, Desc: "the file's path in OSS"},
		{Path: "duration", Type: TNumber, Unit: "s", Required: true, Desc: "the file's length"},
		{Path: "start_time", Type: TInteger, Unit: "s", Required: true, Desc: "when the file's recording started (Unix time)"},
		{Path: "stop_time", Type: TInteger, Unit: "s", Required: true, Desc: "when the file's recording stopped (Unix time)"},
		{Path: "push_args", Type: TObject, Desc: "the push URL's parameters whose names start with callback_, first value of each: a free map of strings (open)"},
	}),
	"recording.paused":  alibabaStatus,
	"recording.resumed": alibabaStatus,
	"recording.started": alibabaStatus,
}

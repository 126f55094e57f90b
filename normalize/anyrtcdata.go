package normalize

import "slices"

// anyrtcUser: the members of an RTC event about a user joining or leaving.
var anyrtcUser = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TInteger, Required: true, Desc: "the user's UID"},
	{Path: "platform", Type: TInteger, Required: true, Desc: "the user's device: 1 Android, 2 iOS, 5 Windows, 6 Linux, 7 Web, 8 macOS, 0 other"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
	{Path: "uSId", Type: TString, Required: true, Desc: "the user's session id, telling apart a user's entries"},
}

// anyrtcRole: the members of an RTC role change.
var anyrtcRole = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TInteger, Required: true, Desc: "the user's UID"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
	{Path: "uSId", Type: TString, Required: true, Desc: "the user's session id, telling apart a user's entries"},
}

// anyrtcChannel: the members of an RTC channel event.
var anyrtcChannel = []Field{
	{Path: "channelName", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "ts", Type: TInteger, Unit: "s", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channelSId", Type: TString, Required: true, Desc: "the channel's session id, telling apart channels that reuse a name"},
}

// anyrtcPush: the members of a CDN push state event.
var anyrtcPush = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the push event: PublishStream, UnpublishStream, PublishStatus, UpdateTranscoding, PublishRequest or PublishFirstFrame"},
	{Path: "stream", Type: TString, Required: true, Desc: "the RTMP push URL"},
	{Path: "code", Type: TInteger, Required: true, Desc: "200 success; 450-456 request errors; 30-33 RTMP handshake, connect, publish failed, TCP closed"},
	{Path: "time", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "reason", Type: TString, Required: true, Desc: "the reason, as text"},
	{Path: "channel", Type: TString, Required: true, Desc: "the channel's name"},
}

// anyrtcMedia: the output's media, on PublishStream and UpdateTranscoding.
var anyrtcMedia = []Field{
	{Path: "videoCodec", Type: TString, Required: true, Desc: "H.264 or H.265"},
	{Path: "videoProfile", Type: TString, Required: true, Desc: "High, Main or Baseline"},
	{Path: "width", Type: TInteger, Unit: "px", Required: true, Desc: "the output video's width"},
	{Path: "height", Type: TInteger, Unit: "px", Required: true, Desc: "the output video's height"},
	{Path: "audioCodec", Type: TString, Required: true, Desc: "AAC"},
	{Path: "audioProfile", Type: TString, Required: true, Desc: "LC or HE"},
	{Path: "audioChannels", Type: TInteger, Required: true, Desc: "the output audio's channels"},
	{Path: "audioSampleRate", Type: TInteger, Unit: "Hz", Required: true, Desc: "the output audio's sample rate"},
}

// anyrtcRequest: the members of a CDN push request event.
var anyrtcRequest = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the push event: PublishStream, UnpublishStream, PublishStatus, UpdateTranscoding, PublishRequest or PublishFirstFrame"},
	{Path: "stream", Type: TString, Required: true, Desc: "the RTMP push URL"},
	{Path: "time", Type: TInteger, Unit: "ms", Required: true, Desc: "when the event happened (Unix time)"},
	{Path: "channel", Type: TString, Required: true, Desc: "the channel's name"},
	{Path: "uid", Type: TString, Required: true, Desc: "the user's UID"},
}

// anyrtcEventData: each event's own members, by EventDef Name: the notification's payload as
// published, from anyRTC's NCS event-type page (anyrtc-ncs-event-types.zh.txt), which lists the
// members of each event: every one listed is Required. RTC and CDN push events share none (uid is a
// number on RTC events, a string on CDN push events), so Data is not set.
var anyrtcEventData = map[string][]Field{
	"rtc.channel.created":    anyrtcChannel,
	"rtc.channel.destroyed":  anyrtcChannel,
	"rtc.broadcaster.joined": anyrtcUser,
	"rtc.broadcaster.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.audience.joined": anyrtcUser,
	"rtc.audience.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.user.joined": anyrtcUser,
	"rtc.user.left": slices.Concat(anyrtcUser, []Field{
		{Path: "reason", Type: TInteger, Required: true, Desc: "why the user left: 1 normal, 2 timed out, 3 permission (kicked), 4 server, 5 switched device, 0 other"},
	}),
	"rtc.role.broadcaster":    anyrtcRole,
	"rtc.role.audience":       anyrtcRole,
	"cdn.publish.started":     slices.Concat(anyrtcPush, anyrtcMedia),
	"cdn.publish.stopped":     anyrtcPush,
	"cdn.publish.status":      anyrtcPush,
	"cdn.transcoding.updated": slices.Concat(anyrtcPush, anyrtcMedia),
	"cdn.publish.requested":   anyrtcRequest,
	"cdn.publish.first_frame": slices.Concat(anyrtcRequest, []Field{
		{Path: "elapse", Type: TInteger, Unit: "ms", Required: true, Desc: "from the push request to the first video frame pushed"},
		{Path: "retry", Type: TBool, Required: true, Desc: "true: anyRTC's server pushing again; false: the first push"},
	}),
}

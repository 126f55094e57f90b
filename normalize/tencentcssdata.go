package normalize

// tencentCSSCanonical maps Tencent CSS's push and stream-end, its recording file and recording
// status events and its relay (拉流转推) tasks to the canonical RTC events (SPEC §9). A live
// stream is the room: room_id is stream_id, and a push's sequence (shared by a push and its
// stream-end) is the room's session. The relay task pulls source_urls into the stream (pull).
var tencentCSSCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "appid"},
		{To: "room_id", From: "stream_id"},
	},
	Events: map[string][]Mapping{
		"stream.started": {{Type: StreamPublished, Set: tencentCSSPushSets()}},
		"stream.ended": {{Type: StreamUnpublished, Set: append(tencentCSSPushSets(),
			Set{To: "reason", From: "errcode", Values: tencentCSSEndReasons},
			Set{To: "duration_s", From: "push_duration", Unit: "ms"})}},

		"recording.file.created": {{Type: RecordingFileReady, Set: []Set{
			{To: "recording.task_id", From: "task_id"},
			{To: "recording.files", From: "video_url"},
			{To: "duration_s", From: "duration", Unit: "s"},
		}}},
		"recording.started":      {{Type: RecordingStarted, Set: tencentCSSRecSets()}},
		"recording.start_failed": {{Type: RecordingFailed, Set: tencentCSSRecSets()}},
		"recording.error":        {{Type: RecordingFailed, Set: tencentCSSRecSets()}},
		"recording.ended":        {{Type: RecordingEnded, Set: tencentCSSRecSets()}},

		"relay.task.started":     {{Type: RelayStarted, Set: tencentCSSRelaySets()}},
		"relay.vodfile.started":  {{Type: RelayStateChanged, Set: tencentCSSRelaySets()}},
		"relay.vodfile.finished": {{Type: RelayStateChanged, Set: tencentCSSRelaySets()}},
		"relay.task.alarm": {{Type: RelayStateChanged, Set: tencentCSSRelaySets(
			Set{To: "relay.state", From: "msg.type"}, Set{To: "relay.error", From: "msg.message"})}},
		"relay.task.exited": {{Type: RelayEnded, Set: tencentCSSRelaySets(
			Set{To: "relay.error", From: "msg.message"})}},
	},
	Gaps: "no participants (a live stream has one pusher, and viewers are not reported); a push names no pusher id; a recording's start and failure carry no error text and its status events name no file; a relay's url is the first of its sources (source_urls), and TaskExit may be followed by a retry of the same task",
}

// tencentCSSEndReasons: stream-end errcode (Tencent CSS 推流断流错误码,
// https://www.tencentcloud.com/zh/document/product/267/31083). 21 (a DropLiveStream or ban, or a
// new push replacing this one) tells them apart only in its sub-code, which the callback lacks.
var tencentCSSEndReasons = map[string]string{
	"1": "left", "2": "left", "3": "left", "4": "left",
	"5": "server", "9": "server", "11": "server", "24": "server",
	"8": "timeout", "20": "timeout",
	"12": "timeout", "13": "timeout", "14": "timeout", "15": "timeout", "16": "timeout", "17": "timeout",
	"18": "join_failed", "19": "join_failed",
}

// tencentCSSPushSets: a push names its stream and the push's sequence.
func tencentCSSPushSets() []Set {
	return []Set{
		{To: "room_session_id", From: "sequence"},
		{To: "track.name", From: "stream_id"},
	}
}

// tencentCSSRecSets: a recording status event (332) names its session and a sequence number.
func tencentCSSRecSets() []Set {
	return []Set{
		{To: "recording.task_id", From: "session_id"},
		{To: "recording.status", From: "record_event"},
		{To: "provider_sequence", From: "seq"},
	}
}

// tencentCSSRelaySets: a relay task (314) pulls its sources into the stream, the first of them
// the relay's url.
func tencentCSSRelaySets(more ...Set) []Set {
	return append([]Set{
		{To: "relay.task_id", From: "task_id"},
		{To: "relay.direction", Value: "pull"},
		{To: "relay.url", From: "source_urls[0]"},
		{To: "relay.state", From: "callback_event"},
	}, more...)
}

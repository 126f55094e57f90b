package normalize

// vonageCanonical maps Vonage Video's session monitoring, archives, Experience Composer (a web
// page pulled into the session as a stream) and broadcasts (the session pushed to HLS or RTMP)
// to the canonical RTC events (SPEC §9). A Vonage participant is a connection: the user's token
// data is kept out of the event, so the connection id is both participant ids.
var vonageCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "projectId"},
		{To: "room_id", From: "sessionId"},
	},
	Events: map[string][]Mapping{
		"session.created": {{Type: RoomStarted}},
		"session.destroyed": {{Type: RoomEnded, Set: []Set{{To: "reason", From: "reason", Values: map[string]string{
			"forceDisconnected": "server"}}}}},
		"connection.created": {{Type: ParticipantJoined, Set: vonageConnectionSets("connection.id")}},
		"connection.destroyed": {{Type: ParticipantLeft, Set: vonageConnectionSets("connection.id",
			Set{To: "reason", From: "reason", Values: vonageReasons})}},
		"stream.created": {{Type: StreamPublished, Set: vonageStreamSets()}},
		"stream.destroyed": {{Type: StreamUnpublished, Set: vonageStreamSets(
			Set{To: "reason", From: "reason", Values: vonageReasons})}},

		"archive.started":   {{Type: RecordingStarted, Set: vonageArchiveSets()}},
		"archive.stopped":   {{Type: RecordingEnded, Set: vonageArchiveSets(Set{To: "duration_s", From: "duration"})}},
		"archive.uploaded":  {{Type: RecordingFileReady, Set: vonageArchiveSets(vonageArchiveFile...)}},
		"archive.available": {{Type: RecordingFileReady, Set: vonageArchiveSets(vonageArchiveFile...)}},
		"archive.failed":    {{Type: RecordingFailed, Set: vonageArchiveSets(Set{To: "recording.error", From: "reason"})}},

		"render.starting": {{Type: RelayStarted, Set: vonageRelaySets("pull", Set{To: "relay.url", From: "url"})}},
		"render.started":  {{Type: RelayStateChanged, Set: vonageRelaySets("pull", Set{To: "relay.url", From: "url"})}},
		"render.stopped":  {{Type: RelayEnded, Set: vonageRelaySets("pull", Set{To: "relay.url", From: "url"})}},
		"render.failed": {{Type: RelayEnded, Set: vonageRelaySets("pull", Set{To: "relay.url", From: "url"},
			Set{To: "relay.error", From: "reason"})}},
		"broadcast.started": {{Type: RelayStarted, Set: vonageRelaySets("push")}},
		"broadcast.stopped": {{Type: RelayEnded, Set: vonageRelaySets("push")}},
		"broadcast.failed":  {{Type: RelayEnded, Set: vonageRelaySets("push", Set{To: "relay.error", From: "reason"})}},
	},
	Gaps: "no user id (a participant is its connection; the token data is kept out), no role, no sequence and no room session beyond the session id; a legacy project's partnerId is not read as the app id (projectId is); no durations but an archive's; a broadcast's URLs are in its open broadcastUrls object, not mapped; archive pause and expiry, captions, SIP calls and sessionNotification (serverRotation) have no counterpart",
}

// vonageReasons: the reasons of connectionDestroyed and streamDestroyed (§3a).
var vonageReasons = map[string]string{
	"clientDisconnected": "left", "forceDisconnected": "kicked", "forceUnpublished": "kicked",
	"networkDisconnected": "timeout",
}

// vonageConnectionSets: the connection at path is the participant.
func vonageConnectionSets(path string, more ...Set) []Set {
	return append([]Set{
		{To: "participant_id", From: path},
		{To: "participant_session_id", From: path},
	}, more...)
}

// vonageStreamSets: a stream, published by its connection; videoType camera, screen or custom.
func vonageStreamSets(more ...Set) []Set {
	return append(vonageConnectionSets("stream.connection.id",
		Set{To: "track.id", From: "stream.id"},
		Set{To: "track.kind", From: "stream.videoType", Values: map[string]string{
			"camera": "video", "screen": "screen", "custom": "video"}},
		Set{To: "track.name", From: "stream.name"},
	), more...)
}

// vonageArchiveFile: an archive's download URL (null until it is available in Vonage's storage)
// and its length.
var vonageArchiveFile = []Set{
	{To: "recording.files", From: "url"},
	{To: "duration_s", From: "duration"},
}

// vonageArchiveSets: an archive's id and status.
func vonageArchiveSets(more ...Set) []Set {
	return append([]Set{
		{To: "recording.task_id", From: "id"},
		{To: "recording.status", From: "status"},
	}, more...)
}

// vonageRelaySets: a composer (pull) or a broadcast (push), its id and status.
func vonageRelaySets(direction string, more ...Set) []Set {
	return append([]Set{
		{To: "relay.task_id", From: "id"},
		{To: "relay.direction", Value: direction},
		{To: "relay.state", From: "status"},
	}, more...)
}

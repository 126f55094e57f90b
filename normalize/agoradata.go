package normalize

// agoraCanonical maps Agora's RTC channel events, Cloud Recording's lifecycle and Media
// Push/Pull converters and players to the canonical RTC events (SPEC §9). Agora reports no
// track publish or unpublish to a webhook: stream events have no counterpart.
var agoraCanonical = &Canonical{
	Base: []Set{{To: "room_id", From: "payload.channelName"}},
	Events: map[string][]Mapping{
		"rtc.channel.created":    {{Type: RoomStarted}},
		"rtc.channel.destroyed":  {{Type: RoomEnded}},
		"rtc.broadcaster.joined": {{Type: ParticipantJoined, Set: agoraUserSets("host")}},
		"rtc.broadcaster.left":   {{Type: ParticipantLeft, Set: agoraLeftSets("host")}},
		"rtc.audience.joined":    {{Type: ParticipantJoined, Set: agoraUserSets("audience")}},
		"rtc.audience.left":      {{Type: ParticipantLeft, Set: agoraLeftSets("audience")}},
		"rtc.user.joined":        {{Type: ParticipantJoined, Set: agoraUserSets("participant")}},
		"rtc.user.left":          {{Type: ParticipantLeft, Set: agoraLeftSets("participant")}},
		"rtc.role.broadcaster":   {{Type: ParticipantRole, Set: agoraUserSets("host")}},
		"rtc.role.audience":      {{Type: ParticipantRole, Set: agoraUserSets("audience")}},

		"recording.recorder.started": {{Type: RecordingStarted, Set: agoraRecSets()}},
		"recording.uploaded":         {{Type: RecordingFileReady, Set: agoraRecSets(Set{To: "recording.files", From: "payload.details.fileList[].fileName"})}},
		"recording.backuped":         {{Type: RecordingFileReady, Set: agoraRecSets(Set{To: "recording.files", From: "payload.details.fileList[].fileName"})}},
		"recording.session.exited":   {{Type: RecordingEnded, Set: agoraRecSets()}},
		"recording.error": {{Type: RecordingFailed, If: &Cond{Path: "payload.details.stat", Values: []string{"0"}},
			Set: agoraRecSets(Set{To: "recording.error", From: "payload.details.errorMsg"})}},

		"mediapush.converter.created":   {{Type: RelayStarted, Set: agoraPushSets()}},
		"mediapush.converter.status":    {{Type: RelayStateChanged, Set: agoraPushSets()}},
		"mediapush.converter.destroyed": {{Type: RelayEnded, Set: agoraPushSets(Set{To: "relay.error", From: "payload.destroyReason"})}},
		"mediapull.player.created":      {{Type: RelayStarted, Set: agoraPullSets()}},
		"mediapull.player.status":       {{Type: RelayStateChanged, Set: agoraPullSets()}},
		"mediapull.player.destroyed":    {{Type: RelayEnded, Set: agoraPullSets(Set{To: "relay.error", From: "payload.destroyReason"})}},
	},
	Gaps: "no track publish or unpublish (Agora's webhooks do not report streams); no room session id; the recording's files are named, not URLs (they are in your storage)",
}

// agoraUserSets: a channel event about one user, whose role its event code says.
func agoraUserSets(role string) []Set {
	return []Set{
		{To: "participant_id", From: "payload.uid"},
		{To: "role", Value: role},
		{To: "provider_sequence", From: "payload.clientSeq"},
	}
}

// agoraLeftSets: a leave adds the reason (Agora's codes) and the time in the channel.
func agoraLeftSets(role string) []Set {
	return append(agoraUserSets(role),
		Set{To: "reason", From: "payload.reason", Values: map[string]string{
			"1": "left", "2": "timeout", "3": "kicked", "4": "server", "5": "server",
			"9": "kicked", "10": "timeout", "999": "other", "0": "other"}},
		Set{To: "duration_s", From: "payload.duration", Unit: "s"},
	)
}

// agoraRecSets: Cloud Recording names the channel cname and the session sid.
func agoraRecSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "payload.cname"},
		{To: "recording.task_id", From: "payload.sid"},
		{To: "provider_sequence", From: "payload.sequence"},
	}, more...)
}

// agoraPushSets: a Media Push converter pushes the channel to an RTMP URL.
func agoraPushSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "payload.converter.transcodeOptions.rtcChannel"},
		{To: "relay.task_id", From: "payload.converter.id"},
		{To: "relay.direction", Value: "push"},
		{To: "relay.url", From: "payload.converter.rtmpUrl"},
		{To: "relay.state", From: "payload.converter.state"},
	}, more...)
}

// agoraPullSets: a Media Pull player pulls a stream into the channel.
func agoraPullSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_id", From: "payload.player.channelName"},
		{To: "relay.task_id", From: "payload.player.id"},
		{To: "relay.direction", Value: "pull"},
		{To: "relay.url", From: "payload.player.streamUrl"},
		{To: "relay.state", From: "payload.player.status"},
	}, more...)
}

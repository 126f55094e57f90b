package normalize

// volcCanonical maps Volcengine RTC's room, user, cloud recording, audio segment and mixed
// stream push (合流转推) events to the canonical RTC events (SPEC §9). A visible user can publish
// and is the host, an invisible one only watches and is the audience; a task's Code 0 is
// success, 1 failure.
var volcCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "AppId"},
		{To: "room_id", From: "EventData.RoomId"},
	},
	Events: map[string][]Mapping{
		"room.destroyed":             {{Type: RoomEnded}},
		"room.user.joined":           {{Type: ParticipantJoined, Set: volcUserSets("host")}},
		"room.user.left":             {{Type: ParticipantLeft, Set: volcUserSets("host")}},
		"room.invisible_user.joined": {{Type: ParticipantJoined, Set: volcUserSets("audience")}},
		"room.invisible_user.left":   {{Type: ParticipantLeft, Set: volcUserSets("audience")}},
		"room.user.visible":          {{Type: ParticipantRole, Set: volcUserSets("host")}},
		"room.user.invisible":        {{Type: ParticipantRole, Set: volcUserSets("audience")}},

		"recording.started": {
			{Type: RecordingStarted, If: &Cond{Path: "EventData.Code", Values: []string{"0"}}, Set: volcTaskSets("recording")},
			{Type: RecordingFailed, Set: volcTaskSets("recording", Set{To: "recording.error", From: "EventData.ErrorMessage"})},
		},
		"recording.stopped": {
			{Type: RecordingFailed, If: &Cond{Path: "EventData.Code", Values: []string{"1"}},
				Set: volcTaskSets("recording", Set{To: "recording.error", From: "EventData.Code"})},
			{Type: RecordingEnded, Set: volcTaskSets("recording")},
		},
		"segment.realtime_data": {{Type: RecordingFileReady, Set: volcTaskSets("recording",
			Set{To: "recording.files", From: "EventData.Data[].Segment"})}},

		"transcode.started":       {{Type: RelayStarted, Set: volcTaskSets("relay", Set{To: "relay.state", From: "EventData.Code"})}},
		"transcode.updated":       {{Type: RelayStateChanged, Set: volcTaskSets("relay", Set{To: "relay.state", From: "EventData.Code"})}},
		"transcode.state_changed": {{Type: RelayStateChanged, Set: volcTaskSets("relay", Set{To: "relay.state", From: "EventData.State"})}},
		"transcode.stopped":       {{Type: RelayEnded, Set: volcTaskSets("relay", Set{To: "relay.state", From: "EventData.Code"})}},
	},
	Gaps: "no room start (RoomCreate is not documented), no leave reason, no stream publish or unpublish, no room or " +
		"participant session ids and no sequence; a mixed stream push names no CDN URL; the room and user events' data " +
		"is not documented, only what the examples carry",
}

// volcUserSets: an event about the user UserId, whose visibility gives the role.
func volcUserSets(role string) []Set {
	return []Set{{To: "participant_id", From: "EventData.UserId"}, {To: "role", Value: role}}
}

// volcTaskSets: a recording or relay (a mixed stream pushed to a CDN) task, TaskId.
func volcTaskSets(entity string, more ...Set) []Set {
	sets := []Set{{To: entity + ".task_id", From: "EventData.TaskId"}}
	if entity == "relay" {
		sets = append(sets, Set{To: "relay.direction", Value: "push"})
	}
	return append(sets, more...)
}

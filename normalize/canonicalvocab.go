package normalize

// RTC is the canonical vocabulary (SPEC §9) as a Provider value: its types are its Events and
// its fields its Data and EventData, so the contract (schemas, AsyncAPI), dataschema and Kafka's
// known topics read it as they read any provider's declarations. It receives no callbacks: a
// Registry lists it among its publishers (Publishers), never among its routes (All).
var RTC = Provider{
	ID:         CanonicalID,
	TypePrefix: CanonicalPrefix,
	Subject:    "the room (`room_id`)",
	TimeSource: "the native event's time",
	Events: []EventDef{
		{RoomStarted, RoomStarted, "a room (channel, meeting, call, session) started: its first participant joined or it was created"},
		{RoomEnded, RoomEnded, "a room ended: its last participant left or it was closed"},
		{ParticipantJoined, ParticipantJoined, "a participant joined a room"},
		{ParticipantLeft, ParticipantLeft, "a participant left a room; reason says why"},
		{ParticipantRole, ParticipantRole, "a participant's role changed (audience to host, say)"},
		{StreamPublished, StreamPublished, "a participant (or an encoder) started publishing a track or stream"},
		{StreamUnpublished, StreamUnpublished, "a track or stream stopped being published"},
		{RecordingStarted, RecordingStarted, "a recording (cloud recording, archive, egress, DVR) started"},
		{RecordingFileReady, RecordingFileReady, "a recording's file(s) can be fetched: recording.files"},
		{RecordingEnded, RecordingEnded, "a recording ended"},
		{RecordingFailed, RecordingFailed, "a recording failed: recording.error"},
		{RelayStarted, RelayStarted, "a relay started: a push of the room to a CDN or RTMP URL, or a pull of a stream into the room"},
		{RelayStateChanged, RelayStateChanged, "a relay's state changed: relay.state"},
		{RelayEnded, RelayEnded, "a relay ended"},
	},
	Data: []Field{
		{Path: "provider", Type: TString, Required: true, Desc: "the provider id of the native event (netease-nertc, agora, …)"},
		{Path: "app_id", Type: TString, Desc: "the provider's application, project or account id"},
		{Path: "room_id", Type: TString, Desc: "the room: channel, meeting, call, session, or a live stream's name"},
		{Path: "room_session_id", Type: TString, Desc: "one run of the room, where the provider names it (a channel id, a meeting uuid)"},
		{Path: "participant_id", Type: TString, Desc: "the participant's user id, as text (a 64-bit id is never a float)"},
		{Path: "participant_session_id", Type: TString, Desc: "one connection of the participant, where the provider names it"},
		{Path: "role", Type: TString, Enum: canonicalEnums["role"], Desc: "the participant's role"},
		{Path: "reason", Type: TString, Enum: canonicalEnums["reason"], Desc: "why a participant left or a room ended; other when the provider's reason has no counterpart (see reason_native)"},
		{Path: "reason_native", Type: TString, Desc: "the provider's own reason, as it wrote it"},
		{Path: "duration_s", Type: TNumber, Unit: "s", Desc: "how long the participant, room, stream or recording lasted, as the provider reported it"},
		{Path: "occurred_at", Type: TString, Required: true, Desc: "when it happened, the native event's time: RFC 3339 in UTC with milliseconds"},
		{Path: "provider_sequence", Type: TString, Desc: "the provider's sequence number or timestamp ordering events of one room, as text"},
		{Path: "native_type", Type: TString, Required: true, Desc: "the CloudEvents type of the native event this one was made from"},
	},
	EventData: canonicalEntityData(),
}

// canonicalEntityData declares each type's entity object: track for stream events, recording and
// relay for theirs.
func canonicalEntityData() map[string][]Field {
	track := []Field{
		{Path: "track", Type: TObject, Desc: "the published track or stream"},
		{Path: "track.id", Type: TString, Desc: "the track's or stream's id"},
		{Path: "track.kind", Type: TString, Enum: canonicalEnums["track.kind"], Desc: "what the track carries"},
		{Path: "track.name", Type: TString, Desc: "the track's or stream's name"},
	}
	recording := []Field{
		{Path: "recording", Type: TObject, Desc: "the recording"},
		{Path: "recording.task_id", Type: TString, Desc: "the recording task's, archive's or egress's id"},
		{Path: "recording.status", Type: TString, Desc: "the provider's status of the recording, as it wrote it"},
		{Path: "recording.files", Type: TArray, Desc: "the recorded files: names, keys or URLs, as the provider gave them"},
		{Path: "recording.files[]", Type: TString},
		{Path: "recording.error", Type: TString, Desc: "why the recording failed"},
	}
	relay := []Field{
		{Path: "relay", Type: TObject, Desc: "the relay: a push to a CDN (direction push) or a pull into the room (pull)"},
		{Path: "relay.task_id", Type: TString, Desc: "the relay task's id"},
		{Path: "relay.direction", Type: TString, Enum: canonicalEnums["relay.direction"]},
		{Path: "relay.url", Type: TString, Desc: "the URL pushed to or pulled from, as the provider reported it"},
		{Path: "relay.state", Type: TString, Desc: "the provider's state of the relay, as it wrote it"},
		{Path: "relay.error", Type: TString, Desc: "why the relay failed"},
	}
	out := map[string][]Field{}
	for _, t := range []string{StreamPublished, StreamUnpublished} {
		out[t] = track
	}
	for _, t := range []string{RecordingStarted, RecordingFileReady, RecordingEnded, RecordingFailed} {
		out[t] = recording
	}
	for _, t := range []string{RelayStarted, RelayStateChanged, RelayEnded} {
		out[t] = relay
	}
	return out
}

package normalize

import "slices"

// getstreamData: Stream Video's call events as the Video API's OpenAPI types them (CallResponse,
// CallSessionResponse, CallParticipantResponse, MemberResponse, UserResponse; §7.2a names the
// envelope, protocol's openapi/video-openapi.yaml): one closed object, the union of the call
// events' members, for every event; only `members` differs (member ids on call.member_removed,
// MemberResponse objects elsewhere). A call's settings and every `custom` are open (the app's
// own data, or the settings its create and update requests set, echoed).
var getstreamData = slices.Concat([]Field{
	{Path: "type", Type: TString, Required: true, Desc: "the event's type, such as call.session_started"},
	{Path: "created_at", Type: TString, Required: true, Desc: "when the event was made (RFC 3339, ns)"},
	{Path: "call_cid", Type: TString, Required: true, Desc: "<call type>:<call id>; the CloudEvent's subject"},
	{Path: "call", Type: TObject, Desc: "the call, on call.created, updated, ended, ring, session and live events"},
	{Path: "session_id", Type: TString, Desc: "the call session's id, on session events"},
	{Path: "participant", Type: TObject, Desc: "on session participant events"},
	{Path: "duration_seconds", Type: TInteger, Unit: "s", Desc: "time in the session, on call.session_participant_left"},
	{Path: "user", Type: TObject, Desc: "who acted, or the user the event is about"},
	{Path: "reason", Type: TString, Desc: "why, on call.ended, call.rejected and left events"},
	{Path: "call_recording", Type: TObject, Desc: "on call.recording_ready"},
	{Path: "call_transcription", Type: TObject, Desc: "on call.transcription_ready"},
	{Path: "egress_id", Type: TString, Desc: "the recording, broadcast or transcription's egress"},
	{Path: "recording_type", Type: TString, Desc: "composite, individual or raw"},
	{Path: "error", Type: TString, Desc: "on call.transcription_failed"},
	{Path: "notify_user", Type: TBool, Desc: "on call.missed"},
	{Path: "hls_playlist_url", Type: TString, Desc: "on call.hls_broadcasting_started"},
	{Path: "participants_count_by_role", Type: TObject, Desc: "a map of role to count (open)"},
	{Path: "anonymous_participant_count", Type: TInteger},
	{Path: "reaction", Type: TObject, Desc: "on call.reaction_new"},
	{Path: "reaction.type", Type: TString},
	{Path: "reaction.emoji_code", Type: TString},
	{Path: "reaction.custom", Type: TObject, Desc: "the app's own data (open)"},
	{Path: "reaction.user", Type: TObject},
	{Path: "permissions", Type: TArray, Desc: "on permission events"},
	{Path: "permissions[]", Type: TString},
	{Path: "capabilities_by_role", Type: TObject, Desc: "a map of role to capabilities (open)"},
	{Path: "own_capabilities", Type: TArray},
	{Path: "own_capabilities[]", Type: TString},
	{Path: "muted_user_ids", Type: TArray, Desc: "on call.user_muted"},
	{Path: "muted_user_ids[]", Type: TString},
	{Path: "from_user_id", Type: TString},
	{Path: "blocked_by_user", Type: TObject, Desc: "on call.blocked_user"},
	{Path: "video", Type: TBool, Desc: "a video call, on call.ring and call.notification"},
	{Path: "closed_caption", Type: TObject, Desc: "on call.closed_caption"},
	{Path: "closed_caption.id", Type: TString},
	{Path: "closed_caption.text", Type: TString},
	{Path: "closed_caption.language", Type: TString},
	{Path: "closed_caption.service", Type: TString},
	{Path: "closed_caption.translated", Type: TBool},
	{Path: "closed_caption.speaker_id", Type: TString},
	{Path: "closed_caption.start_time", Type: TString, Desc: "RFC 3339"},
	{Path: "closed_caption.end_time", Type: TString, Desc: "RFC 3339"},
	{Path: "closed_caption.user", Type: TObject},
},
	under("call", getstreamCall...),
	under("participant", getstreamParticipant...),
	under("user", getstreamUser...),
	under("reaction.user", getstreamUser...),
	under("blocked_by_user", getstreamUser...),
	under("closed_caption.user", getstreamUser...),
	under("call_recording", append(slices.Clone(getstreamFile), Field{Path: "recording_type", Type: TString, Desc: "composite, individual or raw"})...),
	under("call_transcription", getstreamFile...),
)

// getstreamEventData: each event's members: the call's members as objects, or on
// call.member_removed their ids.
var getstreamEventData = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range getstreamEvents {
		if e.Name == "call.member_removed" {
			m[e.Name] = []Field{{Path: "members", Type: TArray, Desc: "the ids of the members removed"}, {Path: "members[]", Type: TString}}
			continue
		}
		m[e.Name] = append([]Field{{Path: "members", Type: TArray, Desc: "the call's members, on call.created, ring and member events"}}, under("members[]", getstreamMember...)...)
	}
	return m
}()

var (
	getstreamCall = slices.Concat([]Field{
		{Path: "id", Type: TString},
		{Path: "type", Type: TString, Desc: "the call type, such as default"},
		{Path: "cid", Type: TString, Desc: "<type>:<id>"},
		{Path: "current_session_id", Type: TString},
		{Path: "created_by", Type: TObject},
		{Path: "custom", Type: TObject, Desc: "the app's own data (open)"},
		{Path: "settings", Type: TObject, Desc: "the call's settings, as its create and update requests set them (open)"},
		{Path: "egress", Type: TObject, Desc: "the call's outputs: broadcasting, HLS, RTMP, recordings"},
		{Path: "ingress", Type: TObject, Desc: "the call's input addresses"},
		{Path: "recording", Type: TBool},
		{Path: "transcribing", Type: TBool},
		{Path: "captioning", Type: TBool},
		{Path: "translating", Type: TBool},
		{Path: "routing_number", Type: TString},
		{Path: "backstage", Type: TBool},
		{Path: "blocked_user_ids", Type: TArray},
		{Path: "blocked_user_ids[]", Type: TString},
		{Path: "session", Type: TObject},
		{Path: "team", Type: TString},
		{Path: "thumbnails", Type: TObject},
		{Path: "thumbnails.image_url", Type: TString},
		{Path: "join_ahead_time_seconds", Type: TInteger, Unit: "s"},
		{Path: "channel_cid", Type: TString},
		{Path: "created_at", Type: TString, Desc: "RFC 3339"},
		{Path: "updated_at", Type: TString, Desc: "RFC 3339"},
		{Path: "starts_at", Type: TString, Desc: "RFC 3339"},
		{Path: "ended_at", Type: TString, Desc: "RFC 3339"},
	}, under("created_by", getstreamUser...), under("session", getstreamSession...), under("egress", getstreamEgress...), under("ingress", getstreamIngress...))

	getstreamEgress = []Field{
		{Path: "broadcasting", Type: TBool},
		{Path: "hls", Type: TObject},
		{Path: "hls.playlist_url", Type: TString},
		{Path: "hls.status", Type: TString},
		{Path: "rtmps", Type: TArray},
		{Path: "rtmps[].name", Type: TString},
		{Path: "rtmps[].started_at", Type: TString, Desc: "RFC 3339"},
		{Path: "rtmps[].stream_url", Type: TString},
		{Path: "composite_recording", Type: TObject},
		{Path: "composite_recording.status", Type: TString},
		{Path: "individual_recording", Type: TObject},
		{Path: "individual_recording.status", Type: TString},
		{Path: "raw_recording", Type: TObject},
		{Path: "raw_recording.status", Type: TString},
		{Path: "frame_recording", Type: TObject},
		{Path: "frame_recording.status", Type: TString},
	}

	getstreamIngress = []Field{
		{Path: "rtmp", Type: TObject},
		{Path: "rtmp.address", Type: TString},
		{Path: "srt", Type: TObject},
		{Path: "srt.address", Type: TString},
		{Path: "whip", Type: TObject},
		{Path: "whip.address", Type: TString},
	}

	getstreamSession = slices.Concat([]Field{
		{Path: "id", Type: TString},
		{Path: "participants", Type: TArray},
		{Path: "participants_count_by_role", Type: TObject, Desc: "a map of role to count (open)"},
		{Path: "anonymous_participant_count", Type: TInteger},
		{Path: "accepted_by", Type: TObject, Desc: "a map of user id to time (open)"},
		{Path: "rejected_by", Type: TObject, Desc: "a map of user id to time (open)"},
		{Path: "missed_by", Type: TObject, Desc: "a map of user id to time (open)"},
		{Path: "started_at", Type: TString, Desc: "RFC 3339"},
		{Path: "ended_at", Type: TString, Desc: "RFC 3339"},
		{Path: "live_started_at", Type: TString, Desc: "RFC 3339"},
		{Path: "live_ended_at", Type: TString, Desc: "RFC 3339"},
		{Path: "timer_ends_at", Type: TString, Desc: "RFC 3339"},
	}, under("participants[]", getstreamParticipant...))

	getstreamParticipant = append([]Field{
		{Path: "user", Type: TObject},
		{Path: "user_session_id", Type: TString},
		{Path: "role", Type: TString},
		{Path: "joined_at", Type: TString, Desc: "RFC 3339"},
	}, under("user", getstreamUser...)...)

	getstreamMember = append([]Field{
		{Path: "user_id", Type: TString},
		{Path: "user", Type: TObject},
		{Path: "role", Type: TString},
		{Path: "custom", Type: TObject, Desc: "the app's own data (open)"},
		{Path: "created_at", Type: TString, Desc: "RFC 3339"},
		{Path: "updated_at", Type: TString, Desc: "RFC 3339"},
		{Path: "deleted_at", Type: TString, Desc: "RFC 3339"},
	}, under("user", getstreamUser...)...)

	getstreamUser = []Field{
		{Path: "id", Type: TString},
		{Path: "name", Type: TString},
		{Path: "image", Type: TString},
		{Path: "role", Type: TString},
		{Path: "teams", Type: TArray},
		{Path: "teams[]", Type: TString},
		{Path: "custom", Type: TObject, Desc: "the app's own data (open)"},
		{Path: "language", Type: TString},
		{Path: "teams_role", Type: TObject, Desc: "a map of team to role (open)"},
		{Path: "invisible", Type: TBool},
		{Path: "shadow_banned", Type: TBool},
		{Path: "bypass_moderation", Type: TBool},
		{Path: "avg_response_time", Type: TInteger},
		{Path: "ban_expires", Type: TString, Desc: "RFC 3339"},
		{Path: "deactivated_at", Type: TString, Desc: "RFC 3339"},
		{Path: "revoke_tokens_issued_before", Type: TString, Desc: "RFC 3339"},
		{Path: "devices", Type: TArray, Desc: "the user's push devices (open items)"},
		{Path: "privacy_settings", Type: TObject, Desc: "the user's privacy settings (open: the spec lists no members)"},
		{Path: "push_notifications", Type: TObject},
		{Path: "push_notifications.disabled", Type: TBool},
		{Path: "push_notifications.disabled_until", Type: TString, Desc: "RFC 3339"},
		{Path: "blocked_user_ids", Type: TArray},
		{Path: "blocked_user_ids[]", Type: TString},
		{Path: "created_at", Type: TString, Desc: "RFC 3339"},
		{Path: "updated_at", Type: TString, Desc: "RFC 3339"},
		{Path: "deleted_at", Type: TString, Desc: "RFC 3339"},
		{Path: "last_active", Type: TString, Desc: "RFC 3339"},
	}

	getstreamFile = []Field{
		{Path: "filename", Type: TString},
		{Path: "url", Type: TString},
		{Path: "start_time", Type: TString, Desc: "RFC 3339"},
		{Path: "end_time", Type: TString, Desc: "RFC 3339"},
		{Path: "session_id", Type: TString},
	}
)

package normalize

import (
	"slices"
	"strings"
)

// zoomData: Zoom's envelope (PROTOCOLS-WAVE3-GLOBAL.md §2a), the objects of each family as
// zoom/rivet-javascript types them (videosdk.d.ts, meetings.d.ts @7309ea3), less the credentials
// callbridge drops (download_token, password, recording_play_passcode, join_url, start_url,
// stream_key). One closed object per family (session, meeting and webinar, recording): the union
// of what that family's events carry.
var zoomData = []Field{
	{Path: "event", Type: TString, Required: true, Desc: "the event's name, such as session.user_joined"},
	{Path: "event_ts", Type: TInteger, Unit: "ms", Desc: "when the event occurred (Unix time); optional in meeting.deleted's type"},
	{Path: "payload", Type: TObject, Required: true},
	{Path: "payload.account_id", Type: TString, Required: true, Desc: "the Zoom account"},
	{Path: "payload.object", Type: TObject, Required: true, Desc: "the session, meeting, webinar or recording"},
	{Path: "payload.operator", Type: TString, Desc: "the email of who made the change, on changes"},
	{Path: "payload.operator_id", Type: TString, Desc: "the user id of who made the change"},
	{Path: "payload.operation", Type: TString, Desc: "single or all (occurrences), on meeting changes"},
	{Path: "payload.scope", Type: TString, Desc: "on meeting.updated: which occurrences the change applies to"},
	{Path: "payload.time_stamp", Type: TInteger, Unit: "ms", Desc: "on meeting.updated"},
	{Path: "payload.old_object", Type: TObject, Desc: "the members meeting.updated changed, before (open: any of the meeting's)"},
}

// zoomEventData: payload.object of each event, by family.
var zoomEventData = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range zoomEvents {
		var fs []Field
		switch n := e.Name; {
		case strings.HasPrefix(n, "session."):
			fs = zoomSession
		case strings.HasPrefix(n, "recording."):
			fs = zoomRecording
		default: // meeting.*, webinar.*
			fs = zoomMeeting
		}
		m[e.Name] = under("payload.object", fs...)
	}
	return m
}()

var (
	zoomLive = []Field{
		{Path: "live_streaming", Type: TObject, Desc: "on live_streaming events"},
		{Path: "live_streaming.service", Type: TString, Desc: "Facebook, Workplace_by_Facebook, YouTube, Twitch, Custom_Live_Streaming_Service"},
		{Path: "live_streaming.custom_live_streaming_settings", Type: TObject},
		{Path: "live_streaming.custom_live_streaming_settings.stream_url", Type: TString},
		{Path: "live_streaming.custom_live_streaming_settings.page_url", Type: TString},
		{Path: "live_streaming.custom_live_streaming_settings.resolution", Type: TString},
		{Path: "live_streaming.date_time", Type: TString, Desc: "RFC 3339"},
	}

	zoomSharing = []Field{
		{Path: "sharing_details", Type: TObject, Desc: "on sharing events"},
		{Path: "sharing_details.content", Type: TString},
		{Path: "sharing_details.link_source", Type: TString},
		{Path: "sharing_details.file_link", Type: TString},
		{Path: "sharing_details.date_time", Type: TString, Desc: "RFC 3339"},
		{Path: "sharing_details.source", Type: TString},
	}

	zoomSession = slices.Concat([]Field{
		{Path: "id", Type: "string|integer", BigID: true, Desc: "the session's id; a number in callout events"},
		{Path: "uuid", Type: TString, Desc: "on callout events"},
		{Path: "host_id", Type: TString, Desc: "on callout events"},
		{Path: "session_id", Type: TString, Desc: "the session's id; the CloudEvent's subject"},
		{Path: "session_name", Type: TString},
		{Path: "session_key", Type: TString, Desc: "the app's own key of the session"},
		{Path: "start_time", Type: TString, Desc: "RFC 3339"},
		{Path: "end_time", Type: TString, Desc: "RFC 3339"},
		{Path: "timezone", Type: TString},
		{Path: "user", Type: TObject, Desc: "the user, on user, sharing and callout events"},
		{Path: "user.id", Type: TString},
		{Path: "user.name", Type: TString},
		{Path: "user.join_time", Type: TString, Desc: "RFC 3339"},
		{Path: "user.leave_time", Type: TString, Desc: "RFC 3339"},
		{Path: "user.leave_reason", Type: TString},
		{Path: "user.user_key", Type: TString},
		{Path: "user.phone_number", Type: TString},
		{Path: "recording_file", Type: TObject, Desc: "on recording state events"},
		{Path: "recording_file.recording_start", Type: TString, Desc: "RFC 3339"},
		{Path: "recording_file.recording_end", Type: TString, Desc: "RFC 3339"},
		{Path: "issues", Type: TArray, Desc: "on session.alert"},
		{Path: "issues[]", Type: TString},
		{Path: "message_id", Type: TString, Desc: "on room system callout events"},
		{Path: "inviter_name", Type: TString, Desc: "on room system callout events"},
		{Path: "reason_type", Type: TInteger, Desc: "why a room system callout failed"},
		{Path: "participant", Type: TObject, Desc: "who is called, on callout events"},
		{Path: "participant.invitee_name", Type: TString, Desc: "phone callouts"},
		{Path: "participant.phone_number", Type: "string|integer", Desc: "phone callouts; a number as rivet types it"},
		{Path: "participant.call_type", Type: TString, Desc: "room system callouts"},
		{Path: "participant.device_ip", Type: TString, Desc: "room system callouts"},
	}, zoomFiles, zoomLive, under("user", zoomSharing...))

	zoomFiles = slices.Concat([]Field{
		{Path: "duration", Type: TInteger, Unit: "min"},
		{Path: "total_size", Type: TInteger, Unit: "bytes"},
		{Path: "recording_count", Type: TInteger},
		{Path: "share_url", Type: TString},
		{Path: "recording_files", Type: TArray},
		{Path: "participant_audio_files", Type: TArray},
		{Path: "participant_video_files", Type: TArray},
	}, under("recording_files[]", zoomFile...), under("participant_audio_files[]", zoomFile...), under("participant_video_files[]", zoomFile...))

	zoomFile = []Field{
		{Path: "id", Type: TString},
		{Path: "meeting_id", Type: TString},
		{Path: "recording_start", Type: TString, Desc: "RFC 3339"},
		{Path: "recording_end", Type: TString, Desc: "RFC 3339"},
		{Path: "file_name", Type: TString},
		{Path: "file_type", Type: TString, Desc: "MP4, M4A, TRANSCRIPT, CHAT, CC, CSV, …"},
		{Path: "file_size", Type: TInteger, Unit: "bytes"},
		{Path: "file_extension", Type: TString},
		{Path: "file_path", Type: TString},
		{Path: "play_url", Type: TString},
		{Path: "download_url", Type: TString, Desc: "needs the download token, which callbridge drops"},
		{Path: "status", Type: TString},
		{Path: "recording_type", Type: TString},
		{Path: "user_id", Type: TString},
		{Path: "user_key", Type: TString},
	}

	zoomMeetingIDs = []Field{
		{Path: "id", Type: "string|integer", BigID: true, Desc: "the meeting or webinar number; the CloudEvent's subject"},
		{Path: "uuid", Type: TString, Desc: "the meeting instance's id"},
		{Path: "host_id", Type: TString},
		{Path: "topic", Type: TString},
		{Path: "type", Type: TInteger, Desc: "the meeting's type: 1 instant, 2 scheduled, 3 recurring no fixed time, 4 PMI, 8 recurring (webinars: 5, 6, 9)"},
		{Path: "start_time", Type: TString, Desc: "RFC 3339"},
		{Path: "timezone", Type: TString},
	}

	zoomMeeting = slices.Concat(zoomMeetingIDs, []Field{
		{Path: "duration", Type: TInteger, Unit: "min"},
		{Path: "end_time", Type: TString, Desc: "RFC 3339"},
		{Path: "agenda", Type: TString},
		{Path: "pmi", Type: TString},
		{Path: "settings", Type: TObject, Desc: "the meeting's settings, as the REST API writes them (open)"},
		{Path: "recurrence", Type: TObject, Desc: "the recurrence, as the REST API writes it (open)"},
		{Path: "registration_url", Type: TString},
		{Path: "occurrences", Type: TArray},
		{Path: "occurrences[].occurrence_id", Type: TString},
		{Path: "occurrences[].start_time", Type: TString, Desc: "RFC 3339"},
		{Path: "occurrences[].duration", Type: TInteger, Unit: "min"},
		{Path: "occurrences[].status", Type: TString},
		{Path: "tracking_fields", Type: TArray},
		{Path: "tracking_fields[].field", Type: TString},
		{Path: "tracking_fields[].value", Type: TString},
		{Path: "tracking_fields[].visible", Type: TBool},
		{Path: "participant", Type: TObject, Desc: "on participant events"},
	}, zoomLive, under("participant", zoomParticipant...))

	zoomParticipant = append([]Field{
		{Path: "user_id", Type: TString, Desc: "the participant's id in the meeting"},
		{Path: "user_name", Type: TString},
		{Path: "id", Type: TString, Desc: "the Zoom user's id, when signed in"},
		{Path: "participant_uuid", Type: TString},
		{Path: "participant_user_id", Type: TString},
		{Path: "join_time", Type: TString, Desc: "RFC 3339"},
		{Path: "leave_time", Type: TString, Desc: "RFC 3339"},
		{Path: "leave_reason", Type: TString},
		{Path: "date_time", Type: TString, Desc: "RFC 3339, on waiting room and admission events"},
		{Path: "email", Type: TString},
		{Path: "registrant_id", Type: TString},
		{Path: "customer_key", Type: TString},
		{Path: "phone_number", Type: TString},
	}, zoomSharing...)

	zoomRecording = slices.Concat(zoomMeetingIDs, []Field{
		{Path: "account_id", Type: TString},
		{Path: "host_email", Type: TString},
		{Path: "on_prem", Type: TBool},
		{Path: "auto_delete", Type: TBool},
		{Path: "auto_delete_date", Type: TString, Desc: "a date, YYYY-MM-DD"},
		{Path: "recording_file", Type: TObject, Desc: "on recording.started and stopped"},
		{Path: "recording_file.recording_start", Type: TString, Desc: "RFC 3339"},
		{Path: "recording_file.recording_end", Type: TString, Desc: "RFC 3339"},
	}, zoomFiles)
)

package normalize

import "strings"

// The data of Amazon IVS's events (issue 19): the EventBridge event that SNS carries in Message,
// decoded (§8a), its detail by family. The envelope's members are EventBridge's; each family's
// detail is declared from the IVS user guides' EventBridge pages: the low-latency guide's event
// table and examples (stream state, stream health, limit breach, recording state) and the
// real-time guide's (stage update as §8a lists it, with the event_time that captured events
// carry; individual participant recording from the guide's recording page). Composition state and publisher recording details are open: §8a
// names only event_name and marks their other members UNCONFIRMED, so a closed schema would
// refuse what IVS sends; CALLBRIDGE_AWS_IVS_VERIFY=report with one captured event names them.
// An EventBridge event of another source (eventbridge.event) has that service's detail, open;
// an SNS message that is no EventBridge event (sns.notification) is declared by itself.

// ivsEventData: each event's data, by name, from its detail-type's family.
var ivsEventData = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range ivsEvents {
		switch {
		case e.Name == "sns.notification":
			m[e.Name] = snsNotificationData
		case e.Name == "eventbridge.event":
			m[e.Name] = ivsEnvelopeData(Field{Path: "detail", Type: TObject, Required: true,
				Desc: "the event's detail, as the source service writes it: open, as it is another service's (an S3 object notification, …)"})
		default:
			m[e.Name] = ivsFamilyData(e.Name)
		}
	}
	return m
}()

// ivsFamilyData is the data of an IVS event: the envelope and its family's detail.
func ivsFamilyData(name string) []Field {
	detail := Field{Path: "detail", Type: TObject, Required: true}
	var own []Field
	switch family := name[:strings.LastIndexByte(name, '.')]; family {
	case "stream.state":
		own = ivsStreamDetail(
			Field{Path: "code", Type: TString, Desc: "why, on Session Ended (multitrack: MultitrackInputNotAllowed, …) and Stream Takeover Failure (StreamTakeoverInvalidPriority, …)"},
			Field{Path: "reason", Type: TString, Desc: "why, on Stream Failure"})
	case "stream.health":
		own = ivsStreamDetail()
	case "limit":
		own = ivsLimitDetail
	case "recording.state":
		own = ivsRecordingDetail
	case "stage.update":
		own = ivsStageDetail
	case "stage.participant_recording":
		own = ivsParticipantRecordingDetail
	default: // composition.state, stage.publisher_recording: open (UNCONFIRMED members)
		detail.Desc = "the event's detail: event_name (Session Start, Destination Failure, …) and members §8a marks UNCONFIRMED: open until a captured event names them"
	}
	return ivsEnvelopeData(append([]Field{detail}, under("detail", own...)...)...)
}

// ivsEnvelopeData: the EventBridge envelope (§8a), then detail's fields.
func ivsEnvelopeData(detail ...Field) []Field {
	return append([]Field{
		{Path: "version", Type: TString, Required: true, Desc: "EventBridge's event version: 0"},
		{Path: "id", Type: TString, Required: true, Desc: "the EventBridge event's id (a UUID): the CloudEvent's id"},
		{Path: "detail-type", Type: TString, Required: true, Desc: "IVS Stream State Change, IVS Stage Update, …"},
		{Path: "source", Type: TString, Required: true, Desc: "aws.ivs (another service's for eventbridge.event)"},
		{Path: "account", Type: TString, Required: true, Desc: "the AWS account (12 digits)"},
		{Path: "time", Type: TString, Required: true, Desc: "when the event happened, RFC 3339: the CloudEvent's time"},
		{Path: "region", Type: TString, Required: true, Desc: "the AWS region"},
		{Path: "resources", Type: TArray, Required: true, Desc: "ARNs of the resources involved: the channel, stage or composition (the CloudEvent's subject); empty for account-wide limits"},
		{Path: "resources[]", Type: TString},
	}, detail...)
}

// ivsStreamDetail: a channel's stream events (stream state and health).
func ivsStreamDetail(more ...Field) []Field {
	return append([]Field{
		{Path: "event_name", Type: TString, Required: true, Desc: "Session Created, Stream Start, Starvation Start, …"},
		{Path: "channel_name", Type: TString, Required: true, Desc: "the channel's name (may be empty; not unique)"},
		{Path: "stream_id", Type: TString, Required: true, Desc: "the stream session, new each time the channel goes live"},
	}, more...)
}

var (
	// ivsLimitDetail: Ingest Bitrate and Ingest Resolution carry the channel and stream,
	// Concurrent Broadcasts and Viewers (account-wide) do not.
	ivsLimitDetail = []Field{
		{Path: "limit_name", Type: TString, Required: true, Desc: "Ingest Bitrate, Ingest Resolution, Concurrent Broadcasts or Concurrent Viewers"},
		{Path: "limit_value", Type: TInteger, Required: true, Desc: "the limit, in limit_unit"},
		{Path: "exceeded_by", Type: TInteger, Required: true, Desc: "the value at the breach minus the limit, in limit_unit"},
		{Path: "limit_unit", Type: TString, Desc: "bits per second, total pixels, pixels per edge, active streams, viewers"},
		{Path: "channel_name", Type: TString, Desc: "the channel's name (ingest limits)"},
		{Path: "stream_id", Type: TString, Desc: "the stream session (ingest limits)"},
	}

	ivsRecordingDetail = []Field{
		{Path: "channel_name", Type: TString, Required: true, Desc: "the channel's name (may be empty; not unique)"},
		{Path: "stream_id", Type: TString, Required: true, Desc: "the stream session recorded"},
		{Path: "recording_status", Type: TString, Required: true, Desc: "Recording Start, Recording End, Recording Start Failure or Recording End Failure"},
		{Path: "recording_status_reason", Type: TString, Required: true, Desc: "why, on a failure (ValidationException, InternalServerException, …); empty otherwise"},
		{Path: "recording_s3_bucket_name", Type: TString, Required: true},
		{Path: "recording_s3_key_prefix", Type: TString, Required: true, Desc: "where the stream's objects are written (empty when the recording did not start)"},
		{Path: "recording_duration_ms", Type: TInteger, Unit: "ms", Required: true, Desc: "the recording's duration (0 but on Recording End)"},
		{Path: "recording_session_id", Type: TString, Desc: "the recording session, which may span several streams"},
		{Path: "recording_session_stream_ids", Type: TArray, Desc: "the streams of the recording session (Recording End)"},
		{Path: "recording_session_stream_ids[]", Type: TString},
	}

	ivsStageDetail = []Field{
		{Path: "session_id", Type: TString, Required: true, Desc: "the stage session"},
		{Path: "event_name", Type: TString, Required: true, Desc: "Participant Joined, Participant Published, Token Exchanged, …"},
		{Path: "event_time", Type: TString, Desc: "when the event happened, RFC 3339 (in captured events, not in the guide's examples)"},
		{Path: "user_id", Type: TString, Required: true, Desc: "the user id the participant token was created with (may be empty)"},
		{Path: "participant_id", Type: TString, Required: true, Desc: "the participant, assigned by IVS"},
	}

	ivsParticipantRecordingDetail = []Field{
		{Path: "session_id", Type: TString, Required: true, Desc: "the stage session"},
		{Path: "event_name", Type: TString, Required: true, Desc: "Recording Start, Recording End, Recording Start Failure or Recording End Failure"},
		{Path: "participant_id", Type: TString, Required: true, Desc: "the publisher recorded"},
		{Path: "recording_s3_bucket_name", Type: TString, Required: true},
		{Path: "recording_s3_key_prefix", Type: TString, Required: true, Desc: "<stage_id>/<session_id>/<participant_id>/<start time>: where its files are written"},
		{Path: "recording_duration_ms", Type: TInteger, Unit: "ms", Desc: "the recording's duration (Recording End; UNCONFIRMED)"},
	}
)

// snsNotificationData: an SNS message that is no EventBridge event (§8a's body keys), what
// Normalize keeps of it.
var snsNotificationData = []Field{
	{Path: "MessageId", Type: TString, Required: true, Desc: "SNS's message id, kept across its retries: the CloudEvent's id"},
	{Path: "Message", Type: "object|array|string|number|boolean|null", Required: true, Desc: "the message: its JSON value when it is JSON, else the string as sent"},
	{Path: "Subject", Type: "string|null", Desc: "the subject the publisher gave, if any"},
	{Path: "MessageAttributes", Type: TObject, Desc: "the publisher's message attributes, by name ({Type, Value}): a free map, open"},
}

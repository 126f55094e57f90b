package normalize

import (
	"bytes"
	"time"
)

// Amazon IVS events delivered by an Amazon SNS HTTP(S) subscription
// (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §8). IVS emits EventBridge events; a rule sends
// them to an SNS topic, and SNS POSTs each one to the bridge as a JSON envelope (sent as
// text/plain): {"Type","MessageId","TopicArn","Subject"?,"Message","Timestamp",
// "SignatureVersion","Signature","SigningCertURL","UnsubscribeURL"}, Message holding the
// EventBridge event as a JSON string (§8a).
//
// Verify (§8b): the TopicArn must be on CALLBRIDGE_AWS_IVS_TOPIC_ARNS (the provider's "secret":
// without it nothing signed is accepted) BEFORE anything is fetched; SigningCertURL must be
// https, end in .pem and name a host of CALLBRIDGE_AWS_IVS_CERT_HOSTS; the certificate is then
// fetched (snscert.go: 5 s timeout, 32 certificates cached by URL), its validity dates checked
// against the arrival time, and the signature checked: RSA PKCS#1 v1.5 with SHA-1
// (SignatureVersion 1) or SHA-256 (2) over the canonical string of §8b. The published vectors
// S1-S5 are reproduced in awsivs_test.go. Raw message delivery (x-amz-sns-rawdelivery: true)
// carries no signature and is refused. Timestamp is the publish time, kept by every SNS retry
// (§8c), and a custom delivery policy retries for up to 3600 s: it may be 1 h plus
// CALLBRIDGE_MAX_CLOCK_SKEW old, so that no retry is refused; a replay inside that hour has
// the same id and is deduplicated.
//
// SubscriptionConfirmation and UnsubscribeConfirmation are probes, answered only once verified
// (Provider.Probe): a SubscriptionConfirmation is confirmed with a GET of its SubscribeURL
// (HTTPS, an allowed host, 5 s) and never published. A GET, of the certificate or of
// SubscribeURL, that had no answer, timed out or was answered 5xx or 429 makes the answer 503
// with Retry-After (UnavailableError): SNS retries on server-side errors
// (sns-message-delivery-retries; which statuses exactly is UNCONFIRMED, §8d), and the message
// is not lost to a passing failure. Any other failure is final: 401 for a certificate, 400 for a
// confirmation. An UnsubscribeConfirmation is answered only.
//
// Normalize: an EventBridge event from aws.ivs gets a type of its own by detail-type and its
// event_name / recording_status (stream.state.stream_start, recording.state.recording_end, ...);
// any other EventBridge event on the topic is published as eventbridge.event, and a message
// that is no EventBridge event as sns.notification. The id is the EventBridge event id: SNS
// keeps MessageId across its own retries, but an EventBridge re-publish to SNS mints a new
// MessageId and keeps the event id (§8e); MessageId is the id of a message that is no
// EventBridge event. The subject is resources[0] (the channel, stage or composition ARN: unique,
// where channel_name is neither unique nor in stage events); the time is the event's `time`.
// data is the EventBridge event, decoded from its string; Signature, SigningCertURL, Token,
// SubscribeURL and UnsubscribeURL (which lets anyone unsubscribe the endpoint) never reach it.
var AWSIVS = Provider{
	ID:         "aws-ivs",
	TypePrefix: ivsPrefix,
	Reply:      ivsReply,
	SecretName: "SNS topic ARN allow-list",
	SecretVar:  "TOPIC_ARNS",
	Settings:   ivsSettings,
	Scheme: "Amazon SNS message signature: RSA PKCS#1 v1.5 with SHA-1 (`SignatureVersion` 1) or SHA-256 (2) over the canonical string of the body's fields, " +
		"checked with the certificate at `SigningCertURL`, fetched over HTTPS only from a host of `CALLBRIDGE_AWS_IVS_CERT_HOSTS` (5 s timeout, 32 cached by URL) " +
		"and only for a `TopicArn` of `CALLBRIDGE_AWS_IVS_TOPIC_ARNS` (comma-separated); raw message delivery (no signature) is refused. " +
		"`callbridge send` cannot sign as AWS: it signs with a key of its own process, which a bridge in another process refuses (use `_VERIFY=report` to try a deployment)",
	Window:     "`Timestamp` (signed publish time, kept by SNS retries) at most 1 h plus `CALLBRIDGE_MAX_CLOCK_SKEW` old (SNS retries for up to 3600 s) and at most `CALLBRIDGE_MAX_CLOCK_SKEW` ahead; the certificate's validity dates at arrival",
	Subject:    "`resources[0]` of the EventBridge event (the IVS channel, stage or composition ARN)",
	TimeSource: "the EventBridge event's `time`, else `Timestamp` (SNS publish time)",
	Events:     ivsEvents,
	EventData:  ivsEventData,
	Canonical:  ivsCanonical,
	Unknown:    "unknown.<detail-type>: an IVS detail-type the table lacks; IVS Publisher Recording State Change events, whose event names AWS does not list: stage.publisher_recording.<event_name> (snake case), published with the undeclared schema; SubscriptionConfirmation and UnsubscribeConfirmation: answered, never published",
	IsProbe:    ivsIsProbe,
	Answer:     ivsAnswer,
	Verify:     ivsVerify,
	Normalize:  ivsNormalize,
	Sign:       signIVS,
	Distinct:   []string{"Message.id"},
	Code:       "Message.detail-type",
	// UnsubscribeURL lets whoever holds it unsubscribe the endpoint. Token (confirmations
	// only) never reaches an event or a dead letter: confirmations are probes.
	Credentials: []string{"UnsubscribeURL"},
	Sample:      []byte(`{"Type":"Notification","MessageId":"INVENTED-0000-0000-0000-000000000001","TopicArn":"arn:aws:sns:us-west-2:111122223333:ivs-events","Message":"{\"version\":\"0\",\"id\":\"01234567-0123-0123-0123-012345678901\",\"detail-type\":\"IVS Stream State Change\",\"source\":\"aws.ivs\",\"account\":\"111122223333\",\"time\":\"2025-01-01T00:00:00Z\",\"region\":\"us-west-2\",\"resources\":[\"arn:aws:ivs:us-west-2:111122223333:channel/INVENTEDchan\"],\"detail\":{\"event_name\":\"Stream Start\",\"channel_name\":\"demo\",\"stream_id\":\"st-INVENTED\"}}","Timestamp":"2025-01-01T00:00:01.234Z","SignatureVersion":"2","Signature":"INVENTED","SigningCertURL":"https://sns.us-west-2.amazonaws.com/SimpleNotificationService-INVENTED.pem","UnsubscribeURL":"https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=INVENTED"}`),
}

const ivsPrefix = "com.amazonaws.ivs."

// ivsReply is the answer to every message: SNS reads the status only.
var ivsReply = []byte(`{}`)

// snsReplayWindow is how old a Timestamp may be, beside the clock skew: the longest a custom
// SNS delivery policy retries (§8d).
const snsReplayWindow = time.Hour

var ivsSettings = []Setting{
	{Name: "CERT_HOSTS", Kind: Text, Default: "sns.*.amazonaws.com,sns.*.amazonaws.com.cn",
		Description: "hosts SigningCertURL and SubscribeURL may name: comma-separated `host` or `host:port` patterns, `*` standing for exactly one DNS label; fetched over HTTPS only"},
}

// ivsKinds are the IVS detail-types of §8a: the name of their types, and the detail field
// whose value (lower-cased, '_' for spaces) completes it.
var ivsKinds = []struct{ detailType, name, sub string }{
	{"IVS Stream State Change", "stream.state", "event_name"},
	{"IVS Stream Health Change", "stream.health", "event_name"},
	{"IVS Limit Breach", "limit.breach", ""},
	{"IVS Recording State Change", "recording.state", "recording_status"},
	{"IVS Stage Update", "stage.update", "event_name"},
	{"IVS Composition State Change", "composition.state", "event_name"},
	{"IVS Publisher Recording State Change", "stage.publisher_recording", "event_name"},
	{"IVS Participant Recording State Change", "stage.participant_recording", "event_name"},
}

// ivsEvents documents the events of §8a and of the IVS user guides' EventBridge pages (the
// low-latency guide's event table and examples; the real-time guide's individual participant
// recording); the type is made from the detail-type and the detail field of ivsKinds, so a
// value the table lacks gets its type the same way.
var ivsEvents = []EventDef{
	{"IVS Stream State Change: Session Created", "stream.state.session_created", "a streaming session was created (low-latency channel)"},
	{"IVS Stream State Change: Stream Start", "stream.state.stream_start", "the stream started"},
	{"IVS Stream State Change: Stream End", "stream.state.stream_end", "the stream ended"},
	{"IVS Stream State Change: Session Ended", "stream.state.session_ended", "the encoder disconnected: IVS no longer receives video (code: why, for multitrack)"},
	{"IVS Stream State Change: Stream Failure", "stream.state.stream_failure", "the stream is not processed: processing capacity was exceeded (reason)"},
	{"IVS Stream State Change: Stream Takeover", "stream.state.stream_takeover", "an existing stream was taken over"},
	{"IVS Stream State Change: Stream Takeover Failure", "stream.state.stream_takeover_failure", "a takeover of an existing stream was refused (code: why)"},
	{"IVS Stream Health Change: Starvation Start", "stream.health.starvation_start", "the stream receives no data from the streamer (starvation)"},
	{"IVS Stream Health Change: Starvation End", "stream.health.starvation_end", "a starving stream receives data again"},
	{"IVS Limit Breach", "limit.breach", "a limit was breached: ingest bitrate or resolution, concurrent broadcasts or viewers (limit_name)"},
	{"IVS Recording State Change: Recording Start", "recording.state.recording_start", "auto-record to S3 started"},
	{"IVS Recording State Change: Recording End", "recording.state.recording_end", "auto-record to S3 ended (recording_duration_ms)"},
	{"IVS Recording State Change: Recording Start Failure", "recording.state.recording_start_failure", "auto-record to S3 could not start"},
	{"IVS Recording State Change: Recording End Failure", "recording.state.recording_end_failure", "auto-record to S3 ended in failure"},
	{"IVS Stage Update: Participant Joined", "stage.update.participant_joined", "a participant joined the stage"},
	{"IVS Stage Update: Participant Left", "stage.update.participant_left", "a participant left the stage"},
	{"IVS Stage Update: Participant Published", "stage.update.participant_published", "a participant started publishing"},
	{"IVS Stage Update: Participant Unpublished", "stage.update.participant_unpublished", "a participant stopped publishing"},
	{"IVS Stage Update: Participant Publish Error", "stage.update.participant_publish_error", "a participant could not publish"},
	{"IVS Stage Update: Token Exchanged", "stage.update.token_exchanged", "a participant token was exchanged"},
	{"IVS Composition State Change: Session Start", "composition.state.session_start", "server-side composition started"},
	{"IVS Composition State Change: Session End", "composition.state.session_end", "server-side composition ended"},
	{"IVS Composition State Change: Session Failure", "composition.state.session_failure", "server-side composition failed"},
	{"IVS Composition State Change: Destination Start", "composition.state.destination_start", "a composition destination started"},
	{"IVS Composition State Change: Destination End", "composition.state.destination_end", "a composition destination ended"},
	{"IVS Composition State Change: Destination Failure", "composition.state.destination_failure", "a composition destination failed"},
	{"IVS Composition State Change: Destination Reconnect", "composition.state.destination_reconnect", "a composition destination reconnects"},
	{"IVS Participant Recording State Change: Recording Start", "stage.participant_recording.recording_start", "a publisher's individual recording to S3 started"},
	{"IVS Participant Recording State Change: Recording End", "stage.participant_recording.recording_end", "a publisher left the stage: its recording's files are all written to S3"},
	{"IVS Participant Recording State Change: Recording Start Failure", "stage.participant_recording.recording_start_failure", "a publisher's recording could not start (the bucket missing, …)"},
	{"IVS Participant Recording State Change: Recording End Failure", "stage.participant_recording.recording_end_failure", "a publisher's recording ended in failure; some objects may be written"},
	{"another EventBridge event", "eventbridge.event", "an event of another source on the topic, published as it is"},
	{"a message that is no EventBridge event", "sns.notification", "an SNS message published to the topic by another sender"},
}

func ivsIsProbe(c *Callback) bool {
	top, err := c.members()
	if err != nil {
		return false
	}
	typ := snsType(top)
	return typ == snsSubscribe || typ == snsUnsubscribe
}

// ivsAnswer answers a verified confirmation: a SubscriptionConfirmation is confirmed with a GET
// of SubscribeURL (HTTPS, an allowed host), unless this process signed it itself (Sign's key:
// there is no subscription behind it); an UnsubscribeConfirmation is only answered.
func ivsAnswer(c *Callback, a *Auth, dst []byte) ([]byte, error) {
	top, _ := c.members()
	if snsType(top) != snsSubscribe {
		return append(dst, ivsReply...), nil
	}
	_, u, ok := snsString(nil, top, "SubscribeURL", "SubscribeUrl")
	if !ok {
		return nil, payloadErr("SubscribeURL", "want a string")
	}
	if err := snsCheckURL(u, a, false); err != nil {
		return nil, payloadErr("SubscribeURL", "%v", err)
	}
	_, certURL, _ := snsString(nil, top, "SigningCertURL", "SigningCertUrl")
	if _, local := snsLocalCert(certURL, a); !local {
		err := snsFetch.confirm(string(u))
		if snsTransient(err) {
			return nil, &UnavailableError{Reason: "confirming the subscription (GET SubscribeURL), retry later: " + err.Error()}
		} else if err != nil {
			return nil, payloadErr("SubscribeURL", "confirming the subscription: %v", err)
		}
	}
	return append(dst, ivsReply...), nil
}

// ivsEnvelope are the EventBridge event's members the bridge reads.
type ivsEnvelope struct {
	id, detailType, source, time, resources, detail []byte
	dup                                             []byte
}

func ivsNormalize(c *Callback, ev *Event) error {
	top, err := c.members()
	if err != nil {
		return err
	}
	if snsType(top) != snsNotification {
		return payloadErr("Type", "want Notification")
	}
	msgRaw := lookup(top, "Message")
	if len(msgRaw) < 2 || msgRaw[0] != '"' {
		return payloadErr("Message", "want a string")
	}
	msg := appendUnquoted(ev.scratch[:0], msgRaw)
	ev.scratch = msg
	var env ivsEnvelope
	if i := skipSpace(msg, 0); i < len(msg) && msg[i] == '{' {
		if eachMember(msg, func(m member) { env.read(m) }) != nil {
			env = ivsEnvelope{} // not JSON after all: a plain message
		}
	}
	ev.Time = c.Received.UTC()
	if at, ok := parseRFC3339(lookup(top, "Timestamp")); ok {
		ev.Time = at
	}
	ev.setSource(nil)
	if env.detailType == nil || env.source == nil {
		return snsPlain(ev, top, msg)
	}
	if env.dup != nil {
		return payloadErr("Message", "the EventBridge event has member %s twice", excerpt(env.dup))
	}
	return ivsEventBridge(ev, &env, msg)
}

// read keeps the members of the EventBridge envelope, noting one that appears twice.
func (env *ivsEnvelope) read(m member) {
	var at *[]byte
	switch string(m.key) {
	case "id":
		at = &env.id
	case "detail-type":
		at = &env.detailType
	case "source":
		at = &env.source
	case "time":
		at = &env.time
	case "resources":
		at = &env.resources
	case "detail":
		at = &env.detail
	default:
		return
	}
	if *at != nil {
		env.dup = m.key
	}
	*at = m.val
}

// ivsEventBridge fills ev from an EventBridge event.
func ivsEventBridge(ev *Event, env *ivsEnvelope, msg []byte) error {
	detailType, scratch, ok := stringValue(env.detailType, ev.scratch)
	ev.scratch = scratch
	if !ok || env.detailType[0] != '"' {
		return payloadErr("Message.detail-type", "want a string")
	}
	ev.ProviderEventType = ev.keep(detailType)
	id, scratch, ok := stringValue(env.id, ev.scratch)
	ev.scratch = scratch
	if !ok || env.id[0] != '"' || len(id) == 0 {
		return payloadErr("Message.id", "want the EventBridge event id, a non-empty string")
	}
	ev.setProviderID(id)
	if string(env.source) != `"aws.ivs"` {
		ev.setType(ivsPrefix, "eventbridge.event")
	} else if err := ivsSetType(ev, env); err != nil {
		return err
	}
	if at, ok := parseRFC3339(env.time); ok {
		ev.Time = at
	}
	if len(env.resources) > 0 && env.resources[0] == '[' {
		first := firstElement(env.resources)
		subject, scratch, _ := stringValue(first, ev.scratch)
		ev.scratch = scratch
		ev.Subject = ev.keep(subject)
	}
	ev.data = appendCompact(ev.data[:0], msg)
	ev.Data = ev.data
	return nil
}

// ivsSetType names an aws.ivs event from ivsKinds: the kind's name and the slug of its detail
// field; unknown.<detail-type> for a detail-type the table lacks.
func ivsSetType(ev *Event, env *ivsEnvelope) error {
	for _, k := range ivsKinds {
		if k.detailType != string(ev.ProviderEventType) {
			continue
		}
		var sub []byte
		if k.sub != "" {
			raw := nestedMember(env.detail, k.sub)
			if len(raw) > 0 && raw[0] != '"' {
				return payloadErr("Message.detail."+k.sub, "want a string")
			}
			var scratch []byte
			sub, scratch, _ = stringValue(raw, ev.scratch)
			ev.scratch = scratch
		}
		start := len(ev.scratch)
		name := append(ev.scratch, k.name...)
		if len(sub) > 0 {
			name = appendSlug(append(name, '.'), sub)
		}
		ev.scratch = name[:start]
		ev.setType(ivsPrefix, string(name[start:]))
		return nil
	}
	ev.setUnknownType(ivsPrefix, ev.ProviderEventType)
	return nil
}

// maxSlug bounds the part of a type made from an event's own value.
const maxSlug = 64

// appendSlug appends s lower-cased, each byte other than a letter or digit as '_', at most
// maxSlug bytes: "Stream Start" → stream_start.
func appendSlug(dst, s []byte) []byte {
	for i, c := range s {
		if i == maxSlug {
			break
		}
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		default:
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// snsPlain fills ev from an SNS message that is no EventBridge event: its MessageId, Subject,
// Message (the JSON it holds when it holds JSON) and MessageAttributes.
func snsPlain(ev *Event, top []member, msg []byte) error {
	id, scratch, ok := stringValue(lookup(top, "MessageId"), ev.scratch)
	ev.scratch = scratch
	if !ok || len(id) == 0 {
		return payloadErr("MessageId", "want a non-empty string")
	}
	ev.ProviderEventType = ev.keepString("Notification")
	ev.setType(ivsPrefix, "sns.notification")
	ev.setProviderID(id)
	d := append(ev.data[:0], '{')
	for _, m := range top {
		switch string(m.key) {
		case "MessageId", "Subject", "MessageAttributes":
			d = appendMember(d, m)
		case "Message":
			if len(d) > 1 {
				d = append(d, ',')
			}
			d = appendKey(d, m)
			if validValue(msg) && len(bytes.TrimSpace(msg)) > 0 {
				d = appendCompact(d, msg)
			} else {
				d = appendCompact(d, m.val)
			}
		}
	}
	ev.data = append(d, '}')
	ev.Data = ev.data
	return nil
}

// firstElement returns the first element of the JSON array arr, or nil.
func firstElement(arr []byte) []byte {
	i := skipSpace(arr, 1)
	if i >= len(arr) || arr[i] == ']' {
		return nil
	}
	end, err := scanValue(arr, i, 0)
	if err != nil {
		return nil
	}
	return arr[i:end]
}

// ivsCanonical maps Amazon IVS's stream state, auto-record to S3 and stage updates to the
// canonical RTC events (SPEC §9). The room is resources[0], the channel's or stage's ARN (a
// channel's name is not unique, and a stage update names no stage otherwise); a channel's stream
// is the room's session (stream_id), a stage's session its session_id.
var ivsCanonical = &Canonical{
	Base: []Set{
		{To: "app_id", From: "account"},
		{To: "room_id", From: "resources[0]"},
	},
	Events: map[string][]Mapping{
		"stream.state.stream_start": {{Type: StreamPublished, Set: ivsStreamSets()}},
		"stream.state.stream_end":   {{Type: StreamUnpublished, Set: ivsStreamSets()}},

		"recording.state.recording_start": {{Type: RecordingStarted, Set: ivsRecordingSets(ivsKeyPrefix)}},
		"recording.state.recording_end": {{Type: RecordingEnded, Set: ivsRecordingSets(ivsKeyPrefix,
			Set{To: "duration_s", From: "detail.recording_duration_ms", Unit: "ms"})}},
		// A recording that did not start has no key prefix (empty): its recording session names it.
		"recording.state.recording_start_failure": {{Type: RecordingFailed, Set: ivsRecordingSets("detail.recording_session_id",
			Set{To: "recording.error", From: "detail.recording_status_reason"})}},
		"recording.state.recording_end_failure": {{Type: RecordingFailed, Set: ivsRecordingSets(ivsKeyPrefix,
			Set{To: "recording.error", From: "detail.recording_status_reason"})}},

		"stage.update.participant_joined":      {{Type: ParticipantJoined, Set: ivsStageSets()}},
		"stage.update.participant_left":        {{Type: ParticipantLeft, Set: ivsStageSets()}},
		"stage.update.participant_published":   {{Type: StreamPublished, Set: ivsStageSets()}},
		"stage.update.participant_unpublished": {{Type: StreamUnpublished, Set: ivsStageSets()}},

		"stage.participant_recording.recording_start": {{Type: RecordingStarted, Set: ivsParticipantRecordingSets()}},
		"stage.participant_recording.recording_end": {{Type: RecordingEnded, Set: ivsParticipantRecordingSets(
			Set{To: "duration_s", From: "detail.recording_duration_ms", Unit: "ms"})}},
		"stage.participant_recording.recording_start_failure": {{Type: RecordingFailed, Set: ivsParticipantRecordingSets()}},
		"stage.participant_recording.recording_end_failure":   {{Type: RecordingFailed, Set: ivsParticipantRecordingSets()}},
	},
	Gaps: "no reason for a participant leaving or a stream ending, no duration but a recording's, no sequence; no role (stage participants are all alike) and no track kinds; a recording names its S3 key prefix, not its files; server-side composition is not mapped (its fields are undocumented, and it names no stage)",
}

// ivsStreamSets: a channel's stream, its session the stream_id.
func ivsStreamSets() []Set {
	return []Set{
		{To: "room_session_id", From: "detail.stream_id"},
		{To: "track.id", From: "detail.stream_id"},
		{To: "track.name", From: "detail.channel_name"},
	}
}

// ivsKeyPrefix is where auto-record to S3 writes a recording: the recording's task.
const ivsKeyPrefix = "detail.recording_s3_key_prefix"

// ivsRecordingSets: a channel's auto-record to S3, its task read at task.
func ivsRecordingSets(task string, more ...Set) []Set {
	return append([]Set{
		{To: "room_session_id", From: "detail.stream_id"},
		{To: "recording.task_id", From: task},
		{To: "recording.status", From: "detail.recording_status"},
	}, more...)
}

// ivsParticipantRecordingSets: a stage publisher's individual recording, under its key prefix.
func ivsParticipantRecordingSets(more ...Set) []Set {
	return append([]Set{
		{To: "room_session_id", From: "detail.session_id"},
		{To: "participant_session_id", From: "detail.participant_id"},
		{To: "recording.task_id", From: ivsKeyPrefix},
		{To: "recording.status", From: "detail.event_name"},
	}, more...)
}

// ivsStageSets: a stage update about one participant: user_id is the application's, and
// participant_id IVS's id of this join.
func ivsStageSets() []Set {
	return []Set{
		{To: "room_session_id", From: "detail.session_id"},
		{To: "participant_id", From: "detail.user_id"},
		{To: "participant_session_id", From: "detail.participant_id"},
	}
}

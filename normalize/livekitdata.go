package normalize

import "slices"

// livekitData: the WebhookEvent every event is, as protojson writes it (camelCase names, int64 as
// decimal strings, enums by name), from livekit/protocol's protobufs (v1.54). The messages the
// webhooks carry are closed; requests and media options they echo are open objects.
var (
	livekitData = append([]Field{
		{Path: "event", Type: TString, Required: true, Desc: "the event's name, such as participant_joined"},
		{Path: "room", Type: TObject, Desc: "the room, on room, participant and track events"},
		{Path: "participant", Type: TObject, Desc: "the participant, on participant and track events"},
		{Path: "egressInfo", Type: TObject, Desc: "the egress (recording or stream), on egress events"},
		{Path: "ingressInfo", Type: TObject, Desc: "the ingress (RTMP, WHIP or URL input), on ingress events"},
		{Path: "track", Type: TObject, Desc: "the track, on track events"},
		{Path: "job", Type: TObject, Desc: "the agent job, on agent events (open)"},
		{Path: "id", Type: TString, Desc: "the event's id (EV_...), the same on every retry; the CloudEvent's id"},
		{Path: "createdAt", Type: TString, Unit: "s", Desc: "when the event was made (Unix time); int64, a decimal string"},
		{Path: "numDropped", Type: TInteger, Desc: "webhooks the server dropped before this one"},
		{Path: "roomEndReason", Type: TString, Desc: "why the room ended, on room_finished; the enum value's name"},
	}, slices.Concat(under("room", livekitRoom...), under("participant", livekitParticipant...), under("egressInfo", livekitEgress...), under("ingressInfo", livekitIngress...), under("track", livekitTrack...))...)

	livekitRoom = append([]Field{
		{Path: "sid", Type: TString, Desc: "the room's session id (RM_...)"},
		{Path: "name", Type: TString, Desc: "the room's name"},
		{Path: "emptyTimeout", Type: TInteger, Unit: "s"},
		{Path: "departureTimeout", Type: TInteger, Unit: "s"},
		{Path: "maxParticipants", Type: TInteger},
		{Path: "creationTime", Type: TString, Unit: "s", Desc: "int64, a decimal string"},
		{Path: "creationTimeMs", Type: TString, Unit: "ms", Desc: "int64, a decimal string"},
		{Path: "turnPassword", Type: TString},
		{Path: "enabledCodecs", Type: TArray},
		{Path: "metadata", Type: TString},
		{Path: "numParticipants", Type: TInteger},
		{Path: "numPublishers", Type: TInteger},
		{Path: "activeRecording", Type: TBool},
		{Path: "version", Type: TObject},
	}, slices.Concat(under("enabledCodecs[]", livekitCodec...), under("version", livekitVersion...))...)

	livekitParticipant = append([]Field{
		{Path: "sid", Type: TString, Desc: "the participant's session id (PA_...)"},
		{Path: "identity", Type: TString, Desc: "the participant's identity, as its token names it"},
		{Path: "state", Type: TString, Desc: "the enum value's name"},
		{Path: "tracks", Type: TArray},
		{Path: "metadata", Type: TString},
		{Path: "joinedAt", Type: TString, Unit: "s", Desc: "int64, a decimal string"},
		{Path: "joinedAtMs", Type: TString, Unit: "ms", Desc: "int64, a decimal string"},
		{Path: "name", Type: TString},
		{Path: "version", Type: TInteger},
		{Path: "permission", Type: TObject},
		{Path: "region", Type: TString},
		{Path: "isPublisher", Type: TBool},
		{Path: "kind", Type: TString, Desc: "the enum value's name"},
		{Path: "attributes", Type: TObject, Desc: "a map of strings (open)"},
		{Path: "disconnectReason", Type: TString, Desc: "the enum value's name"},
		{Path: "kindDetails", Type: TArray},
		{Path: "kindDetails[]", Type: TString, Desc: "the enum value's name"},
		{Path: "dataTracks", Type: TArray},
		{Path: "clientProtocol", Type: TInteger},
		{Path: "capabilities", Type: TArray},
		{Path: "capabilities[]", Type: TString, Desc: "the enum value's name"},
	}, slices.Concat(under("tracks[]", livekitTrack...), under("permission", livekitPermission...))...)

	livekitTrack = append([]Field{
		{Path: "sid", Type: TString},
		{Path: "type", Type: TString, Desc: "the enum value's name"},
		{Path: "name", Type: TString},
		{Path: "muted", Type: TBool},
		{Path: "width", Type: TInteger, Unit: "px"},
		{Path: "height", Type: TInteger, Unit: "px"},
		{Path: "simulcast", Type: TBool, Desc: "deprecated"},
		{Path: "disableDtx", Type: TBool, Desc: "deprecated"},
		{Path: "source", Type: TString, Desc: "the enum value's name"},
		{Path: "layers", Type: TArray, Desc: "deprecated"},
		{Path: "mimeType", Type: TString},
		{Path: "mid", Type: TString},
		{Path: "codecs", Type: TArray},
		{Path: "stereo", Type: TBool, Desc: "deprecated"},
		{Path: "disableRed", Type: TBool},
		{Path: "encryption", Type: TString, Desc: "the enum value's name"},
		{Path: "stream", Type: TString},
		{Path: "version", Type: TObject},
		{Path: "audioFeatures", Type: TArray},
		{Path: "audioFeatures[]", Type: TString, Desc: "the enum value's name"},
		{Path: "backupCodecPolicy", Type: TString, Desc: "the enum value's name"},
		{Path: "packetTrailerFeatures", Type: TArray},
		{Path: "packetTrailerFeatures[]", Type: TString, Desc: "the enum value's name"},
	}, under("version", livekitVersion...)...)

	livekitPermission = []Field{
		{Path: "canSubscribe", Type: TBool},
		{Path: "canPublish", Type: TBool},
		{Path: "canPublishData", Type: TBool},
		{Path: "canPublishSources", Type: TArray},
		{Path: "canPublishSources[]", Type: TString, Desc: "the enum value's name"},
		{Path: "hidden", Type: TBool},
		{Path: "recorder", Type: TBool, Desc: "deprecated"},
		{Path: "canUpdateMetadata", Type: TBool},
		{Path: "agent", Type: TBool, Desc: "deprecated"},
		{Path: "canSubscribeMetrics", Type: TBool},
		{Path: "canManageAgentSession", Type: TBool},
	}

	livekitCodec = []Field{
		{Path: "mime", Type: TString},
		{Path: "fmtpLine", Type: TString},
	}

	livekitVersion = []Field{
		{Path: "unixMicro", Type: TString, Unit: "us", Desc: "int64, a decimal string"},
		{Path: "ticks", Type: TInteger},
	}

	livekitEgress = append([]Field{
		{Path: "egressId", Type: TString},
		{Path: "roomId", Type: TString},
		{Path: "roomName", Type: TString},
		{Path: "sourceType", Type: TString, Desc: "the enum value's name"},
		{Path: "status", Type: TString, Desc: "the enum value's name"},
		{Path: "startedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "endedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "updatedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "egress", Type: TObject, Desc: "LiveKit's StartEgressRequest (open)"},
		{Path: "replay", Type: TObject, Desc: "LiveKit's ExportReplayRequest (open)"},
		{Path: "roomComposite", Type: TObject, Desc: "LiveKit's RoomCompositeEgressRequest (open)"},
		{Path: "web", Type: TObject, Desc: "LiveKit's WebEgressRequest (open)"},
		{Path: "participant", Type: TObject, Desc: "LiveKit's ParticipantEgressRequest (open)"},
		{Path: "trackComposite", Type: TObject, Desc: "LiveKit's TrackCompositeEgressRequest (open)"},
		{Path: "track", Type: TObject, Desc: "LiveKit's TrackEgressRequest (open)"},
		{Path: "streamResults", Type: TArray},
		{Path: "fileResults", Type: TArray},
		{Path: "segmentResults", Type: TArray},
		{Path: "imageResults", Type: TArray},
		{Path: "error", Type: TString},
		{Path: "errorCode", Type: TInteger},
		{Path: "details", Type: TString},
		{Path: "manifestLocation", Type: TString},
		{Path: "backupStorageUsed", Type: TBool},
		{Path: "retryCount", Type: TInteger},
		{Path: "stream", Type: TObject, Desc: "deprecated; LiveKit's StreamInfoList (open)"},
		{Path: "file", Type: TObject, Desc: "deprecated"},
		{Path: "segments", Type: TObject, Desc: "deprecated; LiveKit's SegmentsInfo (open)"},
	}, slices.Concat(under("fileResults[]", livekitFile...), under("file", livekitFile...))...)

	livekitFile = []Field{
		{Path: "filename", Type: TString},
		{Path: "startedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "endedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "duration", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "size", Type: TString, Unit: "bytes", Desc: "int64, a decimal string"},
		{Path: "location", Type: TString},
	}

	livekitIngress = append([]Field{
		{Path: "ingressId", Type: TString},
		{Path: "name", Type: TString},
		{Path: "streamKey", Type: TString},
		{Path: "url", Type: TString},
		{Path: "inputType", Type: TString, Desc: "the enum value's name"},
		{Path: "bypassTranscoding", Type: TBool, Desc: "deprecated"},
		{Path: "audio", Type: TObject, Desc: "LiveKit's IngressAudioOptions (open)"},
		{Path: "video", Type: TObject, Desc: "LiveKit's IngressVideoOptions (open)"},
		{Path: "roomName", Type: TString},
		{Path: "participantIdentity", Type: TString},
		{Path: "participantName", Type: TString},
		{Path: "participantMetadata", Type: TString},
		{Path: "reusable", Type: TBool},
		{Path: "state", Type: TObject},
	}, slices.Concat(under("state", livekitIngressState...))...)

	livekitIngressState = append([]Field{
		{Path: "status", Type: TString, Desc: "the enum value's name"},
		{Path: "error", Type: TString},
		{Path: "video", Type: TObject, Desc: "LiveKit's InputVideoState (open)"},
		{Path: "audio", Type: TObject, Desc: "LiveKit's InputAudioState (open)"},
		{Path: "roomId", Type: TString},
		{Path: "startedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "endedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "updatedAt", Type: TString, Unit: "ns", Desc: "int64, a decimal string"},
		{Path: "resourceId", Type: TString},
		{Path: "tracks", Type: TArray},
	}, slices.Concat(under("tracks[]", livekitTrack...))...)
)

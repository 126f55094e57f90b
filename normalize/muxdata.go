package normalize

import (
	"slices"
	"strings"
)

// muxData: Mux's envelope as published, from mux-node-sdk's webhooks.ts (BaseWebhookEvent,
// PROTOCOLS-WAVE3-GLOBAL.md §5a) and the REST API's objects; `attempts` is left out, and every
// stream_key and srt_passphrase is removed (§5f). data.data is the object of the REST API the
// event is about, declared per event (muxEventData); a robots.job.* or later type keeps it open.
var muxData = []Field{
	{Path: "type", Type: TString, Required: true, Desc: "Mux's event type, such as video.asset.ready"},
	{Path: "id", Type: TString, Required: true, Desc: "the event's id (a UUID), the same on every attempt"},
	{Path: "created_at", Type: TString, Required: true, Desc: "when the event was made (RFC 3339)"},
	{Path: "object", Type: TObject, Required: true, Desc: "the object the event is about"},
	{Path: "object.type", Type: TString, Required: true, Desc: "asset, upload, live, simulcast_target, track, …"},
	{Path: "object.id", Type: TString, Required: true, Desc: "its id; the CloudEvent's subject"},
	{Path: "environment", Type: TObject, Required: true, Desc: "the Mux environment"},
	{Path: "environment.id", Type: TString, Required: true},
	{Path: "environment.name", Type: TString, Required: true},
	{Path: "data", Type: TObject, Required: true, Desc: "the object, as the REST API returns it"},
	{Path: "accessor", Type: "string|null", Desc: "deprecated"},
	{Path: "accessor_source", Type: "string|null", Desc: "deprecated"},
	{Path: "request_id", Type: "string|null", Desc: "deprecated"},
}

// muxEventData: each event's data.data, by the family its type names.
var muxEventData = func() map[string][]Field {
	m := map[string][]Field{}
	for _, e := range muxEvents {
		var fs []Field
		switch n := e.Name; {
		case strings.HasPrefix(n, "video.asset.track."):
			fs = append(slices.Clone(muxTrack), Field{Path: "asset_id", Type: TString, Desc: "the asset the track belongs to"})
		case strings.HasPrefix(n, "video.asset.static_rendition."):
			fs = append(slices.Clone(muxRendition), Field{Path: "asset_id", Type: TString, Desc: "the asset the rendition belongs to"})
		case strings.HasPrefix(n, "video.asset."):
			fs = muxAsset
		case strings.HasPrefix(n, "video.upload."):
			fs = muxUpload
		case strings.HasPrefix(n, "video.live_stream.simulcast_target."):
			fs = append(slices.Clone(muxSimulcast), Field{Path: "live_stream_id", Type: TString, Desc: "the live stream the target belongs to"})
		case strings.HasPrefix(n, "video.live_stream."):
			fs = muxLive
		case n == "video.delivery.high_traffic":
			fs = muxHighTraffic
		}
		m[e.Name] = under("data", fs...)
	}
	return m
}()

var (
	muxIDs = []Field{
		{Path: "id", Type: TString, Required: true, Desc: "the object's id"},
		{Path: "created_at", Type: TString, Unit: "s", Desc: "when it was made (Unix time, a decimal string)"},
		{Path: "passthrough", Type: TString, Desc: "the caller's own value, as set"},
		{Path: "test", Type: TBool, Desc: "a test object (deleted after 24 h)"},
	}

	muxPlaybackIDs = []Field{
		{Path: "playback_ids", Type: TArray},
		{Path: "playback_ids[].id", Type: TString},
		{Path: "playback_ids[].policy", Type: TString, Desc: "public, signed or drm"},
		{Path: "playback_ids[].drm_configuration_id", Type: TString},
	}

	muxErrors = []Field{
		{Path: "errors", Type: TObject, Desc: "why it failed, on errored events"},
		{Path: "errors.type", Type: TString},
		{Path: "errors.messages", Type: TArray},
		{Path: "errors.messages[]", Type: TString},
	}

	muxAsset = slices.Concat(muxIDs, muxPlaybackIDs, muxErrors, []Field{
		{Path: "status", Type: TString, Required: true, Desc: "preparing, ready or errored"},
		{Path: "duration", Type: TNumber, Unit: "s"},
		{Path: "max_stored_resolution", Type: TString, Desc: "deprecated"},
		{Path: "resolution_tier", Type: TString},
		{Path: "max_resolution_tier", Type: TString},
		{Path: "encoding_tier", Type: TString, Desc: "deprecated"},
		{Path: "video_quality", Type: TString},
		{Path: "max_stored_frame_rate", Type: TNumber},
		{Path: "aspect_ratio", Type: TString},
		{Path: "tracks", Type: TArray},
		{Path: "per_title_encode", Type: TBool, Desc: "deprecated"},
		{Path: "upload_id", Type: TString},
		{Path: "is_live", Type: TBool},
		{Path: "live_stream_id", Type: TString},
		{Path: "master", Type: TObject},
		{Path: "master.status", Type: TString},
		{Path: "master.url", Type: TString},
		{Path: "master_access", Type: TString},
		{Path: "mp4_support", Type: TString},
		{Path: "source_asset_id", Type: TString},
		{Path: "normalize_audio", Type: TBool},
		{Path: "static_renditions", Type: TObject},
		{Path: "static_renditions.status", Type: TString},
		{Path: "static_renditions.files", Type: TArray},
		{Path: "recording_times", Type: TArray},
		{Path: "recording_times[].started_at", Type: TString, Desc: "RFC 3339"},
		{Path: "recording_times[].duration", Type: TNumber, Unit: "s"},
		{Path: "recording_times[].type", Type: TString},
		{Path: "non_standard_input_reasons", Type: TObject, Desc: "a map of the input's non-standard properties (open)"},
		{Path: "ingest_type", Type: TString},
		{Path: "meta", Type: TObject},
		{Path: "meta.title", Type: TString},
		{Path: "meta.creator_id", Type: TString},
		{Path: "meta.external_id", Type: TString},
		{Path: "progress", Type: TObject},
		{Path: "progress.state", Type: TString},
		{Path: "progress.progress", Type: TNumber, Desc: "percent"},
		{Path: "warning", Type: TObject, Desc: "on video.asset.warning"},
		{Path: "warning.type", Type: TString},
		{Path: "warning.message", Type: TString},
	}, under("tracks[]", muxTrack...), under("static_renditions.files[]", muxRendition...))

	muxTrack = []Field{
		{Path: "id", Type: TString},
		{Path: "type", Type: TString, Desc: "video, audio or text"},
		{Path: "duration", Type: TNumber, Unit: "s"},
		{Path: "max_width", Type: TInteger, Unit: "px"},
		{Path: "max_height", Type: TInteger, Unit: "px"},
		{Path: "max_frame_rate", Type: TNumber},
		{Path: "max_channels", Type: TInteger},
		{Path: "max_channel_layout", Type: TString, Desc: "deprecated"},
		{Path: "text_type", Type: TString},
		{Path: "text_source", Type: TString},
		{Path: "language_code", Type: TString},
		{Path: "name", Type: TString},
		{Path: "closed_captions", Type: TBool},
		{Path: "passthrough", Type: TString},
		{Path: "status", Type: TString},
		{Path: "primary", Type: TBool},
		{Path: "auto_language_confidence", Type: TNumber, Desc: "0 to 1, for a generated track's detected language"},
		{Path: "error", Type: TObject, Desc: "why it failed, on errored events"},
		{Path: "error.type", Type: TString},
		{Path: "error.messages", Type: TArray},
		{Path: "error.messages[]", Type: TString},
	}

	muxRendition = []Field{
		{Path: "id", Type: TString},
		{Path: "name", Type: TString},
		{Path: "ext", Type: TString},
		{Path: "type", Type: TString},
		{Path: "status", Type: TString},
		{Path: "resolution", Type: TString},
		{Path: "resolution_tier", Type: TString},
		{Path: "width", Type: TInteger, Unit: "px"},
		{Path: "height", Type: TInteger, Unit: "px"},
		{Path: "bitrate", Type: TInteger, Unit: "bps"},
		{Path: "filesize", Type: TString, Unit: "bytes", Desc: "int64, a decimal string"},
		{Path: "passthrough", Type: TString},
		{Path: "error", Type: TObject, Desc: "why it failed, on errored events"},
		{Path: "error.type", Type: TString},
		{Path: "error.messages", Type: TArray},
		{Path: "error.messages[]", Type: TString},
	}

	muxUpload = []Field{
		{Path: "id", Type: TString, Required: true, Desc: "the upload's id"},
		{Path: "test", Type: TBool, Desc: "a test upload"},
		{Path: "status", Type: TString, Required: true, Desc: "waiting, asset_created, errored, cancelled or timed_out"},
		{Path: "timeout", Type: TInteger, Unit: "s"},
		{Path: "new_asset_settings", Type: TObject, Desc: "the asset settings of the upload's request, echoed (open)"},
		{Path: "asset_id", Type: TString},
		{Path: "error", Type: TObject},
		{Path: "error.type", Type: TString},
		{Path: "error.message", Type: TString},
		{Path: "cors_origin", Type: TString},
		{Path: "url", Type: TString},
	}

	muxSimulcast = []Field{
		{Path: "id", Type: TString, Required: true},
		{Path: "passthrough", Type: TString},
		{Path: "status", Type: TString, Required: true, Desc: "idle, starting, broadcasting or errored"},
		{Path: "url", Type: TString, Required: true, Desc: "the RTMP(S) or SRT URL"},
		{Path: "error_severity", Type: TString, Desc: "normal or fatal"},
	}

	muxLive = slices.Concat(muxIDs, muxPlaybackIDs, []Field{
		{Path: "status", Type: TString, Required: true, Desc: "idle, active or disabled"},
		{Path: "active_asset_id", Type: TString},
		{Path: "recent_asset_ids", Type: TArray},
		{Path: "recent_asset_ids[]", Type: TString},
		{Path: "new_asset_settings", Type: TObject, Desc: "the asset settings of the stream's request, echoed (open)"},
		{Path: "audio_only", Type: TBool},
		{Path: "embedded_subtitles", Type: TArray},
		{Path: "generated_subtitles", Type: TArray},
		{Path: "reconnect_window", Type: TNumber, Unit: "s", Desc: "a number in Mux's API (0.1 to 1800)"},
		{Path: "use_slate_for_standard_latency", Type: TBool},
		{Path: "reconnect_slate_url", Type: TString},
		{Path: "latency_mode", Type: TString, Desc: "low, reduced or standard"},
		{Path: "reduced_latency", Type: TBool, Desc: "deprecated"},
		{Path: "low_latency", Type: TBool, Desc: "deprecated"},
		{Path: "max_continuous_duration", Type: TInteger, Unit: "s"},
		{Path: "active_ingest_protocol", Type: TString, Desc: "rtmp or srt"},
		{Path: "simulcast_targets", Type: TArray},
		{Path: "meta", Type: TObject},
		{Path: "meta.title", Type: TString},
		{Path: "warning", Type: TObject, Desc: "on video.live_stream.warning"},
		{Path: "warning.type", Type: TString},
		{Path: "warning.message", Type: TString},
	}, under("simulcast_targets[]", muxSimulcast...), under("embedded_subtitles[]", muxEmbedded...), under("generated_subtitles[]", muxGenerated...))

	muxEmbedded = []Field{
		{Path: "name", Type: TString},
		{Path: "passthrough", Type: TString},
		{Path: "language_code", Type: TString},
		{Path: "language_channel", Type: TString},
	}

	muxGenerated = []Field{
		{Path: "name", Type: TString},
		{Path: "passthrough", Type: TString},
		{Path: "language_code", Type: TString},
		{Path: "transcription_vocabulary_ids", Type: TArray},
		{Path: "transcription_vocabulary_ids[]", Type: TString},
	}

	muxHighTraffic = append([]Field{
		{Path: "id", Type: TString},
		{Path: "threshold", Type: TNumber, Unit: "s", Desc: "the delivered seconds that count as high traffic"},
		{Path: "timeframe", Type: TArray, Desc: "start and end (Unix time, s)"},
		{Path: "timeframe[]", Type: TInteger, Unit: "s"},
		{Path: "data", Type: TArray, Desc: "delivery by asset"},
	}, under("data[]", muxDelivery...)...)

	muxDelivery = []Field{
		{Path: "asset_id", Type: TString, Required: true},
		{Path: "asset_state", Type: TString, Required: true, Desc: "ready, errored or deleted"},
		{Path: "asset_duration", Type: TNumber, Unit: "s", Required: true},
		{Path: "asset_encoding_tier", Type: TString, Required: true},
		{Path: "asset_resolution_tier", Type: TString, Required: true},
		{Path: "asset_video_quality", Type: TString},
		{Path: "created_at", Type: TInteger, Unit: "s", Required: true, Desc: "when the asset was made (Unix time)"},
		{Path: "deleted_at", Type: TInteger, Unit: "s", Desc: "when the asset was deleted (Unix time)"},
		{Path: "delivered_seconds", Type: TNumber, Unit: "s", Required: true},
		{Path: "delivered_seconds_by_resolution", Type: TObject, Required: true},
		{Path: "delivered_seconds_by_resolution.tier_audio_only", Type: TNumber, Unit: "s"},
		{Path: "delivered_seconds_by_resolution.tier_720p", Type: TNumber, Unit: "s"},
		{Path: "delivered_seconds_by_resolution.tier_1080p", Type: TNumber, Unit: "s"},
		{Path: "delivered_seconds_by_resolution.tier_1440p", Type: TNumber, Unit: "s"},
		{Path: "delivered_seconds_by_resolution.tier_2160p", Type: TNumber, Unit: "s"},
		{Path: "live_stream_id", Type: TString},
		{Path: "passthrough", Type: TString},
	}
)

package normalize

// qiniuCanonical maps Qiniu Pili's connect and disconnect callbacks to the canonical RTC events
// (SPEC §9). Their parameters are the user's choice in the console; the mapping reads Qiniu's
// built-ins under the names the docs give them: $(title), the stream, is the room and the
// track's name (else a parameter stream, as a static event callback names it), $(startTime),
// shared by a push's connect and disconnect, the room's session, and $(pushDurationMs) the
// push's duration.
var qiniuCanonical = &Canonical{
	Base: []Set{
		{To: "room_id", From: "title"},
		{To: "room_session_id", From: "startTime"},
		{To: "track.name", From: "title"},
	},
	Events: map[string][]Mapping{
		"stream.connected":    qiniuMappings(StreamPublished),
		"stream.disconnected": qiniuMappings(StreamUnpublished, Set{To: "duration_s", From: "pushDurationMs", Unit: "ms"}),
	},
	Gaps: "no participants, no app id or sequence, no disconnect reason; every field is a parameter the user configures (a stream named by neither title nor stream has no room); no recording or relay callbacks",
}

// qiniuMappings: the stream is title when the callback has one, else stream.
func qiniuMappings(typ string, more ...Set) []Mapping {
	return []Mapping{
		{Type: typ, If: &Cond{Path: "title", Values: []string{AnyValue}}, Set: more},
		{Type: typ, Set: append([]Set{{To: "room_id", From: "stream"}, {To: "track.name", From: "stream"}}, more...)},
	}
}

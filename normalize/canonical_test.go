package normalize

import (
	"strings"
	"testing"
	"time"
)

// canonTest is a provider declaring nothing, so any path may be mapped; its events are made by
// hand in each case.
var canonTest = &Canonical{
	Base: []Set{{To: "room_id", From: "room"}, {To: "app_id", From: "app"}},
	Events: map[string][]Mapping{
		"left": {{Type: ParticipantLeft, Set: []Set{
			{To: "participant_id", From: "user.id"},
			{To: "role", From: "user.role", Values: map[string]string{"1": "host", "2": "audience"}},
			{To: "reason", From: "why", Values: map[string]string{"quit": "left", "lost": "timeout"}},
			{To: "duration_s", From: "ms", Unit: "ms"},
		}}},
		"rec": {
			{Type: RecordingFailed, If: &Cond{Path: "state", Values: []string{"failed"}}, Set: []Set{{To: "recording.error", From: "error"}}},
			{Type: RecordingFileReady, If: &Cond{Path: "state", Values: []string{"done"}}, Set: []Set{
				{To: "recording.task_id", From: "task"}, {To: "recording.files", From: "files[].url"}}},
		},
		"push": {{Type: RelayStarted, Set: []Set{{To: "relay.direction", Value: "push"}, {To: "relay.url", From: "url"}}}},
		"pub": {{Type: StreamPublished, Set: []Set{{To: "participant_id", From: "user.id"},
			{To: "track.id", From: "t.sid"}, {To: "track.kind", From: "t.type", Values: map[string]string{"0": "audio", "1": "video"}}}}},
		"one": {{Type: RecordingFileReady, Set: []Set{{To: "recording.files", From: "file"}, {To: "recording.task_id", From: "nothing"}}}},
	},
}

// TestCanonicalDerive: what each kind of Set writes, left out when the native data lacks it.
func TestCanonicalDerive(t *testing.T) {
	tests := []struct {
		name, native, data string
		want               string // the canonical data; "" for none
	}{
		{"reason mapped, ms to s, numeric id as text", "left",
			`{"room":"r1","app":"a","user":{"id":12345678901234567890,"role":1},"why":"quit","ms":61250}`,
			`{"provider":"test","native_type":"io.test.left","occurred_at":"2026-01-02T03:04:05.678Z","app_id":"a","room_id":"r1","participant_id":"12345678901234567890","role":"host","reason":"left","reason_native":"quit","duration_s":61.25}`},
		{"unknown reason is other, role without a row left out, escaped text kept exact", "left",
			`{"room":"r\"1\u00e9","user":{"id":"u","role":9},"why":"meteor","ms":"2000"}`,
			`{"provider":"test","native_type":"io.test.left","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r\"1é","participant_id":"u","reason":"other","reason_native":"meteor","duration_s":2}`},
		{"empty strings name nothing", "left", `{"room":"","user":{"id":""},"why":""}`,
			`{"provider":"test","native_type":"io.test.left","occurred_at":"2026-01-02T03:04:05.678Z"}`},
		{"nothing present: the common fields only", "left", `{}`,
			`{"provider":"test","native_type":"io.test.left","occurred_at":"2026-01-02T03:04:05.678Z"}`},
		{"first matching condition", "rec", `{"room":"r","state":"failed","error":"disk full"}`,
			`{"provider":"test","native_type":"io.test.rec","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r","recording":{"error":"disk full"}}`},
		{"files from an array of objects", "rec", `{"room":"r","state":"done","task":7,"files":[{"url":"a.mp4"},{"x":1},{"url":"b.mp4"}]}`,
			`{"provider":"test","native_type":"io.test.rec","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r","recording":{"task_id":"7","files":["a.mp4","b.mp4"]}}`},
		{"no condition holds: no counterpart", "rec", `{"room":"r","state":"running"}`, ""},
		{"no mapping: no counterpart", "other", `{"room":"r"}`, ""},
		{"a stream's fields under track", "pub", `{"room":"r","user":{"id":"u"},"t":{"sid":"TR_1","type":1}}`,
			`{"provider":"test","native_type":"io.test.pub","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r","participant_id":"u","track":{"id":"TR_1","kind":"video"}}`},
		{"constant and text", "push", `{"room":"r","url":"rtmp://x/y"}`,
			`{"provider":"test","native_type":"io.test.push","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r","relay":{"direction":"push","url":"rtmp://x/y"}}`},
		{"one value as an array of one; an entity with nothing stays out", "one", `{"room":"r"}`,
			`{"provider":"test","native_type":"io.test.one","occurred_at":"2026-01-02T03:04:05.678Z","room_id":"r"}`},
		{"one value as an array of one", "one", `{"file":"f.mp4"}`,
			`{"provider":"test","native_type":"io.test.one","occurred_at":"2026-01-02T03:04:05.678Z","recording":{"files":["f.mp4"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := canonNative(tt.native, tt.data)
			var out Event
			ok := canonTest.Derive(ev, &out)
			if ok != (tt.want != "") {
				t.Fatalf("Derive = %v, want %v", ok, tt.want != "")
			}
			if !ok {
				return
			}
			if string(out.Data) != tt.want {
				t.Errorf("data\n got %s\nwant %s", out.Data, tt.want)
			}
			if !validValue(out.Data) {
				t.Errorf("data is not JSON")
			}
		})
	}
}

// TestCanonicalAttributes: the id is stable for a retry and differs by native id; the
// attributes name the native event and the room.
func TestCanonicalAttributes(t *testing.T) {
	var a, b, c Event
	canonTest.Derive(canonNative("left", `{"room":"r1","app":"a1"}`), &a)
	canonTest.Derive(canonNative("left", `{"room":"r1","app":"a1"}`), &b)
	other := canonNative("left", `{"room":"r1","app":"a1"}`)
	other.ID = []byte("native-2")
	canonTest.Derive(other, &c)
	if string(a.ID) != string(b.ID) || string(a.ID) == string(c.ID) || len(a.ID) != 32 {
		t.Errorf("ids %s %s %s: a retry keeps the id, another native event does not", a.ID, b.ID, c.ID)
	}
	for name, got := range map[string]string{
		"type": string(a.Type), "eventtype": string(a.EventType), "provider": a.Provider, "source": string(a.Source),
		"subject": string(a.Subject), "causationid": string(a.CausationID), "partitionkey": string(a.PartitionKey),
		"providereventtype": string(a.ProviderEventType),
	} {
		want := map[string]string{"type": "io.callbridge.rtc.participant.left", "eventtype": "participant.left",
			"provider": "rtc", "source": "/callbridge/test/a1", "subject": "r1", "causationid": "native-1",
			"partitionkey": "test:a1:r1", "providereventtype": "L"}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !a.Time.Equal(canonTime) {
		t.Errorf("time %s, want the native event's", a.Time)
	}
}

// TestCheckCanonical refuses each kind of mapping that does not hold.
func TestCheckCanonical(t *testing.T) {
	base := func(c *Canonical) *Provider {
		return &Provider{ID: "p", Events: []EventDef{{"1", "e", ""}}, Canonical: c,
			Data: []Field{{Path: "room", Type: TString}, {Path: "opts", Type: TObject}}}
	}
	ev := func(m ...Mapping) *Canonical { return &Canonical{Events: map[string][]Mapping{"e": m}} }
	tests := []struct {
		c    *Canonical
		want string
	}{
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "room_id", From: "room"}}}), ""},
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "room_id", From: "opts.any.thing"}}}), ""},
		{&Canonical{Events: map[string][]Mapping{"x": {{Type: RoomStarted}}}}, "not one of its events"},
		{ev(Mapping{Type: "room.exploded"}), "not a canonical type"},
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "room_name", From: "room"}}}), "not a canonical field"},
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "recording.task_id", From: "room"}}}), "belongs to recording events"},
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "room_id", From: "nope"}}}), "not declared"},
		{ev(Mapping{Type: RoomStarted, Set: []Set{{To: "room_id"}}}), "exactly one of From and Value"},
		{ev(Mapping{Type: ParticipantLeft, Set: []Set{{To: "reason", From: "room", Values: map[string]string{"1": "bored"}}}}), "not one of"},
		{ev(Mapping{Type: ParticipantLeft, Set: []Set{{To: "role", Value: "king"}}}), "not one of"},
		{ev(Mapping{Type: ParticipantLeft, Set: []Set{{To: "room_id", Value: `a"b`}}}), "not plain text"},
		{ev(Mapping{Type: ParticipantLeft, Set: []Set{{To: "duration_s", From: "room", Unit: "min"}}}), "unit"},
		{ev(Mapping{Type: RoomStarted, If: &Cond{Path: "room"}}), "condition"},
	}
	for _, tt := range tests {
		err := CheckCanonical(base(tt.c))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.c, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want %q", tt.c, err, tt.want)
		}
	}
	if _, err := NewRegistry(&Provider{ID: CanonicalID}); err == nil {
		t.Error("a provider took the canonical events' id")
	}
}

// TestCanonicalDeriveAllocations: Derive allocates nothing once its Event has grown, for every
// fixture of every provider that maps.
func TestCanonicalDeriveAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var out Event
	for _, f := range allFixtures(t) {
		if !f.p.Canonical.Has() || f.p.IsProbe(&Callback{Body: f.body, Header: HeaderMap{}}) {
			continue
		}
		ev := mustEnvelope(t, f.p, f.body, HeaderMap{})
		if !f.p.Canonical.Derive(ev, &out) {
			continue
		}
		if n := testing.AllocsPerRun(50, func() { f.p.Canonical.Derive(ev, &out) }); n != 0 {
			t.Errorf("%s/%s: %.0f allocations per Derive", f.p.ID, f.name, n)
		}
	}
}

var canonTime = time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)

func canonNative(name, data string) *Event {
	ev := &Event{Provider: "test", ID: []byte("native-1"), Source: []byte("/callbridge/test/a1"),
		ProviderEventType: []byte("L"), Time: canonTime, Data: []byte(data)}
	ev.setType("io.test.", name)
	return ev
}

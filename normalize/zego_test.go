package normalize

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"
)

// zegoSelfSecret is PROTOCOLS-WAVE3-CHINA.md §1g's invented secret, behind vectors 2 and 3.
const zegoSelfSecret = "0123456789abcdef0123456789abcdef"

// zegoSignRef computes the documented signature independently of the code under test, as
// ZEGO's PHP sample does: sort($tmpArr, SORT_STRING), implode, sha1.
func zegoSignRef(secret, ts, nonce string) string {
	vals := []string{secret, ts, nonce}
	sort.Strings(vals)
	sum := sha1.Sum([]byte(strings.Join(vals, "")))
	return hex.EncodeToString(sum[:])
}

// TestZegoVectors reproduces §8 vectors 1 (published by ZEGO, receiving-callback.md "输出示例":
// sorted order nonce, timestamp, secret → "1234121470820198secret"), 2 and 3 (self vectors of
// §1g, the second over a timestamp sent as a JSON number).
func TestZegoVectors(t *testing.T) {
	tests := []struct{ name, secret, ts, nonce, want string }{
		{"vector 1, published", "secret", "1470820198", "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4517"},
		{"vector 2, stream_close", zegoSelfSecret, "1666786067", "7266888922840654370", "049bc6fd7f6127bf56d19a8f0d241d00c7dabab6"},
		{"vector 3, numeric timestamp", zegoSelfSecret, "1499676978", "350176", "2c5f06c78ca17b55ea7e3f40f93f974c570340b4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [40]byte
			zegoSum(&got, []byte(tt.secret), []byte(tt.ts), []byte(tt.nonce))
			if string(got[:]) != tt.want {
				t.Errorf("zegoSum = %s, want %s", got, tt.want)
			}
			if ref := zegoSignRef(tt.secret, tt.ts, tt.nonce); ref != tt.want {
				t.Errorf("reference = %s, want %s", ref, tt.want)
			}
		})
	}
	// Every order of the three inputs sorts to the same string.
	for _, p := range [][3]string{{"b", "a", "c"}, {"c", "b", "a"}, {"a", "c", "b"}, {"c", "a", "b"}, {"b", "c", "a"}} {
		var got [40]byte
		zegoSum(&got, []byte(p[0]), []byte(p[1]), []byte(p[2]))
		if want := zegoSignRef("a", "b", "c"); string(got[:]) != want {
			t.Errorf("zegoSum%v = %s, want %s", p, got, want)
		}
	}
}

// zegoBody is a room_login callback signed with vector 1's values, timestamp and nonce written
// as ts and nonce (JSON text).
func zegoBody(ts, nonce, sig string) string {
	return `{"event":"room_login","appid":"1","timestamp":` + ts + `,"nonce":` + nonce + `,"signature":"` + sig +
		`","room_id":"r1","room_seq":"6085791336856668982","session_id":"7924","user_update_seq":"1","login_time":"1470820197000"}`
}

func TestVerifyZego(t *testing.T) {
	const v1 = "5bd59fd62953a8059fb7eaba95720f66d19e4517"
	at1 := time.Unix(1470820198, 0)
	auth1 := Auth{Secret: []byte("secret"), MaxSkew: 5 * time.Minute}
	v1Body := zegoBody(`"1470820198"`, `"123412"`, v1)
	closeBody := string(fixture(t, "zego", "stream_close.json"))
	createBody := string(fixture(t, "zego", "room_create.json"))
	self := Auth{Secret: []byte(zegoSelfSecret), MaxSkew: 5 * time.Minute}
	pascal := `{"Event":"transcode_start","Appid":"1","Timestamp":"1470820198","Nonce":"123412","Signature":"` + v1 + `","TaskId":"t"}`
	tests := []verifyCase{
		{name: "vector 1 (published)", body: v1Body, received: at1, auth: auth1, want: Signed},
		{name: "vector 1, timestamp and nonce as JSON numbers (the PHP sample's form)", body: zegoBody(`1470820198`, `123412`, v1), received: at1, auth: auth1, want: Signed},
		{name: "vector 1, PascalCase family", body: pascal, received: at1, auth: auth1, want: Signed},
		{name: "vector 2: stream_close fixture", body: closeBody, received: time.Unix(1666786068, 0), auth: self, want: Signed},
		{name: "vector 3: numeric timestamp hashed as its literal", body: createBody, received: time.Unix(1499676979, 0), auth: self, want: Signed},
		{name: "upper-case hex", body: zegoBody(`"1470820198"`, `"123412"`, strings.ToUpper(v1)), received: at1, auth: auth1, want: Signed},
		{name: "escaped nonce is signed decoded", body: zegoBody(`"1470820198"`, `"\u0031\u0032\u0033412"`, v1), received: at1, auth: auth1, want: Signed},
		{name: "another body with the same triple still verifies: the body is not signed", body: strings.Replace(v1Body, `"r1"`, `"r2"`, 1), received: at1, auth: auth1, want: Signed},
		{name: "4m59s late", body: v1Body, received: at1.Add(299 * time.Second), auth: auth1, want: Signed},

		{name: "wrong secret", body: v1Body, received: at1, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "signature does not match"},
		{name: "timestamp changed", body: zegoBody(`"1470820199"`, `"123412"`, v1), received: at1, auth: auth1, wantErr: "signature does not match"},
		{name: "nonce changed", body: zegoBody(`"1470820198"`, `"123413"`, v1), received: at1, auth: auth1, wantErr: "signature does not match"},
		{name: "unsorted concatenation", body: zegoBody(`"1470820198"`, `"123412"`, sha1Hex("secret1470820198123412")), received: at1, auth: auth1, wantErr: "signature does not match"},
		{name: "6m late (replay)", body: v1Body, received: at1.Add(6 * time.Minute), auth: auth1, wantErr: "signature window"},
		{name: "6m ahead", body: v1Body, received: at1.Add(-6 * time.Minute), auth: auth1, wantErr: "in the future"},
		{name: "signature missing", body: strings.Replace(v1Body, `"signature":"`+v1+`",`, ``, 1), received: at1, auth: auth1, wantErr: "signature missing"},
		{name: "timestamp missing", body: strings.Replace(v1Body, `"timestamp":"1470820198",`, ``, 1), received: at1, auth: auth1, wantErr: "timestamp missing"},
		{name: "nonce missing", body: strings.Replace(v1Body, `"nonce":"123412",`, ``, 1), received: at1, auth: auth1, wantErr: "nonce missing"},
		{name: "signature twice", body: strings.Replace(v1Body, `"room_id"`, `"signature":"x","room_id"`, 1), received: at1, auth: auth1, wantErr: "signature appears twice"},
		{name: "timestamp under both spellings", body: strings.Replace(v1Body, `"room_id"`, `"Timestamp":"1470820199","room_id"`, 1), received: at1, auth: auth1, wantErr: "timestamp appears twice"},
		{name: "signature a number", body: strings.Replace(v1Body, `"`+v1+`"`, `5`, 1), received: at1, auth: auth1, wantErr: "signature is not a string"},
		{name: "timestamp an object", body: zegoBody(`{}`, `"123412"`, v1), received: at1, auth: auth1, wantErr: "timestamp is not a string or a number"},
		{name: "nonce null", body: zegoBody(`"1470820198"`, `null`, v1), received: at1, auth: auth1, wantErr: "nonce is not a string or a number"},
		{name: "signed timestamp that is not a time", body: zegoBody(`"yesterday"`, `"1"`, zegoSignRef("secret", "yesterday", "1")), received: at1, auth: auth1, wantErr: "not a unix time"},
		{name: "not JSON", body: `{"signature":`, received: at1, auth: auth1, wantErr: "not a JSON object"},
		{name: "no secret", body: v1Body, received: at1, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &Zego, tests)
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestZegoNormalize(t *testing.T) {
	closeBody := fixture(t, "zego", "stream_close.json")
	ev := mustEnvelope(t, &Zego, closeBody, nil)
	data := decodeData(t, ev.Data)
	for _, gone := range []string{"signature", "nonce", "timestamp"} {
		if _, ok := data[gone]; ok {
			t.Errorf("data keeps %s: %s", gone, ev.Data)
		}
	}
	if _, ok := data["third_define_data"].(map[string]any); !ok {
		t.Errorf("third_define_data not decoded: %s", ev.Data)
	}
	// A resend at another time, with a new nonce and signature, is the same event.
	resent, _, err := Zego.Sign(replaceOnce(t, closeBody, `"7266888922840654370"`, `"1"`), &Auth{Secret: []byte("k")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again := mustEnvelope(t, &Zego, resent, nil); string(again.ID) != string(ev.ID) || string(again.Data) != string(ev.Data) {
		t.Errorf("a resend changed the event:\n%s\n%s", ev.AppendStructured(nil), again.AppendStructured(nil))
	}
	// The next stream_seq is another event; without stream_sid the stream id and times count.
	if next := mustEnvelope(t, &Zego, replaceOnce(t, closeBody, `"700"`, `"701"`), nil); string(next.ID) == string(ev.ID) {
		t.Error("stream_seq does not make the id")
	}
	noSID := replaceOnce(t, closeBody, `"stream_sid":"s-115205136669740000000000104",`, ``)
	a, b := mustEnvelope(t, &Zego, noSID, nil), mustEnvelope(t, &Zego, replaceOnce(t, noSID, `"1666986067248"`, `"1666986067249"`), nil)
	if string(a.ID) == string(b.ID) {
		t.Error("without stream_sid, destroy_timemillis does not make the id")
	}

	// 64-bit numbers are copied as written.
	create := mustEnvelope(t, &Zego, fixture(t, "zego", "room_create.json"), nil)
	if !strings.Contains(string(create.Data), `"room_session_id":858012925204410421`) {
		t.Errorf("room_session_id not byte-exact: %s", create.Data)
	}

	// Cloud recording: room-empty is re-sent every 30 s with the next sequence.
	empty := fixture(t, "zego", "recording-4-room-empty.json")
	e1, e2 := mustEnvelope(t, &Zego, empty, nil), mustEnvelope(t, &Zego, replaceOnce(t, empty, `"sequence":2`, `"sequence":3`), nil)
	if string(e1.ID) == string(e2.ID) {
		t.Error("two room-empty callbacks share an id")
	}

	// Moderation results: ResultTaskId names one result.
	result := fixture(t, "zego", "censor_audio_v2_result.json")
	r1 := mustEnvelope(t, &Zego, result, nil)
	if r2 := mustEnvelope(t, &Zego, replaceOnce(t, result, `"censor-result-0001"`, `"censor-result-0002"`), nil); string(r1.ID) == string(r2.ID) {
		t.Error("ResultTaskId does not make the id")
	}
	if r3 := mustEnvelope(t, &Zego, replaceOnce(t, result, `"Timestamp":1700000060`, `"Timestamp":1700000099`), nil); string(r1.ID) != string(r3.ID) {
		t.Error("Timestamp (the send time) changed the id")
	}
}

func TestZegoTypes(t *testing.T) {
	tests := []struct{ body, typ, code, subject string }{
		{`{"event":"room_close","room_id":"r"}`, "room.closed", "room_close", "r"},
		{`{"Event":"censor_video_v2_img_result","TaskId":"t"}`, "moderation.video.image.result", "censor_video_v2_img_result", "t"},
		{`{"event_type":102,"task_id":"t","room_id":"r"}`, "recording.m3u8.ready", "102", "t"},
		{`{"event_type":"201","task_id":"t"}`, "recording.paused", "201", "t"},
		{`{"event_type":99,"task_id":"t"}`, "unknown.event_type/99", "99", "t"},
		{`{"EventType":4,"PlayerId":"p","RoomId":"r"}`, "cloudplayer.exception", "4", "p"},
		{`{"EventType":10006,"UploadTaskId":"u"}`, "cloudplayer.upload.expired", "10006", "u"},
		{`{"event":"a.b*c","stream_id":"s"}`, "unknown.a_b_c", "a.b*c", "s"},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &Zego, []byte(tt.body), nil)
		if string(ev.EventType) != tt.typ || string(ev.ProviderEventType) != tt.code || string(ev.Subject) != tt.subject {
			t.Errorf("%s: type %s code %s subject %s; want %s %s %s", tt.body, ev.EventType, ev.ProviderEventType, ev.Subject, tt.typ, tt.code, tt.subject)
		}
	}
	for _, tt := range []struct{ body, field string }{
		{`{"room_id":"r"}`, "event"},
		{`{"event":{}}`, "event"},
		{`{"event":""}`, "event"},
		{`{"event":12}`, "event"},
		{`{"Event":["x"]}`, "Event"},
		{`{"event_type":"x"}`, "event_type"},
		{`{"EventType":1.5}`, "EventType"},
	} {
		_, err := envelope(&Zego, []byte(tt.body), nil)
		var pe *PayloadError
		if !errors.As(err, &pe) || pe.Field != tt.field {
			t.Errorf("%s: %v, want a PayloadError on %s", tt.body, err, tt.field)
		}
	}
}

package normalize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// Test vectors from shared/providers/PROTOCOLS-MORE.md §2b: TRTC's published one (key "123654",
// the tab-indented body of testdata/tencent-trtc/204-audio-stopped.json, byte for byte) and the
// file's own over examples 2e-1 (104-user-exited.json) and 2e-2 (311-vod-committed.json).
const (
	trtcPublishedKey  = "123654"
	trtcPublishedSign = "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA="
	// The same body with \n and \t written as backslash sequences signs to this: wrong.
	trtcBackslashSign = "LvKyTq86nULm22HssZHPn1L7gkGafhnxpO//kNZ31TM="
	trtcOwnKey        = "callbridgeKey32"
	trtcExitedSign    = "/DEW4rJiGTSE368CcXf0qKRgMMBumoalzMOj6yvVxWA="
	trtcVodSign       = "J7Mxtu79M9Mus1Yvx29P/ab3LmYsIIgJ8da57Yldvas="
)

func TestVerifyTencentTRTC(t *testing.T) {
	published := string(fixture(t, "tencent-trtc", "204-audio-stopped.json"))
	if !strings.Contains(published, "\n\t\"EventInfo\":\t{\n\t\t") {
		t.Fatal("204-audio-stopped.json is no longer the published, tab-indented vector body")
	}
	backslashed := strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(published)
	exited := string(fixture(t, "tencent-trtc", "104-user-exited.json"))
	vod := string(fixture(t, "tencent-trtc", "311-vod-committed.json"))
	sent := time.UnixMilli(1664209748188)
	auth := Auth{Secret: []byte(trtcPublishedKey), MaxSkew: 5 * time.Minute}
	own := Auth{Secret: []byte(trtcOwnKey), MaxSkew: 5 * time.Minute}
	sign := func(s string) HeaderMap { return HeaderMap{"Sign": s, "SdkAppId": "1400188366"} }
	msSpelling := strings.Replace(vod, `"CallbackTs"`, `"CallbackMsTs"`, 1)
	noSendTime := strings.Replace(vod, `"CallbackTs":1622191965320,`, "", 1)
	stringSendTime := strings.Replace(vod, `1622191965320`, `"1622191965320"`, 1)
	tests := []verifyCase{
		{name: "published vector", body: published, header: sign(trtcPublishedSign), received: sent, auth: auth, want: Signed},
		{name: "lower-case header name", body: published, header: HeaderMap{"sign": trtcPublishedSign}, received: sent, auth: auth, want: Signed},
		{name: "own vector 2e-1, pretty-printed", body: exited, header: sign(trtcExitedSign), received: time.UnixMilli(1700000001234), auth: own, want: Signed},
		{name: "own vector 2e-2, compact", body: vod, header: sign(trtcVodSign), received: time.UnixMilli(1622191965320), auth: own, want: Signed},
		{name: "CallbackMsTs spelling", body: msSpelling, header: sign(base64HMAC(trtcOwnKey, msSpelling)), received: time.UnixMilli(1622191965320), auth: own, want: Signed},
		{name: "CallbackTs as a string", body: stringSendTime, header: sign(base64HMAC(trtcOwnKey, stringSendTime)), received: time.UnixMilli(1622191965320), auth: own, want: Signed},
		{name: "received 4m late", body: published, header: sign(trtcPublishedSign), received: sent.Add(4 * time.Minute), auth: auth, want: Signed},

		{name: "body re-serialised compact", body: string(appendCompact(nil, []byte(published))), header: sign(trtcPublishedSign), received: sent, auth: auth, wantErr: "Sign does not match the body"},
		{name: "escapes as backslash sequences", body: backslashed, header: sign(trtcPublishedSign), received: sent, auth: auth, wantErr: "Sign does not match the body"},
		{name: "the backslash reading's own signature is not the published one", body: published, header: sign(trtcBackslashSign), received: sent, auth: auth, wantErr: "Sign does not match the body"},
		{name: "hex instead of base64", body: published, header: sign("928a0578edce8766479e3b60f2d100421b572b5ebf228d395b70507dff08bc60"), received: sent, auth: auth, wantErr: "Sign does not match"},
		{name: "base64 without padding", body: published, header: sign(strings.TrimRight(trtcPublishedSign, "=")), received: sent, auth: auth, wantErr: "Sign does not match"},
		{name: "URL-safe base64", body: published, header: sign(strings.NewReplacer("+", "-", "/", "_").Replace(trtcPublishedSign)), received: sent, auth: auth, wantErr: "Sign does not match"},
		{name: "wrong key", body: published, header: sign(trtcPublishedSign), received: sent, auth: own, wantErr: "Sign does not match"},
		{name: "header missing", body: published, header: HeaderMap{"SdkAppId": "1400188366"}, received: sent, auth: auth, wantErr: "Sign header missing"},
		{name: "CallbackTs too old (replay)", body: published, header: sign(trtcPublishedSign), received: sent.Add(5*time.Minute + time.Millisecond), auth: auth, wantErr: "signature window"},
		{name: "CallbackTs too far ahead", body: published, header: sign(trtcPublishedSign), received: sent.Add(-5*time.Minute - time.Millisecond), auth: auth, wantErr: "in the future"},
		{name: "no send time", body: noSendTime, header: sign(base64HMAC(trtcOwnKey, noSendTime)), received: sent, auth: own, wantErr: "CallbackTs missing"},
		{name: "no key", body: published, header: sign(trtcPublishedSign), received: sent, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &TencentTRTC, tests)
}

// base64HMAC is TRTC's Sign for body under key, computed as its samples do (independently of
// the code under test).
func base64HMAC(key, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestSignTencentTRTCKeepsTheBytes(t *testing.T) {
	exited := fixture(t, "tencent-trtc", "104-user-exited.json")
	now := time.UnixMilli(1700000009999)
	body, headers, err := TencentTRTC.Sign(exited, &Auth{Secret: []byte(trtcOwnKey)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Replace(exited, []byte("1700000001234"), []byte("1700000009999"), 1); !bytes.Equal(body, want) {
		t.Fatalf("Sign changed more than CallbackTs:\n%q\nwant\n%q", body, want)
	}
	if got := headerMap(&TencentTRTC, headers)["Sign"]; got != base64HMAC(trtcOwnKey, string(body)) {
		t.Errorf("Sign header %q", got)
	}
}

func TestTencentTRTCNormalize(t *testing.T) {
	exited := fixture(t, "tencent-trtc", "104-user-exited.json")
	vod := fixture(t, "tencent-trtc", "311-vod-committed.json")
	mp4 := fixture(t, "tencent-trtc", "310-mp4-stopped.json")
	app := HeaderMap{"SdkAppId": "1400188366"}
	tests := []struct {
		name             string
		a, b             []byte
		ha, hb           HeaderMap
		sameID           bool
		subject, typ, at string // of a
	}{
		{name: "retry with a new CallbackTs", a: exited, b: replaceOnce(t, exited, "1700000001234", "1700000011234"), sameID: true,
			subject: "room_8489", typ: "com.tencent.trtc.room.user.exited", at: "2023-11-14T22:13:21.2Z"},
		{name: "retry indented otherwise", a: exited, b: appendCompact(nil, exited), sameID: true,
			subject: "room_8489", typ: "com.tencent.trtc.room.user.exited", at: "2023-11-14T22:13:21.2Z"},
		{name: "another user", a: exited, b: replaceOnce(t, exited, "user_85034614", "user_85034615"),
			subject: "room_8489", typ: "com.tencent.trtc.room.user.exited", at: "2023-11-14T22:13:21.2Z"},
		{name: "another application", a: exited, b: exited, hb: HeaderMap{"SdkAppId": "1400000001"},
			subject: "room_8489", typ: "com.tencent.trtc.room.user.exited", at: "2023-11-14T22:13:21.2Z"},
		{name: "numeric room and string room of the same digits", a: fixture(t, "tencent-trtc", "204-audio-stopped.json"), b: replaceOnce(t, fixture(t, "tencent-trtc", "204-audio-stopped.json"), "\t8489,", "\t\"8489\","),
			subject: "8489", typ: "com.tencent.trtc.media.audio.stopped", at: "2022-09-26T16:29:08.18Z"},
		{name: "recording: task, EventMsTs over EventTs", a: vod, b: replaceOnce(t, vod, `"FileId":"5285890819000000000"`, `"FileId":"5285890819000000001"`),
			subject: "task-abc", typ: "com.tencent.trtc.recording.vod.committed", at: "2021-05-28T08:52:45.3Z"},
		{name: "two 310s of one task", a: mp4, b: replaceOnce(t, mp4, `"EndTimeStamp":`+"\t1700000072345", `"EndTimeStamp":`+"\t1700000099999"),
			subject: "task-abc", typ: "com.tencent.trtc.recording.mp4.stopped", at: "2023-11-14T22:13:37.98Z"},
		{name: "EventTs only, as a string", a: replaceOnce(t, vod, `"EventMsTs":1622191965300,`, ``), b: vod,
			subject: "task-abc", typ: "com.tencent.trtc.recording.vod.committed", at: "2021-05-28T08:52:45Z"},
		{name: "no event time: CallbackMsTs", a: []byte(`{"EventGroupId":9,"EventType":901,"CallbackMsTs":1700000300034,"EventInfo":{"RoomId":"r","TaskId":"ai-1"}}`), b: vod,
			subject: "ai-1", typ: "com.tencent.trtc.unknown.901", at: "2023-11-14T22:18:20.034Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha, hb := tt.ha, tt.hb
			if ha == nil {
				ha = app
			}
			if hb == nil {
				hb = app
			}
			a, b := mustEnvelope(t, &TencentTRTC, tt.a, ha), mustEnvelope(t, &TencentTRTC, tt.b, hb)
			if (string(a.ID) == string(b.ID)) != tt.sameID {
				t.Errorf("ids %s and %s: same = %v, want %v", a.ID, b.ID, !tt.sameID, tt.sameID)
			}
			if string(a.Subject) != tt.subject || string(a.Type) != tt.typ {
				t.Errorf("subject %q type %q, want %q %q", a.Subject, a.Type, tt.subject, tt.typ)
			}
			if want, _ := time.Parse(time.RFC3339Nano, tt.at); !a.Time.Equal(want) {
				t.Errorf("time %s, want %s", a.Time, want)
			}
			if bytes.Contains(a.Data, []byte("CallbackTs")) || bytes.Contains(a.Data, []byte("CallbackMsTs")) {
				t.Errorf("data keeps the send time: %s", a.Data)
			}
			if string(a.Source) != "/callbridge/tencent-trtc/"+ha["SdkAppId"] {
				t.Errorf("source %s", a.Source)
			}
		})
	}
}

func TestTencentTRTCPayloadErrors(t *testing.T) {
	for _, tt := range []struct{ body, field string }{
		{`{"EventGroupId":1,"EventInfo":{}}`, "EventType"},
		{`{"EventGroupId":1,"EventType":"enter","EventInfo":{}}`, "EventType"},
		{`{"EventType":103,"EventInfo":{}}`, "EventGroupId"},
		{`{"EventGroupId":1,"EventType":103}`, "EventInfo"},
		{`{"EventGroupId":1,"EventType":103,"EventInfo":"{}"}`, "EventInfo"},
		{`{"EventGroupId":1,"EventType":103,"EventType":104,"EventInfo":{}}`, `"EventType"`},
	} {
		_, err := envelope(&TencentTRTC, []byte(tt.body), nil)
		pe, ok := err.(*PayloadError)
		if !ok || pe.Field != tt.field {
			t.Errorf("Envelope(%s) = %v, want a *PayloadError on %s", tt.body, err, tt.field)
		}
	}
}

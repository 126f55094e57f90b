package normalize

import (
	"strings"
	"testing"
	"time"
)

// Test vectors from shared/providers/PROTOCOLS-MORE.md §1b: Agora's published ones (secret
// "secret") and the file's own, over the exact bytes of examples 1g-1 and 1g-2, which are
// testdata/agora/probe-test-webhook-104.json and 3-31-uploaded.json.
const (
	agoraPublishedBody   = `{"eventMs":1560408533119,"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f","notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}`
	agoraPublishedSHA1   = "033c62f40f687675f17f0f41f91a40c71c0f134c"
	agoraPublishedSHA256 = "6d3320c60b11101395b7fc8f9068748808a0aa1bfa064438e39d1bc2c7d74d99"
	// The body the current docs show next to those values: no eventMs, a hyphen dropped.
	agoraShownBody = `{"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e53f411c2761f","notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}`
	agoraMs        = 1560408533119

	agoraOwnSecret      = "callbridge-test-secret"
	agoraProbeSHA1      = "385630881ea7fc9dba5fa9263456d7df0298eee3"
	agoraProbeSHA256    = "a9ae43b01a2ea7343e674ccdad45b8262820ca4b962039974f2d01fa3cf8ca92"
	agoraUploadedSHA1   = "e83a7e426fd2bc26f717c201d091ddcb9f776c75"
	agoraUploadedSHA256 = "72f3e45d5c8c7929beb505ef5df7045b496b244a3614840848f45edcd67b152a"
)

func TestVerifyAgora(t *testing.T) {
	sent := time.UnixMilli(agoraMs)
	auth := Auth{Secret: []byte("secret"), MaxSkew: 5 * time.Minute}
	own := Auth{Secret: []byte(agoraOwnSecret), MaxSkew: 5 * time.Minute}
	probe := string(fixture(t, "agora", "probe-test-webhook-104.json"))
	uploaded := string(fixture(t, "agora", "3-31-uploaded.json"))
	v1 := func(s string) HeaderMap { return HeaderMap{"Agora-Signature": s} }
	v2 := func(s string) HeaderMap { return HeaderMap{"Agora-Signature-V2": s} }
	both := func(s1, s2 string) HeaderMap { return HeaderMap{"Agora-Signature": s1, "Agora-Signature-V2": s2} }
	recordingKey := Auth{Secret: []byte("rtc secret"), MaxSkew: 5 * time.Minute, Options: withOptions(t, &Agora, "RECORDING_SECRET", agoraOwnSecret)}
	pushKey := Auth{Secret: []byte(agoraOwnSecret), MaxSkew: 5 * time.Minute, Options: withOptions(t, &Agora, "MEDIA_PUSH_SECRET", "push secret")}
	noNotify := strings.Replace(agoraShownBody, `"notifyMs":1560408533119,`, "", 1)
	tests := []verifyCase{
		{name: "published vector, both headers", body: agoraPublishedBody, header: both(agoraPublishedSHA1, agoraPublishedSHA256), received: sent, auth: auth, want: Signed},
		{name: "published vector, V2 only", body: agoraPublishedBody, header: v2(agoraPublishedSHA256), received: sent, auth: auth, want: Signed},
		{name: "published vector, V1 only", body: agoraPublishedBody, header: v1(agoraPublishedSHA1), received: sent, auth: auth, want: Signed},
		{name: "published vector, upper-case hex", body: agoraPublishedBody, header: v2(strings.ToUpper(agoraPublishedSHA256)), received: sent, auth: auth, want: Signed},
		{name: "PROTOCOLS.md vector without eventMs", body: anyrtcBody, header: both(anyrtcSHA1, anyrtcSHA256), received: sent, auth: auth, want: Signed},
		{name: "own vector 1g-1", body: probe, header: both(agoraProbeSHA1, agoraProbeSHA256), received: time.UnixMilli(1611566412672), auth: own, want: Signed},
		{name: "own vector 1g-2, recording", body: uploaded, header: both(agoraUploadedSHA1, agoraUploadedSHA256), received: time.UnixMilli(1619172872000), auth: own, want: Signed},
		{name: "recording checked with its own secret", body: uploaded, header: both(agoraUploadedSHA1, agoraUploadedSHA256), received: time.UnixMilli(1619172872000), auth: recordingKey, want: Signed},
		{name: "another product's own secret does not apply", body: uploaded, header: both(agoraUploadedSHA1, agoraUploadedSHA256), received: time.UnixMilli(1619172872000), auth: pushKey, want: Signed},
		{name: "notifyMs within skew", body: agoraPublishedBody, header: v2(agoraPublishedSHA256), received: sent.Add(-4 * time.Minute), auth: auth, want: Signed},

		{name: "V2 wrong, V1 right: V2 decides", body: agoraPublishedBody, header: both(agoraPublishedSHA1, agoraPublishedSHA1+agoraPublishedSHA1[:24]), received: sent, auth: auth, wantErr: "Agora-Signature-V2 does not match the body"},
		{name: "V1 in the V2 header", body: agoraPublishedBody, header: v2(agoraPublishedSHA1), received: sent, auth: auth, wantErr: "Agora-Signature-V2 does not match"},
		{name: "the docs' shown body with the printed values", body: agoraShownBody, header: both(agoraPublishedSHA1, agoraPublishedSHA256), received: sent, auth: auth, wantErr: "does not match the body"},
		{name: "recording with the RTC secret when it has its own", body: uploaded, header: both(agoraUploadedSHA1, agoraUploadedSHA256), received: time.UnixMilli(1619172872000),
			auth: Auth{Secret: []byte(agoraOwnSecret), MaxSkew: 5 * time.Minute, Options: withOptions(t, &Agora, "RECORDING_SECRET", "recording secret")}, wantErr: "does not match"},
		{name: "productId changed to pick another key", body: strings.Replace(uploaded, `"productId":3`, `"productId":1`, 1), header: both(agoraUploadedSHA1, agoraUploadedSHA256), received: time.UnixMilli(1619172872000), auth: recordingKey, wantErr: "does not match"},
		{name: "anyRTC's header is not read", body: agoraPublishedBody, header: HeaderMap{"Ar-Signature": agoraPublishedSHA1}, received: sent, auth: auth, wantErr: "headers missing"},
		{name: "no headers", body: agoraPublishedBody, received: sent, auth: auth, wantErr: "Agora-Signature-V2 and Agora-Signature headers missing"},
		{name: "body with a trailing newline", body: agoraPublishedBody + "\n", header: both(agoraPublishedSHA1, agoraPublishedSHA256), received: sent, auth: auth, wantErr: "does not match the body"},
		{name: "wrong secret", body: agoraPublishedBody, header: both(agoraPublishedSHA1, agoraPublishedSHA256), received: sent, auth: own, wantErr: "does not match the body"},
		{name: "notifyMs too old (replay)", body: agoraPublishedBody, header: v2(agoraPublishedSHA256), received: sent.Add(5*time.Minute + time.Millisecond), auth: auth, wantErr: "signature window"},
		{name: "notifyMs too far ahead", body: agoraPublishedBody, header: v2(agoraPublishedSHA256), received: sent.Add(-5*time.Minute - time.Millisecond), auth: auth, wantErr: "in the future"},
		{name: "notifyMs missing", body: noNotify, header: v2(hmacHex(t, "secret", noNotify, true)), received: sent, auth: auth, wantErr: "notifyMs missing"},
		{name: "no secret", body: agoraPublishedBody, header: v2(agoraPublishedSHA256), received: sent, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &Agora, tests)
}

// hmacHex is hex(HMAC(secret, body)) with SHA-256 or SHA-1, computed as a provider would.
func hmacHex(t testing.TB, secret, body string, sha256Hash bool) string {
	t.Helper()
	return anyrtcSign([]byte(body), secret, sha256Hash)
}

func TestAgoraIsProbe(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"console test event (PROTOCOLS-MORE.md 1g-1)", string(fixture(t, "agora", "probe-test-webhook-104.json")), true},
		{"test event of a recording", `{"noticeId":"n","productId":3,"eventType":40,"payload":{"cname":"test_webhook","uid":"12121212"}}`, true},
		{"real channel", string(fixture(t, "agora", "1-103-broadcaster-join.json")), false},
		{"channel name that only starts like it", `{"productId":1,"eventType":101,"payload":{"channelName":"test_webhook2"}}`, false},
		{"test_webhook elsewhere", `{"productId":1,"eventType":101,"sid":"test_webhook","payload":{"channelName":"c"}}`, false},
		{"not JSON", `{"payload":{"channelName":"test_webhook"}`, false},
		{"payload not an object", `{"payload":"test_webhook"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Agora.IsProbe(&Callback{Body: []byte(tt.body), Header: HeaderMap{}}); got != tt.want {
				t.Errorf("IsProbe = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAgoraNormalize(t *testing.T) {
	join := fixture(t, "agora", "1-103-broadcaster-join.json")
	resent := replaceOnce(t, join, `"notifyMs":1712902003415`, `"notifyMs":1712902063415`)
	noNotice := replaceOnce(t, join, `"noticeId":"2000001428:4330:9003",`, ``)
	tests := []struct {
		name              string
		a, b              []byte
		sameID            bool
		subject, typ, at  string // of a
		providerEventType string
	}{
		{name: "resend: new notifyMs, same event", a: join, b: resent, sameID: true, subject: "room1", typ: "io.agora.rtc.broadcaster.joined", at: "2024-04-12T06:06:43Z", providerEventType: "103"},
		{name: "pretty-printed resend", a: join, b: indent(t, resent), sameID: true, subject: "room1", typ: "io.agora.rtc.broadcaster.joined", at: "2024-04-12T06:06:43Z", providerEventType: "103"},
		{name: "another noticeId", a: join, b: replaceOnce(t, join, `2000001428:4330:9003`, `2000001428:4330:9999`), subject: "room1", typ: "io.agora.rtc.broadcaster.joined", at: "2024-04-12T06:06:43Z", providerEventType: "103"},
		{name: "no noticeId: resend still one event", a: noNotice, b: replaceOnce(t, noNotice, `"notifyMs":1712902003415`, `"notifyMs":1712902063415`), sameID: true, subject: "room1", typ: "io.agora.rtc.broadcaster.joined", at: "2024-04-12T06:06:43Z", providerEventType: "103"},
		{name: "no noticeId: another uid", a: noNotice, b: replaceOnce(t, noNotice, `"uid":12345`, `"uid":12346`), subject: "room1", typ: "io.agora.rtc.broadcaster.joined", at: "2024-04-12T06:06:43Z", providerEventType: "103"},
		{name: "recording: cname and sendts (ms)", a: fixture(t, "agora", "3-31-uploaded.json"), b: fixture(t, "agora", "3-32-backuped.json"), subject: "room1", typ: "io.agora.recording.uploaded", at: "2021-04-23T10:14:31.9Z", providerEventType: "31"},
		{name: "media push: converter id, lts in seconds as the examples write it", a: fixture(t, "agora", "5-1-converter-created.json"), b: fixture(t, "agora", "5-3-converter-status.json"), subject: "4c014467d647bb87b60b719f6fa57686", typ: "io.agora.mediapush.converter.created", at: "2020-10-23T12:36:40Z", providerEventType: "1"},
		{name: "media pull: player id, lts in ms", a: fixture(t, "agora", "4-1-player-created.json"), b: fixture(t, "agora", "4-3-player-destroyed.json"), subject: "2a784467d647bb87b60b719f6fa56317", typ: "io.agora.mediapull.player.created", at: "2019-12-05T01:17:24.149Z", providerEventType: "1"},
		{name: "unknown product keeps the product in the type", a: fixture(t, "agora", "unknown-7-1-fusion-cdn.json"), b: join, typ: "io.agora.unknown.7.1", at: "2024-04-12T06:06:43.455Z", providerEventType: "1"},
		{name: "eventType repeats across products", a: fixture(t, "agora", "4-1-player-created.json"), b: fixture(t, "agora", "5-1-converter-created.json"), subject: "2a784467d647bb87b60b719f6fa56317", typ: "io.agora.mediapull.player.created", at: "2019-12-05T01:17:24.149Z", providerEventType: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustEnvelope(t, &Agora, tt.a, nil), mustEnvelope(t, &Agora, tt.b, nil)
			if (string(a.ID) == string(b.ID)) != tt.sameID {
				t.Errorf("ids %s and %s: same = %v, want %v", a.ID, b.ID, !tt.sameID, tt.sameID)
			}
			if string(a.Subject) != tt.subject || string(a.Type) != tt.typ || string(a.ProviderEventType) != tt.providerEventType {
				t.Errorf("subject %q type %q code %q, want %q %q %q", a.Subject, a.Type, a.ProviderEventType, tt.subject, tt.typ, tt.providerEventType)
			}
			if want, _ := time.Parse(time.RFC3339Nano, tt.at); !a.Time.Equal(want) {
				t.Errorf("time %s, want %s", a.Time, want)
			}
			data := decodeData(t, a.Data)
			if _, ok := data["notifyMs"]; ok {
				t.Errorf("data keeps notifyMs, which changes on every resend: %s", a.Data)
			}
			if _, ok := data["payload"]; !ok {
				t.Errorf("data lost the payload: %s", a.Data)
			}
		})
	}
}

func TestAgoraPayloadErrors(t *testing.T) {
	for _, tt := range []struct{ body, field string }{
		{`{"noticeId":"n","eventType":101,"payload":{}}`, "productId"},
		{`{"noticeId":"n","productId":"rtc","eventType":101,"payload":{}}`, "productId"},
		{`{"noticeId":"n","productId":1,"payload":{}}`, "eventType"},
		{`{"noticeId":"n","productId":1,"eventType":101.5,"payload":{}}`, "eventType"},
		{`{"noticeId":"n","productId":1,"eventType":101}`, "payload"},
		{`{"noticeId":"n","productId":1,"eventType":101,"payload":[]}`, "payload"},
		{`{"noticeId":"n","productId":1,"productId":1,"eventType":101,"payload":{}}`, `"productId"`},
	} {
		_, err := envelope(&Agora, []byte(tt.body), nil)
		pe, ok := err.(*PayloadError)
		if !ok || pe.Field != tt.field {
			t.Errorf("Envelope(%s) = %v, want a *PayloadError on %s", tt.body, err, tt.field)
		}
	}
}

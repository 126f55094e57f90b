package normalize

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// PROTOCOLS-WAVE3-CHINA.md §3b/§8 self vectors (Huawei publishes none): key and auth_timestamp
// invented there, the push and MD5 record examples of §3g byte for byte in
// testdata/huawei-live/push-PUBLISH.json and record-RECORD_FILE_COMPLETE-md5.json.
const (
	huaweiKey      = "callbridgeHuaweiLiveKey0123456789ab"
	huaweiTS       = 1700000600
	huaweiVector8  = "bf2c1e0359f4e38ca6e004777269da963fee3468c48db8efdf750c58393207b3"
	huaweiVector9  = "f0c8377db3734197637da8f399ae452c"
	huaweiRecHMAC  = "cb3403cca85cb6434d1440f5f3c5c80a514ed04fd7c51ff964257cc9db72d5fc"
	huaweiVector8s = "PUBLISHpush.example.comliveexample_stream1700000600"
	huaweiRecHMACs = "1700000600RECORD_FILE_COMPLETEpush.example.comlivemystreamhttps://obs.example.com/live/mystream.m3u8"
)

// huaweiHMAC is hex(HMAC-SHA256(key, msg)), computed apart from the code under test.
func huaweiHMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// The §8 vectors 8 and 9 and the §3b HMAC record vector, computed here with the standard
// library and by the provider over the fixtures that carry them.
func TestHuaweiLiveVectors(t *testing.T) {
	md5sum := md5.Sum([]byte(huaweiKey + "1700000600"))
	for _, tt := range []struct{ name, got, want string }{
		{"vector 8, push HMAC", huaweiHMAC(huaweiKey, huaweiVector8s), huaweiVector8},
		{"vector 9, record MD5", hex.EncodeToString(md5sum[:]), huaweiVector9},
		{"record HMAC with play_url \"\"", huaweiHMAC(huaweiKey, huaweiRecHMACs), huaweiRecHMAC},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	for _, tt := range []struct {
		file, want string
		md5Form    bool
	}{
		{"push-PUBLISH.json", huaweiVector8, false},
		{"record-RECORD_FILE_COMPLETE-md5.json", huaweiVector9, true},
		{"record-RECORD_FILE_COMPLETE-hmac.json", huaweiRecHMAC, false},
	} {
		body := fixture(t, "huawei-live", tt.file)
		if !strings.Contains(string(body), tt.want) {
			t.Fatalf("%s no longer carries its vector", tt.file)
		}
		var buf [2 * sha256.Size]byte
		got, err := huaweiExpected(&buf, topMembers(body), []byte(huaweiKey), tt.md5Form)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.file, got, err, tt.want)
		}
	}
}

func TestVerifyHuaweiLive(t *testing.T) {
	push := string(fixture(t, "huawei-live", "push-PUBLISH.json"))
	recMD5 := string(fixture(t, "huawei-live", "record-RECORD_FILE_COMPLETE-md5.json"))
	recHMAC := string(fixture(t, "huawei-live", "record-RECORD_FILE_COMPLETE-hmac.json"))
	at := time.Unix(huaweiTS, 0)
	auth := Auth{Secret: []byte(huaweiKey), MaxSkew: 5 * time.Minute}
	with := func(body, key, val string) string {
		out, err := replaceMember([]byte(body), key, []byte(val))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	pushSigned := func(body, msg string) string { return with(body, "auth_sign", `"`+huaweiHMAC(huaweiKey, msg)+`"`) }
	tests := []verifyCase{
		{name: "vector 8 (push example 3g)", body: push, received: at.Add(time.Second), auth: auth, want: Signed},
		{name: "vector 9 (record example 3g, MD5 form)", body: recMD5, received: at, auth: auth, want: Signed},
		{name: "record HMAC form", body: recHMAC, received: at, auth: auth, want: Signed},
		{name: "upper-case hex", body: with(push, "auth_sign", `"`+strings.ToUpper(huaweiVector8)+`"`), received: at, auth: auth, want: Signed},
		{name: "auth_timestamp as a string is signed as its contents", body: with(push, "auth_timestamp", `"1700000600"`), received: at, auth: auth, want: Signed},
		{name: "escapes are signed decoded", body: with(push, "stream", `"example\u005fstream"`), received: at, auth: auth, want: Signed},
		{name: "play_url, when sent, is signed", body: with(with(recHMAC, "play_url", `"https://play.example.com/live/mystream.m3u8"`), "auth_sign", `"`+huaweiHMAC(huaweiKey, huaweiRecHMACs+"https://play.example.com/live/mystream.m3u8")+`"`), received: at, auth: auth, want: Signed},
		{name: "a number field is signed as written", body: pushSigned(with(push, "stream", `12`), "PUBLISHpush.example.comlive121700000600"), received: at, auth: auth, want: Signed},
		{name: "MD5 form covers no body field (a weakness of the scheme)", body: with(recMD5, "stream", `"another"`), received: at, auth: auth, want: Signed},
		{name: "within the window, late", body: push, received: at.Add(5 * time.Minute), auth: auth, want: Signed},
		{name: "within the window, early", body: push, received: at.Add(-5 * time.Minute), auth: auth, want: Signed},

		{name: "past the window", body: push, received: at.Add(5*time.Minute + time.Second), auth: auth, wantErr: "signature window"},
		{name: "ahead of the window (an expiry further than the skew)", body: push, received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "wrong key, push", body: push, received: at, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "HMAC-SHA256(event + domain"},
		{name: "wrong key, record MD5", body: recMD5, received: at, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "md5(key + auth_timestamp)"},
		{name: "push stream changed", body: with(push, "stream", `"other"`), received: at, auth: auth, wantErr: "does not match"},
		{name: "push auth_timestamp changed", body: with(push, "auth_timestamp", `1700000601`), received: at, auth: auth, wantErr: "does not match"},
		{name: "push auth_timestamp with a leading zero", body: with(push, "auth_timestamp", `"01700000600"`), received: at, auth: auth, wantErr: "does not match"},
		{name: "record HMAC download_url changed", body: with(recHMAC, "download_url", `"https://evil.example.com/x.m3u8"`), received: at, auth: auth, wantErr: "HMAC-SHA256(auth_timestamp + event_type"},
		{name: "push signed in the record field order", body: pushSigned(push, "1700000600PUBLISHpush.example.comliveexample_stream"), received: at, auth: auth, wantErr: "does not match"},
		{name: "MD5 form on a push callback", body: with(push, "auth_sign", `"`+huaweiVector9+`"`), received: at, auth: auth, wantErr: "neither 64 hex"},
		{name: "auth_sign of another length", body: with(push, "auth_sign", `"abc"`), received: at, auth: auth, wantErr: "neither 64 hex"},
		{name: "auth_sign not a string", body: with(push, "auth_sign", `1`), received: at, auth: auth, wantErr: "not a string"},
		{name: "auth_sign missing", body: strings.Replace(push, `,"auth_sign":"`+huaweiVector8+`"`, ``, 1), received: at, auth: auth, wantErr: "missing"},
		{name: "auth_timestamp missing", body: strings.Replace(push, `"auth_timestamp":1700000600,`, ``, 1), received: at, auth: auth, wantErr: "missing"},
		{name: "auth_timestamp not a number", body: with(push, "auth_timestamp", `"soon"`), received: at, auth: auth, wantErr: "not a unix timestamp"},
		{name: "auth_sign twice", body: strings.Replace(push, `"event"`, `"auth_sign":"x","event"`, 1), received: at, auth: auth, wantErr: "appears twice"},
		{name: "a signed field twice", body: strings.Replace(push, `"event"`, `"stream":"x","event"`, 1), received: at, auth: auth, wantErr: "stream appears twice"},
		{name: "a signed field an object", body: with(push, "app", `{"a":1}`), received: at, auth: auth, wantErr: "app is not a string or a number"},
		{name: "not JSON", body: `{"auth_sign":`, received: at, auth: auth, wantErr: "not a JSON object"},
		{name: "no secret", body: push, received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
		{name: "no secret, unsigned allowed", body: push, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
	}
	runVerify(t, &HuaweiLive, tests)
}

// Every fixture verifies under the §3 key at its auth_timestamp.
func TestVerifyHuaweiLiveFixtures(t *testing.T) {
	auth := Auth{Secret: []byte(huaweiKey), MaxSkew: 5 * time.Minute}
	for _, name := range fixtureNames(t, "huawei-live") {
		body := fixture(t, "huawei-live", name)
		ts, _ := intValue(lookup(topMembers(body), "auth_timestamp"))
		c := &Callback{Body: body, Header: HeaderMap{}, Received: time.Unix(ts, 0)}
		if v, err := HuaweiLive.Verify(c, &auth); err != nil || v != Signed {
			t.Errorf("%s: %v %v", name, v, err)
		}
	}
}

func TestHuaweiLiveNormalize(t *testing.T) {
	tests := []struct{ file, typ, code, subject, at string }{
		{"push-PUBLISH.json", "stream.published", "PUBLISH", "example_stream", "2020-04-27T02:22:14Z"},
		{"push-PUBLISH-stray-comma.json", "stream.published", "PUBLISH", "stream3", "2020-04-27T02:25:00Z"},
		{"push-PUBLISH_DONE.json", "stream.unpublished", "PUBLISH_DONE", "example_stream", received.Format(time.RFC3339)},
		{"record-RECORD_START.json", "recording.started", "RECORD_START", "mystream", received.Format(time.RFC3339)},
		{"record-RECORD_NEW_FILE_START.json", "recording.file.started", "RECORD_NEW_FILE_START", "mystream", "2020-03-08T14:10:25Z"},
		{"record-RECORD_FILE_COMPLETE-md5.json", "recording.file.completed", "RECORD_FILE_COMPLETE", "mystream", "2020-03-08T14:12:25Z"},
		{"record-RECORD_OVER.json", "recording.ended", "RECORD_OVER", "mystream", "2020-03-08T14:20:25Z"},
		{"record-RECORD_FAILED.json", "recording.failed", "RECORD_FAILED", "mystream", received.Format(time.RFC3339)},
		{"record-unknown-RECORD_PAUSE.json", "unknown.RECORD_PAUSE", "RECORD_PAUSE", "mystream", received.Format(time.RFC3339)},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &HuaweiLive, fixture(t, "huawei-live", tt.file), nil)
		at, _ := time.Parse(time.RFC3339, tt.at)
		if string(ev.Type) != huaweiLivePrefix+tt.typ || string(ev.ProviderEventType) != tt.code || string(ev.Subject) != tt.subject ||
			!ev.Time.Equal(at) || string(ev.Source) != "/callbridge/huawei-live/push.example.com" {
			t.Errorf("%s: %s", tt.file, ev.AppendStructured(nil))
		}
		data := decodeData(t, ev.Data)
		for _, gone := range []string{"auth_sign", "auth_timestamp"} {
			if _, ok := data[gone]; ok {
				t.Errorf("%s: data keeps %s", tt.file, gone)
			}
		}
	}
	id := func(file string) string {
		return string(mustEnvelope(t, &HuaweiLive, fixture(t, "huawei-live", file), nil).ID)
	}
	publish := fixture(t, "huawei-live", "push-PUBLISH.json")
	if id("push-PUBLISH.json") != string(mustEnvelope(t, &HuaweiLive, replaceOnce(t, publish, `"1587954134"`, `"1587954134,"`), nil).ID) {
		t.Error("publish_timestamp \"1587954134,\" and \"1587954134\" give two ids")
	}
	if id("record-RECORD_FILE_COMPLETE-md5.json") != id("record-RECORD_FILE_COMPLETE-hmac.json") {
		t.Error("one recording event signed in the two forms gives two ids")
	}
	done := fixture(t, "huawei-live", "push-PUBLISH_DONE.json")
	if id("push-PUBLISH_DONE.json") != string(mustEnvelope(t, &HuaweiLive, replaceOnce(t, done, `1587954134`, `"1587954134"`), nil).ID) {
		t.Error("publish_timestamp as a number and as a string give two ids")
	}
	if id("push-PUBLISH.json") == id("push-PUBLISH_DONE.json") {
		t.Error("PUBLISH and PUBLISH_DONE of one push share an id")
	}
	if data := mustEnvelope(t, &HuaweiLive, fixture(t, "huawei-live", "push-PUBLISH-url-auth.json"), nil).Data; strings.Contains(string(data), "5d41402abc") {
		t.Errorf("the URL-authentication secret reached data: %s", data)
	}
	// A resend, signed anew, is the same event.
	for _, file := range []string{"push-PUBLISH.json", "record-RECORD_FILE_COMPLETE-md5.json", "record-RECORD_OVER.json"} {
		body := fixture(t, "huawei-live", file)
		resent, _, err := HuaweiLive.Sign(body, &Auth{Secret: []byte("k")}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		a, b := mustEnvelope(t, &HuaweiLive, body, nil), mustEnvelope(t, &HuaweiLive, resent, nil)
		if string(a.ID) != string(b.ID) || string(a.Data) != string(b.Data) {
			t.Errorf("%s: resend differs:\n%s\n%s", file, a.AppendStructured(nil), b.AppendStructured(nil))
		}
	}
}

// Sign keeps a recording callback's form: MD5 when its auth_sign has 32 hex characters.
func TestSignHuaweiLiveForms(t *testing.T) {
	auth := Auth{Secret: []byte(huaweiKey), MaxSkew: time.Minute}
	now := time.Unix(huaweiTS, 0)
	for _, tt := range []struct{ file, want string }{
		{"push-PUBLISH.json", huaweiVector8},
		{"record-RECORD_FILE_COMPLETE-md5.json", huaweiVector9},
		{"record-RECORD_FILE_COMPLETE-hmac.json", huaweiRecHMAC},
	} {
		signed, _, err := HuaweiLive.Sign(fixture(t, "huawei-live", tt.file), &auth, now)
		if err != nil || !strings.Contains(string(signed), `"auth_sign":"`+tt.want+`"`) {
			t.Errorf("%s: %v\n%s", tt.file, err, signed)
		}
	}
}

func TestHuaweiLivePayloadErrors(t *testing.T) {
	for _, tt := range []struct{ body, field string }{
		{`{"domain":"d","app":"a","stream":"s"}`, "event"},
		{`{"domain":"d","stream":"s","event":""}`, "event"},
		{`{"domain":"d","stream":"s","event":1}`, "event"},
		{`{"publish_domain":"d","stream":"s","event_type":null}`, "event_type"},
		{`{"event":"PUBLISH","event":"PUBLISH_DONE"}`, "event"},
	} {
		_, err := envelope(&HuaweiLive, []byte(tt.body), nil)
		if pe, ok := err.(*PayloadError); !ok || !strings.Contains(pe.Field, tt.field) {
			t.Errorf("Envelope(%s) = %v, want a *PayloadError on %s", tt.body, err, tt.field)
		}
	}
}

func TestHuaweiDigits(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"1587954134"`, `1587954134`},
		{`"1587954134,"`, `1587954134`},
		{`" 1587954134 "`, `1587954134`},
		{`1587954134`, `1587954134`},
		{`"15879,54134"`, `"15879,54134"`},
		{`"prop-3-0a1f"`, `"prop-3-0a1f"`},
		{`"\u00311587954134"`, `"\u00311587954134"`},
		{`""`, `""`},
		{`","`, `","`},
	} {
		if got := string(huaweiDigits([]byte(tt.in))); got != tt.want {
			t.Errorf("huaweiDigits(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendMaskedQuery(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"cdn=hw", "cdn=hw"},
		{"", ""},
		{"secret=abc&time=5ea6a5d6", "secret=***&time=5ea6a5d6"},
		{"?hwSecret=abc&hwTime=5ea6a5d6", "?hwSecret=***&hwTime=5ea6a5d6"},
		{"a=1&SECRET=x&b", "a=1&SECRET=***&b"},
		{"secretive=1&secret", "secretive=1&secret"},
		{"secret=&&x=1", "secret=***&&x=1"},
	} {
		if got := string(appendMaskedQuery(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendMaskedQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

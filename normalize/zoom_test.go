package normalize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// PROTOCOLS-WAVE3-GLOBAL.md §2g / §10: secret token and x-zm-request-timestamp of vectors Z4, Z5.
const (
	zoomSelfSecret = "INVENTED_zoom_secret"
	zoomSelfTS     = "1739923528"
	zoomZ4         = "v0=d5e4ec9f1fa4318756c270ed9025c1fe5338fa45707671dcad53e5e7bb00e93c"
	zoomZ5         = "v0=a8b6a427bae14b9bb590b2ee96c225f37e901a8ed954abc1ef5774a8203bff65"
)

// zoomSignRef is the documented signature computed independently of the declared scheme.
func zoomSignRef(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func zoomHeaders(ts, sig string) HeaderMap {
	return HeaderMap{"x-zm-request-timestamp": ts, "x-zm-signature": sig}
}

// TestZoomVectors: Z4 (session.started) and Z5 (the URL validation request) on the fixtures'
// exact bytes, by the reference and by the provider.
func TestZoomVectors(t *testing.T) {
	for _, v := range []struct{ name, file, want string }{
		{"Z4", "session-started.json", zoomZ4},
		{"Z5", "probe-url-validation.json", zoomZ5},
	} {
		body := string(fixture(t, "zoom", v.file))
		if got := zoomSignRef(zoomSelfSecret, zoomSelfTS, body); got != v.want {
			t.Errorf("%s: reference %s, want %s", v.name, got, v.want)
		}
		c := &Callback{Body: []byte(body), Header: zoomHeaders(zoomSelfTS, v.want), Received: time.Unix(1739923528, 0)}
		if got, err := Zoom.Verify(c, &Auth{Secret: []byte(zoomSelfSecret), MaxSkew: 5 * time.Minute}); err != nil || got != Signed {
			t.Errorf("%s: Verify = %v, %v", v.name, got, err)
		}
	}
}

func TestVerifyZoom(t *testing.T) {
	body := string(fixture(t, "zoom", "session-started.json"))
	at := time.Unix(1739923528, 0)
	auth := Auth{Secret: []byte(zoomSelfSecret), MaxSkew: 5 * time.Minute}
	tests := []verifyCase{
		{name: "Z4", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at, auth: auth, want: Signed},
		{name: "upper-case hex", body: body, header: zoomHeaders(zoomSelfTS, "v0="+strings.ToUpper(zoomZ4[3:])), received: at, auth: auth, want: Signed},
		{name: "4m59s late", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at.Add(299 * time.Second), auth: auth, want: Signed},
		{name: "a retry 20 min later with a raised window", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at.Add(20 * time.Minute), auth: Auth{Secret: auth.Secret, MaxSkew: 90 * time.Minute}, want: Signed},

		{name: "a retry 20 min later with the default window (if Zoom keeps the timestamp)", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at.Add(20 * time.Minute), auth: auth, wantErr: "signature window"},
		{name: "6m ahead", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "wrong secret", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "does not match"},
		{name: "body changed", body: body + " ", header: zoomHeaders(zoomSelfTS, zoomZ4), received: at, auth: auth, wantErr: "does not match"},
		{name: "timestamp changed", body: body, header: zoomHeaders("1739923529", zoomZ4), received: at, auth: auth, wantErr: "does not match"},
		{name: "no v0= prefix", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4[3:]), received: at, auth: auth, wantErr: "does not match"},
		{name: "Z3, Zoom's malformed doc example", body: body, header: zoomHeaders(zoomSelfTS, "v0=a05d830fa017433bc47887f835a00b9ff33d3882f22f63a2986a8es270341"), received: at, auth: auth, wantErr: "does not match"},
		{name: "signature missing", body: body, header: HeaderMap{"x-zm-request-timestamp": zoomSelfTS}, received: at, auth: auth, wantErr: "x-zm-signature header missing"},
		{name: "timestamp missing", body: body, header: HeaderMap{"x-zm-signature": zoomZ4}, received: at, auth: auth, wantErr: "x-zm-request-timestamp header missing"},
		{name: "signed timestamp that is not a time", body: body, header: zoomHeaders("soon", zoomSignRef(zoomSelfSecret, "soon", body)), received: at, auth: auth, wantErr: "not a Unix time"},
		{name: "no secret", body: body, header: zoomHeaders(zoomSelfTS, zoomZ4), received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
		{name: "no secret, unsigned allowed", body: body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
	}
	runVerify(t, &Zoom, tests)
}

// TestZoomURLValidation: the handshake is answered as Zoom requires when signed (Z5's answer),
// refused otherwise, and is never an event; Z1 is the token's HMAC alone.
func TestZoomURLValidation(t *testing.T) {
	body := fixture(t, "zoom", "probe-url-validation.json")
	at := time.Unix(1739923528, 0)
	const z5Answer = `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"d3b00cf5920b67383c9c36a931d5feadb05840086ca0dd6cacc1c1950457a1ec"}`
	tests := []struct {
		name   string
		header HeaderMap
		auth   Auth
		want   string // the reply, or the error's text
	}{
		{"Z5, signed", zoomHeaders(zoomSelfTS, zoomZ5), Auth{Secret: []byte(zoomSelfSecret), MaxSkew: time.Minute}, z5Answer},
		{"badly signed", zoomHeaders(zoomSelfTS, zoomZ4), Auth{Secret: []byte(zoomSelfSecret), MaxSkew: time.Minute}, "does not match"},
		{"unsigned", HeaderMap{}, Auth{Secret: []byte(zoomSelfSecret), MaxSkew: time.Minute}, "header missing"},
		{"no secret, unsigned allowed", HeaderMap{}, Auth{AllowUnsigned: true}, "only when signed"},
		{"signed, out of the window", zoomHeaders(zoomSelfTS, zoomZ5), Auth{Secret: []byte(zoomSelfSecret), MaxSkew: time.Second}, "signature window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			received := at
			if strings.Contains(tt.name, "window") {
				received = at.Add(time.Minute)
			}
			reply, probe, err := Zoom.Probe(&Callback{Body: body, Header: tt.header, Received: received}, &tt.auth, nil)
			checkProbe(t, reply, probe, err, tt.want)
		})
	}
	// Z1 (Elastic Beats' test of Zoom's challenge, third-party): the answer through this provider.
	reply, err := Zoom.Answer(&Callback{Body: body}, &Auth{Secret: []byte("secretValueTest")}, nil)
	if err != nil || !strings.Contains(string(reply), `"encryptedToken":"70c1f2e2e6ca2d39297490d1f9142c7d701415ea8e6151f6562a08fa657a40ff"`) {
		t.Errorf("Z1: %s %v", reply, err)
	}
	// Events are not probes.
	for _, name := range fixtureNames(t, "zoom") {
		if isProbe := Zoom.IsProbe(&Callback{Body: fixture(t, "zoom", name)}); isProbe != strings.HasPrefix(name, "probe") {
			t.Errorf("%s: IsProbe = %v", name, isProbe)
		}
	}
}

// checkProbe checks what Provider.Probe made of a handshake: the reply want, or an AuthError
// whose reason contains want.
func checkProbe(t *testing.T, reply []byte, probe bool, err error, want string) {
	t.Helper()
	if !probe {
		t.Fatal("not a probe")
	}
	var ae *AuthError
	switch {
	case err == nil && string(reply) != want:
		t.Errorf("reply %s, want %s", reply, want)
	case err != nil && (!errors.As(err, &ae) || !strings.Contains(ae.Reason, want)):
		t.Errorf("err %v, want an AuthError containing %q", err, want)
	}
}

func TestZoomNormalize(t *testing.T) {
	tests := []struct {
		file, typ, subject, time string
	}{
		{"session-started.json", "session.started", "INVENTEDsid==", "2025-02-19T00:05:28.123Z"},
		{"session-user-left.json", "session.user_left", "INVENTEDsid==", "2025-02-19T00:15:00.777Z"},
		{"meeting-participant-joined.json", "meeting.participant_joined", "85746065432", "2025-02-19T01:53:20.456Z"},
		{"recording-completed.json", "recording.completed", "85746065432", "2025-02-19T03:16:40.000Z"},
		{"unknown-event.json", "session.user_raised_hand", "INVENTEDsid==", "2025-02-19T00:08:20.000Z"},
		{"unknown-event-not-dotted.json", "unknown.Session_Custom_Event", "INVENTEDsid==", "2025-02-19T00:10:00.000Z"},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &Zoom, fixture(t, "zoom", tt.file), nil)
		if string(ev.EventType) != tt.typ || string(ev.Subject) != tt.subject || string(ev.AppendTime(nil)) != tt.time {
			t.Errorf("%s: type %q subject %q time %s, want %q %q %s", tt.file, ev.EventType, ev.Subject, ev.AppendTime(nil), tt.typ, tt.subject, tt.time)
		}
	}
	// A meeting without id: uuid is the subject.
	if ev := mustEnvelope(t, &Zoom, []byte(`{"event":"meeting.ended","event_ts":1,"payload":{"object":{"uuid":"u=="}}}`), nil); string(ev.Subject) != "u==" {
		t.Errorf("subject %q, want the uuid", ev.Subject)
	}
	// The event name must be a string.
	for _, body := range []string{`{"event":{},"payload":{}}`, `{"event":"","payload":{}}`, `{"payload":{}}`, `{"event":7}`} {
		if _, err := envelope(&Zoom, []byte(body), nil); err == nil || !strings.Contains(err.Error(), "event") {
			t.Errorf("%s: err %v, want a PayloadError on event", body, err)
		}
	}
}

// Credentials never reach data, wherever Zoom puts them.
func TestZoomDropsCredentials(t *testing.T) {
	for _, file := range []string{"session-recording-completed.json", "recording-completed.json", "session-live-streaming-started.json"} {
		ev := mustEnvelope(t, &Zoom, fixture(t, "zoom", file), nil)
		for _, secret := range []string{"download_token", "password", "passcode", "stream_key", "INVENTED.download", "INVENTEDpass", "INVENTED-stream-key"} {
			if strings.Contains(string(ev.Data), secret) {
				t.Errorf("%s: data keeps %s: %s", file, secret, ev.Data)
			}
		}
		decodeData(t, ev.Data)
	}
	ev := mustEnvelope(t, &Zoom, []byte(`{"event":"meeting.created","event_ts":1,"payload":{"object":{"id":1,"join_url":"https://zoom.us/j/1?pwd=x","start_url":"https://zoom.us/s/1?zak=y","settings":{"password":"p"}}}}`), nil)
	if strings.Contains(string(ev.Data), "pwd=") || strings.Contains(string(ev.Data), "zak=") || strings.Contains(string(ev.Data), `"p"`) {
		t.Errorf("data keeps a link or a passcode: %s", ev.Data)
	}
	if want := `{"event":"meeting.created","event_ts":1,"payload":{"object":{"id":1,"settings":{}}}}`; string(ev.Data) != want {
		t.Errorf("data %s, want %s", ev.Data, want)
	}
}

// The id: the same callback resent (another timestamp, another request id) is the same event;
// each field §2e names makes another.
func TestZoomID(t *testing.T) {
	id := func(body []byte, h HeaderMap) string { return string(mustEnvelope(t, &Zoom, body, h).ID) }
	joined := fixture(t, "zoom", "session-user-joined.json")
	base := id(joined, zoomHeaders(zoomSelfTS, "v0=1"))
	if again := id(joined, HeaderMap{"x-zm-request-timestamp": "1739999999", "x-zm-request-id": "other", "x-zm-signature": "v0=2"}); again != base {
		t.Error("the headers changed the id")
	}
	for _, change := range [][2]string{{"1739923540250", "1739923540251"}, {`"INVENTEDsid=="`, `"other=="`}, {`"16778240"`, `"16778241"`}} {
		if id(replaceOnce(t, joined, change[0], change[1]), nil) == base {
			t.Errorf("%s does not make the id", change[0])
		}
	}
	rec := fixture(t, "zoom", "recording-completed.json")
	recID := id(rec, nil)
	if id(replaceOnce(t, rec, `"download_token":"INVENTED.meeting.download.token"`, `"download_token":"another"`), nil) != recID {
		t.Error("download_token makes the id")
	}
	for _, change := range [][2]string{{`"INVENTEDmfile2"`, `"INVENTEDmfile3"`}, {`"INVENTEDmeetinguuid==","host_id"`, `"another==","host_id"`}} {
		if id(replaceOnce(t, rec, change[0], change[1]), nil) == recID {
			t.Errorf("%s does not make the id", change[0])
		}
	}
	part := fixture(t, "zoom", "meeting-participant-joined.json")
	if id(replaceOnce(t, part, `"INVENTEDbobuuid"`, `"other"`), nil) == id(part, nil) {
		t.Error("participant_uuid does not make the id")
	}
}

// Sign makes what Verify takes, and signs the body as it is.
func TestSignZoom(t *testing.T) {
	body := fixture(t, "zoom", "session-started.json")
	now := time.Unix(1739923528, 0)
	signed, headers, err := Zoom.Sign(body, &Auth{Secret: []byte(zoomSelfSecret)}, now)
	if err != nil || string(signed) != string(body) {
		t.Fatalf("Sign: %v, body %s", err, signed)
	}
	h := headerMap(&Zoom, headers)
	if h.Peek("x-zm-signature") == nil || string(h.Peek("x-zm-signature")) != zoomZ4 {
		t.Errorf("Sign at Z4's time: %s, want %s", h.Peek("x-zm-signature"), zoomZ4)
	}
}

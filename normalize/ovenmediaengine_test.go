package normalize

import (
	"strings"
	"testing"
	"time"
)

// O1 (PROTOCOLS-WAVE3-GLOBAL.md §9.2g, §10): a self vector on the example opening; OME
// publishes no secret with its example.
const (
	omeO1Secret = "INVENTED_ome_secret"
	omeO1Sig    = "z_zPXkJYZeseclePZRSTjWCetKo"
)

var omeO1Time = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // the body's request.time

func TestOvenMediaEngineVerify(t *testing.T) {
	body := strings.TrimSuffix(string(fixture(t, "ovenmediaengine", "incoming-webrtc-opening.json")), "\n")
	auth := Auth{Secret: []byte(omeO1Secret), MaxSkew: 5 * time.Minute}
	h := func(v string) HeaderMap { return HeaderMap{"X-OME-Signature": v} }
	at := omeO1Time
	noTime := strings.Replace(body, `,"time":"2025-01-01T00:00:00+00:00"`, "", 1)
	badTime := strings.Replace(body, `2025-01-01T00:00:00+00:00`, `yesterday`, 1)
	twoTimes := strings.Replace(body, `"time":`, `"time":"2025-01-01T00:00:00Z","time":`, 1)
	sig := func(b string) string { return omeSign(t, b) } // over the body as it is: Sign would stamp a time
	runVerify(t, &OvenMediaEngine, []verifyCase{
		{name: "O1", body: body, header: h(omeO1Sig), received: at, auth: auth},
		{name: "O1 padded", body: body, header: h(omeO1Sig + "="), received: at, auth: auth},
		{name: "O1 at the window's end", body: body, header: h(omeO1Sig), received: at.Add(5 * time.Minute), auth: auth},
		{name: "O1 past the window", body: body, header: h(omeO1Sig), received: at.Add(5*time.Minute + time.Second), auth: auth, wantErr: "signature window"},
		{name: "O1 from the future", body: body, header: h(omeO1Sig), received: at.Add(-5*time.Minute - time.Second), auth: auth, wantErr: "future"},
		{name: "O1 in the standard alphabet", body: body, header: h(strings.ReplaceAll(omeO1Sig, "_", "/")), received: at, auth: auth, wantErr: "does not match"},
		{name: "body changed", body: strings.Replace(body, "opening", "closing", 1), header: h(omeO1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "wrong secret", body: body, header: h(omeO1Sig), received: at, auth: Auth{Secret: []byte(omeO1Secret + "!"), MaxSkew: 5 * time.Minute}, wantErr: "does not match"},
		{name: "no header", body: body, received: at, auth: auth, wantErr: "X-OME-Signature header missing"},
		{name: "signed, no request.time", body: noTime, header: h(sig(noTime)), received: at, auth: auth, wantErr: "request.time is missing"},
		{name: "signed, request.time not a time", body: badTime, header: h(sig(badTime)), received: at, auth: auth, wantErr: "request.time is missing or not"},
		{name: "signed, request.time twice", body: twoTimes, header: h(sig(twoTimes)), received: at, auth: auth, wantErr: "twice"},
		{name: "no secret, unsigned allowed", body: body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
		{name: "no secret", body: body, header: h(omeO1Sig), received: at, auth: Auth{}, wantErr: "no secret"},
	})
}

// omeSign is X-OME-Signature over b as it is, with O1's secret.
func omeSign(t *testing.T, b string) string {
	t.Helper()
	hs, err := omeSig.Sign([]byte(b), []byte(omeO1Secret), omeO1Time, nil)
	if err != nil || len(hs) != 1 {
		t.Fatal(hs, err)
	}
	return hs[0].Value
}

// Sign stamps request.time with the send time, as OME does, and signs what it sends: on O1's
// body at O1's time it sends O1's signature over the time written as OME writes it.
func TestOvenMediaEngineSign(t *testing.T) {
	body := fixture(t, "ovenmediaengine", "incoming-webrtc-opening.json")
	now := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	signed, headers, err := OvenMediaEngine.Sign(body, &Auth{Secret: []byte(omeO1Secret)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(signed), `"time":"2026-03-04T05:06:07.891Z"`) {
		t.Errorf("request.time not stamped: %s", signed)
	}
	want := Header{"X-OME-Signature", omeSign(t, string(signed))}
	if len(headers) != 2 || headers[1] != want || headers[0].Key != "Content-Type" {
		t.Errorf("headers %v, want Content-Type and %v", headers, want)
	}
	if _, _, err := OvenMediaEngine.Sign([]byte(`{"request":1}`), &Auth{}, now); err == nil {
		t.Error("Sign stamped a request that is not an object")
	}
}

func TestOvenMediaEngineReplyTo(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{string(fixture(t, "ovenmediaengine", "incoming-webrtc-opening.json")), `{"allowed":true}`},
		{string(fixture(t, "ovenmediaengine", "incoming-webrtc-closing.json")), `{}`},
		{`{"request":{"status":"paused"}}`, `{"allowed":true}`},
		{`{"request":{"status":"closing","status":"opening"}}`, `{"allowed":true}`}, // refused before any reply
		{`not json`, `{"allowed":true}`},
	} {
		if got := OvenMediaEngine.ReplyFor(&Callback{Body: []byte(tt.body)}); string(got) != tt.want {
			t.Errorf("%s: reply %s, want %s", tt.body, got, tt.want)
		}
	}
	c := &Callback{Body: fixture(t, "ovenmediaengine", "incoming-webrtc-closing.json")}
	c.members()
	if n := testing.AllocsPerRun(100, func() { OvenMediaEngine.ReplyFor(c) }); n != 0 {
		t.Errorf("ReplyTo runs on every request: %v allocations, want 0", n)
	}
}

func TestOvenMediaEngineNormalize(t *testing.T) {
	const opening = `{"client":{"address":"203.0.113.10","port":29291},"request":{"direction":"incoming","protocol":"webrtc","status":"opening","url":"ws://h:3333/app/s?token=T1","time":"2025-01-01T00:00:00.000Z"}}`
	openingID := mustEnvelope(t, &OvenMediaEngine, []byte(opening), nil).ID
	tests := []struct {
		name, body              string
		eventType, status, time string
		subject, data           string // data: "" when not checked
		sameID                  bool   // the id of opening
		wantErr                 string
	}{
		{name: "opening", body: opening, eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s", sameID: true,
			data: `{"client":{"address":"203.0.113.10","port":29291},"request":{"direction":"incoming","protocol":"webrtc","status":"opening","url":"ws://h:3333/app/s"}}`},
		{name: "opening sent a second later (a send time is no part of the id)", body: strings.Replace(opening, "00:00:00.000Z", "00:00:01.000Z", 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:01.000Z", subject: "ws://h:3333/app/s", sameID: true},
		{name: "another token: the same session", body: strings.Replace(opening, "T1", "T2", 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s", sameID: true},
		{name: "another port", body: strings.Replace(opening, "29291", "29292", 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s"},
		{name: "closing", body: strings.Replace(opening, `"opening"`, `"closing"`, 1),
			eventType: "publish.webrtc.closing", status: "closing", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s"},
		{name: "playback", body: strings.Replace(strings.Replace(opening, "incoming", "outgoing", 1), "webrtc", "llhls", 1),
			eventType: "play.llhls.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s"},
		{name: "escaped ? in the url", body: strings.Replace(opening, `s?token`, `s\u003ftoken`, 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s", sameID: true,
			data: `{"client":{"address":"203.0.113.10","port":29291},"request":{"direction":"incoming","protocol":"webrtc","status":"opening","url":"ws://h:3333/app/s"}}`},
		{name: "new_url", body: strings.Replace(opening, `"time"`, `"new_url":"ws://h:3333/app/t?token=T3","time"`, 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s",
			data: `{"client":{"address":"203.0.113.10","port":29291},"request":{"direction":"incoming","protocol":"webrtc","status":"opening","url":"ws://h:3333/app/s","new_url":"ws://h:3333/app/t"}}`},
		{name: "a protocol not in the table", body: strings.Replace(opening, "webrtc", "rtsp", 1),
			eventType: "unknown.incoming_rtsp_opening", status: "opening", time: "2025-01-01T00:00:00.000Z", subject: "ws://h:3333/app/s"},
		{name: "no time", body: strings.Replace(opening, `,"time":"2025-01-01T00:00:00.000Z"`, "", 1),
			eventType: "publish.webrtc.opening", status: "opening", time: "2026-11-23T12:00:00.000Z", subject: "ws://h:3333/app/s", sameID: true},
		{name: "no status", body: strings.Replace(opening, `"status":"opening",`, "", 1), wantErr: "request.status"},
		{name: "status an object", body: strings.Replace(opening, `"opening"`, `{}`, 1), wantErr: "request.status"},
		{name: "no request", body: `{"client":{}}`, wantErr: "request"},
		{name: "request a string", body: `{"request":"opening"}`, wantErr: "request"},
		{name: "not an object", body: `["request"]`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := envelopeOrPayloadErr(t, &OvenMediaEngine, tt.body, tt.wantErr)
			if ev == nil {
				return
			}
			got := [...]string{string(ev.EventType), string(ev.ProviderEventType), string(ev.AppendTime(nil)), string(ev.Subject)}
			if want := [...]string{tt.eventType, tt.status, tt.time, tt.subject}; got != want {
				t.Errorf("type, status, time, subject = %q, want %q", got, want)
			}
			if tt.data != "" && string(ev.Data) != tt.data {
				t.Errorf("data %s\nwant %s", ev.Data, tt.data)
			}
			if strings.Contains(string(ev.Data), "token") || strings.Contains(string(ev.Data), `"time"`) {
				t.Errorf("data keeps a token or the send time: %s", ev.Data)
			}
			if same := string(ev.ID) == string(openingID); same != tt.sameID {
				t.Errorf("id %s: the same as opening's = %v, want %v", ev.ID, same, tt.sameID)
			}
		})
	}
}

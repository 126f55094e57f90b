package normalize

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// M1 (PROTOCOLS-WAVE3-GLOBAL.md §5g, §10): Mux's published vector, from its SDK tests.
const (
	muxM1Secret = "SuperSecret123"
	muxM1Body   = `{"test":"body"}`
	muxM1T      = 1565125718
	muxM1Sig    = "854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7"
)

func TestMuxVerify(t *testing.T) {
	at := time.Unix(muxM1T, 0)
	auth := Auth{Secret: []byte(muxM1Secret), MaxSkew: 5 * time.Minute}
	h := func(v string) HeaderMap { return HeaderMap{"Mux-Signature": v} }
	good := "t=1565125718,v1=" + muxM1Sig
	runVerify(t, &Mux, []verifyCase{
		{name: "M1, published vector", body: muxM1Body, header: h(good), received: at, auth: auth},
		{name: "M1 with spaces", body: muxM1Body, header: h("t=1565125718, v1=" + muxM1Sig), received: at, auth: auth},
		{name: "M1 upper-case hex", body: muxM1Body, header: h("t=1565125718,v1=" + strings.ToUpper(muxM1Sig)), received: at, auth: auth},
		{name: "M1 as the second v1 (rotation)", body: muxM1Body, header: h("t=1565125718,v1=" + strings.Repeat("0", 64) + ",v1=" + muxM1Sig), received: at, auth: auth},
		{name: "M1 as the first of two v1", body: muxM1Body, header: h(good + ",v1=" + strings.Repeat("0", 64)), received: at, auth: auth},
		{name: "M1 at the window's end", body: muxM1Body, header: h(good), received: at.Add(5 * time.Minute), auth: auth},
		{name: "M1 past the window", body: muxM1Body, header: h(good), received: at.Add(5*time.Minute + time.Second), auth: auth, wantErr: "signature window"},
		{name: "M1 from the future", body: muxM1Body, header: h(good), received: at.Add(-5*time.Minute - time.Second), auth: auth, wantErr: "future"},
		{name: "t changed", body: muxM1Body, header: h("t=1565125719,v1=" + muxM1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "body changed", body: `{"test":"body "}`, header: h(good), received: at, auth: auth, wantErr: "does not match"},
		{name: "wrong secret", body: muxM1Body, header: h(good), received: at, auth: Auth{Secret: []byte("SuperSecret124"), MaxSkew: 5 * time.Minute}, wantErr: "does not match"},
		{name: "v0 only", body: muxM1Body, header: h("t=1565125718,v0=" + muxM1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "no t", body: muxM1Body, header: h("v1=" + muxM1Sig), received: at, auth: auth, wantErr: "no t="},
		{name: "no header", body: muxM1Body, received: at, auth: auth, wantErr: "Mux-Signature header missing"},
		{name: "no secret, unsigned allowed", body: muxM1Body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
		{name: "no secret", body: muxM1Body, header: h(good), received: at, auth: Auth{}, wantErr: "no secret"},
	})
}

// Sign makes the header of M1 from M1's inputs.
func TestMuxSignM1(t *testing.T) {
	body, headers, err := Mux.Sign([]byte(muxM1Body), &Auth{Secret: []byte(muxM1Secret)}, time.Unix(muxM1T, 0))
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != muxM1Body || len(headers) != 1 || headers[0] != (Header{"Mux-Signature", "t=1565125718,v1=" + muxM1Sig}) {
		t.Errorf("Sign = %s %v, want M1's header", body, headers)
	}
}

// A retry is another body (attempts grew) signed at another t: it verifies and makes the same
// event, byte for byte, without attempts or credentials.
func TestMuxRetryIsTheSameEvent(t *testing.T) {
	first := fixture(t, "mux", "video.live_stream.idle-retry.json")
	i := bytes.LastIndex(first, []byte("\n  ]"))
	retry := append(append(bytes.Clone(first[:i]), `,
    {"webhook_id": 1234, "response_status_code": 500, "response_headers": {}, "response_body": "", "max_attempts": 30, "id": "INVENTEDattempt2", "created_at": "2025-01-01T01:00:31.000000Z", "address": "https://hooks.example.com/callbacks/mux"}`...), first[i:]...)
	auth := &Auth{Secret: []byte("whsec-INVENTED"), MaxSkew: 5 * time.Minute}
	var events [2][]byte
	for n, send := range []struct {
		body []byte
		at   time.Time
	}{{first, time.Unix(1735693201, 0)}, {retry, time.Unix(1735693231, 0)}} {
		_, headers, err := Mux.Sign(send.body, auth, send.at)
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		c := &Callback{Body: send.body, Header: headerMap(&Mux, headers), Received: send.at.Add(time.Second)}
		if _, err := Mux.Run(c, auth, true, &ev); err != nil {
			t.Fatalf("attempt %d: %v", n+1, err)
		}
		events[n] = ev.AppendStructured(nil)
		for _, leak := range []string{"attempts", "INVENTEDattempt", "stream_key", "INVENTED-stream-key", "srt_passphrase", "INVENTED-srt", headers[0].Value} {
			if bytes.Contains(events[n], []byte(leak)) {
				t.Errorf("attempt %d: %q reached the event: %s", n+1, leak, events[n])
			}
		}
	}
	if !bytes.Equal(events[0], events[1]) {
		t.Errorf("a retry made another event:\n%s\n%s", events[0], events[1])
	}
}

func TestMuxNormalize(t *testing.T) {
	live := fixture(t, "mux", "video.live_stream.active.json")
	tests := []struct {
		name, body            string
		eventType, native, id string
		subject, time         string
		wantErr               string // substring of the PayloadError; empty: none
		absent                []string
	}{
		{name: "catalogued", body: string(live), eventType: "video.live_stream.active", native: "video.live_stream.active",
			id: "3a56ac3d-33da-4366-855b-f592d898409d", subject: "INVENTEDlive0001", time: "2025-01-01T00:00:00.000Z",
			absent: []string{"stream_key", "INVENTED-stream-key-0001", "INVENTED-target-key-1", "attempts"}},
		{name: "a new dotted type is kept", body: `{"type":"video.asset.brand_new","id":"e1","object":{"id":"a1"},"created_at":"2025-01-01T00:00:00Z"}`,
			eventType: "video.asset.brand_new", native: "video.asset.brand_new", id: "e1", subject: "a1", time: "2025-01-01T00:00:00.000Z"},
		{name: "a type not dotted lower-case", body: `{"type":"Video.Asset.Ready","id":"e1","object":{"id":"a1"}}`,
			eventType: "unknown.Video_Asset_Ready", native: "Video.Asset.Ready", id: "e1", subject: "a1", time: "2026-11-23T12:00:00.000Z"},
		{name: "a type with subject syntax", body: `{"type":"video.*.>","id":"e1"}`,
			eventType: "unknown.video____", native: "video.*.>", id: "e1", time: "2026-11-23T12:00:00.000Z"},
		{name: "escaped credential names, nested", body: `{"type":"video.live_stream.updated","id":"e2","data":{"stream\u005fkey":"k1","a":[{"b":[{"stream_key":"k2","c":1}]}],"srt_passphrase":"p"}}`,
			eventType: "video.live_stream.updated", native: "video.live_stream.updated", id: "e2", time: "2026-11-23T12:00:00.000Z",
			absent: []string{`"k1"`, `"k2"`, `"p"`}},
		{name: "stream_key outside data is not a credential of Mux's", body: `{"type":"video.asset.ready","id":"e3","stream_key":"top"}`,
			eventType: "video.asset.ready", native: "video.asset.ready", id: "e3", time: "2026-11-23T12:00:00.000Z"},
		{name: "no id", body: `{"type":"video.asset.ready","object":{"id":"a1"}}`, wantErr: "id"},
		{name: "id a number", body: `{"type":"video.asset.ready","id":7}`, wantErr: "id"},
		{name: "no type", body: `{"id":"e1"}`, wantErr: "type"},
		{name: "type an object", body: `{"type":{},"id":"e1"}`, wantErr: "type"},
		{name: "type twice", body: `{"type":"video.asset.ready","type":"video.asset.deleted","id":"e1"}`, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := envelopeOrPayloadErr(t, &Mux, tt.body, tt.wantErr)
			if ev == nil {
				return
			}
			got := [...]string{string(ev.EventType), string(ev.ProviderEventType), string(ev.ID), string(ev.Subject), string(ev.AppendTime(nil))}
			want := [...]string{tt.eventType, tt.native, tt.id, tt.subject, tt.time}
			if got != want {
				t.Errorf("type, code, id, subject, time = %q, want %q", got, want)
			}
			if string(ev.Type) != muxPrefix+tt.eventType {
				t.Errorf("Type %q", ev.Type)
			}
			for _, a := range tt.absent {
				if bytes.Contains(ev.Data, []byte(a)) {
					t.Errorf("data carries %s: %s", a, ev.Data)
				}
			}
			if tt.absent == nil && !bytes.Contains(ev.Data, []byte(`"id":`)) {
				t.Errorf("data lost the envelope: %s", ev.Data)
			}
		})
	}
}

// envelopeOrPayloadErr normalises body as p: the event, or nil when wantErr is set and the
// error is a *PayloadError mentioning it; any other outcome fails the test.
func envelopeOrPayloadErr(t *testing.T, p *Provider, body, wantErr string) *Event {
	t.Helper()
	ev, err := envelope(p, []byte(body), nil)
	var pe *PayloadError
	switch {
	case wantErr == "" && err != nil:
		t.Fatal(err)
	case wantErr == "":
		return ev
	case !errors.As(err, &pe) || !strings.Contains(err.Error(), wantErr):
		t.Fatalf("err %v, want a PayloadError about %q", err, wantErr)
	}
	return nil
}

package normalize

import (
	"strings"
	"testing"
	"time"
)

// Vector G1 of PROTOCOLS-WAVE3-GLOBAL.md §10 (a self vector: the body of stream-node's
// compression test, secret tsec2; the test computes its expected value at run time, so no
// published triple exists).
const (
	getstreamG1Secret = "tsec2"
	getstreamG1Body   = `{"type":"user.updated","created_at":"2026-04-08T14:23:35.879421674Z","user":{"id":"u-1"}}`
	getstreamG1Sig    = "f48092ec656b16d79ca750b56a07a97ba81f09cb8b9b8bfb637de428d5b4685f"
)

func TestGetStreamVectors(t *testing.T) {
	if got := string(fixture(t, "getstream", "user-updated-g1.json")); got != getstreamG1Body {
		t.Fatalf("fixture user-updated-g1.json is not G1's exact bytes: %q", got)
	}
	if ref := hmacHex(t, getstreamG1Secret, getstreamG1Body, true); ref != getstreamG1Sig {
		t.Errorf("G1, reference HMAC: %s, want %s", ref, getstreamG1Sig)
	}
	signed, headers, err := GetStream.Sign([]byte(getstreamG1Body), &Auth{Secret: []byte(getstreamG1Secret)}, time.Unix(1775658215, 0))
	if err != nil {
		t.Fatal(err)
	}
	if string(signed) != getstreamG1Body {
		t.Errorf("Sign changed the body: %s", signed)
	}
	if got := headerMap(&GetStream, headers).Peek("X-Signature"); string(got) != getstreamG1Sig {
		t.Errorf("G1, Sign: X-Signature %s, want %s", got, getstreamG1Sig)
	}
}

func TestVerifyGetStream(t *testing.T) {
	at := time.Unix(1775658215, 0)
	auth := Auth{Secret: []byte(getstreamG1Secret), MaxSkew: 5 * time.Minute}
	h := func(sig string) HeaderMap {
		m := HeaderMap{"X-Api-Key": "tkey", "X-Webhook-Id": "wh-1", "X-Webhook-Attempt": "1"}
		if sig != "" {
			m["X-Signature"] = sig
		}
		return m
	}
	tests := []verifyCase{
		{name: "G1", body: getstreamG1Body, header: h(getstreamG1Sig), received: at, auth: auth, want: Signed},
		{name: "G1 upper-case hex", body: getstreamG1Body, header: h(strings.ToUpper(getstreamG1Sig)), received: at, auth: auth, want: Signed},
		{name: "no window: a year later still verifies (retries and replays are caught by the id)", body: getstreamG1Body, header: h(getstreamG1Sig), received: at.Add(365 * 24 * time.Hour), auth: auth, want: Signed},
		{name: "another attempt, same signature", body: getstreamG1Body, header: HeaderMap{"X-Signature": getstreamG1Sig, "X-Webhook-Attempt": "3"}, received: at, auth: auth, want: Signed},

		{name: "body changed", body: strings.Replace(getstreamG1Body, "u-1", "u-2", 1), header: h(getstreamG1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "body re-serialised with spaces", body: strings.ReplaceAll(getstreamG1Body, `":`, `": `), header: h(getstreamG1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "wrong secret", body: getstreamG1Body, header: h(getstreamG1Sig), received: at, auth: Auth{Secret: []byte("tsec"), MaxSkew: time.Minute}, wantErr: "does not match"},
		{name: "the API key is not the secret", body: getstreamG1Body, header: h(hmacHex(t, "tkey", getstreamG1Body, true)), received: at, auth: auth, wantErr: "does not match"},
		{name: "HMAC-SHA1 refused", body: getstreamG1Body, header: h(hmacHex(t, getstreamG1Secret, getstreamG1Body, false)), received: at, auth: auth, wantErr: "does not match"},
		{name: "prefixed sha256=", body: getstreamG1Body, header: h("sha256=" + getstreamG1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "signature missing", body: getstreamG1Body, header: h(""), received: at, auth: auth, wantErr: "X-Signature header missing"},
		{name: "no secret", body: getstreamG1Body, header: h(getstreamG1Sig), received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
		{name: "no secret, unsigned allowed", body: getstreamG1Body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
	}
	runVerify(t, &GetStream, tests)
}

func TestGetStreamNormalize(t *testing.T) {
	body := fixture(t, "getstream", "call-session-participant-joined.json")
	first := mustEnvelope(t, &GetStream, body, HeaderMap{"X-Webhook-Id": "6c1f5a52-1d7a-4a8e-9e0f-3f4b1b0c2d11", "X-Webhook-Attempt": "1"})
	if string(first.ID) != "6c1f5a52-1d7a-4a8e-9e0f-3f4b1b0c2d11" || string(first.Subject) != "default:INVENTEDcall" ||
		string(first.Type) != "io.getstream.call.session_participant_joined" || string(first.EventType) != "call.session_participant_joined" ||
		!first.Time.Equal(time.Date(2025, 1, 1, 0, 0, 0, 123000000, time.UTC)) {
		t.Errorf("envelope: %s (time %s)", first.AppendStructured(nil), first.Time.Format(time.RFC3339Nano))
	}
	// A retry carries the same X-Webhook-Id and another attempt: one event.
	retry := mustEnvelope(t, &GetStream, body, HeaderMap{"X-Webhook-Id": "6c1f5a52-1d7a-4a8e-9e0f-3f4b1b0c2d11", "X-Webhook-Attempt": "2"})
	if string(retry.ID) != string(first.ID) || string(retry.Data) != string(first.Data) {
		t.Errorf("a retry is another event: %s / %s", retry.ID, retry.Data)
	}
	// An id that is not plain text is hashed rather than used as it is.
	if odd := mustEnvelope(t, &GetStream, body, HeaderMap{"X-Webhook-Id": "a b"}); string(odd.ID) == "a b" || len(odd.ID) != 32 {
		t.Errorf("id %q from a header with a space", odd.ID)
	}

	// Without the header: a hash of the body, the same however it is laid out, another for
	// another event.
	bare := mustEnvelope(t, &GetStream, body, nil)
	if again := mustEnvelope(t, &GetStream, indent(t, body), nil); string(again.ID) != string(bare.ID) {
		t.Error("pretty-printed body, another id")
	}
	for _, other := range [][]byte{
		replaceOnce(t, body, `00.123456789Z","call_cid`, `00.123456788Z","call_cid`),
		replaceOnce(t, body, `"alice"`, `"bob"`),
		replaceOnce(t, body, `participant_joined`, `participant_left`),
	} {
		if o := mustEnvelope(t, &GetStream, other, nil); string(o.ID) == string(bare.ID) {
			t.Errorf("%s shares the id of the fixture", other)
		}
	}

	// Sign names no X-Webhook-Id: a resend of one body, signed again, is one event.
	a := &Auth{Secret: []byte("s")}
	signed, h1, err := GetStream.Sign(body, a, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, h2, _ := GetStream.Sign(body, a, time.Now().Add(time.Minute))
	e1 := mustEnvelope(t, &GetStream, signed, headerMap(&GetStream, h1))
	e2 := mustEnvelope(t, &GetStream, signed, headerMap(&GetStream, h2))
	if string(e1.ID) != string(bare.ID) || string(e2.ID) != string(bare.ID) {
		t.Errorf("signing changed the id: %s, %s, unsigned %s", e1.ID, e2.ID, bare.ID)
	}
	if v, err := GetStream.Verify(&Callback{Body: signed, Header: headerMap(&GetStream, h1)}, a); err != nil || v != Signed {
		t.Errorf("Sign's request does not verify: %v", err)
	}
}

func TestGetStreamTypes(t *testing.T) {
	tests := []struct{ typ, want string }{
		{"call.ended", "call.ended"},
		{"call.recording_ready", "call.recording_ready"},
		{"user.updated", "user.updated"}, // not in the table, dotted lower-case: kept
		{"call.frame_recording_ready", "call.frame_recording_ready"},
		{"custom", "custom"},
		{"Call.Ended", "unknown.Call_Ended"},                              // upper case: unknown, dots made safe
		{"call..ended", "unknown.call__ended"},                            // an empty level
		{"call.ended.", "unknown.call_ended_"},                            // a trailing dot
		{"call.*", "unknown.call__"},                                      // a wildcard
		{"call ended", "unknown.call_ended"},                              // a space
		{strings.Repeat("a", 129), "unknown." + strings.Repeat("a", 129)}, // too long to keep: cut downstream
	}
	for _, tt := range tests {
		body := `{"type":"` + tt.typ + `","created_at":"2025-01-01T00:00:00Z","call_cid":"default:c"}`
		ev := mustEnvelope(t, &GetStream, []byte(body), nil)
		if string(ev.EventType) != tt.want || string(ev.Type) != "io.getstream."+tt.want || string(ev.ProviderEventType) != tt.typ {
			t.Errorf("type %q: %s / %s / %s, want %s", tt.typ, ev.Type, ev.EventType, ev.ProviderEventType, tt.want)
		}
	}
	for _, body := range []string{`{"created_at":"2025-01-01T00:00:00Z"}`, `{"type":""}`, `{"type":5}`, `{"type":{}}`, `{"type":"a","type":"b"}`, `[]`} {
		if _, err := envelope(&GetStream, []byte(body), nil); err == nil {
			t.Errorf("%s: no error", body)
		} else if _, ok := err.(*PayloadError); !ok {
			t.Errorf("%s: %T %v, want a *PayloadError", body, err, err)
		}
	}
	// A created_at that is not RFC 3339 leaves the receipt time.
	ev := mustEnvelope(t, &GetStream, []byte(`{"type":"call.ended","created_at":"yesterday"}`), nil)
	if !ev.Time.Equal(received) || len(ev.Subject) != 0 {
		t.Errorf("time %s subject %q", ev.Time, ev.Subject)
	}
}

// An RTMP egress's stream key is a credential: it never reaches the event's data, wherever the
// egress is in the body, and the rest of the egress is kept.
func TestGetStreamStreamKeyOffTheBus(t *testing.T) {
	body := []byte(`{"type":"call.live_started","call_cid":"default:c1","created_at":"2026-04-08T14:23:35.879421674Z","call":{"cid":"default:c1","egress":{"broadcasting":true,"rtmps":[{"name":"yt","stream_url":"rtmps://a.example/live","stream_key":"sk-secret-1"},{"name":"tw","stream_key":"sk-secret-2"}]}}}`)
	ev := mustEnvelope(t, &GetStream, body, nil)
	if strings.Contains(string(ev.Data), "sk-secret") || strings.Contains(string(ev.Data), "stream_key") {
		t.Errorf("a stream key is in the data: %s", ev.Data)
	}
	if !strings.Contains(string(ev.Data), `"stream_url":"rtmps://a.example/live"`) || !strings.Contains(string(ev.Data), `"name":"tw"`) {
		t.Errorf("more than the key was dropped: %s", ev.Data)
	}
}

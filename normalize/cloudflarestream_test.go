package normalize

import (
	"strings"
	"testing"
	"time"
)

// C1 (PROTOCOLS-WAVE3-GLOBAL.md §6.1g, §10): a self vector on the example body; Cloudflare's own
// example publishes no secret.
const (
	cfC1Secret = "INVENTED_cf_stream_secret"
	cfC1Time   = 1735689660
	cfC1Sig    = "ed15a5b910ed483cba330d4ed0efe689ce164d20060d1c5dcc4c7cf694637f44"
)

func TestCloudflareStreamVerify(t *testing.T) {
	body := string(fixture(t, "cloudflare-stream", "ready.json"))
	body = strings.TrimSuffix(body, "\n")
	if body != string(CloudflareStream.Sample) {
		t.Fatal("ready.json is not the sample (the C1 body)")
	}
	at := time.Unix(cfC1Time, 0)
	auth := Auth{Secret: []byte(cfC1Secret), MaxSkew: 5 * time.Minute}
	h := func(v string) HeaderMap { return HeaderMap{"Webhook-Signature": v} }
	good := "time=1735689660,sig1=" + cfC1Sig
	runVerify(t, &CloudflareStream, []verifyCase{
		{name: "C1", body: body, header: h(good), received: at, auth: auth},
		{name: "C1, sig1 first", body: body, header: h("sig1=" + cfC1Sig + ",time=1735689660"), received: at, auth: auth},
		{name: "C1 upper-case hex", body: body, header: h("time=1735689660,sig1=" + strings.ToUpper(cfC1Sig)), received: at, auth: auth},
		{name: "C1 at the window's end", body: body, header: h(good), received: at.Add(5 * time.Minute), auth: auth},
		{name: "C1 past the window", body: body, header: h(good), received: at.Add(5*time.Minute + time.Second), auth: auth, wantErr: "signature window"},
		{name: "C1 from the future", body: body, header: h(good), received: at.Add(-5*time.Minute - time.Second), auth: auth, wantErr: "future"},
		{name: "time changed", body: body, header: h("time=1735689661,sig1=" + cfC1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "body changed", body: strings.Replace(body, "ready", "error", 1), header: h(good), received: at, auth: auth, wantErr: "does not match"},
		{name: "wrong secret", body: body, header: h(good), received: at, auth: Auth{Secret: []byte("INVENTED_cf_stream_secreT"), MaxSkew: 5 * time.Minute}, wantErr: "does not match"},
		{name: "Mux's v1 is not sig1", body: body, header: h("time=1735689660,v1=" + cfC1Sig), received: at, auth: auth, wantErr: "does not match"},
		{name: "no time", body: body, header: h("sig1=" + cfC1Sig), received: at, auth: auth, wantErr: "no time="},
		{name: "no header", body: body, received: at, auth: auth, wantErr: "Webhook-Signature header missing"},
		{name: "no secret, unsigned allowed", body: body, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
		{name: "no secret", body: body, header: h(good), received: at, auth: Auth{}, wantErr: "no secret"},
	})
	_, headers, err := CloudflareStream.Sign([]byte(body), &Auth{Secret: []byte(cfC1Secret)}, at)
	if err != nil || len(headers) != 1 || headers[0] != (Header{"Webhook-Signature", good}) {
		t.Errorf("Sign = %v %v, want C1's header", headers, err)
	}
}

func TestCloudflareStreamNormalize(t *testing.T) {
	const ready = `{"uid":"u1","readyToStream":true,"status":{"state":"ready"},"modified":"2025-01-01T00:01:00Z"}`
	readyID := mustEnvelope(t, &CloudflareStream, []byte(ready), nil).ID
	tests := []struct {
		name, body       string
		eventType, state string
		time             string
		sameID           bool // the id of ready
		wantErr          string
	}{
		{name: "ready", body: ready, eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z", sameID: true},
		{name: "ready, pretty-printed", body: "{\n  \"uid\": \"u1\",\n  \"readyToStream\": true,\n  \"status\": {\"state\": \"ready\"},\n  \"modified\": \"2025-01-01T00:01:00Z\"\n}",
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z", sameID: true},
		{name: "ready, progress written otherwise", body: `{"uid":"u1","status":{"state":"ready","pctComplete":"100"},"modified":"2025-01-01T00:01:00Z"}`,
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z", sameID: true},
		{name: "ready again after a change", body: `{"uid":"u1","status":{"state":"ready"},"modified":"2025-01-01T00:09:00Z"}`,
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:09:00.000Z"},
		{name: "another video", body: `{"uid":"u2","status":{"state":"ready"},"modified":"2025-01-01T00:01:00Z"}`,
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z"},
		{name: "error", body: `{"uid":"u1","status":{"state":"error","errorReasonCode":"ERR_NON_VIDEO"},"modified":"2025-01-01T00:01:00Z"}`,
			eventType: "video.error", state: "error", time: "2025-01-01T00:01:00.000Z"},
		{name: "no state, readyToStream", body: `{"uid":"u1","readyToStream":true,"status":{},"modified":"2025-01-01T00:01:00Z"}`,
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z", sameID: true},
		{name: "no state, readytoStream", body: `{"uid":"u1","readytoStream":true,"modified":"2025-01-01T00:01:00Z"}`,
			eventType: "video.ready", state: "ready", time: "2025-01-01T00:01:00.000Z", sameID: true},
		{name: "no state, errReasonCode", body: `{"uid":"u1","readytoStream":false,"status":{"errReasonCode":"ERR_NON_VIDEO"},"created":"2025-01-01T00:00:00Z"}`,
			eventType: "video.error", state: "error", time: "2025-01-01T00:00:00.000Z"},
		{name: "no state, errorReasonCode", body: `{"uid":"u1","status":{"state":null,"errorReasonCode":"ERR_NON_VIDEO"}}`,
			eventType: "video.error", state: "error", time: "2026-11-23T12:00:00.000Z"},
		{name: "an API state", body: `{"uid":"u1","status":{"state":"queued"}}`, eventType: "video.queued", state: "queued", time: "2026-11-23T12:00:00.000Z"},
		{name: "a state not in the table", body: `{"uid":"u1","status":{"state":"live-inprogress"}}`,
			eventType: "unknown.live-inprogress", state: "live-inprogress", time: "2026-11-23T12:00:00.000Z"},
		{name: "a state with subject syntax", body: `{"uid":"u1","status":{"state":"a.*>"}}`,
			eventType: "unknown.a___", state: "a.*>", time: "2026-11-23T12:00:00.000Z"},
		{name: "no state at all", body: `{"uid":"u1","readyToStream":false,"status":{"errorReasonCode":""}}`, wantErr: "status.state"},
		{name: "state an object", body: `{"uid":"u1","status":{"state":{}}}`, wantErr: "status.state"},
		{name: "state twice", body: `{"uid":"u1","status":{"state":"error","state":"ready"}}`, wantErr: "twice"},
		{name: "no uid", body: `{"status":{"state":"ready"}}`, wantErr: "uid"},
		{name: "uid a number", body: `{"uid":1,"status":{"state":"ready"}}`, wantErr: "uid"},
		{name: "not an object", body: `["uid"]`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := envelopeOrPayloadErr(t, &CloudflareStream, tt.body, tt.wantErr)
			if ev == nil {
				return
			}
			got := [...]string{string(ev.EventType), string(ev.ProviderEventType), string(ev.AppendTime(nil))}
			if want := [...]string{tt.eventType, tt.state, tt.time}; got != want {
				t.Errorf("type, state, time = %q, want %q", got, want)
			}
			if string(ev.Subject) != strings.Split(strings.Split(tt.body, `"uid":`)[1], `"`)[1] {
				t.Errorf("subject %q", ev.Subject)
			}
			if same := string(ev.ID) == string(readyID); same != tt.sameID {
				t.Errorf("id %s: the same as ready's = %v, want %v", ev.ID, same, tt.sameID)
			}
		})
	}
}

package normalize

import (
	"strings"
	"testing"
)

// SRS signs nothing: what reaches Verify was authenticated by the route (the URL token, which
// is also the secret), or is judged by the unsigned policy.
func TestSRSVerify(t *testing.T) {
	body := string(SRS.Sample)
	token := Auth{Secret: []byte("the-url-token")}
	runVerify(t, &SRS, []verifyCase{
		{name: "on the token route", body: body, received: received, auth: token, tokenRoute: true},
		{name: "token set: the route serves no other path", body: body, received: received, auth: token},
		{name: "on the token route, unsigned not allowed", body: body, received: received, tokenRoute: true},
		{name: "no token, unsigned allowed", body: body, received: received, auth: Auth{AllowUnsigned: true}, want: Unsigned},
		{name: "no token", body: body, received: received, wantErr: "no secret is configured"},
		{name: "no token: the way out is named", body: body, received: received, wantErr: "CALLBRIDGE_SRS_URL_TOKEN"},
		{name: "not JSON, on the token route", body: "0", received: received, auth: token, tokenRoute: true},
	})
}

func TestSRSNormalize(t *testing.T) {
	publish := string(SRS.Sample)
	publishID := mustEnvelope(t, &SRS, SRS.Sample, nil).ID
	const publishData = `{"server_id":"vid-INVENTED","service_id":"INVENTEDsvc","action":"on_publish","client_id":"INVENTEDcid","ip":"203.0.113.10","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://media.example.com/live","stream":"livestream","stream_url":"/live/livestream","stream_id":"vid-INVENTEDstream"}`
	tests := []struct {
		name, body        string
		eventType, action string
		subject, data     string // data: "" when not checked
		sameID            bool   // the id of publish
		wantErr           string
	}{
		{name: "on_publish", body: publish, eventType: "publish.started", action: "on_publish", subject: "__defaultVhost__/live/livestream", sameID: true, data: publishData},
		{name: "on_publish pretty-printed", body: strings.ReplaceAll(publish, `,"`, ",\n  \""), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream", sameID: true, data: publishData},
		{name: "another token: the same event", body: strings.Replace(publish, "?token=INVENTED", "?token=other", 1), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream", sameID: true, data: publishData},
		{name: "token in tcUrl", body: strings.Replace(publish, `/live"`, `/live?token=INVENTED"`, 1), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream", sameID: true, data: publishData},
		{name: "escaped ? in tcUrl", body: strings.Replace(publish, `/live"`, `/live\u003ftoken=INVENTED"`, 1), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream", sameID: true, data: publishData},
		{name: "another client", body: strings.Replace(publish, "INVENTEDcid", "INVENTEDcid9", 1), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream"},
		{name: "SRS 2: client_id an integer", body: strings.Replace(publish, `"INVENTEDcid"`, `107`, 1), eventType: "publish.started", action: "on_publish",
			subject: "__defaultVhost__/live/livestream"},
		{name: "on_unpublish", body: strings.Replace(publish, `"on_publish"`, `"on_unpublish"`, 1), eventType: "publish.stopped", action: "on_unpublish", subject: "__defaultVhost__/live/livestream"},
		{name: "on_play", body: strings.Replace(publish, `"on_publish"`, `"on_play"`, 1), eventType: "play.started", action: "on_play", subject: "__defaultVhost__/live/livestream"},
		{name: "on_stop", body: strings.Replace(publish, `"on_publish"`, `"on_stop"`, 1), eventType: "play.stopped", action: "on_stop", subject: "__defaultVhost__/live/livestream"},
		{name: "on_dvr", body: strings.Replace(publish, `"on_publish"`, `"on_dvr"`, 1), eventType: "dvr.file.written", action: "on_dvr", subject: "__defaultVhost__/live/livestream"},
		{name: "on_hls", body: strings.Replace(publish, `"on_publish"`, `"on_hls"`, 1), eventType: "hls.segment.written", action: "on_hls", subject: "__defaultVhost__/live/livestream"},
		{name: "on_connect", body: `{"action":"on_connect","client_id":"c1","vhost":"v","app":"live","tcUrl":"rtmp://h/live?k=1"}`, eventType: "client.connected", action: "on_connect",
			subject: "v/live", data: `{"action":"on_connect","client_id":"c1","vhost":"v","app":"live","tcUrl":"rtmp://h/live"}`},
		{name: "on_close", body: `{"action":"on_close","client_id":"c1","vhost":"v","app":"live","send_bytes":1,"recv_bytes":2}`, eventType: "client.closed", action: "on_close", subject: "v/live"},
		{name: "an action not in the table", body: `{"action":"on_forward","client_id":"c1"}`, eventType: "unknown.on_forward", action: "on_forward"},
		{name: "tcUrl a number", body: `{"action":"on_connect","tcUrl":7}`, eventType: "client.connected", action: "on_connect", data: `{"action":"on_connect","tcUrl":7}`},
		{name: "no action", body: `{"client_id":"c1"}`, wantErr: "action"},
		{name: "action an object", body: `{"action":{}}`, wantErr: "action"},
		{name: "action twice", body: `{"action":"on_play","action":"on_stop"}`, wantErr: "twice"},
		{name: "not an object", body: `0`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := envelopeOrPayloadErr(t, &SRS, tt.body, tt.wantErr)
			if ev == nil {
				return
			}
			got := [...]string{string(ev.EventType), string(ev.ProviderEventType), string(ev.Subject), string(ev.AppendTime(nil))}
			if want := [...]string{tt.eventType, tt.action, tt.subject, "2026-11-23T12:00:00.000Z"}; got != want {
				t.Errorf("type, action, subject, time = %q, want %q", got, want)
			}
			if tt.data != "" && string(ev.Data) != tt.data {
				t.Errorf("data %s\nwant %s", ev.Data, tt.data)
			}
			if strings.Contains(string(ev.Data), "token") || strings.Contains(string(ev.Data), `"param"`) {
				t.Errorf("data keeps a credential: %s", ev.Data)
			}
			if same := string(ev.ID) == string(publishID); same != tt.sameID {
				t.Errorf("id %s: the same as on_publish's = %v, want %v", ev.ID, same, tt.sameID)
			}
		})
	}
}

// SRS accepts `{"code":0}` (an integer 0) and nothing but the body as Sign made it is sent.
func TestSRSReplyAndSign(t *testing.T) {
	if got := SRS.ReplyFor(&Callback{Body: SRS.Sample}); string(got) != `{"code":0}` {
		t.Errorf("reply %s", got)
	}
	body, headers, err := SRS.Sign(SRS.Sample, &Auth{Secret: []byte("t")}, received)
	if err != nil || string(body) != string(SRS.Sample) || len(headers) != 1 || headers[0] != (Header{"Content-Type", "application/json"}) {
		t.Errorf("Sign = %s %v %v, want the body as it is", body, headers, err)
	}
	dead := string(SRS.Redact([]byte(strings.Replace(string(SRS.Sample), `/live"`, `/live?token=x"`, 1))))
	if strings.Contains(dead, "?token=INVENTED") || strings.Contains(dead, "token=x") || !strings.Contains(dead, `"tcUrl":"rtmp://media.example.com/live?<redacted>"`) {
		t.Errorf("dead letter keeps a credential: %s", dead)
	}
}

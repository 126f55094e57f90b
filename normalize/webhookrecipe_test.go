package normalize

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadRecipe reads testdata/recipes/<file>.env, the variables docs/generic-sources.md shows for a
// sender, into the source's name and its settings by Setting name.
func loadRecipe(t *testing.T, file string) (name string, values map[string]string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "recipes", file+".env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	values = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if k == "CALLBRIDGE_WEBHOOK_SOURCES" {
			name = v
			continue
		}
		prefix := "CALLBRIDGE_WEBHOOK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
		if !strings.HasPrefix(k, prefix) {
			t.Fatalf("%s: %s is not a variable of source %q", file, k, name)
		}
		if k = strings.TrimPrefix(k, prefix); k != "SECRET" {
			values[k] = v
		}
	}
	return name, values
}

// Each recipe of docs/generic-sources.md, configured exactly as written there, verifies the
// sender's vector (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §10) and makes the event shown.
func TestWebhookRecipes(t *testing.T) {
	tests := []struct {
		recipe, secret, body string
		header               HeaderMap
		at                   int64
		typ, subject         string
	}{
		{"mux", "SuperSecret123", `{"test":"body","type":"video.asset.ready","id":"e1","object":{"id":"a1"},"created_at":"2025-01-01T00:10:05Z"}`,
			nil, 1565125718, "video.asset.ready", "a1"},
		{"whereby", "INVENTED_whereby_secret", `{"id":"INVENTED-event-id","apiVersion":"1.0","createdAt":"2025-01-01T00:00:00.000Z","type":"room.client.joined","data":{"meetingId":"12345678","roomName":"/INVENTED-room","roomSessionId":"INVENTED-session","participantId":"INVENTED-participant","displayName":"Alice","metadata":null,"externalId":null,"roleName":"visitor","numClients":1,"numClientsByRoleName":{"visitor":1},"isDialIn":false}}`,
			HeaderMap{"Whereby-Signature": "t=1735689600,v1=b8c92ba69bd7505447afdea7479e3b98f75ea0ffb17269973be7a107f05d98b8"}, 1735689600, "room.client.joined", "INVENTED-session"},
		{"cloudflare-stream", "INVENTED_cf_stream_secret", `{"uid":"INVENTEDuid0123456789abcdef0123456","readyToStream":true,"status":{"state":"ready","pctComplete":"100.000000","errorReasonCode":"","errorReasonText":""},"meta":{"name":"demo.mp4"},"created":"2025-01-01T00:00:00.000000Z","modified":"2025-01-01T00:01:00.000000Z"}`,
			HeaderMap{"Webhook-Signature": "time=1735689660,sig1=ed15a5b910ed483cba330d4ed0efe689ce164d20060d1c5dcc4c7cf694637f44"}, 1735689660, "ready", "INVENTEDuid0123456789abcdef0123456"},
		{"cloudflare-stream-live", "INVENTED_cf_notifications_secret", `{"name":"Live input alerts","text":"Live input INVENTEDinput connected","data":{"notification_name":"Stream Live Input","input_id":"INVENTEDinput0123456789abcdef01234","event_type":"live_input.connected","updated_at":"2025-01-01T00:00:00Z"},"ts":1735689600}`,
			HeaderMap{"cf-webhook-auth": "INVENTED_cf_notifications_secret"}, 1735689600, "live_input.connected", "INVENTEDinput0123456789abcdef01234"},
		{"daily", "SU5WRU5URUQtZGFpbHktaG1hYy1rZXktMzJieXRlcyE=", `{"version":"1.0.0","type":"meeting.started","id":"ev-INVENTED-0001","payload":{"start_ts":1708972279.961,"meeting_id":"INVENTED-meeting-uuid","room":"INVENTED-room"},"event_ts":1708972280.048}`,
			HeaderMap{"X-Webhook-Timestamp": "1708972280048", "X-Webhook-Signature": "HXV5ISVPicdE8Hx99aK1TOGyVNF/0MbxDJBHmvHfonk="}, 1708972280, "meeting.started", "INVENTED-room"},
		{"millicast", "SU5WRU5URUQtbWlsbGljYXN0LXNlY3JldA==", `{"type":"feeds","event":"started","timestamp":1735689600000,"data":{"streamId":"INVENTEDacct/demo","feedId":"INVENTEDfeed","name":"demo","start":1735689600000}}`,
			HeaderMap{"X-Millicast-Signature": "sha1=70bb7eb41e21ef0653f33ae49ee1b6f6d2c444b7"}, 1735689600, "feeds", "INVENTEDacct/demo"},
		{"zoom", "INVENTED_zoom_secret", `{"event":"session.started","event_ts":1739923528123,"payload":{"account_id":"INVENTEDacct","object":{"id":"INVENTEDid","session_id":"INVENTEDsid==","session_name":"demo-session","session_key":"","start_time":"2025-02-19T00:05:28Z"}}}`,
			HeaderMap{"x-zm-request-timestamp": "1739923528", "x-zm-signature": "v0=d5e4ec9f1fa4318756c270ed9025c1fe5338fa45707671dcad53e5e7bb00e93c"}, 1739923528, "session.started", "INVENTEDsid=="},
		{"hundredms", "tok-123", `{"id":"ev1","type":"session.open.success","timestamp":"2025-01-01T00:00:00Z","data":{"room_id":"r1"}}`,
			HeaderMap{"X-Callbridge-Token": "tok-123"}, 1735689600, "session.open.success", "r1"},
	}
	for _, tt := range tests {
		t.Run(tt.recipe, func(t *testing.T) {
			name, values := loadRecipe(t, tt.recipe)
			p, err := NewWebhook(name, values, []byte(tt.secret))
			if err != nil {
				t.Fatal(err)
			}
			a := &Auth{Secret: []byte(tt.secret), MaxSkew: 5 * time.Minute}
			h := tt.header
			if h == nil { // Mux's published vector signs another body: sign this one as Mux would
				_, signed, err := p.Sign([]byte(tt.body), a, time.Unix(tt.at, 0))
				if err != nil {
					t.Fatal(err)
				}
				h = HeaderMap{}
				for _, kv := range signed {
					h[kv.Key] = kv.Value
				}
			}
			c := &Callback{Body: []byte(tt.body), Header: h, Received: time.Unix(tt.at, 0)}
			var ev Event
			if _, err := p.Run(c, a, true, &ev); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(ev.EventType) != tt.typ || string(ev.Subject) != tt.subject {
				t.Errorf("type %q subject %q, want %q %q", ev.EventType, ev.Subject, tt.typ, tt.subject)
			}
			c.Body = append([]byte(tt.body), ' ')
			if _, err := p.Run(c, a, true, &ev); err == nil && values["SCHEME"] != SchemeStaticToken {
				t.Error("a changed body verified")
			}
		})
	}
}

// Zoom's URL validation through a generic source with CHALLENGE=zoom: answered as Zoom requires
// when signed (vectors Z1 and Z5), refused when not, and never an event.
func TestWebhookZoomChallenge(t *testing.T) {
	name, values := loadRecipe(t, "zoom")
	const body = `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1739923528123,"event":"endpoint.url_validation"}`
	signed := HeaderMap{"x-zm-request-timestamp": "1739923528", "x-zm-signature": "v0=a8b6a427bae14b9bb590b2ee96c225f37e901a8ed954abc1ef5774a8203bff65"}
	at := time.Unix(1739923528, 0)
	tests := []struct {
		name, secret string
		header       HeaderMap
		allow        bool
		want         string // the reply, or the AuthError's text
	}{
		{"Z5: signed", "INVENTED_zoom_secret", signed, false,
			`{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"d3b00cf5920b67383c9c36a931d5feadb05840086ca0dd6cacc1c1950457a1ec"}`},
		{"badly signed", "INVENTED_zoom_secret", HeaderMap{"x-zm-request-timestamp": "1739923528", "x-zm-signature": "v0=00"}, false, "does not match"},
		{"unsigned", "INVENTED_zoom_secret", HeaderMap{}, false, "header missing"},
		{"no secret, unsigned allowed", "", HeaderMap{}, true, "only when signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewWebhook(name, values, []byte(tt.secret))
			if err != nil {
				t.Fatal(err)
			}
			a := &Auth{Secret: []byte(tt.secret), AllowUnsigned: tt.allow, MaxSkew: 5 * time.Minute}
			reply, probe, err := p.Probe(&Callback{Body: []byte(body), Header: tt.header, Received: at}, a, nil)
			checkProbe(t, reply, probe, err, tt.want)
		})
	}
	// Z1 (Elastic Beats' test of Zoom's challenge): the token's HMAC alone.
	c := &Callback{Body: []byte(body)}
	reply, err := zoomAnswer(c, &Auth{Secret: []byte("secretValueTest")}, nil)
	if err != nil || !strings.Contains(string(reply), `"encryptedToken":"70c1f2e2e6ca2d39297490d1f9142c7d701415ea8e6151f6562a08fa657a40ff"`) {
		t.Errorf("Z1: %s %v", reply, err)
	}
}

func TestWebhookTemplateSettings(t *testing.T) {
	hmac := func(kv ...string) map[string]string {
		m := map[string]string{"SCHEME": "hmac-sha256", "TYPE": "json:type", "SIGNATURE_HEADER": "X-Sig"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	checkSettingCases(t, []settingCase{
		{"template", hmac("SIGNED_CONTENT", "{header:X-Ts}.{body}", "TIMESTAMP", "header:X-Ts"), "", ""},
		{"template without body", hmac("SIGNED_CONTENT", "{header:X-Ts}"), "", "SIGNED_CONTENT"},
		{"template unclosed", hmac("SIGNED_CONTENT", "{body"), "", "SIGNED_CONTENT"},
		{"sig without kv", hmac("SIGNED_CONTENT", "{sig:t}.{body}"), "", "SIGNED_CONTENT"},
		{"kv without param", hmac("SIGNATURE_FORMAT", "kv"), "", "SIGNATURE_PARAM"},
		{"param without kv", hmac("SIGNATURE_PARAM", "v1"), "", "SIGNATURE_PARAM"},
		{"prefix with kv", hmac("SIGNATURE_FORMAT", "kv", "SIGNATURE_PARAM", "v1", "SIGNATURE_PREFIX", "v0="), "", "SIGNATURE_PREFIX"},
		{"timestamp not signed", hmac("TIMESTAMP", "header:X-Ts"), "", "TIMESTAMP"},
		{"timestamp of unknown kind", hmac("TIMESTAMP", "json:ts"), "", "TIMESTAMP"},
		{"base64 secret", hmac("SECRET_ENCODING", "base64"), "c2VjcmV0", ""},
		{"base64 secret not base64", hmac("SECRET_ENCODING", "base64"), "not base64!", "SECRET"},
		{"bad encoding", hmac("SIGNATURE_ENCODING", "base32"), "", "SIGNATURE_ENCODING"},
		{"bad unit", hmac("TIMESTAMP_UNIT", "us"), "", "TIMESTAMP_UNIT"},
		{"bad challenge", hmac("CHALLENGE", "slack"), "", "CHALLENGE"},
		{"template on standard-webhooks", map[string]string{"SIGNED_CONTENT": "{body}."}, "", "SIGNED_CONTENT"},
		{"kv on static-token", map[string]string{"SCHEME": "static-token", "TYPE": "json:type", "TOKEN_HEADER": "X-Token", "SIGNATURE_FORMAT": "kv"}, "", "SIGNATURE_FORMAT"},
		{"static-token", map[string]string{"SCHEME": "static-token", "TYPE": "json:type", "TOKEN_HEADER": "X-Token"}, "t", ""},
		{"static-token without header", map[string]string{"SCHEME": "static-token", "TYPE": "json:type"}, "t", "TOKEN_HEADER"},
		{"token header on hmac", hmac("TOKEN_HEADER", "X-Token"), "", "TOKEN_HEADER"},
	})
}

func TestWebhookStaticToken(t *testing.T) {
	p, err := NewWebhook("tok", map[string]string{"SCHEME": "static-token", "TYPE": "json:type", "TOKEN_HEADER": "X-Token"}, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Auth{Secret: []byte("s3cret")}
	for _, tc := range []struct {
		header HeaderMap
		ok     bool
	}{
		{HeaderMap{"X-Token": "s3cret"}, true},
		{HeaderMap{"X-Token": "s3cre"}, false},
		{HeaderMap{"X-Token": "s3cret "}, false},
		{HeaderMap{}, false},
	} {
		_, err := p.Verify(&Callback{Body: []byte(`{"type":"a"}`), Header: tc.header}, a)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.header, err)
		}
	}
}

// A sender's type is kept when it is dotted lower-case ASCII, else made one safe token (SPEC §6a).
func TestSenderType(t *testing.T) {
	for in, want := range map[string]string{
		"invoice.paid": "invoice.paid", "a-b_c.d1": "a-b_c.d1", "Invoice.Paid": "_nvoice__aid",
		"a..b": "a__b", ".a": "_a", "a.": "a_", "a.*": "a__", "a b>": "a_b_", "ünï": "__n__",
	} {
		b := []byte(in)
		senderType(b)
		if string(b) != want {
			t.Errorf("senderType(%q) = %q, want %q", in, b, want)
		}
	}
}

// The recipes in docs/generic-sources.md are the tested files, block for block.
func TestRecipesInDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "generic-sources.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "recipes", "*.env"))
	if len(files) == 0 {
		t.Fatal("no recipes")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vars []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.HasPrefix(line, "#") {
				vars = append(vars, line)
			}
		}
		if block := "```sh\n" + strings.Join(vars, "\n") + "\n```"; !strings.Contains(string(doc), block) {
			t.Errorf("docs/generic-sources.md lacks the recipe %s as tested:\n%s", filepath.Base(f), block)
		}
	}
}

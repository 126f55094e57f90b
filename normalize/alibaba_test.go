package normalize

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Test vectors from shared/providers/PROTOCOLS-MORE.md §4b: the doc's input computed, and the
// file's own over examples 4g-1 (publish, GET) and 4g-2 (recording file, POST).
const (
	alibabaKey        = "callbridgeAliKey"
	alibabaPublishQ   = "action=publish&ip=203.0.113.7&id=world&app=push.example.com&appname=liveApp&time=1609220385&usrargs=auth_key%3D1609224000-0-0-abc&node=cdnvideocenter010207110000.cm3&height=720&width=1280"
	alibabaPublishTS  = "1609220385"
	alibabaPublishSig = "4255e80bb424c15fd096eeb3de865ac8"
	alibabaRecordTS   = "1609220450"
	alibabaRecordSig  = "5384608016992cf2c6ae7a922313ec28"
)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestAlibabaVectorSelfCheck(t *testing.T) {
	if got := md5Hex("learn.aliyundoc.com|1519375990|yourkey"); got != "9e226fc2c250be266e3657e156f68c12" {
		t.Fatalf("the doc's example input: %s", got)
	}
	if md5Hex("push.example.com|"+alibabaPublishTS+"|"+alibabaKey) != alibabaPublishSig || md5Hex("hooks.example.com|"+alibabaRecordTS+"|"+alibabaKey) != alibabaRecordSig {
		t.Fatal("the helper disagrees with PROTOCOLS-MORE.md's own vectors")
	}
}

func TestVerifyAlibabaLive(t *testing.T) {
	record := string(fixture(t, "alibaba-live", "record-file.json"))
	published := time.Unix(1609220385, 0)
	recorded := time.Unix(1609220450, 0)
	auth := Auth{Secret: []byte(alibabaKey), MaxSkew: 5 * time.Minute}
	withDomain := func(d string) Auth {
		return Auth{Secret: []byte(alibabaKey), MaxSkew: 5 * time.Minute, Options: withOptions(t, &AlibabaLive, "CALLBACK_DOMAIN", d)}
	}
	rotated := Auth{Secret: []byte("new key"), MaxSkew: 5 * time.Minute, Options: withOptions(t, &AlibabaLive, "PREVIOUS_AUTH_KEY", alibabaKey)}
	h := func(ts, sig string, more ...string) HeaderMap {
		m := HeaderMap{"ALI-LIVE-TIMESTAMP": ts, "ALI-LIVE-SIGNATURE": sig}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	tests := []verifyCase{
		{name: "own vector 4g-1: publish, domain from app", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: auth, want: Signed},
		{name: "own vector 4g-2: recording, domain from the Host header", body: record, header: h(alibabaRecordTS, alibabaRecordSig, "Host", "hooks.example.com"), received: recorded, auth: auth, want: Signed},
		{name: "Host with a port", body: record, header: h(alibabaRecordTS, alibabaRecordSig, "Host", "hooks.example.com:8443"), received: recorded, auth: auth, want: Signed},
		{name: "configured callback domain wins over Host", body: record, header: h(alibabaRecordTS, alibabaRecordSig, "Host", "callbridge.internal:8080"), received: recorded, auth: withDomain("hooks.example.com"), want: Signed},
		{name: "upper-case signature", body: alibabaPublishQ, header: h(alibabaPublishTS, strings.ToUpper(alibabaPublishSig)), received: published, auth: auth, want: Signed},
		{name: "previous key during a rotation", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: rotated, want: Signed},
		{name: "new key during a rotation", body: alibabaPublishQ, header: h(alibabaPublishTS, md5Hex("push.example.com|"+alibabaPublishTS+"|new key")), received: published, auth: rotated, want: Signed},
		{name: "fields changed: the signature does not cover them (a weakness of the scheme)", body: strings.Replace(alibabaPublishQ, "id=world", "id=elsewhere", 1), header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: auth, want: Signed},

		{name: "another ingest domain", body: strings.Replace(alibabaPublishQ, "app=push.example.com", "app=push.example.org", 1), header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: auth, wantErr: "does not match"},
		{name: "recording signed for another host", body: record, header: h(alibabaRecordTS, alibabaRecordSig, "Host", "hooks.example.org"), received: recorded, auth: auth, wantErr: "does not match"},
		{name: "recording: the body's domain is not the one signed", body: record, header: h(alibabaRecordTS, md5Hex("demo.aliyundoc.com|"+alibabaRecordTS+"|"+alibabaKey), "Host", "hooks.example.com"), received: recorded, auth: auth, wantErr: "does not match"},
		{name: "timestamp changed", body: alibabaPublishQ, header: h("1609220386", alibabaPublishSig), received: published, auth: auth, wantErr: "does not match"},
		{name: "wrong key, no previous one", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: Auth{Secret: []byte("new key"), MaxSkew: time.Minute}, wantErr: "does not match"},
		{name: "no app parameter", body: strings.Replace(alibabaPublishQ, "&app=push.example.com", "", 1), header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: auth, wantErr: "domain the signature covers is missing"},
		{name: "no Host", body: record, header: h(alibabaRecordTS, alibabaRecordSig), received: recorded, auth: auth, wantErr: "domain the signature covers is missing"},
		{name: "signature missing", body: alibabaPublishQ, header: HeaderMap{"ALI-LIVE-TIMESTAMP": alibabaPublishTS}, received: published, auth: auth, wantErr: "ALI-LIVE-SIGNATURE header missing"},
		{name: "timestamp missing", body: alibabaPublishQ, header: HeaderMap{"ALI-LIVE-SIGNATURE": alibabaPublishSig}, received: published, auth: auth, wantErr: "ALI-LIVE-TIMESTAMP header missing"},
		{name: "timestamp not a number", body: alibabaPublishQ, header: h("soon", md5Hex("push.example.com|soon|"+alibabaKey)), received: published, auth: auth, wantErr: "not a unix timestamp"},
		{name: "too old (replay)", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published.Add(5*time.Minute + time.Second), auth: auth, wantErr: "signature window"},
		{name: "too far ahead", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published.Add(-5*time.Minute - time.Second), auth: auth, wantErr: "in the future"},
		{name: "no key", body: alibabaPublishQ, header: h(alibabaPublishTS, alibabaPublishSig), received: published, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &AlibabaLive, tests)
}

// A publish callback normalises to the same event whether it arrives as the query Alibaba sends
// or as the JSON fixture that documents it: Sign turns one into the other.
func TestAlibabaQueryAndJSON(t *testing.T) {
	for _, name := range []string{"publish.json", "publish_done.json", "publish-escaped.json"} {
		t.Run(name, func(t *testing.T) {
			body := fixture(t, "alibaba-live", name)
			query, _, err := AlibabaLive.Sign(body, &Auth{}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if AlibabaLive.Method(query) != "GET" || AlibabaLive.Method(body) != "POST" {
				t.Fatalf("methods %s %s", AlibabaLive.Method(query), AlibabaLive.Method(body))
			}
			a, b := mustEnvelope(t, &AlibabaLive, body, nil), mustEnvelope(t, &AlibabaLive, query, nil)
			if !bytes.Equal(a.AppendStructured(nil), b.AppendStructured(nil)) {
				t.Errorf("JSON and query differ:\n%s\n%s", a.AppendStructured(nil), b.AppendStructured(nil))
			}
		})
	}
	ev := mustEnvelope(t, &AlibabaLive, []byte(alibabaPublishQ), nil)
	if string(ev.Subject) != "world" || string(ev.Type) != "com.aliyun.live.stream.published" || string(ev.Source) != "/callbridge/alibaba-live/push.example.com" ||
		!ev.Time.Equal(time.Unix(1609220385, 0)) || !bytes.Contains(ev.Data, []byte(`"usrargs":"auth_key=1609224000-0-0-abc","node"`)) || !bytes.Contains(ev.Data, []byte(`"height":720,"width":1280}`)) {
		t.Errorf("publish query: %s", ev.AppendStructured(nil))
	}
	// Integers only where Alibaba's sample reads them, and only when they are plain.
	ev = mustEnvelope(t, &AlibabaLive, []byte("action=publish&id=007&time=0160&height=&width=12a"), nil)
	if !bytes.Equal(ev.Data, []byte(`{"action":"publish","id":"007","time":"0160","height":"","width":"12a"}`)) {
		t.Errorf("data %s", ev.Data)
	}
}

func TestAlibabaNormalize(t *testing.T) {
	tests := []struct {
		file, typ, code, subject, source, at string
	}{
		{"record-file.json", "com.aliyun.live.recording.file.created", "record_file", "liveStream", "/callbridge/alibaba-live/demo.aliyundoc.com", "2017-03-08T15:10:40Z"},
		{"record_paused.json", "com.aliyun.live.recording.paused", "record_paused", "liveStream", "/callbridge/alibaba-live/demo.aliyundoc.com", "2026-11-23T12:00:00Z"},
		{"unknown-record_stopped.json", "com.aliyun.live.unknown.record_stopped", "record_stopped", "liveStream", "/callbridge/alibaba-live/demo.aliyundoc.com", "2026-11-23T12:00:00Z"},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &AlibabaLive, fixture(t, "alibaba-live", tt.file), nil)
		at, _ := time.Parse(time.RFC3339, tt.at)
		if string(ev.Type) != tt.typ || string(ev.ProviderEventType) != tt.code || string(ev.Subject) != tt.subject || string(ev.Source) != tt.source || !ev.Time.Equal(at) {
			t.Errorf("%s: %s", tt.file, ev.AppendStructured(nil))
		}
	}
	// A status callback's time is its signed send time.
	ev := mustEnvelope(t, &AlibabaLive, fixture(t, "alibaba-live", "record_started.json"), HeaderMap{"ALI-LIVE-TIMESTAMP": "1609220450"})
	if !ev.Time.Equal(time.Unix(1609220450, 0)) {
		t.Errorf("status time %s", ev.Time)
	}
	// The recording file's duration keeps its digits: numbers never go through float64.
	if ev := mustEnvelope(t, &AlibabaLive, fixture(t, "alibaba-live", "record-file.json"), nil); !bytes.Contains(ev.Data, []byte(`"duration":54.0,`)) {
		t.Errorf("duration rewritten: %s", ev.Data)
	}
	for _, tt := range []struct{ body, field string }{
		{``, ""},
		{`ip=1.2.3.4&id=x`, ""},
		{`action=publish&id=%zz`, `"id"`},
		{`action=publish&id=a&id=b`, `"id"`},
		{`action=publish&id=%ff`, `"id"`},
		{`action=publish` + manyParams(40), ""},
		{`{"action":{}}`, "action"},
		{`{"domain":"d","domain":"e"}`, `"domain"`},
	} {
		_, err := envelope(&AlibabaLive, []byte(tt.body), nil)
		if pe, ok := err.(*PayloadError); !ok || pe.Field != tt.field {
			t.Errorf("Envelope(%.60s) = %v, want a *PayloadError on %q", tt.body, err, tt.field)
		}
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&x%d=1", i)
	}
	return b.String()
}

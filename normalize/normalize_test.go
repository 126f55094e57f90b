package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureFile is one body under testdata/<provider>/.
type fixtureFile struct {
	p    *Provider
	name string
	body []byte
}

// allFixtures returns every fixture body of every provider.
func allFixtures(t testing.TB) []fixtureFile {
	t.Helper()
	var out []fixtureFile
	for _, p := range Builtins() {
		files, err := filepath.Glob(filepath.Join("..", "testdata", p.ID, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no fixtures (%v)", p.ID, err)
		}
		for _, f := range files {
			out = append(out, fixtureFile{p: p, name: filepath.Base(f), body: fixture(t, p.ID, filepath.Base(f))})
		}
	}
	return out
}

// envelope normalises body as p with headers h (nil: none), received at received.
func envelope(p *Provider, body []byte, h HeaderMap) (*Event, error) {
	if h == nil {
		h = HeaderMap{}
	}
	ev := new(Event)
	err := p.Envelope(&Callback{Body: body, Header: h, Received: received}, ev)
	return ev, err
}

func mustEnvelope(t *testing.T, p *Provider, body []byte, h HeaderMap) *Event {
	t.Helper()
	ev, err := envelope(p, body, h)
	if err != nil {
		t.Fatalf("%s: Envelope(%s): %v", p.ID, body, err)
	}
	return ev
}

// replaceOnce replaces old by new in s, failing when old is not there.
func replaceOnce(t *testing.T, s []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(s, []byte(old)) {
		t.Fatalf("%q not found in %s", old, s)
	}
	return bytes.Replace(s, []byte(old), []byte(new), 1)
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "    "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// decodeData decodes ev.Data with numbers kept as json.Number.
func decodeData(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("data is not a JSON object: %v\n%s", err, data)
	}
	return m
}

func TestEventIDStability(t *testing.T) {
	push := fixture(t, "tencent-css", "1-push.json")
	resigned := replaceOnce(t, push, `"t":1703732078`, `"t":1703732978`)
	resigned = replaceOnce(t, resigned, tencentSign, tencentSignOf(tencentKey, 1703732978))
	// t and sign moved to the front, as another serialiser might write them.
	moved := replaceOnce(t, push, `,"t":1703732078`, ``)
	moved = replaceOnce(t, moved, `"sign":"`+tencentSign+`",`, ``)
	moved = append([]byte(`{"t":1703732978,"sign":"`+tencentSignOf(tencentKey, 1703732978)+`",`), moved[1:]...)

	join := fixture(t, "anyrtc", "1-103-broadcaster-join.json")
	noNotice := replaceOnce(t, join, `"noticeId":"2000001428:4331:103",`, ``)

	joined := fixture(t, "netease-nertc", "4-user-joined.json")
	task := fixture(t, "netease-nertc", "500-task-created.json") // pretty-printed

	tests := []struct {
		name string
		p    *Provider
		a, b []byte
		same bool
	}{
		{"tencent: re-signed with another t and sign", &TencentCSS, push, resigned, true},
		{"tencent: t and sign in another place", &TencentCSS, push, moved, true},
		{"tencent: pretty-printed", &TencentCSS, push, indent(t, push), true},
		{"tencent: sign only upper-cased", &TencentCSS, push, replaceOnce(t, push, tencentSign, strings.ToUpper(tencentSign)), true},
		{"tencent: sequence changed", &TencentCSS, push, replaceOnce(t, push, `"2210464508206756938"`, `"2210464508206756939"`), false},
		{"tencent: event_time changed", &TencentCSS, push, replaceOnce(t, push, `"event_time":1703731478`, `"event_time":1703731479`), false},
		{"tencent: event_type changed", &TencentCSS, push, replaceOnce(t, push, `"event_type":1`, `"event_type":0`), false},
		{"tencent: relay msg changed", &TencentCSS, fixture(t, "tencent-css", "314-task-start.json"), replaceOnce(t, fixture(t, "tencent-css", "314-task-start.json"), `1712893433000`, `1712893433001`), false},

		{"anyrtc: same noticeId, another notifyMs", &AnyRTC, join, replaceOnce(t, join, `"notifyMs":1712902003412`, `"notifyMs":1712902063412`), true},
		{"anyrtc: another noticeId", &AnyRTC, join, replaceOnce(t, join, `2000001428:4331:103`, `2000001428:4331:104`), false},
		{"anyrtc: no noticeId, another notifyMs", &AnyRTC, noNotice, replaceOnce(t, noNotice, `"notifyMs":1712902003412`, `"notifyMs":1712902063412`), true},
		{"anyrtc: no noticeId, pretty-printed", &AnyRTC, noNotice, indent(t, noNotice), true},
		{"anyrtc: no noticeId, payload changed", &AnyRTC, noNotice, replaceOnce(t, noNotice, `"uid":12345`, `"uid":12346`), false},
		{"anyrtc: no noticeId, eventType changed", &AnyRTC, noNotice, replaceOnce(t, noNotice, `"eventType":103`, `"eventType":105`), false},
		{"anyrtc: no noticeId, productId changed", &AnyRTC, noNotice, replaceOnce(t, noNotice, `"productId":1`, `"productId":2`), false},

		{"netease: pretty vs compact", &NetEaseNERTC, task, appendCompact(nil, task), true},
		{"netease: compact fixture pretty-printed", &NetEaseNERTC, joined, indent(t, joined), true},
		{"netease: data.timestamp changed", &NetEaseNERTC, joined, replaceOnce(t, joined, `1712901605311`, `1712901605312`), false},
		{"netease: eventType changed", &NetEaseNERTC, joined, replaceOnce(t, joined, `"eventType":4`, `"eventType":5`), false},
		{"netease: uid changed beyond 2^53", &NetEaseNERTC, joined, replaceOnce(t, joined, `12345678901234567`, `12345678901234568`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustEnvelope(t, tt.p, tt.a, nil)
			b := mustEnvelope(t, tt.p, tt.b, nil)
			if len(a.ID) == 0 {
				t.Fatal("empty id")
			}
			if same := bytes.Equal(a.ID, b.ID); same != tt.same {
				t.Errorf("ids %s and %s: same = %v, want %v\n a: %s\n b: %s", a.ID, b.ID, same, tt.same, tt.a, tt.b)
			}
		})
	}
}

// TestNetEaseRetrySameID verifies and normalises one NetEase body sent twice, each time
// re-signed with another CurTime: both pass and share the id.
func TestNetEaseRetrySameID(t *testing.T) {
	body := fixture(t, "netease-nertc", "503-play-started.json")
	auth := &Auth{Secret: []byte(neteaseSecret), MaxSkew: 5 * time.Minute}
	tests := []struct {
		name    string
		curTime string
		appKey  string
	}{
		{"first", "1712900013100", "a1b2c3d4e5f6"},
		{"retry a minute later", "1712900073100", "a1b2c3d4e5f6"},
		{"retry with the AppKey header missing", "1712900133100", ""},
	}
	var first []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := neteaseSign(body, neteaseSecret, tt.curTime)
			if tt.appKey != "" {
				h["AppKey"] = tt.appKey
			}
			var ev Event
			c := &Callback{Body: body, Header: h, Received: time.UnixMilli(1712900013100).Add(2 * time.Minute)}
			if _, err := NetEaseNERTC.Run(c, auth, true, &ev); err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = bytes.Clone(ev.ID)
			}
			if !bytes.Equal(ev.ID, first) {
				t.Errorf("id %s, first delivery had %s", ev.ID, first)
			}
			for _, v := range []string{h["CheckSum"], h["MD5"], h["CurTime"]} {
				if bytes.Contains(ev.AppendStructured(nil), []byte(v)) {
					t.Errorf("signature header value %s reached the event", v)
				}
			}
		})
	}
}

func TestNumbersByteForByte(t *testing.T) {
	tests := []struct {
		name    string
		p       *Provider
		file    string
		want    []string // substrings of ev.Data
		subject string
	}{
		{"netease 2^53+1 channelId and 17-digit uid", &NetEaseNERTC, "4-user-joined.json", []string{`"channelId":9007199254740993`, `"uid":12345678901234567`}, "9007199254740993"},
		{"tencent sequence stays a string", &TencentCSS, "1-push.json", []string{`"sequence":"2210464508206756938"`}, "test_stream"},
		{"tencent file ids", &TencentCSS, "100-recording.json", []string{`"file_id":"5285890781763144364"`, `"file_size":452984832`}, "test_stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, tt.p, fixture(t, tt.p.ID, tt.file), nil)
			for _, w := range tt.want {
				if !bytes.Contains(ev.Data, []byte(w)) {
					t.Errorf("data lacks %s: %s", w, ev.Data)
				}
				if !bytes.Contains(ev.AppendStructured(nil), []byte(w)) {
					t.Errorf("structured event lacks %s", w)
				}
			}
			if string(ev.Subject) != tt.subject {
				t.Errorf("subject %q, want %q", ev.Subject, tt.subject)
			}
		})
	}
	// A number too long for any integer type, and one in exponent form, pass through untouched.
	body := []byte(`{"eventType":4,"data":{"channelId":123456789012345678901234567890,"x":1.0E+400,"y":-0.000}}`)
	ev := mustEnvelope(t, &NetEaseNERTC, body, nil)
	if want := `{"channelId":123456789012345678901234567890,"x":1.0E+400,"y":-0.000}`; string(ev.Data) != want {
		t.Errorf("data %s, want %s", ev.Data, want)
	}
}

func TestEventTime(t *testing.T) {
	tests := []struct {
		name string
		p    *Provider
		body string
		want time.Time
	}{
		{"anyrtc payload.ts in seconds", &AnyRTC, string(fixture(t, "anyrtc", "1-103-broadcaster-join.json")), time.Unix(1712902003, 0)},
		{"anyrtc CDN payload.time in milliseconds", &AnyRTC, string(fixture(t, "anyrtc", "2-1-publish-stream.json")), time.UnixMilli(1712902005955)},
		{"anyrtc payload.ts given in milliseconds", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1712902000318,"payload":{"channelName":"r","ts":1712902003123}}`, time.UnixMilli(1712902003123)},
		{"anyrtc payload.ts as a string", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1712902000318,"payload":{"channelName":"r","ts":"1712902003"}}`, time.Unix(1712902003, 0)},
		{"anyrtc no payload time: notifyMs", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1712902000318,"payload":{"channelName":"r"}}`, time.UnixMilli(1712902000318)},
		{"anyrtc no time at all: receipt", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"payload":{"channelName":"r"}}`, received},
		{"anyrtc fractional ts ignored", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1712902000318,"payload":{"ts":1712902003.5}}`, time.UnixMilli(1712902000318)},

		{"netease data.timestamp in milliseconds", &NetEaseNERTC, string(fixture(t, "netease-nertc", "4-user-joined.json")), time.UnixMilli(1712901605311)},
		{"netease timestamp wins over createtime", &NetEaseNERTC, string(fixture(t, "netease-nertc", "1-room-started.json")), time.UnixMilli(1712901600087)},
		{"netease timestamp as a string", &NetEaseNERTC, `{"eventType":1,"data":{"channelId":1,"timestamp":"1712901605311"}}`, time.UnixMilli(1712901605311)},
		{"netease createtime", &NetEaseNERTC, `{"eventType":1,"data":{"channelId":1,"createtime":1712901600000}}`, time.UnixMilli(1712901600000)},
		{"netease creaetime (doc typo)", &NetEaseNERTC, `{"eventType":2,"data":{"channelId":1,"creaetime":1712901600123}}`, time.UnixMilli(1712901600123)},
		{"netease no time: receipt", &NetEaseNERTC, `{"eventType":1,"data":{"channelId":1}}`, received},
		{"netease null timestamp: receipt", &NetEaseNERTC, `{"eventType":1,"data":{"channelId":1,"timestamp":null}}`, received},

		{"tencent event_time as a string", &TencentCSS, string(fixture(t, "tencent-css", "314-task-start.json")), time.Unix(1712893433, 0)},
		{"tencent event_time as a number", &TencentCSS, string(fixture(t, "tencent-css", "1-push.json")), time.Unix(1703731478, 0)},
		{"tencent create_time", &TencentCSS, `{"event_type":200,"create_time":1703731540,"stream_id":"s"}`, time.Unix(1703731540, 0)},
		{"tencent relay task_exit_time in ms", &TencentCSS, `{"event_type":314,"callback_event":"TaskExit","task_id":"1","msg":"{\"task_start_time\":1712893433000,\"task_exit_time\":1712908356123}"}`, time.UnixMilli(1712908356123)},
		{"tencent relay task_start_time in ms", &TencentCSS, `{"event_type":314,"callback_event":"TaskStart","task_id":"1","msg":"{\"task_start_time\":1712893433456}"}`, time.UnixMilli(1712893433456)},
		{"tencent relay task_exit_time 0: start time", &TencentCSS, `{"event_type":314,"callback_event":"TaskExit","task_id":"1","msg":"{\"task_start_time\":1712893433456,\"task_exit_time\":0}"}`, time.UnixMilli(1712893433456)},
		{"tencent relay times 0: receipt", &TencentCSS, `{"event_type":314,"callback_event":"TaskStart","task_id":"1","msg":"{\"task_start_time\":0}"}`, received},
		{"tencent no time: receipt", &TencentCSS, `{"event_type":1,"stream_id":"s"}`, received},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, tt.p, []byte(tt.body), nil)
			if !ev.Time.Equal(tt.want) {
				t.Errorf("time %s, want %s", ev.Time.Format(time.RFC3339Nano), tt.want.UTC().Format(time.RFC3339Nano))
			}
			if ev.Time.Location() != time.UTC {
				t.Errorf("time in %s, want UTC", ev.Time.Location())
			}
			want := tt.want.UTC().Format("2006-01-02T15:04:05.000Z")
			if got := string(ev.AppendTime(nil)); got != want {
				t.Errorf("AppendTime = %s, want %s", got, want)
			}
		})
	}
}

// TestTimeOutOfRange: a timestamp the provider sends must still give an RFC 3339 "time"
// (CloudEvents requires it, and sdk-go refuses the event otherwise).
func TestTimeOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		p    *Provider
		body string
	}{
		{"netease timestamp 10^17 ms (year 3170843)", &NetEaseNERTC, `{"eventType":4,"data":{"channelId":1,"timestamp":99999999999999999}}`},
		{"netease negative timestamp (year -1199)", &NetEaseNERTC, `{"eventType":4,"data":{"channelId":1,"timestamp":-99999999999999}}`},
		{"anyrtc payload.time 18 digits", &AnyRTC, `{"noticeId":"n","productId":2,"eventType":1,"payload":{"stream":"s","time":999999999999999999}}`},
		{"tencent event_time -99999999999 s", &TencentCSS, `{"event_type":1,"stream_id":"s","event_time":-99999999999}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, tt.p, []byte(tt.body), nil)
			var out struct {
				Time string `json:"time"`
			}
			if err := json.Unmarshal(ev.AppendStructured(nil), &out); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339Nano, out.Time); err != nil {
				t.Errorf("an out-of-range provider timestamp gives \"time\":%q, which is not RFC 3339 "+
					"(year outside 0000-9999); unixTime/AppendTime accept any int64, so the CloudEvent violates "+
					"SPEC §3 and cloudevents/sdk-go cannot decode it. Expected: fall back to receipt time "+
					"(or a PayloadError). Parse error: %v", out.Time, err)
			}
		})
	}
}

func TestPayloadErrors(t *testing.T) {
	tests := []struct {
		name  string
		p     *Provider
		body  string
		field string
	}{
		{"netease eventType missing", &NetEaseNERTC, `{"data":{"channelId":1}}`, "eventType"},
		{"netease eventType not an integer", &NetEaseNERTC, `{"eventType":"room","data":{}}`, "eventType"},
		{"netease eventType fractional", &NetEaseNERTC, `{"eventType":1.5,"data":{}}`, "eventType"},
		{"netease eventType null", &NetEaseNERTC, `{"eventType":null,"data":{}}`, "eventType"},
		{"netease data missing", &NetEaseNERTC, `{"eventType":1}`, "data"},
		{"netease data an array", &NetEaseNERTC, `{"eventType":1,"data":[1]}`, "data"},
		{"netease data a string", &NetEaseNERTC, `{"eventType":1,"data":"{}"}`, "data"},
		{"netease data null", &NetEaseNERTC, `{"eventType":1,"data":null}`, "data"},
		{"netease cloud player without taskId", &NetEaseNERTC, `{"eventType":503,"data":{"channelId":1}}`, "data.taskId"},
		{"netease cloud player with empty taskId", &NetEaseNERTC, `{"eventType":500,"data":{"taskId":""}}`, "data.taskId"},
		{"netease cloud player with null taskId", &NetEaseNERTC, `{"eventType":507,"data":{"taskId":null}}`, "data.taskId"},
		{"netease cloud player with object taskId", &NetEaseNERTC, `{"eventType":505,"data":{"taskId":{}}}`, "data.taskId"},

		{"anyrtc productId missing", &AnyRTC, `{"noticeId":"n","eventType":101,"payload":{}}`, "productId"},
		{"anyrtc productId not an integer", &AnyRTC, `{"noticeId":"n","productId":"rtc","eventType":101,"payload":{}}`, "productId"},
		{"anyrtc eventType missing", &AnyRTC, `{"noticeId":"n","productId":1,"payload":{}}`, "eventType"},
		{"anyrtc eventType fractional", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":1e2,"payload":{}}`, "eventType"},
		{"anyrtc payload missing", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101}`, "payload"},
		{"anyrtc payload an array", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"payload":[]}`, "payload"},
		{"anyrtc payload a string", &AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"payload":"{}"}`, "payload"},

		{"tencent event_type missing", &TencentCSS, `{"stream_id":"s","t":1,"sign":"x"}`, "event_type"},
		{"tencent event_type not an integer", &TencentCSS, `{"event_type":"push"}`, "event_type"},
	}
	for _, p := range Builtins() {
		for _, body := range []string{`[1,2]`, `not json`, `"string"`, `{"a":1`, `{"a":1}}`, `{"a":01}`, ``, `null`, "{\"a\":\"\xff\"}"} {
			tests = append(tests, struct {
				name  string
				p     *Provider
				body  string
				field string
			}{p.ID + " body " + body, p, body, ""})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := envelope(tt.p, []byte(tt.body), nil)
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Fatalf("Envelope(%s) = %v (%T), want *PayloadError", tt.body, err, err)
			}
			if _, ok := err.(*PayloadError); !ok {
				t.Errorf("error is wrapped: %T", err)
			}
			if pe.Field != tt.field {
				t.Errorf("Field %q, want %q (%v)", pe.Field, tt.field, pe)
			}
			if pe.Reason == "" {
				t.Error("empty Reason")
			}
			if tt.field != "" && !strings.HasPrefix(pe.Error(), tt.field+": ") {
				t.Errorf("Error() = %q does not name the field", pe.Error())
			}
		})
	}
}

func TestUnknownCodes(t *testing.T) {
	relay := fixture(t, "tencent-css", "314-task-start.json")
	tests := []struct {
		name      string
		p         *Provider
		body      []byte
		eventType string
		native    string
		subject   string
	}{
		{"netease 42", &NetEaseNERTC, fixture(t, "netease-nertc", "unknown-42.json"), "unknown.42", "42", "6053827519843328"},
		{"netease 42 as a string", &NetEaseNERTC, []byte(`{"eventType":"42","data":{"channelName":"c"}}`), "unknown.42", "42", "c"},
		{"netease negative", &NetEaseNERTC, []byte(`{"eventType":-1,"data":{}}`), "unknown.-1", "-1", ""},
		{"netease 508 (not cloud player)", &NetEaseNERTC, []byte(`{"eventType":508,"data":{"channelId":7}}`), "unknown.508", "508", "7"},
		{"anyrtc product 3 event 1", &AnyRTC, fixture(t, "anyrtc", "unknown-3-1.json"), "unknown.3.1", "1", "room1"},
		{"anyrtc product 1 event 999", &AnyRTC, []byte(`{"noticeId":"n","productId":1,"eventType":999,"payload":{}}`), "unknown.1.999", "999", ""},
		{"anyrtc product 12 event 34", &AnyRTC, []byte(`{"noticeId":"n","productId":12,"eventType":34,"payload":{}}`), "unknown.12.34", "34", ""},
		{"tencent 341 (fields not documented)", &TencentCSS, []byte(`{"event_type":341,"stream_id":"test_stream","appid":12345678,"event_time":1703731544}`), "unknown.341", "341", "test_stream"},
		{"tencent 314 SomethingNew", &TencentCSS, replaceOnce(t, relay, `"TaskStart"`, `"SomethingNew"`), "relay.unknown", "314", "118148"},
		{"tencent 314 without callback_event", &TencentCSS, replaceOnce(t, relay, `"callback_event":"TaskStart",`, ``), "relay.unknown", "314", "118148"},
		{"tencent 314 callback_event not a string", &TencentCSS, replaceOnce(t, relay, `"TaskStart"`, `{"a":1}`), "relay.unknown", "314", "118148"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, tt.p, tt.body, nil)
			if string(ev.EventType) != tt.eventType {
				t.Errorf("EventType %q, want %q", ev.EventType, tt.eventType)
			}
			if string(ev.Type) != tt.p.TypePrefix+tt.eventType {
				t.Errorf("Type %q, want %q", ev.Type, tt.p.TypePrefix+tt.eventType)
			}
			if string(ev.ProviderEventType) != tt.native {
				t.Errorf("ProviderEventType %q, want %q", ev.ProviderEventType, tt.native)
			}
			if string(ev.Subject) != tt.subject {
				t.Errorf("Subject %q, want %q", ev.Subject, tt.subject)
			}
			if !json.Valid(ev.AppendStructured(nil)) {
				t.Errorf("invalid output %s", ev.AppendStructured(nil))
			}
		})
	}
}

func TestTencentData(t *testing.T) {
	relay := fixture(t, "tencent-css", "314-task-start.json")
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, data map[string]any)
	}{
		{"t and sign removed", fixture(t, "tencent-css", "1-push.json"), func(t *testing.T, d map[string]any) {
			for _, k := range []string{"t", "sign"} {
				if _, ok := d[k]; ok {
					t.Errorf("data carries %q", k)
				}
			}
			if d["stream_id"] != "test_stream" {
				t.Errorf("stream_id lost: %v", d)
			}
		}},
		{"t and sign removed from a signed relay", fixture(t, "tencent-css", "314-task-start-signed.json"), func(t *testing.T, d map[string]any) {
			if _, ok := d["t"]; ok {
				t.Error("data carries t")
			}
			if _, ok := d["sign"]; ok {
				t.Error("data carries sign")
			}
		}},
		{"msg and source_urls decoded", relay, func(t *testing.T, d map[string]any) {
			msg, ok := d["msg"].(map[string]any)
			if !ok || msg["task_start_time"] != json.Number("1712893433000") {
				t.Errorf("msg = %#v, want an object", d["msg"])
			}
			urls, ok := d["source_urls"].([]any)
			if !ok || len(urls) != 1 || urls[0] != "http://vod.example.com/live/normal_230753472-upload-45eb/playlist.m3u8" {
				t.Errorf("source_urls = %#v, want an array of one URL", d["source_urls"])
			}
		}},
		{"callback_ext decoded", fixture(t, "tencent-css", "100-recording.json"), func(t *testing.T, d map[string]any) {
			ext, ok := d["callback_ext"].(map[string]any)
			if !ok || ext["video_codec"] != "h264" {
				t.Errorf("callback_ext = %#v, want an object", d["callback_ext"])
			}
		}},
		{"doubly-escaped msg decoded", []byte(`{"event_type":314,"callback_event":"TaskStart","task_id":"1","msg":"{\\\"task_start_time\\\":0}"}`), func(t *testing.T, d map[string]any) {
			msg, ok := d["msg"].(map[string]any)
			if !ok || msg["task_start_time"] != json.Number("0") {
				t.Errorf("msg = %#v, want {task_start_time: 0}", d["msg"])
			}
		}},
		{"doubly-escaped source_urls decoded", []byte(`{"event_type":314,"callback_event":"TaskStart","task_id":"1","source_urls":"[\\\"http://a/b\\\"]\n"}`), func(t *testing.T, d map[string]any) {
			urls, ok := d["source_urls"].([]any)
			if !ok || len(urls) != 1 || urls[0] != "http://a/b" {
				t.Errorf("source_urls = %#v, want [http://a/b]", d["source_urls"])
			}
		}},
		{"msg with white space around the JSON", []byte(`{"event_type":314,"task_id":"1","msg":" \n{\"a\": [1, 2]}\n "}`), func(t *testing.T, d map[string]any) {
			msg, ok := d["msg"].(map[string]any)
			if !ok || len(msg["a"].([]any)) != 2 {
				t.Errorf("msg = %#v, want an object", d["msg"])
			}
		}},
		{"msg that is not JSON stays a string", []byte(`{"event_type":314,"task_id":"1","msg":"write packet error."}`), func(t *testing.T, d map[string]any) {
			if d["msg"] != "write packet error." {
				t.Errorf("msg = %#v", d["msg"])
			}
		}},
		{"msg with broken JSON stays a string", []byte(`{"event_type":314,"task_id":"1","msg":"{\"a\":"}`), func(t *testing.T, d map[string]any) {
			if d["msg"] != `{"a":` {
				t.Errorf("msg = %#v", d["msg"])
			}
		}},
		{"empty msg stays an empty string", []byte(`{"event_type":314,"task_id":"1","msg":""}`), func(t *testing.T, d map[string]any) {
			if d["msg"] != "" {
				t.Errorf("msg = %#v", d["msg"])
			}
		}},
		{"msg holding a JSON string is decoded to it", []byte(`{"event_type":314,"task_id":"1","msg":"\"quoted\""}`), func(t *testing.T, d map[string]any) {
			if d["msg"] != "quoted" {
				t.Errorf("msg = %#v", d["msg"])
			}
		}},
		{"msg already an object kept", []byte(`{"event_type":314,"task_id":"1","msg":{"task_exit_time":5}}`), func(t *testing.T, d map[string]any) {
			if msg, ok := d["msg"].(map[string]any); !ok || msg["task_exit_time"] != json.Number("5") {
				t.Errorf("msg = %#v", d["msg"])
			}
		}},
		{"other JSON-looking strings are not decoded", []byte(`{"event_type":1,"stream_id":"s","errmsg":"{\"a\":1}"}`), func(t *testing.T, d map[string]any) {
			if d["errmsg"] != `{"a":1}` {
				t.Errorf("errmsg = %#v, want the string kept", d["errmsg"])
			}
		}},
		{"abnormal_event object kept", []byte(`{"event_type":321,"stream_id":"s","abnormal_event":{"code":1}}`), func(t *testing.T, d map[string]any) {
			if _, ok := d["abnormal_event"].(map[string]any); !ok {
				t.Errorf("abnormal_event = %#v", d["abnormal_event"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, &TencentCSS, tt.body, nil)
			tt.check(t, decodeData(t, ev.Data))
			out := ev.AppendStructured(nil)
			if !json.Valid(out) {
				t.Fatalf("invalid output %s", out)
			}
			if bytes.Contains(out, []byte(`"sign"`)) || bytes.Contains(out, []byte(`"t":`)) {
				t.Errorf("signature material in the event: %s", out)
			}
		})
	}

	// None of the signed fixtures lets its sign value through.
	for _, f := range allFixtures(t) {
		if f.p != &TencentCSS {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(f.body, &m); err != nil {
			t.Fatal(err)
		}
		sign, _ := m["sign"].(string)
		if sign == "" {
			continue
		}
		ev := mustEnvelope(t, &TencentCSS, f.body, nil)
		if bytes.Contains(ev.AppendStructured(nil), []byte(sign)) {
			t.Errorf("%s: sign %s reached the event", f.name, sign)
		}
	}
}

// TestTencentEscapedKeys: data must hold the provider's keys as sent. Keys are copied with
// appendString from the raw (still escaped) bytes, so an escape in a key is escaped again.
func TestTencentEscapedKeys(t *testing.T) {
	tests := []struct {
		name string
		body string
		key  string // decoded key expected in data
	}{
		{"plain key", `{"event_type":1,"stream_id":"s","plain":1}`, "plain"},
		{"raw UTF-8 key", `{"event_type":1,"stream_id":"s","流":1}`, "流"},
		{"escaped quote in key", `{"event_type":1,"stream_id":"s","a\"b":1}`, `a"b`},
		{"unicode escape in key", `{"event_type":1,"stream_id":"s","caf\u00e9":1}`, "café"},
		{"escaped solidus in key", `{"event_type":1,"stream_id":"s","a\/b":1}`, "a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, &TencentCSS, []byte(tt.body), nil)
			d := decodeData(t, ev.Data)
			if _, ok := d[tt.key]; !ok {
				keys := make([]string, 0, len(d))
				for k := range d {
					keys = append(keys, k)
				}
				t.Errorf("tencentNormalize writes each key with appendString(d, m.key), but m.key is the raw "+
					"JSON key with its escapes still in it, so they are escaped a second time: body %s gives data %s, "+
					"whose keys decode to %q instead of %q. Copy the raw key with its quotes instead "+
					"(and compare t/sign on decoded keys).", tt.body, ev.Data, keys, tt.key)
			}
		})
	}
}

func TestTraceContext(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const ts = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
	tests := []struct {
		name          string
		header        HeaderMap
		wantParent    string
		wantState     string
		wantInPayload bool
	}{
		{"traceparent and tracestate", HeaderMap{"traceparent": tp, "tracestate": ts}, tp, ts, true},
		{"header names in another case", HeaderMap{"Traceparent": tp, "TraceState": ts}, tp, ts, true},
		{"traceparent only", HeaderMap{"traceparent": tp}, tp, "", true},
		{"tracestate without traceparent is dropped", HeaderMap{"tracestate": ts}, "", "", false},
		{"none", HeaderMap{}, "", "", false},
	}
	for _, p := range Builtins() {
		body := p.Sample
		for _, tt := range tests {
			t.Run(p.ID+"/"+tt.name, func(t *testing.T) {
				ev := mustEnvelope(t, p, body, tt.header)
				if string(ev.TraceParent) != tt.wantParent || string(ev.TraceState) != tt.wantState {
					t.Errorf("TraceParent %q TraceState %q, want %q %q", ev.TraceParent, ev.TraceState, tt.wantParent, tt.wantState)
				}
				var out map[string]any
				if err := json.Unmarshal(ev.AppendStructured(nil), &out); err != nil {
					t.Fatal(err)
				}
				if got, _ := out["traceparent"].(string); got != tt.wantParent {
					t.Errorf("structured traceparent %q, want %q", got, tt.wantParent)
				}
				if got, _ := out["tracestate"].(string); got != tt.wantState {
					t.Errorf("structured tracestate %q, want %q", got, tt.wantState)
				}
				_, has := out["traceparent"]
				if has != tt.wantInPayload {
					t.Errorf("traceparent attribute present = %v, want %v", has, tt.wantInPayload)
				}
			})
		}
	}
}

func TestIsProbe(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"", true},
		{"   ", true},
		{"\r\n\t", true},
		{"{}", true},
		{" { } ", true},
		{"\n{\n}\n", true},
		{`{"eventType":1}`, false},
		{`{"eventType":1,"data":{}}`, false},
		{"{", false},
		{"}", false},
		{"{}{}", false},
		{"{} x", false},
		{"[]", false},
		{"null", false},
		{`""`, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			c := &Callback{Body: []byte(tt.body), Header: HeaderMap{}, Received: received}
			if got := NetEaseNERTC.IsProbe(c); got != tt.want {
				t.Errorf("NetEase IsProbe(%q) = %v, want %v", tt.body, got, tt.want)
			}
			for _, p := range []*Provider{&AnyRTC, &TencentCSS} {
				if p.IsProbe(&Callback{Body: []byte(tt.body), Header: HeaderMap{}}) {
					t.Errorf("%s IsProbe(%q) = true: it has no URL check", p.ID, tt.body)
				}
			}
		})
	}
}

// structured is the CloudEvent as decoded by encoding/json.
type structured struct {
	SpecVersion       string          `json:"specversion"`
	ID                string          `json:"id"`
	Source            string          `json:"source"`
	Type              string          `json:"type"`
	Subject           *string         `json:"subject"`
	Time              string          `json:"time"`
	DataContentType   string          `json:"datacontenttype"`
	Provider          string          `json:"provider"`
	ProviderEventType string          `json:"providereventtype"`
	TraceParent       string          `json:"traceparent"`
	TraceState        string          `json:"tracestate"`
	Verified          *string         `json:"verified"`
	Data              json.RawMessage `json:"data"`
}

func decodeStructured(t *testing.T, ev *Event) structured {
	t.Helper()
	out := ev.AppendStructured(nil)
	if !json.Valid(out) {
		t.Fatalf("structured event is not valid JSON: %s", out)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var s structured
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return s
}

// TestStructuredEveryFixture decodes the structured CloudEvent of every fixture with
// encoding/json and compares it with the Event's fields.
func TestStructuredEveryFixture(t *testing.T) {
	for _, f := range allFixtures(t) {
		t.Run(f.p.ID+"/"+f.name, func(t *testing.T) {
			h := HeaderMap{"AppKey": "a1b2c3d4e5f6", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "k=v"}
			if f.p.IsProbe(&Callback{Body: f.body, Header: h}) {
				return
			}
			ev := mustEnvelope(t, f.p, f.body, h)
			s := decodeStructured(t, ev)
			if !json.Valid(ev.Data) {
				t.Errorf("Data is not valid JSON: %s", ev.Data)
			}
			if !bytes.Equal(s.Data, ev.Data) {
				t.Errorf("data %s, Event.Data %s", s.Data, ev.Data)
			}
			if s.SpecVersion != "1.0" || s.DataContentType != "application/json" {
				t.Errorf("specversion %q datacontenttype %q", s.SpecVersion, s.DataContentType)
			}
			if s.ID != string(ev.ID) || s.ID == "" {
				t.Errorf("id %q, Event.ID %q", s.ID, ev.ID)
			}
			if s.Source != string(ev.Source) || !strings.HasPrefix(s.Source, "/callbridge/"+f.p.ID) {
				t.Errorf("source %q, Event.Source %q", s.Source, ev.Source)
			}
			if s.Type != string(ev.Type) || !strings.HasPrefix(s.Type, f.p.TypePrefix) || s.Type != f.p.TypePrefix+string(ev.EventType) {
				t.Errorf("type %q, Event.Type %q EventType %q", s.Type, ev.Type, ev.EventType)
			}
			if (s.Subject == nil) != (len(ev.Subject) == 0) || (s.Subject != nil && *s.Subject != string(ev.Subject)) {
				t.Errorf("subject %v, Event.Subject %q", s.Subject, ev.Subject)
			}
			tm, err := time.Parse(time.RFC3339Nano, s.Time)
			if err != nil || !tm.Equal(ev.Time.Truncate(time.Millisecond)) {
				t.Errorf("time %q (%v), Event.Time %s", s.Time, err, ev.Time)
			}
			if s.Provider != f.p.ID || s.ProviderEventType != string(ev.ProviderEventType) {
				t.Errorf("provider %q providereventtype %q", s.Provider, s.ProviderEventType)
			}
			if s.TraceParent != h["traceparent"] || s.TraceState != "k=v" {
				t.Errorf("traceparent %q tracestate %q", s.TraceParent, s.TraceState)
			}
			if s.Verified != nil {
				t.Errorf("verified = %v on an event Envelope did not mark", *s.Verified)
			}
			for _, word := range []string{"CheckSum", "Ar-Signature", `"sign"`} {
				if bytes.Contains(ev.AppendStructured(nil), []byte(word)) {
					t.Errorf("signature material %s in the event", word)
				}
			}
		})
	}
}

// TestStructuredEscaping builds events whose fields hold quotes, control characters, line
// separators, non-ASCII and invalid UTF-8, and checks the structured output decodes back.
func TestStructuredEscaping(t *testing.T) {
	const nasty = "a\"b\\c\nd\re\tf\x00\x01\x1f\x7f é 中文 😀 \u2028\u2029 </script>&"
	tests := []struct {
		name     string
		p        *Provider
		body     string
		header   HeaderMap
		subject  string
		id       string // empty: not checked
		source   string // empty: not checked
		parent   string // empty: not checked
		wantJSON bool
	}{
		{name: "anyrtc channelName with escapes", p: &AnyRTC,
			body:    `{"noticeId":"id \"1\"\n","productId":1,"eventType":101,"payload":{"channelName":"a\"b\\c\nd\re\tf\u0000\u0001\u001f` + "\x7f" + ` \u00e9 中文 \ud83d\ude00 \u2028\u2029 </script>&"}}`,
			subject: nasty},
		{name: "netease taskId with escapes, AppKey with a quote", p: &NetEaseNERTC,
			body:    `{"eventType":503,"data":{"taskId":"a\"b\\c\nd\re\tf\u0000\u0001\u001f` + "\x7f" + ` é 中文 😀 ` + "\u2028\u2029" + ` <\/script>&"}}`,
			header:  HeaderMap{"AppKey": "app\"key\n"},
			subject: nasty, source: "/callbridge/netease-nertc/app\"key\n"},
		{name: "tencent stream_id with escapes, traceparent with a quote", p: &TencentCSS,
			body:    `{"event_type":1,"appid":"app/\"x\"","stream_id":"a\"b\\c\nd\re\tf\u0000\u0001\u001f\u007f \u00e9 \u4e2d\u6587 \ud83d\ude00 \u2028\u2029 </script>&"}`,
			header:  HeaderMap{"traceparent": "00-\"x\"\n"},
			subject: nasty, source: "/callbridge/tencent-css/app/\"x\"", parent: "00-\"x\"\n"},
		{name: "netease channelName with a lone surrogate escape", p: &NetEaseNERTC,
			body:    `{"eventType":4,"data":{"channelName":"x\ud800y"}}`,
			subject: "x\uFFFDy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mustEnvelope(t, tt.p, []byte(tt.body), tt.header)
			if string(ev.Subject) != tt.subject {
				t.Errorf("Event.Subject %q, want %q", ev.Subject, tt.subject)
			}
			s := decodeStructured(t, ev)
			if s.Subject == nil || *s.Subject != tt.subject {
				t.Errorf("subject %q, want %q\n%s", derefString(s.Subject), tt.subject, ev.AppendStructured(nil))
			}
			if tt.id != "" && s.ID != tt.id {
				t.Errorf("id %q, want %q", s.ID, tt.id)
			}
			if tt.source != "" && s.Source != tt.source {
				t.Errorf("source %q, want %q", s.Source, tt.source)
			}
			if tt.parent != "" && s.TraceParent != tt.parent {
				t.Errorf("traceparent %q, want %q", s.TraceParent, tt.parent)
			}
		})
	}

	// Fields set directly, including invalid UTF-8, which must come out as U+FFFD.
	ev := Event{
		ID:                []byte("id\xff"),
		Source:            []byte("/callbridge/x"),
		Type:              []byte("t\u2028"),
		Subject:           []byte("s\"\xc0\xafe"),
		Time:              received,
		Provider:          "anyrtc",
		ProviderEventType: []byte("1\n"),
		TraceParent:       []byte("p"),
		TraceState:        []byte("s\\"),
		Unverified:        true,
		Data:              []byte(`{"a":"\u0000"}`),
	}
	s := decodeStructured(t, &ev)
	if s.ID != "id\uFFFD" || s.Type != "t\u2028" || *s.Subject != "s\"\uFFFD\uFFFDe" || s.ProviderEventType != "1\n" || s.TraceState != "s\\" {
		t.Errorf("decoded %+v", s)
	}
	if s.Verified == nil || *s.Verified != "false" {
		t.Errorf("verified = %v, want the string false", derefString(s.Verified))
	}
	if s.Time != "2026-11-23T12:00:00.000Z" {
		t.Errorf("time %q", s.Time)
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return *s
}

// TestEventReuse normalises every fixture into one Event and one Callback, Reset between uses
// as the pools do, and compares each result with a fresh Event.
func TestEventReuse(t *testing.T) {
	fixtures := allFixtures(t)
	var ev Event
	var c Callback
	h := HeaderMap{"AppKey": "app", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	for round := range 2 {
		for _, f := range fixtures {
			if f.p.IsProbe(&Callback{Body: f.body}) {
				continue
			}
			fresh := mustEnvelope(t, f.p, f.body, h)
			want := fresh.AppendStructured(nil)

			c.Reset()
			ev.Reset()
			c.Body, c.Header, c.Received = f.body, h, received
			if err := f.p.Envelope(&c, &ev); err != nil {
				t.Fatalf("round %d %s/%s: %v", round, f.p.ID, f.name, err)
			}
			if got := ev.AppendStructured(nil); !bytes.Equal(got, want) {
				t.Errorf("round %d %s/%s: reused Event differs\n got: %s\nwant: %s", round, f.p.ID, f.name, got, want)
			}
		}
	}
}

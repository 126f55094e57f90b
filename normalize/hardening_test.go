package normalize

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// An unverified event never takes the id its sender chose (SPEC §3): a forged callback carrying
// a genuine one's noticeId must not occupy that id's deduplication slot.
func TestUnverifiedIDIsNotSenderChosen(t *testing.T) {
	secret := []byte(anyrtcSecret)
	auth := &Auth{Secret: secret, MaxSkew: time.Hour}
	now := time.UnixMilli(anyrtcMs)
	run := func(body []byte, header HeaderMap) *Event {
		t.Helper()
		var ev Event
		c := &Callback{Body: body, Header: header, Received: now}
		if _, err := AnyRTC.Run(c, auth, false, &ev); err != nil {
			t.Fatal(err)
		}
		return &ev
	}
	genuine := []byte(anyrtcBody)
	signed := run(genuine, HeaderMap{"Ar-Signature": anyrtcSign(genuine, anyrtcSecret, false)})
	if signed.Unverified || string(signed.ID) != "4eb720f0-8da7-11e9-a43e-53f411c2761f" {
		t.Fatalf("signed callback: id %s unverified %v, want its noticeId", signed.ID, signed.Unverified)
	}
	forged := run(genuine, HeaderMap{})
	if !forged.Unverified || string(forged.ID) == string(signed.ID) {
		t.Fatalf("forged callback took id %s (unverified %v)", forged.ID, forged.Unverified)
	}
	// A retry of the same unverified callback (notifyMs changes) keeps its id.
	retry, err := setMembers(genuine, member{key: []byte("notifyMs"), val: []byte("1560408599999")})
	if err != nil {
		t.Fatal(err)
	}
	if got := run(retry, HeaderMap{}); string(got.ID) != string(forged.ID) {
		t.Errorf("retry of an unverified callback: id %s, first %s", got.ID, forged.ID)
	}
	// Different content under the same noticeId: a different id.
	other := []byte(strings.Replace(anyrtcBody, `"a":"1"`, `"a":"2"`, 1))
	if got := run(other, HeaderMap{}); string(got.ID) == string(forged.ID) {
		t.Errorf("two different unverified bodies share id %s", got.ID)
	}
}

// Provider ids that NATS headers would alter, or that are too long for one, are hashed; each
// distinct id keeps a distinct event id.
func TestProviderIDs(t *testing.T) {
	long := strings.Repeat("n", maxPlainID+1)
	tests := []struct {
		noticeID string
		kept     bool
	}{
		{"2000001428:4331:103", true},
		{strings.Repeat("n", maxPlainID), true},
		{long, false},
		{"x b", false},
		{"x\nb", false},
		{" x b ", false},
		{"x\rb", false},
		{"x\tb", false},
		{"é", false},
		{"x~b\u007f", false},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		body := `{"noticeId":` + string(appendString(nil, []byte(tt.noticeID))) + `,"productId":1,"eventType":101,"notifyMs":1,"payload":{"channelName":"c"}}`
		ev := mustEnvelope(t, &AnyRTC, []byte(body), nil)
		if kept := string(ev.ID) == tt.noticeID; kept != tt.kept {
			t.Errorf("noticeId %q: id %q, kept %v, want %v", tt.noticeID, ev.ID, kept, tt.kept)
		}
		if !plainID(ev.ID) {
			t.Errorf("noticeId %q: id %q is not plain", tt.noticeID, ev.ID)
		}
		if prev, ok := seen[string(ev.ID)]; ok {
			t.Errorf("noticeIds %q and %q share id %s", prev, tt.noticeID, ev.ID)
		}
		seen[string(ev.ID)] = tt.noticeID
	}
}

// Member names are read decoded, as every JSON consumer reads them, and a name that appears
// twice is refused: we would read the first, most consumers the last.
func TestMemberNames(t *testing.T) {
	key := []byte(tencentKey)
	signedAt := time.Unix(tencentT-60, 0)
	tencent := func(members string) []byte {
		return []byte(`{"event_type":1,"stream_id":"s1",` + members + `}`)
	}
	tests := []struct {
		name       string
		p          *Provider
		body       []byte
		header     HeaderMap
		auth       Auth
		tokenRoute bool
		wantAuth   string // an *AuthError containing this
		wantField  string // a *PayloadError naming this field
		check      func(t *testing.T, ev *Event)
	}{
		{name: "tencent escaped t and sign are verified and removed", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"\u0074":%d,"\u0073ign":"%s"`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")},
			check: func(t *testing.T, ev *Event) {
				if ev.Unverified || strings.Contains(string(ev.Data), "sign") || strings.Contains(string(ev.Data), `\u0074`) {
					t.Errorf("unverified %v, data %s", ev.Unverified, ev.Data)
				}
			}},
		{name: "tencent t hashed as sent, not re-rendered", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"t":"%d","sign":"%s"`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")}},
		{name: "tencent t with a leading zero is not the t that was signed", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"t":"0%d","sign":"%s"`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")},
			wantAuth: "sign does not match"},
		{name: "tencent duplicate t", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"t":%d,"sign":"%s","t":99`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")},
			wantAuth: "appears twice"},
		{name: "tencent duplicate t through an escape", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"t":%d,"sign":"%s","\u0074":99`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")},
			wantAuth: "appears twice"},
		{name: "tencent duplicate stream_id", p: &TencentCSS,
			body: tencent(fmt.Sprintf(`"t":%d,"sign":"%s","stream_id":"s2"`, tencentT, tencentSign)), auth: Auth{Secret: key, Options: withOptions(t, &TencentCSS, "EXPIRY_GRACE", "1m")},
			wantField: "stream_id"},
		{name: "tencent not JSON, no token", p: &TencentCSS, body: []byte(`{"t":`), auth: Auth{Secret: key},
			wantAuth: "not a JSON object"},
		{name: "tencent not JSON on the token route", p: &TencentCSS, body: []byte(`{"t":`), tokenRoute: true,
			wantField: ""},
		{name: "anyrtc duplicate eventType, signed", p: &AnyRTC,
			body:   []byte(`{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1560408533119,"payload":{},"eventType":102}`),
			header: HeaderMap{"Ar-Signature": anyrtcSign([]byte(`{"noticeId":"n","productId":1,"eventType":101,"notifyMs":1560408533119,"payload":{},"eventType":102}`), anyrtcSecret, false)},
			auth:   Auth{Secret: []byte(anyrtcSecret), MaxSkew: time.Hour}, wantField: "eventType"},
		{name: "netease duplicate data", p: &NetEaseNERTC, body: []byte(`{"eventType":503,"data":{"taskId":"a"},"data":{"taskId":"b"}}`),
			auth: Auth{AllowUnsigned: true}, wantField: "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = HeaderMap{}
			}
			c := &Callback{Body: tt.body, Header: header, Received: signedAt, TokenRoute: tt.tokenRoute}
			var ev Event
			_, err := tt.p.Run(c, &tt.auth, true, &ev)
			var ae *AuthError
			var pe *PayloadError
			switch {
			case tt.wantAuth != "":
				if !errors.As(err, &ae) || !strings.Contains(ae.Reason, tt.wantAuth) {
					t.Fatalf("err = %v, want an AuthError with %q", err, tt.wantAuth)
				}
			case tt.wantField != "" || (tt.check == nil && err != nil):
				if !errors.As(err, &pe) || !strings.Contains(pe.Field, tt.wantField) {
					t.Fatalf("err = %v, want a PayloadError on %q", err, tt.wantField)
				}
			case err != nil:
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, &ev)
			}
		})
	}
}

// A timestamp of 0 means "no time" to the providers that send it, not 1970: the receipt time
// stands in.
func TestZeroTimestamp(t *testing.T) {
	tests := []struct {
		p    *Provider
		body string
	}{
		{&NetEaseNERTC, `{"eventType":503,"data":{"taskId":"t","timestamp":0}}`},
		{&NetEaseNERTC, `{"eventType":2,"data":{"channelId":1,"createtime":0}}`},
		{&AnyRTC, `{"noticeId":"n","productId":1,"eventType":101,"notifyMs":0,"payload":{"channelName":"c","ts":0}}`},
		{&AnyRTC, `{"noticeId":"n","productId":2,"eventType":1,"notifyMs":0,"payload":{"stream":"s","time":0}}`},
		{&TencentCSS, `{"event_type":1,"stream_id":"s","event_time":0}`},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, tt.p, []byte(tt.body), nil)
		if !ev.Time.Equal(received) {
			t.Errorf("%s %s: time %s, want the receipt time %s", tt.p.ID, tt.body, ev.Time, received)
		}
	}
}

// Error messages quote at most a bounded, printable excerpt of a payload value: they reach the
// 400 reply, the log and a dead letter's header.
func TestPayloadErrorsAreBounded(t *testing.T) {
	huge := strings.Repeat("x", 100000) + "\r\n\x00"
	bodies := []struct {
		p    *Provider
		body string
	}{
		{&NetEaseNERTC, `{"eventType":"` + huge + `","data":{}}`},
		{&NetEaseNERTC, `{"eventType":503,"data":{},"` + huge + `":1,"` + huge + `":2}`},
	}
	for _, b := range bodies {
		var ev Event
		err := b.p.Envelope(&Callback{Body: []byte(b.body), Header: HeaderMap{}, Received: received}, &ev)
		if err == nil {
			t.Fatalf("%s: no error", b.p.ID)
		}
		if msg := err.Error(); len(msg) > 4*maxExcerpt+100 || strings.ContainsAny(msg, "\r\n\x00") {
			t.Errorf("%s: error of %d bytes, or with control characters: %.200q", b.p.ID, len(msg), msg)
		}
	}
}

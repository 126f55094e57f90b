package normalize

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The SDK's own vectors (qiniu/go-sdk auth/credentials_test.go; PROTOCOLS-WAVE3-CHINA.md §8
// vectors 4 to 6), AK "ak", SK "sk": the v2 signing string built from the request, and the
// token over it; vector 6 is a v1 signing string, given as it is (only the token is ours).
func TestQiniuSigningStringVectors(t *testing.T) {
	w := &qiniuWork{}
	w.add([]byte("x-qiniu-bbb"), nil) // the SDK test's headers, lower-cased and out of order here
	w.add([]byte("Content-Length"), []byte("21"))
	w.add([]byte("X-Qiniu-Aaa"), nil)
	tests := []struct {
		name           string
		target         qiniuTarget
		ct             string
		hdrs           [][2][]byte
		body           string
		wantString     string
		wantSignature  string
		signStringOnly bool
	}{
		{name: "4: POST JSON", target: qiniuTarget{method: []byte("POST")}, ct: qiniuJSON, body: `{"name": "test"}`,
			wantString: "POST \nHost: \nContent-Type: application/json\n\n{\"name\": \"test\"}", wantSignature: "0ujEjW_vLRZxebsveBgqa3JyQ-w="},
		{name: "4: GET JSON", target: qiniuTarget{method: []byte("GET")}, ct: qiniuJSON, body: `{"name": "test"}`,
			wantString: "GET \nHost: \nContent-Type: application/json\n\n{\"name\": \"test\"}", wantSignature: "K1DI0goT05yhGizDFE5FiPJxAj4="},
		{name: "5: form, X-Qiniu headers", target: qiniuTarget{method: []byte("GET"), host: []byte("upload.qiniup.com")}, ct: qiniuForm, hdrs: w.hdrs[:w.n], body: "name=test&language=go",
			wantString: "GET \nHost: upload.qiniup.com\nContent-Type: application/x-www-form-urlencoded\nX-Qiniu-Aaa: \nX-Qiniu-Bbb: \n\nname=test&language=go", wantSignature: "PSssnOFa3sUvpEjTfACJ9WWKBS4="},
		{name: "6: v1", wantString: "\nname=test&language=go", wantSignature: "h8gBb1Adb2Jgoys1N8sRVAnNvpw=", signStringOnly: true},
	}
	for _, tt := range tests {
		msg := []byte(tt.wantString)
		if !tt.signStringOnly {
			msg = appendQiniuSigningString(nil, &tt.target, []byte(tt.ct), tt.hdrs, []byte(tt.body))
			if string(msg) != tt.wantString {
				t.Errorf("%s: signing string\n%q\nwant\n%q", tt.name, msg, tt.wantString)
			}
		}
		if got := qiniuSign([]byte("sk"), msg); string(got[:]) != tt.wantSignature {
			t.Errorf("%s: token ak:%s, want ak:%s", tt.name, got, tt.wantSignature)
		}
	}
	// The body only for exactly form or JSON; the SDK's default type; the path decoded, the
	// query as sent.
	target := qiniuTarget{method: []byte("POST"), host: []byte("h"), path: []byte("/a%20b"), query: []byte("x=%2F")}
	if got := appendQiniuSigningString(nil, &target, []byte("application/json; charset=utf-8"), nil, []byte("{}")); string(got) != "POST /a b?x=%2F\nHost: h\nContent-Type: application/json; charset=utf-8\n\n" {
		t.Errorf("charset: %q", got)
	}
	if got := appendQiniuSigningString(nil, &target, nil, nil, []byte("a=1")); !bytes.HasSuffix(got, []byte("Content-Type: application/x-www-form-urlencoded\n\na=1")) {
		t.Errorf("no type: %q", got)
	}
}

// qiniuAuth is vector 7's key pair (invented), with callback URL u (empty: none).
func qiniuAuth(t testing.TB, u string) *Auth {
	return &Auth{Secret: []byte("callbridgeSK"), MaxSkew: 5 * time.Minute,
		Options: withOptions(t, &QiniuPili, "ACCESS_KEY", "callbridgeAK", "CALLBACK_URL", u)}
}

// qiniuRequest is a callback as ingest reads it.
func qiniuRequest(method, uri, body string, h HeaderMap) *Callback {
	return &Callback{Body: []byte(body), Header: h, Received: time.Unix(1700000000, 0), Method: []byte(method), URI: []byte(uri)}
}

const (
	qiniuVector7Body = "extra=foo&ip=22.73.202.226&status=connected&title=stream1"
	qiniuVector7Auth = "Qiniu callbridgeAK:2plKV1HFRB-nBv-0GH90DbiYidA="
	qiniuJSONBody    = `{"title":"stream1","status":"disconnected","ts":"1700000000"}`
	qiniuJSONAuth    = "Qiniu callbridgeAK:imyKYzxXr0JXah6xOQSC7Na7YAU="
)

func qiniuVector7() *Callback {
	return qiniuRequest("POST", "/callback", qiniuVector7Body, HeaderMap{"Host": "foo.com", "Content-Type": qiniuForm, "Authorization": qiniuVector7Auth})
}

// Vector 7 (the Pili page's sample request, signed with an invented pair) and §5g's JSON
// example, end to end: verified as received, normalised, and made again by SignFor.
func TestQiniuPiliVector7(t *testing.T) {
	v, err := QiniuPili.Verify(qiniuVector7(), qiniuAuth(t, ""))
	checkVerify(t, v, err, Signed, "")
	ev := new(Event)
	if err := QiniuPili.Envelope(qiniuVector7(), ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.Type) != "com.qiniu.pili.stream.connected" || string(ev.Subject) != "stream1" ||
		string(ev.Data) != `{"extra":"foo","ip":"22.73.202.226","status":"connected","title":"stream1"}` {
		t.Errorf("type %s subject %s data %s", ev.Type, ev.Subject, ev.Data)
	}
	jsonReq := qiniuRequest("POST", "/pili/cb", qiniuJSONBody, HeaderMap{"Host": "cb.example.com", "Content-Type": qiniuJSON, "Authorization": qiniuJSONAuth})
	v, err = QiniuPili.Verify(jsonReq, qiniuAuth(t, ""))
	checkVerify(t, v, err, Signed, "")

	now := time.Unix(1700000000, 0)
	for _, tt := range []struct{ url, body, auth string }{
		{"http://foo.com/callback", qiniuVector7Body, qiniuVector7Auth},
		{"https://cb.example.com/pili/cb", qiniuJSONBody, qiniuJSONAuth},
	} {
		method, out, headers, err := QiniuPili.SignFor(tt.url, []byte(tt.body), qiniuAuth(t, ""), now)
		if err != nil || method != "POST" || string(out) != tt.body || headers[len(headers)-1].Value != tt.auth {
			t.Errorf("SignFor(%s): %s %s %v %v, want Authorization %s", tt.url, method, out, headers, err, tt.auth)
		}
	}
}

func TestQiniuPiliVerifyRefuses(t *testing.T) {
	with := func(k, v string) *Callback {
		c := qiniuVector7()
		c.Header.(HeaderMap)[k] = v
		return c
	}
	tampered := qiniuVector7()
	tampered.Body = []byte(strings.Replace(qiniuVector7Body, "connected", "disconnected", 1))
	otherPath := qiniuVector7()
	otherPath.URI = []byte("/callback2")
	get := qiniuVector7()
	get.Method = []byte("GET")
	noURI := qiniuVector7()
	noURI.URI = nil
	stale := qiniuRequest("POST", "/pili/cb", qiniuJSONBody, HeaderMap{"Host": "cb.example.com", "Content-Type": qiniuJSON, "Authorization": qiniuJSONAuth})
	stale.Received = stale.Received.Add(6 * time.Minute)
	tests := []struct {
		name    string
		c       *Callback
		wantErr string
	}{
		{"no Authorization", with("Authorization", ""), "missing"},
		{"QBox (v1) token", with("Authorization", strings.Replace(qiniuVector7Auth, "Qiniu", "QBox", 1)), "missing"},
		{"no colon", with("Authorization", "Qiniu callbridgeAK"), "not"},
		{"another AccessKey", with("Authorization", strings.Replace(qiniuVector7Auth, "callbridgeAK", "someoneAK", 1)), "another AccessKey"},
		{"body changed", tampered, "does not match"},
		{"another Host", with("Host", "bar.com"), "does not match"},
		{"another path", otherPath, "does not match"},
		{"another method", get, "does not match"},
		{"a charset: the body would not be signed", with("Content-Type", qiniuForm+"; charset=utf-8"), "would not cover the body"},
		{"another type: the body would not be signed", with("Content-Type", "text/plain"), "would not cover the body"},
		{"path unknown", noURI, "path is unknown"},
		{"ts outside the skew", stale, "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := QiniuPili.Verify(tt.c, qiniuAuth(t, ""))
			checkVerify(t, v, err, Signed, tt.wantErr)
		})
	}
	v, err := QiniuPili.Verify(qiniuVector7(), &Auth{AllowUnsigned: true})
	checkVerify(t, v, err, Unsigned, "")
}

// Behind a proxy that rewrote Host and path, the configured callback URL is what is verified;
// its query, when it has none, is the request's.
func TestQiniuPiliCallbackURL(t *testing.T) {
	proxied := func(uri string) *Callback {
		return qiniuRequest("POST", uri, qiniuVector7Body, HeaderMap{"Host": "callbridge.internal:8080", "Content-Type": qiniuForm, "Authorization": qiniuVector7Auth})
	}
	v, err := QiniuPili.Verify(proxied("/v1/callbacks/qiniu-pili"), qiniuAuth(t, ""))
	checkVerify(t, v, err, Signed, "does not match")
	for _, u := range []string{"http://foo.com/callback", "https://foo.com/callback#x", "foo.com/callback"} {
		v, err = QiniuPili.Verify(proxied("/v1/callbacks/qiniu-pili"), qiniuAuth(t, u))
		checkVerify(t, v, err, Signed, "")
	}
	a := qiniuAuth(t, "http://foo.com/callback")
	_, out, headers, err := QiniuPili.SignFor("http://callbridge.internal:8080/v1/callbacks/qiniu-pili?event=connected", []byte(qiniuVector7Body), a, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := proxied("/v1/callbacks/qiniu-pili?event=connected")
	c.Header.(HeaderMap)["Authorization"] = headers[len(headers)-1].Value
	c.Body = out
	v, err = QiniuPili.Verify(c, a)
	checkVerify(t, v, err, Signed, "")
	v, err = QiniuPili.Verify(c, qiniuAuth(t, "http://foo.com/callback?event=disconnected"))
	checkVerify(t, v, err, Signed, "does not match")
}

// listedHeaders is a Headers that lists its headers, as fasthttp's does.
type listedHeaders struct{ HeaderMap }

func (h listedHeaders) VisitAll(f func(k, v []byte)) {
	for k, v := range h.HeaderMap {
		f([]byte(k), []byte(v))
	}
}

// X-Qiniu-* headers are signed, sorted by canonical name.
func TestQiniuPiliXQiniuHeaders(t *testing.T) {
	a := qiniuAuth(t, "")
	sign := func(headers []Header) string {
		h, err := signQiniuRequest("POST", "/cb", "h.example", []byte(`{"a":1}`), headers, a)
		if err != nil {
			t.Fatal(err)
		}
		return h[len(h)-1].Value
	}
	auth := sign([]Header{{"Content-Type", qiniuJSON}, {"X-Qiniu-Zz", "2"}, {"x-qiniu-date", "1"}})
	h := listedHeaders{HeaderMap{"Host": "h.example", "Content-Type": qiniuJSON, "Authorization": auth, "X-Qiniu-Date": "1", "X-Qiniu-Zz": "2", "X-Other": "x"}}
	c := &Callback{Body: []byte(`{"a":1}`), Header: h, Received: time.Now(), Method: []byte("POST"), URI: []byte("/cb")}
	v, err := QiniuPili.Verify(c, a)
	checkVerify(t, v, err, Signed, "")
	h.HeaderMap["X-Qiniu-Zz"] = "3"
	v, err = QiniuPili.Verify(c, a)
	checkVerify(t, v, err, Signed, "does not match")
	if auth == sign([]Header{{"Content-Type", qiniuJSON}}) {
		t.Error("X-Qiniu headers not signed")
	}
}

// The event: event, else status, else the callback URL's event parameter, else unknown.callback;
// the id leaves the send time out; a form is JSON of strings.
func TestQiniuPiliNormalize(t *testing.T) {
	form := HeaderMap{"Content-Type": qiniuForm}
	tests := []struct {
		name, uri, body   string
		h                 HeaderMap
		wantType, wantErr string
	}{
		{"event before status", "/cb", `{"event":"disconnected","status":"connected"}`, nil, "stream.disconnected", ""},
		{"status", "/cb?event=disconnected", `{"status":"connected"}`, nil, "stream.connected", ""},
		{"the URL's event", "/cb?x=1&event=disconnected", `{"title":"s"}`, nil, "stream.disconnected", ""},
		{"a form and the URL's event", "/cb?event=connected", "title=s&ts=1", form, "stream.connected", ""},
		{"no event", "/cb", `{"title":"s"}`, nil, "unknown.callback", ""},
		{"event an object", "/cb", `{"event":{}}`, nil, "", "event"},
		{"a malformed form", "/cb", "title=%zz", form, "", "malformed"},
		{"a form parameter twice", "/cb", "title=a&title=b", form, "", "twice"},
		{"JSON not an object", "/cb", "title=s", nil, "", "JSON"},
	}
	for _, tt := range tests {
		h := tt.h
		if h == nil {
			h = HeaderMap{}
		}
		ev := new(Event)
		err := QiniuPili.Envelope(qiniuRequest("POST", tt.uri, tt.body, h), ev)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.wantErr)
			}
		case err != nil || string(ev.EventType) != tt.wantType:
			t.Errorf("%s: %s %v, want %s", tt.name, ev.EventType, err, tt.wantType)
		}
	}
	first := mustEnvelope(t, &QiniuPili, []byte(`{"title":"s","status":"connected","startTime":"1700000000","ts":"1700000001"}`), nil)
	retry := mustEnvelope(t, &QiniuPili, []byte(`{"title":"s","status":"connected","startTime":"1700000000","ts":"1700000031"}`), nil)
	next := mustEnvelope(t, &QiniuPili, []byte(`{"title":"s","status":"connected","startTime":"1700000900","ts":"1700000901"}`), nil)
	if !bytes.Equal(first.ID, retry.ID) || bytes.Equal(first.ID, next.ID) || bytes.Contains(first.Data, []byte("ts")) {
		t.Errorf("ids %s, retry %s, next push %s; data %s", first.ID, retry.ID, next.ID, first.Data)
	}
}

// Sign stamps ts/timestamp, in a form and in JSON, keeping a string a string.
func TestQiniuPiliSign(t *testing.T) {
	now := time.Unix(1700000042, 0)
	for body, want := range map[string]string{
		`{"ts":"1","timestamp":1,"title":"s"}`: `{"ts":"1700000042","timestamp":1700000042,"title":"s"}`,
		"title=s&ts=1&timestamp=2&x=ts":        "title=s&ts=1700000042&timestamp=1700000042&x=ts",
	} {
		out, _, err := QiniuPili.Sign([]byte(body), qiniuAuth(t, ""), now)
		if err != nil || string(out) != want {
			t.Errorf("Sign(%s) = %s %v, want %s", body, out, err, want)
		}
	}
	if _, _, err := QiniuPili.Sign([]byte(`{"a":`), qiniuAuth(t, ""), now); err == nil {
		t.Error("Sign accepted broken JSON")
	}
}

// A form callback costs no allocation either (BenchmarkCallback runs the JSON sample).
func TestQiniuPiliFormAllocs(t *testing.T) {
	a := qiniuAuth(t, "")
	h := byteHeaders{}
	h.set("Host", "foo.com")
	h.set("Content-Type", qiniuForm)
	h.set("Authorization", qiniuVector7Auth)
	var c Callback
	var ev Event
	body, method, uri := []byte(qiniuVector7Body), []byte("POST"), []byte("/callback")
	run := func() {
		c.Reset()
		ev.Reset()
		c.Body, c.Header, c.Received, c.Method, c.URI = body, h, time.Unix(1700000000, 0), method, uri
		if _, err := QiniuPili.Run(&c, a, true, &ev); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocs per form callback", n)
	}
}

// TestQiniuDataOpen: the data is declared (not permissive) but has no members: they are the
// user's console Vars, so the schema is an open object. Data must stay a non-nil empty list.
func TestQiniuDataOpen(t *testing.T) {
	if !QiniuPili.Declared() {
		t.Fatal("qiniu-pili's data is not declared: its schema would be the permissive one")
	}
	for _, e := range QiniuPili.Events {
		if fs := QiniuPili.DataFields(e.Name); len(fs) != 0 {
			t.Errorf("%s: %d members declared; the Vars are the user's, none can be", e.Name, len(fs))
		}
	}
}

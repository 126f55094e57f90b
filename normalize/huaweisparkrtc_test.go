package normalize

import (
	"strings"
	"testing"
	"time"
)

// Vector 10 of PROTOCOLS-WAVE3-CHINA.md §8 (a self vector: key, rand and timestamp invented;
// Huawei publishes none), on the SparkRTC example body of §3g.
const (
	sparkKey   = "callbridgeSparkRtcKey0123456789abcdef"
	sparkRand  = "84215"
	sparkTS    = "1700000000"
	sparkVec10 = "17a21d8d22e77c7eeac311098bd0b0f9a59e74e5ef64496ecd70f7bfaa67376c"
	sparkBody  = `{"event_type":"RECORD_FILE_COMPLETE","app_id":"5fcdf5651xxxxxx6f835d0d4","room_id":"room01","job_id":"608196a2fa1xxxxxx515147f32ef463b","record_format":"HLS","record_duration":65}`
)

func TestSparkRTCVectors(t *testing.T) {
	if got := string(fixture(t, "huawei-sparkrtc", "record-file-complete-vector10.json")); got != sparkBody {
		t.Fatalf("fixture record-file-complete-vector10.json is not §3g's exact bytes: %q", got)
	}
	if ref := hmacHex(t, sparkKey, sparkRand+sparkTS+sparkBody, true); ref != sparkVec10 {
		t.Errorf("vector 10, reference HMAC: %s, want %s", ref, sparkVec10)
	}
	// Sign, given the vector's rand, makes the vector's signature at its time.
	headers, err := sparkSig.Sign([]byte(sparkBody), []byte(sparkKey), time.Unix(1700000000, 0), []Header{{"X-Rtc-Rand", sparkRand}})
	if err != nil {
		t.Fatal(err)
	}
	h := headerMap(&HuaweiSparkRTC, headers)
	if string(h.Peek("X-Rtc-Signature")) != sparkVec10 || string(h.Peek("X-Rtc-Timestamp")) != sparkTS {
		t.Errorf("vector 10, Sign: %v", headers)
	}
}

func TestVerifySparkRTC(t *testing.T) {
	at := time.Unix(1700000000, 0)
	auth := Auth{Secret: []byte(sparkKey), MaxSkew: 5 * time.Minute}
	h := func(rand, ts, sig string) HeaderMap {
		m := HeaderMap{}
		for k, v := range map[string]string{"X-Rtc-Rand": rand, "X-Rtc-Timestamp": ts, "X-Rtc-Signature": sig} {
			if v != "" {
				m[k] = v
			}
		}
		return m
	}
	good := h(sparkRand, sparkTS, sparkVec10)
	tsMs := "1700000000123" // the other reading of the UNCONFIRMED unit
	sigMs := hmacHex(t, sparkKey, sparkRand+tsMs+sparkBody, true)
	tests := []verifyCase{
		{name: "vector 10", body: sparkBody, header: good, received: at.Add(time.Second), auth: auth, want: Signed},
		{name: "vector 10, upper-case hex", body: sparkBody, header: h(sparkRand, sparkTS, strings.ToUpper(sparkVec10)), received: at, auth: auth, want: Signed},
		{name: "4m59s late", body: sparkBody, header: good, received: at.Add(299 * time.Second), auth: auth, want: Signed},
		{name: "timestamp in ms (13 digits)", body: sparkBody, header: h(sparkRand, tsMs, sigMs), received: at.Add(time.Second), auth: auth, want: Signed},

		{name: "6m late (replay)", body: sparkBody, header: good, received: at.Add(6 * time.Minute), auth: auth, wantErr: "signature window"},
		{name: "6m ahead", body: sparkBody, header: good, received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "ms timestamp read as ms, not s: out of the window a day later", body: sparkBody, header: h(sparkRand, tsMs, sigMs), received: at.Add(24 * time.Hour), auth: auth, wantErr: "signature window"},
		{name: "body changed", body: strings.Replace(sparkBody, "65", "66", 1), header: good, received: at, auth: auth, wantErr: "does not match"},
		{name: "rand changed", body: sparkBody, header: h("84216", sparkTS, sparkVec10), received: at, auth: auth, wantErr: "does not match"},
		{name: "timestamp changed", body: sparkBody, header: h(sparkRand, "1700000001", sparkVec10), received: at, auth: auth, wantErr: "does not match"},
		{name: "timestamp before rand", body: sparkBody, header: h(sparkRand, sparkTS, hmacHex(t, sparkKey, sparkTS+sparkRand+sparkBody, true)), received: at, auth: auth, wantErr: "does not match"},
		{name: "body alone", body: sparkBody, header: h(sparkRand, sparkTS, hmacHex(t, sparkKey, sparkBody, true)), received: at, auth: auth, wantErr: "does not match"},
		{name: "wrong key", body: sparkBody, header: good, received: at, auth: Auth{Secret: []byte("callbridgeSparkRtcKey0123456789abcdeF"), MaxSkew: time.Minute}, wantErr: "does not match"},
		{name: "signature missing", body: sparkBody, header: h(sparkRand, sparkTS, ""), received: at, auth: auth, wantErr: "X-Rtc-Signature header missing"},
		{name: "rand missing", body: sparkBody, header: h("", sparkTS, sparkVec10), received: at, auth: auth, wantErr: "X-Rtc-Rand header missing"},
		{name: "timestamp missing", body: sparkBody, header: h(sparkRand, "", sparkVec10), received: at, auth: auth, wantErr: "X-Rtc-Timestamp header missing"},
		{name: "signed timestamp that is not a time", body: sparkBody, header: h("1", "soon", hmacHex(t, sparkKey, "1soon"+sparkBody, true)), received: at, auth: auth, wantErr: "not a Unix time"},
		{name: "no key (Huawei then sends no auth headers)", body: sparkBody, received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
		{name: "no key, unsigned allowed", body: sparkBody, received: at, auth: Auth{AllowUnsigned: true}, want: Unsigned},
	}
	runVerify(t, &HuaweiSparkRTC, tests)
}

func TestSparkRTCNormalize(t *testing.T) {
	body := fixture(t, "huawei-sparkrtc", "record-file-complete.json")
	ev := mustEnvelope(t, &HuaweiSparkRTC, body, nil)
	if string(ev.Subject) != "room01" || string(ev.Source) != "/callbridge/huawei-sparkrtc/5fcdf5651xxxxxx6f835d0d4" ||
		string(ev.EventType) != "record.file.completed" || !ev.Time.Equal(time.Date(2025, 1, 1, 1, 0, 5, 0, time.UTC)) {
		t.Errorf("envelope: %s", ev.AppendStructured(nil))
	}
	if !strings.Contains(string(ev.Data), `"file_size":123456789012`) {
		t.Errorf("numbers not kept as written: %s", ev.Data)
	}
	// Rand, timestamp and signature are headers made anew on every send: not in the id.
	a := &Auth{Secret: []byte(sparkKey)}
	_, h1, err := HuaweiSparkRTC.Sign(body, a, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, h2, _ := HuaweiSparkRTC.Sign(body, a, time.Unix(1700000060, 0))
	e1 := mustEnvelope(t, &HuaweiSparkRTC, body, headerMap(&HuaweiSparkRTC, h1))
	e2 := mustEnvelope(t, &HuaweiSparkRTC, body, headerMap(&HuaweiSparkRTC, append(h2, Header{"X-Rtc-Rand", "99999"})))
	if string(e1.ID) != string(ev.ID) || string(e2.ID) != string(ev.ID) {
		t.Errorf("a resend is another event: %s %s %s", ev.ID, e1.ID, e2.ID)
	}
	if v, err := HuaweiSparkRTC.Verify(&Callback{Body: body, Header: headerMap(&HuaweiSparkRTC, h1), Received: time.Unix(1700000001, 0)}, &Auth{Secret: a.Secret, MaxSkew: time.Minute}); err != nil || v != Signed {
		t.Errorf("Sign's request does not verify: %v", err)
	}
	// Fields outside the identity (§3e) do not change it; those inside do.
	for _, same := range [][]byte{indent(t, body), replaceOnce(t, body, `"record_duration": 3605`, `"record_duration": 3606`)} {
		if o := mustEnvelope(t, &HuaweiSparkRTC, same, nil); string(o.ID) != string(ev.ID) {
			t.Errorf("%s: another id", same)
		}
	}
	for _, other := range [][]byte{
		replaceOnce(t, body, `"obs_object": "rtc/room01/20250101000000.mp4"`, `"obs_object": "rtc/room01/20250101010005.mp4"`),
		replaceOnce(t, body, `"job_id": "608196a2`, `"job_id": "708196a2`),
		replaceOnce(t, body, `"app_id": "5fcdf5651`, `"app_id": "6fcdf5651`),
		replaceOnce(t, body, `RECORD_FILE_COMPLETE`, `RECORD_NEW_FILE_START`),
		replaceOnce(t, body, `"event_type": "RECORD_FILE_COMPLETE",`, `"event_type": "RECORD_FILE_COMPLETE","task_id":"t1",`),
	} {
		if o := mustEnvelope(t, &HuaweiSparkRTC, other, nil); string(o.ID) == string(ev.ID) {
			t.Errorf("%s shares the id of the fixture", other)
		}
	}
	// No job_id nor task_id (the stream events, UNCONFIRMED): the body makes the id.
	open := fixture(t, "huawei-sparkrtc", "rtc-audio-stream-open-unconfirmed.json")
	o1 := mustEnvelope(t, &HuaweiSparkRTC, open, nil)
	if o2 := mustEnvelope(t, &HuaweiSparkRTC, replaceOnce(t, open, `"room01"`, `"room02"`), nil); string(o1.ID) == string(o2.ID) {
		t.Error("two stream events share an id")
	}
	// start_time when there is no end_time; the receipt time when there is neither.
	start := mustEnvelope(t, &HuaweiSparkRTC, fixture(t, "huawei-sparkrtc", "record-new-file-start.json"), nil)
	vec := mustEnvelope(t, &HuaweiSparkRTC, []byte(sparkBody), nil)
	if !start.Time.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || !vec.Time.Equal(received) {
		t.Errorf("times %s, %s", start.Time, vec.Time)
	}
	for _, body := range []string{`{"room_id":"r"}`, `{"event_type":""}`, `{"event_type":7}`, `{"event_type":"A","event_type":"B"}`, `"x"`} {
		if _, err := envelope(&HuaweiSparkRTC, []byte(body), nil); err == nil {
			t.Errorf("%s: no error", body)
		} else if _, ok := err.(*PayloadError); !ok {
			t.Errorf("%s: %T %v, want a *PayloadError", body, err, err)
		}
	}
}

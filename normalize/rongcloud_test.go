package normalize

import (
	"strings"
	"testing"
	"time"
)

// Vector 13 of PROTOCOLS-WAVE3-CHINA.md §8 (a self vector: Rongcloud publishes none for its
// callbacks), with the headers of example §6g.
const (
	rongSecret = "callbridgeRcSecret"
	rongNonce  = "18463"
	rongTS     = "1700000000123"
	rongSig13  = "9db5f28194bd0cf0e4abf96fc30886d95c32292d"
)

func TestRongcloudVectors(t *testing.T) {
	var got [40]byte
	rongSum(&got, []byte(rongSecret), []byte(rongNonce), []byte(rongTS))
	if string(got[:]) != rongSig13 {
		t.Errorf("vector 13: %s, want %s", got, rongSig13)
	}
	if ref := sha1Hex(rongSecret + rongNonce + rongTS); ref != rongSig13 {
		t.Errorf("vector 13, reference: %s", ref)
	}

	// Vector 14 is published and NOT reproducible: the API-signing page shows App-Key
	// uwd1c0sxdlx2, Nonce 14314, Timestamp 1408706337 and Signature 890b422b…e69c17f4 beside
	// a PHP sample whose $appSecret is Y1W2MeFwwwRxa0, but SHA-1 of that secret, nonce and
	// timestamp is e107e381…10ffe6 (and with the timestamp in ms, 1408710653491, dd11a264…).
	// The page's secret and signature do not belong together (an illustration, not a vector),
	// so it is kept here to show the formula gives what §8 computed, not what the page shows.
	const published = "890b422b75c1c5cb706e4f7921df1d94e69c17f4"
	rongSum(&got, []byte("Y1W2MeFwwwRxa0"), []byte("14314"), []byte("1408706337"))
	if string(got[:]) != "e107e3819638b81a00383951d1d871197910ffe6" {
		t.Errorf("vector 14: %s, want the value §8 computed", got)
	}
	if string(got[:]) == published {
		t.Error("vector 14 reproduces now: update the comment and PROTOCOLS-WAVE3-CHINA.md §8")
	}
}

func TestVerifyRongcloudRTC(t *testing.T) {
	body := string(fixture(t, "rongcloud-rtc", "20-resource-changed.json"))
	at := time.UnixMilli(1700000000123)
	auth := Auth{Secret: []byte(rongSecret), MaxSkew: 5 * time.Minute}
	h := func(nonce, ts, sig string) HeaderMap {
		m := HeaderMap{"appKey": "uwd1c0sxdlx2"}
		for k, v := range map[string]string{"nonce": nonce, "timestamp": ts, "signature": sig} {
			if v != "" {
				m[k] = v
			}
		}
		return m
	}
	good := h(rongNonce, rongTS, rongSig13)
	tests := []verifyCase{
		{name: "vector 13", body: body, header: good, received: at.Add(time.Second), auth: auth, want: Signed},
		{name: "upper-case hex", header: h(rongNonce, rongTS, strings.ToUpper(rongSig13)), body: body, received: at, auth: auth, want: Signed},
		{name: "another body with the same headers still verifies: the body is not signed", body: `{"event":3}`, header: good, received: at, auth: auth, want: Signed},
		{name: "4m59s late", body: body, header: good, received: at.Add(299 * time.Second), auth: auth, want: Signed},

		{name: "wrong secret", body: body, header: good, received: at, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "signature does not match"},
		{name: "nonce changed", body: body, header: h("18464", rongTS, rongSig13), received: at, auth: auth, wantErr: "signature does not match"},
		{name: "timestamp changed", body: body, header: h(rongNonce, "1700000000124", rongSig13), received: at, auth: auth, wantErr: "signature does not match"},
		{name: "nonce before the secret", body: body, header: h(rongNonce, rongTS, sha1Hex(rongNonce+rongTS+rongSecret)), received: at, auth: auth, wantErr: "signature does not match"},
		{name: "6m late (replay)", body: body, header: good, received: at.Add(6 * time.Minute), auth: auth, wantErr: "signature window"},
		{name: "6m ahead", body: body, header: good, received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "signature missing", body: body, header: h(rongNonce, rongTS, ""), received: at, auth: auth, wantErr: "signature header missing"},
		{name: "nonce missing", body: body, header: h("", rongTS, rongSig13), received: at, auth: auth, wantErr: "nonce header missing"},
		{name: "timestamp missing", body: body, header: h(rongNonce, "", rongSig13), received: at, auth: auth, wantErr: "timestamp header missing"},
		{name: "signed timestamp that is not a time", body: body, header: h("1", "soon", sha1Hex(rongSecret+"1soon")), received: at, auth: auth, wantErr: "not a millisecond timestamp"},
		{name: "no secret", body: body, header: good, received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &RongcloudRTC, tests)
}

func TestRongcloudNormalize(t *testing.T) {
	body := fixture(t, "rongcloud-rtc", "20-resource-changed.json")
	ev := mustEnvelope(t, &RongcloudRTC, body, nil)
	if string(ev.Subject) != "roomId" || string(ev.Source) != "/callbridge/rongcloud-rtc/uwd1c0sxdlx2" ||
		!ev.Time.Equal(time.UnixMilli(1586244141831)) || string(ev.EventType) != "room.resource.changed" {
		t.Errorf("envelope: %s", ev.AppendStructured(nil))
	}
	if strings.Contains(string(ev.Data), "tokenXXXX") {
		t.Errorf("data keeps the subscribe token: %s", ev.Data)
	}
	if !strings.Contains(string(ev.Data), `"uris":[{"mediaType":1,"msid":"123_abc"}]`) {
		t.Errorf("uris not decoded: %s", ev.Data)
	}
	// Headers (the signature, re-made on a resend) do not make the id; the event time does,
	// so each periodic sync is an event of its own.
	signed, headers, err := RongcloudRTC.Sign(body, &Auth{Secret: []byte("k")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again := mustEnvelope(t, &RongcloudRTC, signed, headerMap(&RongcloudRTC, headers)); string(again.ID) != string(ev.ID) {
		t.Error("signing changed the id")
	}
	for _, other := range [][]byte{
		replaceOnce(t, body, `1586244141831`, `1586244141832`),
		replaceOnce(t, body, `"userId":"123","event"`, `"userId":"124","event"`),
		replaceOnce(t, body, `"roomId"`, `"roomId2"`),
		replaceOnce(t, body, `"event":20`, `"event":20,"sessionId":"s1"`),
	} {
		if o := mustEnvelope(t, &RongcloudRTC, other, nil); string(o.ID) == string(ev.ID) {
			t.Errorf("%s shares the id of the fixture", other)
		}
	}
	// The app key comes from the header when the body has none.
	noKey := replaceOnce(t, body, `"appKey":"uwd1c0sxdlx2",`, ``)
	if o := mustEnvelope(t, &RongcloudRTC, noKey, HeaderMap{"appKey": "hdrkey"}); string(o.Source) != "/callbridge/rongcloud-rtc/hdrkey" {
		t.Errorf("source %s, want the header's app key", o.Source)
	}
	// members of other shapes are kept as they are.
	odd := mustEnvelope(t, &RongcloudRTC, []byte(`{"channelId":"r","event":1,"timestamp":1,"members":[1,{"data":"x"},{"data":{"uris":"not json"}}]}`), nil)
	if !strings.Contains(string(odd.Data), `"members":[1,{"data":"x"},{"data":{"uris":"not json"}}]`) {
		t.Errorf("odd members changed: %s", odd.Data)
	}
	for _, bad := range []string{`{"channelId":"r"}`, `{"event":{}}`, `{"event":"x"}`} {
		if _, err := envelope(&RongcloudRTC, []byte(bad), nil); err == nil || !strings.HasPrefix(err.Error(), "event: ") {
			t.Errorf("%s: %v, want a PayloadError on event", bad, err)
		}
	}
}

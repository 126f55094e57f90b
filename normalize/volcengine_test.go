package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

// PROTOCOLS-MORE.md §3b's own vector: secret callbridgeVolcSecret over example 3g, which is
// testdata/volcengine-rtc/RecordStarted.json byte for byte (no published vector reproduces).
const (
	volcSecret      = "callbridgeVolcSecret"
	volcSignature3g = "779782a0bc90e21fb082205b0f3e25a19163a12b8f791d26ba2573906e6068af"
)

// volcSign computes the documented signature of body independently of the code under test:
// decode with encoding/json, sort, join, SHA-256, hex.
func volcSign(t testing.TB, body, secret string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	nonce, ok := m["Nonce"]
	if !ok {
		nonce = m["Noce"]
	}
	vals := []string{m["EventType"], m["EventData"], m["EventTime"], m["EventId"], m["AppId"], m["Version"], nonce, secret}
	sort.Strings(vals)
	sum := sha256.Sum256([]byte(strings.Join(vals, "")))
	return hex.EncodeToString(sum[:])
}

// withSignature replaces the Signature of body by sig.
func withSignature(t testing.TB, body, sig string) string {
	t.Helper()
	out, err := replaceMember([]byte(body), "Signature", []byte(`"`+sig+`"`))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestVerifyVolcengineRTC(t *testing.T) {
	body := string(fixture(t, "volcengine-rtc", "RecordStarted.json"))
	if !strings.Contains(body, volcSignature3g) {
		t.Fatal("RecordStarted.json no longer carries the PROTOCOLS-MORE.md vector")
	}
	if got := volcSign(t, body, volcSecret); got != volcSignature3g {
		t.Fatalf("test helper disagrees with the PROTOCOLS-MORE.md vector: %s", got)
	}
	at := time.Date(2024, 5, 20, 8, 0, 0, 0, time.UTC)
	auth := Auth{Secret: []byte(volcSecret), MaxSkew: 5 * time.Minute}
	resigned := func(b string) string { return withSignature(t, b, volcSign(t, b, volcSecret)) }
	noce := resigned(strings.Replace(body, `"Nonce"`, `"Noce"`, 1))
	noNonce := resigned(strings.Replace(body, `"Nonce":"4821",`, ``, 1))
	spaced := resigned(strings.Replace(body, `"2024-05-20T08:00:00Z"`, `"2024-05-20T 08:00:00.000000000 Z"`, 1))
	escaped := resigned(strings.Replace(body, `biz1`, `b\u0069z1`, 1))
	tests := []verifyCase{
		{name: "own vector 3g", body: body, received: at.Add(time.Second), auth: auth, want: Signed},
		{name: "upper-case hex", body: withSignature(t, body, strings.ToUpper(volcSignature3g)), received: at, auth: auth, want: Signed},
		{name: "BytePlus spells it Noce", body: noce, received: at, auth: auth, want: Signed},
		{name: "no nonce at all: signed with an empty one", body: noNonce, received: at, auth: auth, want: Signed},
		{name: "BytePlus's spaced EventTime", body: spaced, received: at, auth: auth, want: Signed},
		{name: "escapes are signed decoded", body: escaped, received: at, auth: auth, want: Signed},
		{name: "9m after EventTime, default age 10m", body: body, received: at.Add(9 * time.Minute), auth: auth, want: Signed},
		{name: "an hour late with MAX_EVENT_AGE 2h", body: body, received: at.Add(time.Hour), auth: Auth{Secret: []byte(volcSecret), MaxSkew: time.Minute, Options: withOptions(t, &VolcengineRTC, "MAX_EVENT_AGE", "2h")}, want: Signed},

		{name: "wrong secret", body: body, received: at, auth: Auth{Secret: []byte("other"), MaxSkew: time.Minute}, wantErr: "Signature does not match"},
		{name: "EventData changed", body: strings.Replace(body, `biz1`, `biz2`, 1), received: at, auth: auth, wantErr: "Signature does not match"},
		{name: "values swapped between fields still verify: the scheme sorts them (a weakness of the scheme)", body: strings.Replace(strings.Replace(body, `"Nonce":"4821"`, `"Nonce":"2020-12-01"`, 1), `"Version":"2020-12-01"`, `"Version":"4821"`, 1), received: at, auth: auth, want: Signed},
		{name: "HMAC instead of the plain hash", body: withSignature(t, body, hmacHex(t, volcSecret, body, true)), received: at, auth: auth, wantErr: "Signature does not match"},
		{name: "Signature missing", body: strings.Replace(body, `"Signature":"`+volcSignature3g+`",`, ``, 1), received: at, auth: auth, wantErr: "Signature missing"},
		{name: "Signature twice", body: strings.Replace(body, `"Version"`, `"Signature":"x","Version"`, 1), received: at, auth: auth, wantErr: "Signature appears twice"},
		{name: "EventId missing", body: resigned(strings.Replace(body, `"EventId":"ev-0001",`, ``, 1)), received: at, auth: auth, wantErr: "EventId missing"},
		{name: "EventId a number", body: strings.Replace(body, `"ev-0001"`, `1`, 1), received: at, auth: auth, wantErr: "EventId is not a string"},
		{name: "Nonce twice", body: strings.Replace(body, `"Version"`, `"Nonce":"1111","Version"`, 1), received: at, auth: auth, wantErr: "Nonce appears twice"},
		{name: "11m after EventTime (replay)", body: body, received: at.Add(11 * time.Minute), auth: auth, wantErr: "signature window"},
		{name: "EventTime ahead of the clock skew", body: body, received: at.Add(-6 * time.Minute), auth: auth, wantErr: "in the future"},
		{name: "EventTime not a time", body: resigned(strings.Replace(body, `"2024-05-20T08:00:00Z"`, `"yesterday"`, 1)), received: at, auth: auth, wantErr: "not an RFC 3339 time"},
		{name: "not JSON", body: `{"Signature":`, received: at, auth: auth, wantErr: "not a JSON object"},
		{name: "no secret", body: body, received: at, auth: Auth{MaxSkew: time.Minute}, wantErr: "no secret is configured"},
	}
	runVerify(t, &VolcengineRTC, tests)
}

func TestParseRFC3339(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; empty: refused
	}{
		{`"2024-05-20T08:00:00Z"`, "2024-05-20T08:00:00Z"},
		{`"2024-05-20t08:00:00z"`, "2024-05-20T08:00:00Z"},
		{`"2024-05-20T08:00:00.5Z"`, "2024-05-20T08:00:00.5Z"},
		{`"2024-05-20T08:00:00.123456789Z"`, "2024-05-20T08:00:00.123456789Z"},
		{`"2024-05-20T08:00:00.1234567891Z"`, "2024-05-20T08:00:00.123456789Z"},
		{`"1970-07-01T 00:00:00.000000000 Z"`, "1970-07-01T00:00:00Z"},
		{`"2024-05-20T08:00:00+08:00"`, "2024-05-20T00:00:00Z"},
		{`"2024-05-20T08:00:00-01:30"`, "2024-05-20T09:30:00Z"},
		{`"2024-05-20T08:00:00"`, ""},
		{`"2024-05-20 08:00:00Z"`, ""}, // spaces are dropped, and then the T is missing
		{`"2024-02-30T08:00:00Z"`, ""},
		{`"2024-13-01T08:00:00Z"`, ""},
		{`"2024-05-20T24:00:00Z"`, ""},
		{`"2024-05-20T08:00:00.Z"`, ""},
		{`"2024-05-20T08:00:00+0800"`, ""},
		{`"2024-05-20T08:00:00+08:60"`, ""},
		{`1716192000`, ""},
		{`"1716192000"`, ""},
		{`""`, ""},
		{`"` + strings.Repeat("9", 50) + `"`, ""},
	}
	for _, tt := range tests {
		got, ok := parseRFC3339([]byte(tt.in))
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseRFC3339(%s) = %s, want refused", tt.in, got)
		case tt.want != "" && (!ok || got.UTC().Format(time.RFC3339Nano) != tt.want):
			t.Errorf("parseRFC3339(%s) = %s, %v; want %s", tt.in, got.UTC().Format(time.RFC3339Nano), ok, tt.want)
		}
	}
}

func TestVolcengineRTCNormalize(t *testing.T) {
	started := fixture(t, "volcengine-rtc", "RecordStarted.json")
	ev := mustEnvelope(t, &VolcengineRTC, started, nil)
	if string(ev.ID) != "ev-0001" || string(ev.Subject) != "task1" || string(ev.Type) != "com.volcengine.rtc.recording.started" ||
		string(ev.Source) != "/callbridge/volcengine-rtc/661e4a2f0000000000000000" || !ev.Time.Equal(time.Date(2024, 5, 20, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("envelope: %s", ev.AppendStructured(nil))
	}
	data := decodeData(t, ev.Data)
	for _, gone := range []string{"Signature", "Nonce", "EventTime"} {
		if _, ok := data[gone]; ok {
			t.Errorf("data keeps %s: %s", gone, ev.Data)
		}
	}
	if inner, ok := data["EventData"].(map[string]any); !ok || inner["Code"] != json.Number("0") {
		t.Errorf("EventData not decoded into data: %s", ev.Data)
	}
	join := mustEnvelope(t, &VolcengineRTC, fixture(t, "volcengine-rtc", "UserJoinRoom.json"), nil)
	if string(join.Subject) != "room1" {
		t.Errorf("room event subject %q, want the room", join.Subject)
	}
	// A resend with a new EventTime and Signature (as Sign makes) is the same event.
	resent, _, err := VolcengineRTC.Sign(started, &Auth{Secret: []byte("k")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again := mustEnvelope(t, &VolcengineRTC, resent, nil); string(again.ID) != string(ev.ID) || string(again.Data) != string(ev.Data) {
		t.Errorf("resend differs: %s\n%s", again.AppendStructured(nil), ev.AppendStructured(nil))
	}
	for _, tt := range []struct{ body, field string }{
		{`{"EventId":"e","EventData":"{}"}`, "EventType"},
		{`{"EventType":"","EventData":"{}"}`, "EventType"},
		{`{"EventType":"RoomDestroy"}`, "EventData"},
		{`{"EventType":"RoomDestroy","EventData":"not json"}`, "EventData"},
	} {
		_, err := envelope(&VolcengineRTC, []byte(tt.body), nil)
		if pe, ok := err.(*PayloadError); !ok || pe.Field != tt.field {
			t.Errorf("Envelope(%s) = %v, want a *PayloadError on %s", tt.body, err, tt.field)
		}
	}
}

package normalize

import (
	"testing"
	"time"
)

// PROTOCOLS-MORE.md §5e's vectors (key callbridgeCssKey) over examples 5f-1 (321), 5f-2 (332)
// and 5f-3 (317), byte for byte in testdata/tencent-css; 321 as the international page shows it
// carries no t/sign and is treated as the relay callbacks are.
func TestVerifyTencentCSSMoreEvents(t *testing.T) {
	key := Auth{Secret: []byte("callbridgeCssKey")}
	other := Auth{Secret: []byte("testkey")}
	tests := []verifyCase{
		{name: "321 (5f-1), before t", body: string(fixture(t, "tencent-css", "321-push-exception-signed.json")), received: time.Unix(1670588074, 0), auth: key, want: Signed},
		{name: "332 (5f-2), before t", body: string(fixture(t, "tencent-css", "332-record-ended.json")), received: time.Unix(1700207929, 0), auth: key, want: Signed},
		{name: "317 (5f-3), just before t", body: string(fixture(t, "tencent-css", "317-moderation-5f3.json")), received: time.Unix(1615860426, 0), auth: key, want: Signed},
		{name: "332, another key", body: string(fixture(t, "tencent-css", "332-record-ended.json")), received: time.Unix(1700207929, 0), auth: other, wantErr: "sign does not match"},
		{name: "317, t passed more than the grace ago", body: string(fixture(t, "tencent-css", "317-moderation-5f3.json")), received: time.Unix(1615860427+301, 0), auth: key, wantErr: "expired"},
		{name: "321 without t/sign, off the token route", body: string(fixture(t, "tencent-css", "321-push-exception.json")), received: received, auth: key, wantErr: "carries no t/sign"},
		{name: "321 without t/sign, on the token route", body: string(fixture(t, "tencent-css", "321-push-exception.json")), received: received, auth: key, tokenRoute: true, want: Signed},
	}
	runVerify(t, &TencentCSS, tests)
}

func TestTencentCSSMoreEvents(t *testing.T) {
	tests := []struct {
		file, typ, code, subject, at string
	}{
		{"321-push-exception-signed.json", "com.tencent.css.stream.push.abnormal", "321", "test_stream", "2022-12-09T12:14:34.971Z"},
		{"332-record-ended.json", "com.tencent.css.recording.ended", "332", "test_stream", "2023-11-17T07:58:49Z"},
		{"332-record-start-failed.json", "com.tencent.css.recording.start_failed", "332", "relay-task-1", "2023-11-17T05:47:40Z"},
		{"332-unknown-record-event.json", "com.tencent.css.recording.status.unknown", "332", "test_stream", "2023-11-17T07:59:59Z"},
		{"317-moderation-5f3.json", "com.tencent.css.moderation.image", "317", "teststream", "2021-01-14T16:00:00Z"},
	}
	for _, tt := range tests {
		ev := mustEnvelope(t, &TencentCSS, fixture(t, "tencent-css", tt.file), nil)
		at, _ := time.Parse(time.RFC3339Nano, tt.at)
		if string(ev.Type) != tt.typ || string(ev.ProviderEventType) != tt.code || string(ev.Subject) != tt.subject || !ev.Time.Equal(at) {
			t.Errorf("%s: %s", tt.file, ev.AppendStructured(nil))
		}
		data := decodeData(t, ev.Data)
		if _, ok := data["sign"]; ok {
			t.Errorf("%s: sign kept in data", tt.file)
		}
		if detail, ok := data["record_detail"]; ok {
			if _, isObject := detail.(map[string]any); !isObject {
				t.Errorf("%s: record_detail not decoded: %s", tt.file, ev.Data)
			}
		}
	}
	// Two 332 events of one session differ by seq; retries of one share the id.
	a := fixture(t, "tencent-css", "332-record-paused.json")
	b := fixture(t, "tencent-css", "332-record-resumed.json")
	if x, y := mustEnvelope(t, &TencentCSS, a, nil), mustEnvelope(t, &TencentCSS, b, nil); string(x.ID) == string(y.ID) {
		t.Error("two recording status events share an id")
	}
}

package normalize

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	p := &Provider{Credentials: []string{"stream_key", "data.token", "param", "tcUrl?", "request.url?"}}
	tests := []struct{ name, in, want string }{
		{"top level", `{"a":1,"stream_key":"sk-123","b":2}`, `{"a":1,"stream_key":"<redacted>","b":2}`},
		{"nested and twice", `{"data":{"token":"t1","x":1},"data":{"token":{"deep":"t2"}}}`, `{"data":{"token":"<redacted>","x":1},"data":{"token":"<redacted>"}}`},
		{"formatting kept", "{ \"stream_key\" : \"sk\" ,\n \"n\": 12345678901234567890 }", "{ \"stream_key\" : \"<redacted>\" ,\n \"n\": 12345678901234567890 }"},
		{"none there", `{"a":"stream_key"}`, `{"a":"stream_key"}`},
		{"not an object on the path", `{"data":"token"}`, `{"data":"token"}`},
		{"form", `action=publish&param=%3Ftoken%3Dabc&stream_key=k&x=1`, `action=publish&param=%3Credacted%3E&stream_key=%3Credacted%3E&x=1`},
		{"form, key escaped", `stream%5Fkey=k`, `stream%5Fkey=%3Credacted%3E`},
		{"query only", `{"tcUrl":"rtmp://h/live?token=a&x=1","request":{"url":"ws://h/app/s?k=v"},"param":"?p=1"}`, `{"tcUrl":"rtmp://h/live?<redacted>","request":{"url":"ws://h/app/s?<redacted>"},"param":"<redacted>"}`},
		{"query only, none", `{"tcUrl":"rtmp://h/live"}`, `{"tcUrl":"rtmp://h/live"}`},
		{"query only, form", `tcUrl=rtmp%3A%2F%2Fh%2Flive%3Ftoken%3Da&app=live`, `tcUrl=rtmp%3A%2F%2Fh%2Flive%3F%3Credacted%3E&app=live`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			if got := p.Redact(in); string(got) != tt.want {
				t.Errorf("Redact = %s, want %s", got, tt.want)
			}
			if string(in) != tt.in {
				t.Errorf("the body was modified: %s", in)
			}
		})
	}
	if got := (&Provider{}).Redact([]byte(`{"stream_key":"k"}`)); !strings.Contains(string(got), `"k"`) {
		t.Error("a provider without credentials redacted something")
	}
}

// TestRedactArrayItems: a "name[]" step redacts in every item of the array, and nothing else.
func TestRedactArrayItems(t *testing.T) {
	p := &Provider{Credentials: []string{"call.egress.rtmps[].stream_key", "keys[]"}}
	body := []byte(`{"call":{"egress":{"rtmps":[{"name":"yt","stream_key":"sk-1"},{"name":"tw","stream_key":"sk-2"},"odd"]}},"keys":["k1",{"x":1}],"stream_key":"kept"}`)
	want := `{"call":{"egress":{"rtmps":[{"name":"yt","stream_key":"<redacted>"},{"name":"tw","stream_key":"<redacted>"},"odd"]}},"keys":["<redacted>","<redacted>"],"stream_key":"kept"}`
	if got := p.Redact(body); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

package normalize

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The declared schemes of SPEC §6a against the vectors of shared/providers/
// PROTOCOLS-WAVE3-GLOBAL.md §10 and -CHINA.md §8: each written as the generic-source variables
// would declare it, checked on the vector's exact bytes, then with one byte of each input changed.
func TestHMACSchemeVectors(t *testing.T) {
	mux := HMACSpec{Content: "{sig:t}.{body}", Header: "Mux-Signature", Param: "v1", Timestamp: "sig:t"}
	tests := []struct {
		name   string
		spec   HMACSpec
		secret string
		body   string
		header HeaderMap
		at     int64 // the vector's send time, s
	}{
		{"Mux M1 (published, SDK tests)", mux, "SuperSecret123", `{"test":"body"}`,
			HeaderMap{"Mux-Signature": "t=1565125718,v1=854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7"}, 1565125718},
		{"Mux, second v1 after rotation", mux, "SuperSecret123", `{"test":"body"}`,
			HeaderMap{"Mux-Signature": "t=1565125718, v1=00000000000000000000000000000000000000000000000000000000000000ff, v1=854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7"}, 1565125718},
		{"Zoom Z4", HMACSpec{Content: "v0:{header:x-zm-request-timestamp}:{body}", Header: "x-zm-signature", Prefix: "v0=", Timestamp: "header:x-zm-request-timestamp"},
			"INVENTED_zoom_secret", `{"event":"session.started","event_ts":1739923528123,"payload":{"account_id":"INVENTEDacct","object":{"id":"INVENTEDid","session_id":"INVENTEDsid==","session_name":"demo-session","session_key":"","start_time":"2025-02-19T00:05:28Z"}}}`,
			HeaderMap{"x-zm-request-timestamp": "1739923528", "x-zm-signature": "v0=d5e4ec9f1fa4318756c270ed9025c1fe5338fa45707671dcad53e5e7bb00e93c"}, 1739923528},
		{"Daily D1 (ms timestamp)", HMACSpec{Content: "{header:X-Webhook-Timestamp}.{body}", Header: "X-Webhook-Signature", SecretBase64: true, Encoding: Base64, Timestamp: "header:X-Webhook-Timestamp", Unit: SecondsOrMillis},
			"SU5WRU5URUQtZGFpbHktaG1hYy1rZXktMzJieXRlcyE=", `{"version":"1.0.0","type":"meeting.started","id":"ev-INVENTED-0001","payload":{"start_ts":1708972279.961,"meeting_id":"INVENTED-meeting-uuid","room":"INVENTED-room"},"event_ts":1708972280.048}`,
			HeaderMap{"X-Webhook-Timestamp": "1708972280048", "X-Webhook-Signature": "HXV5ISVPicdE8Hx99aK1TOGyVNF/0MbxDJBHmvHfonk="}, 1708972280},
		{"Daily D2 (creation ping)", HMACSpec{Content: "{header:X-Webhook-Timestamp}.{body}", Header: "X-Webhook-Signature", SecretBase64: true, Encoding: Base64, Timestamp: "header:X-Webhook-Timestamp", Unit: SecondsOrMillis},
			"SU5WRU5URUQtZGFpbHktaG1hYy1rZXktMzJieXRlcyE=", `{"test":"test"}`,
			HeaderMap{"X-Webhook-Timestamp": "1708972280048", "X-Webhook-Signature": "C+qfQW18cAqjAtdvp1rDxOr19wYgK0Zorn334Urug3g="}, 1708972280},
		{"Cloudflare Stream C1", HMACSpec{Content: "{sig:time}.{body}", Header: "Webhook-Signature", Param: "sig1", Timestamp: "sig:time"},
			"INVENTED_cf_stream_secret", `{"uid":"INVENTEDuid0123456789abcdef0123456","readyToStream":true,"status":{"state":"ready","pctComplete":"100.000000","errorReasonCode":"","errorReasonText":""},"meta":{"name":"demo.mp4"},"created":"2025-01-01T00:00:00.000000Z","modified":"2025-01-01T00:01:00.000000Z"}`,
			HeaderMap{"Webhook-Signature": "time=1735689660,sig1=ed15a5b910ed483cba330d4ed0efe689ce164d20060d1c5dcc4c7cf694637f44"}, 1735689660},
		{"Whereby W1", HMACSpec{Content: "{sig:t}.{body}", Header: "Whereby-Signature", Param: "v1", Timestamp: "sig:t"},
			"INVENTED_whereby_secret", `{"id":"INVENTED-event-id","apiVersion":"1.0","createdAt":"2025-01-01T00:00:00.000Z","type":"room.client.joined","data":{"meetingId":"12345678","roomName":"/INVENTED-room","roomSessionId":"INVENTED-session","participantId":"INVENTED-participant","displayName":"Alice","metadata":null,"externalId":null,"roleName":"visitor","numClients":1,"numClientsByRoleName":{"visitor":1},"isDialIn":false}}`,
			HeaderMap{"Whereby-Signature": "t=1735689600,v1=b8c92ba69bd7505447afdea7479e3b98f75ea0ffb17269973be7a107f05d98b8"}, 1735689600},
		{"Millicast L1 (SHA-1, base64 key)", HMACSpec{SHA1: true, Header: "X-Millicast-Signature", Prefix: "sha1=", SecretBase64: true},
			"SU5WRU5URUQtbWlsbGljYXN0LXNlY3JldA==", `{"type":"feeds","event":"started","timestamp":1735689600000,"data":{"streamId":"INVENTEDacct/demo","feedId":"INVENTEDfeed","name":"demo","start":1735689600000}}`,
			HeaderMap{"X-Millicast-Signature": "sha1=70bb7eb41e21ef0653f33ae49ee1b6f6d2c444b7"}, 0},
		{"OvenMediaEngine O1 (base64url unpadded)", HMACSpec{SHA1: true, Header: "X-OME-Signature", Encoding: Base64URL},
			"INVENTED_ome_secret", `{"client":{"address":"203.0.113.10","port":29291,"user_agent":"Mozilla/5.0"},"request":{"direction":"incoming","protocol":"webrtc","status":"opening","url":"ws://ome.example.com:3333/app/stream?token=INVENTED","time":"2025-01-01T00:00:00+00:00"}}`,
			HeaderMap{"X-OME-Signature": "z_zPXkJYZeseclePZRSTjWCetKo"}, 0},
		{"GetStream G1", HMACSpec{Header: "X-Signature"},
			"tsec2", `{"type":"user.updated","created_at":"2026-04-08T14:23:35.879421674Z","user":{"id":"u-1"}}`,
			HeaderMap{"X-Signature": "f48092ec656b16d79ca750b56a07a97ba81f09cb8b9b8bfb637de428d5b4685f"}, 0},
		{"Huawei SparkRTC (China §8 #10)", HMACSpec{Content: "{header:X-Rtc-Rand}{header:X-Rtc-Timestamp}{body}", Header: "X-Rtc-Signature", Timestamp: "header:X-Rtc-Timestamp", Unit: SecondsOrMillis},
			"callbridgeSparkRtcKey0123456789abcdef", `{"event_type":"RECORD_FILE_COMPLETE","app_id":"5fcdf5651xxxxxx6f835d0d4","room_id":"room01","job_id":"608196a2fa1xxxxxx515147f32ef463b","record_format":"HLS","record_duration":65}`,
			HeaderMap{"X-Rtc-Rand": "84215", "X-Rtc-Timestamp": "1700000000", "X-Rtc-Signature": "17a21d8d22e77c7eeac311098bd0b0f9a59e74e5ef64496ecd70f7bfaa67376c"}, 1700000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := CompileHMAC(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			a := &Auth{Secret: []byte(tt.secret), MaxSkew: 5 * time.Minute}
			at := time.Unix(tt.at, 0)
			verify := func(body string, h HeaderMap, secret string, now time.Time) error {
				_, err := s.Verify(&Callback{Body: []byte(body), Header: h, Received: now}, &Auth{Secret: []byte(secret), MaxSkew: a.MaxSkew})
				return err
			}
			if err := verify(tt.body, tt.header, tt.secret, at); err != nil {
				t.Fatalf("the vector does not verify: %v", err)
			}
			mustRefuse := func(what string, err error) {
				t.Helper()
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Errorf("%s: verified (err %v), want an AuthError", what, err)
				}
			}
			mustRefuse("body changed", verify(tt.body+" ", tt.header, tt.secret, at))
			mustRefuse("other secret", verify(tt.body, tt.header, "x"+tt.secret, at))
			for k, v := range tt.header {
				h := HeaderMap{}
				for k2, v2 := range tt.header {
					h[k2] = v2
				}
				h[k] = v[:len(v)-1] + string(v[len(v)-1]^1)
				mustRefuse("header "+k+" changed", verify(tt.body, h, tt.secret, at))
				delete(h, k)
				mustRefuse("header "+k+" missing", verify(tt.body, h, tt.secret, at))
			}
			if tt.spec.Timestamp != "" {
				mustRefuse("outside the window", verify(tt.body, tt.header, tt.secret, at.Add(6*time.Minute)))
				mustRefuse("before the window", verify(tt.body, tt.header, tt.secret, at.Add(-6*time.Minute)))
			}
			// Sign makes what Verify takes, at another time.
			now := time.Unix(1800000000, 0)
			headers, err := s.Sign([]byte(tt.body), []byte(tt.secret), now, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := HeaderMap{}
			for _, kv := range headers {
				h[kv.Key] = kv.Value
			}
			if err := verify(tt.body, h, tt.secret, now); err != nil {
				t.Errorf("Sign's headers %v do not verify: %v", headers, err)
			}
		})
	}
}

func TestCompileHMACRefuses(t *testing.T) {
	tests := []struct {
		name string
		spec HMACSpec
		want string
	}{
		{"no header", HMACSpec{}, "signature header"},
		{"bad header", HMACSpec{Header: "X Sig"}, "signature header"},
		{"body not signed", HMACSpec{Header: "X-Sig", Content: "{header:X-Ts}"}, "does not cover {body}"},
		{"unclosed", HMACSpec{Header: "X-Sig", Content: "{body"}, "without its }"},
		{"unknown placeholder", HMACSpec{Header: "X-Sig", Content: "{url}.{body}"}, "want {body}"},
		{"sig without kv", HMACSpec{Header: "X-Sig", Content: "{sig:t}.{body}"}, "k=v pairs"},
		{"timestamp not signed", HMACSpec{Header: "X-Sig", Timestamp: "header:X-Ts"}, "not in the signed content"},
		{"too many parts", HMACSpec{Header: "X-Sig", Content: strings.Repeat("{header:A}-", 9) + "{body}"}, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := CompileHMAC(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileHMAC = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	s, err := CompileHMAC(HMACSpec{Header: "X-Sig", Content: "{{literal}.{body}"})
	if err != nil || len(s.parts) != 2 || string(s.parts[0].text) != "{literal}." {
		t.Errorf("{{ is a literal {: %v %+v", err, s)
	}
}

// A zero-allocation check of a declared scheme: the hot path of every provider that declares one,
// with the signed time in a k=v param (Mux), in headers of its own (Huawei SparkRTC), or in a
// header with a prefix and base64 (Zoom, Daily).
func TestHMACSchemeAllocations(t *testing.T) {
	for _, spec := range []HMACSpec{
		{Content: "{sig:t}.{body}", Header: "Mux-Signature", Param: "v1", Timestamp: "sig:t", SecretBase64: true},
		{Content: "{header:X-Rtc-Rand}{header:X-Rtc-Timestamp}{body}", Header: "X-Rtc-Signature", Timestamp: "header:X-Rtc-Timestamp", Unit: SecondsOrMillis},
		{Content: "v0:{header:X-Ts}:{body}", Header: "X-Sig", Prefix: "v0=", Timestamp: "header:X-Ts", SecretBase64: true, Encoding: Base64},
	} {
		s := MustCompileHMAC(spec)
		a := &Auth{Secret: []byte("U3VwZXJTZWNyZXQxMjM="), MaxSkew: time.Minute}
		body := []byte(`{"test":"body"}`)
		now := time.Unix(1565125718, 0)
		headers, err := s.Sign(body, a.Secret, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := byteHeaders{}
		for _, kv := range headers {
			h.set(kv.Key, kv.Value)
		}
		c := &Callback{Body: body, Header: h, Received: now}
		if n := testing.AllocsPerRun(100, func() {
			if _, err := s.Verify(c, a); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Verify allocates %v times", spec.Content, n)
		}
	}
}

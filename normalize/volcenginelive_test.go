package normalize

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Self vector 11 (PROTOCOLS-WAVE3-CHINA.md §8): key callbridgeVolcKey, t 1700000600.
const (
	volcLiveKey      = "callbridgeVolcKey"
	volcLiveT        = 1700000600
	volcLiveKeyFirst = "413060a39e65a3ac5ede672c4a707a31" // md5hex(key + t), Volcengine
	volcLiveTFirst   = "b2e9642d879def8ce9461b14062f861b" // md5hex(t + key), BytePlus's reading
)

// volcLiveFlat is §4g's flat example, signed key first with vector 11.
const volcLiveFlat = `{"vhost":"push.example.com","domain":"push.example.com","app":"live","stream":"stream-123456","priority":0,"backup_count":"1","event_type":"push_start","sign":"413060a39e65a3ac5ede672c4a707a31","t":1700000600,"time":1700000000,"time_ms":1700000000123,"transcoded":false,"fp_node_ip":"10.10.10.1","fp_client_ip":"10.10.10.2","fp_user_url":"","session_id":"3693930911_1","sequence_id":"seq-0001"}`

func volcLiveAuth(key string) *Auth {
	return &Auth{Secret: []byte(key), MaxSkew: 5 * time.Minute}
}

// Vector 11 in both orders, through the digest and through Verify, on the flat example and the
// nested shape; each refused under another key.
func TestVolcengineLiveVector(t *testing.T) {
	if got := volcLiveDigest([]byte(volcLiveKey + "1700000600")); string(got[:]) != volcLiveKeyFirst {
		t.Errorf("md5hex(key + t) = %s, want %s", got, volcLiveKeyFirst)
	}
	if got := volcLiveDigest([]byte("1700000600" + volcLiveKey)); string(got[:]) != volcLiveTFirst {
		t.Errorf("md5hex(t + key) = %s, want %s", got, volcLiveTFirst)
	}
	tFirst := strings.Replace(volcLiveFlat, volcLiveKeyFirst, volcLiveTFirst, 1)
	nested := `{"code":0,"message":"ok","data":{"vhost":"push.example.com","app":"live","stream":"s","event_type":"push_start","sign":"` + volcLiveTFirst + `","t":"1700000600","detail":{"time":1700000000}}}`
	upper := strings.Replace(volcLiveFlat, volcLiveKeyFirst, strings.ToUpper(volcLiveKeyFirst), 1)
	sent := time.Unix(volcLiveT, 0).Add(-10 * time.Minute) // t is the expiry, send + 10 min
	for name, body := range map[string]string{"key + t": volcLiveFlat, "t + key": tFirst, "nested, t a string": nested, "upper-case hex": upper} {
		c := &Callback{Body: []byte(body), Header: HeaderMap{}, Received: sent.Add(time.Second)}
		v, err := VolcengineLive.Verify(c, volcLiveAuth(volcLiveKey))
		checkVerify(t, v, err, Signed, "")
		c = &Callback{Body: []byte(body), Header: HeaderMap{}, Received: sent.Add(time.Second)}
		v, err = VolcengineLive.Verify(c, volcLiveAuth("callbridgeVolcKey2"))
		if err == nil {
			t.Errorf("%s: accepted (%v) under another key", name, v)
		}
	}
}

// The window holds t from MaxSkew before now (a BytePlus send time) to EXPIRY + MaxSkew after
// (a Volcengine expiry).
func TestVolcengineLiveWindow(t *testing.T) {
	stamp := time.Unix(volcLiveT, 0)
	tests := []struct {
		name     string
		received time.Time
		expiry   string
		wantErr  string
	}{
		{"BytePlus send time, just received", stamp.Add(time.Second), "", ""},
		{"send time at the skew", stamp.Add(5*time.Minute - time.Second), "", ""},
		{"send time past the skew", stamp.Add(5*time.Minute + time.Second), "", "past"},
		{"Volcengine expiry, sent now", stamp.Add(-10 * time.Minute), "", ""},
		{"expiry as far ahead as allowed", stamp.Add(-15*time.Minute + time.Second), "", ""},
		{"expiry too far ahead", stamp.Add(-15*time.Minute - time.Second), "", "ahead"},
		{"a longer expiry configured", stamp.Add(-30 * time.Minute), "30m", ""},
		{"no expiry allowed", stamp.Add(-6 * time.Minute), "0s", "ahead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := volcLiveAuth(volcLiveKey)
			if tt.expiry != "" {
				a.Options = withOptions(t, &VolcengineLive, "EXPIRY", tt.expiry)
			}
			c := &Callback{Body: []byte(volcLiveFlat), Header: HeaderMap{}, Received: tt.received}
			v, err := VolcengineLive.Verify(c, a)
			checkVerify(t, v, err, Signed, tt.wantErr)
		})
	}
}

func TestVolcengineLiveVerifyRefuses(t *testing.T) {
	recv := time.Unix(volcLiveT, 0)
	tests := []struct{ name, body, wantErr string }{
		{"not JSON", `t=1`, "not a JSON object"},
		{"no sign", `{"event_type":"push_start","t":1700000600}`, "missing"},
		{"sign empty: authentication off", `{"event_type":"push_start","sign":"","t":0}`, "authentication is off"},
		{"sign a number", `{"event_type":"push_start","sign":1,"t":1700000600}`, "not a string"},
		{"t not a timestamp", `{"event_type":"push_start","sign":"x","t":"soon"}`, "not a unix timestamp"},
		{"t twice", `{"sign":"` + volcLiveKeyFirst + `","t":1700000600,"t":1800000000}`, "twice"},
		{"body changed does not matter, t does", strings.Replace(volcLiveFlat, `"t":1700000600`, `"t":1700000601`, 1), "neither"},
		{"nested without sign", `{"code":0,"data":{"event_type":"push_start","t":1}}`, "missing"},
	}
	for _, tt := range tests {
		c := &Callback{Body: []byte(tt.body), Header: HeaderMap{}, Received: recv}
		v, err := VolcengineLive.Verify(c, volcLiveAuth(volcLiveKey))
		checkVerify(t, v, err, Signed, tt.wantErr)
	}
	c := &Callback{Body: []byte(volcLiveFlat), Header: HeaderMap{}, Received: recv}
	v, err := VolcengineLive.Verify(c, &Auth{AllowUnsigned: true})
	checkVerify(t, v, err, Unsigned, "")
}

// Every fixture that carries a signature was signed with vector 11's key, in one order or the
// other, and verifies just after it was sent (t an expiry ten minutes ahead).
func TestVolcengineLiveFixturesVerify(t *testing.T) {
	for _, name := range fixtureNames(t, VolcengineLive.ID) {
		body := fixture(t, VolcengineLive.ID, name)
		top, _ := (&Callback{Body: body}).members()
		event, _ := volcLiveEvent(top, body)
		stamp, _ := intValue(nestedMember(event, "t"))
		if string(nestedMember(event, "sign")) == `""` {
			continue // authentication off
		}
		c := &Callback{Body: body, Header: HeaderMap{}, Received: time.Unix(stamp, 0).Add(-9 * time.Minute)}
		v, err := VolcengineLive.Verify(c, volcLiveAuth(volcLiveKey))
		if err != nil || v != Signed {
			t.Errorf("%s: %v %v", name, v, err)
		}
	}
}

// Both shapes publish the same flat data without t, sign and fp_user_url; a push's id is its
// sequence_id's, whatever t and sign say.
func TestVolcengineLiveNormalize(t *testing.T) {
	flat := `{"vhost":"v","app":"a","stream":"s","event_type":"push_start","sign":"x","t":1,"time":1700000000,"fp_user_url":"volcSecret=k","session_id":"1"}`
	nested := `{"code":0,"message":"ok","data":{"vhost":"v","app":"a","stream":"s","event_type":"push_start","sign":"y","t":2,"detail":{"time":1700000000,"fp_user_url":"volcSecret=k","session_id":"1"}}}`
	a, b := mustEnvelope(t, &VolcengineLive, []byte(flat), nil), mustEnvelope(t, &VolcengineLive, []byte(nested), nil)
	want := `{"vhost":"v","app":"a","stream":"s","event_type":"push_start","time":1700000000,"session_id":"1"}`
	if string(a.Data) != want || string(b.Data) != want {
		t.Errorf("data\n flat   %s\n nested %s\n want   %s", a.Data, b.Data, want)
	}
	if !bytes.Equal(a.ID, b.ID) || string(a.Subject) != "s" || string(a.Source) != "/callbridge/volcengine-live/v" {
		t.Errorf("id %s / %s, subject %s, source %s", a.ID, b.ID, a.Subject, a.Source)
	}
	push := mustEnvelope(t, &VolcengineLive, []byte(volcLiveFlat), nil)
	resigned := strings.Replace(strings.Replace(volcLiveFlat, volcLiveKeyFirst, volcLiveTFirst, 1), `"t":1700000600`, `"t":1700000604`, 1)
	again := mustEnvelope(t, &VolcengineLive, []byte(resigned), nil)
	other := mustEnvelope(t, &VolcengineLive, []byte(strings.Replace(volcLiveFlat, "seq-0001", "seq-0002", 1)), nil)
	if !bytes.Equal(push.ID, again.ID) || bytes.Equal(push.ID, other.ID) {
		t.Errorf("push ids: %s, re-signed %s, another push %s", push.ID, again.ID, other.ID)
	}
	// Another kind of event of one push carries its sequence_id too: its id is its data's.
	recStarted := mustEnvelope(t, &VolcengineLive, []byte(`{"stream":"s","event_type":"record","sequence_id":"q","status":"started"}`), nil)
	recEnded := mustEnvelope(t, &VolcengineLive, []byte(`{"stream":"s","event_type":"record","sequence_id":"q","status":"ended"}`), nil)
	if bytes.Equal(recStarted.ID, recEnded.ID) {
		t.Errorf("two record events of one push share the id %s", recStarted.ID)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"event_type":1}`, "event_type"},
		{`{"stream":"s"}`, "event_type"},
		{`{"data":{"event_type":"record","time":1,"detail":{"time":2}}}`, `"time"`},
		{`{"data":{"event_type":"record","stream":"a","stream":"b"}}`, `"stream"`},
		{`{"event_type":"record","event_type":"push_start"}`, `"event_type"`},
	} {
		if _, err := envelope(&VolcengineLive, []byte(bad.body), nil); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("%s: %v, want a PayloadError naming %s", bad.body, err, bad.field)
		}
	}
}

// Sign stamps t and sign where the event is, in both shapes.
func TestVolcengineLiveSign(t *testing.T) {
	now := time.Unix(volcLiveT, 0).Add(-10 * time.Minute)
	nested := []byte(`{"code":0,"message":"ok","data":{"stream":"s","event_type":"push_end","sign":"","t":0}}`)
	for _, body := range [][]byte{[]byte(volcLiveFlat), nested} {
		signed, _, err := VolcengineLive.Sign(body, volcLiveAuth(volcLiveKey), now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(signed, []byte(`"sign":"`+volcLiveKeyFirst+`","t":1700000600`)) && !bytes.Contains(signed, []byte(`"t":1700000600,"sign":"`+volcLiveKeyFirst+`"`)) {
			t.Errorf("Sign: %s", signed)
		}
	}
	if _, _, err := VolcengineLive.Sign([]byte(`[1]`), volcLiveAuth(volcLiveKey), now); err == nil {
		t.Error("Sign accepted an array")
	}
}

// The nested shape costs no allocation either (BenchmarkCallback runs the flat sample).
func TestVolcengineLiveNestedAllocs(t *testing.T) {
	body := fixture(t, VolcengineLive.ID, "record-nested.json")
	a := &Auth{AllowUnsigned: true}
	var c Callback
	var ev Event
	h := byteHeaders{}
	run := func() {
		c.Reset()
		ev.Reset()
		c.Body, c.Header, c.Received = body, h, received
		if _, err := VolcengineLive.Run(&c, a, true, &ev); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocs per nested callback", n)
	}
}

package normalize

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// selfSignedPEM is a PEM certificate for key, as SNS serves its signing certificates.
func selfSignedPEM(t *testing.T, key *rsa.PrivateKey) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func tlsConfig(der []byte, key *rsa.PrivateKey) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestSNSHostPatterns(t *testing.T) {
	def := ivsSettings[0].Default
	tests := []struct {
		patterns, host string
		want           bool
	}{
		{def, "sns.us-east-2.amazonaws.com", true},
		{def, "SNS.US-EAST-2.AMAZONAWS.COM", true},
		{def, "sns.cn-north-1.amazonaws.com.cn", true},
		{def, "sns.amazonaws.com", false},                    // * is exactly one label
		{def, "sns.a.b.amazonaws.com", false},                // not two
		{def, "sns.us-east-2.amazonaws.com.evil.com", false}, // the whole host
		{def, "evil.com", false},
		{def, "sns.us-east-2.amazonaws.com:8443", false}, // a port only where a pattern has one
		{def, "sns.us_east.amazonaws.com", false},        // a DNS label's characters only
		{"127.0.0.1:8443", "127.0.0.1:8443", true},
		{"127.0.0.1:8443", "127.0.0.1:8444", false},
		{"127.0.0.1:8443", "127.0.0.1", false},
		{" a.example , b.example ", "b.example", true},
		{"", "sns.us-east-2.amazonaws.com", false},
		{"*", "localhost", true},
	}
	for _, tt := range tests {
		if got := snsHostAllowed(tt.patterns, []byte(tt.host)); got != tt.want {
			t.Errorf("%q matching %q: %v", tt.patterns, tt.host, got)
		}
	}
}

func TestSNSTopicAllowList(t *testing.T) {
	list := []byte(" arn:a , arn:b,,arn:c ")
	for topic, want := range map[string]bool{"arn:a": true, "arn:b": true, "arn:c": true, "": false, "arn": false, "arn:a , arn:b": false} {
		if got := snsTopicAllowed(list, []byte(topic)); got != want {
			t.Errorf("%q: %v", topic, got)
		}
	}
}

// TestIVSEventTypes: every concrete row of the events table is the type its detail-type and
// value make.
func TestIVSEventTypes(t *testing.T) {
	for _, def := range ivsEvents {
		detailType, value, _ := strings.Cut(def.Code, ": ")
		if !strings.HasPrefix(detailType, "IVS ") || strings.Contains(value, "<") {
			continue
		}
		sub := "event_name"
		if strings.HasPrefix(detailType, "IVS Recording") {
			sub = "recording_status"
		}
		event, _ := json.Marshal(map[string]any{"id": "e1", "detail-type": detailType, "source": "aws.ivs", "detail": map[string]any{sub: value}})
		body, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "m1", "Message": string(event)})
		var ev Event
		if err := AWSIVS.Envelope(&Callback{Body: body, Header: HeaderMap{}}, &ev); err != nil {
			t.Fatal(err)
		}
		if string(ev.EventType) != def.Name {
			t.Errorf("%s: %s, table says %s", def.Code, ev.EventType, def.Name)
		}
	}
}

// TestIVSNormalize: the id is the EventBridge event's across SNS retries and EventBridge
// re-publishes; what is no part of the event never reaches data; shapes refused with a 400.
func TestIVSNormalize(t *testing.T) {
	run := func(t *testing.T, m map[string]any) (*Event, error) {
		body, _ := json.Marshal(m)
		var ev Event
		err := AWSIVS.Envelope(&Callback{Body: body, Header: HeaderMap{}, Received: received}, &ev)
		return &ev, err
	}
	now := time.Now()
	first, err := run(t, fixtureMap(t, "recording-state-recording-end.json", now))
	if err != nil {
		t.Fatal(err)
	}
	republished := fixtureMap(t, "recording-state-recording-end.json", now.Add(time.Hour))
	republished["MessageId"] = "another-message-id"
	again, err := run(t, republished)
	if err != nil || string(again.ID) != string(first.ID) || string(again.Data) != string(first.Data) {
		t.Errorf("re-published: %s %v, first %s", again.ID, err, first.ID)
	}
	for _, leak := range []string{"Signature", "SigningCertURL", "UnsubscribeURL", "Token", "SubscribeURL", "TopicArn"} {
		if strings.Contains(string(first.Data), leak) {
			t.Errorf("data carries %s: %s", leak, first.Data)
		}
	}
	if string(first.Time.Format(time.RFC3339)) != "2025-01-01T01:00:05Z" {
		t.Errorf("time %v, want the event's", first.Time)
	}
	plain := fixtureMap(t, "sns-plain-message.json", now)
	plain["Message"] = `{"a":1}`
	ev, err := run(t, plain)
	if err != nil || string(ev.Data) != `{"Message":{"a":1},"MessageId":"792cda85-518f-5dd3-9163-81d851212f3a"}` {
		t.Errorf("plain JSON message: %s %v", ev.Data, err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"detail-type an object": func(m map[string]any) {
			m["Message"] = `{"id":"e","detail-type":{},"source":"aws.ivs"}`
		},
		"no event id":       func(m map[string]any) { m["Message"] = `{"detail-type":"x","source":"aws.ivs"}` },
		"detail-type twice": func(m map[string]any) { m["Message"] = `{"id":"e","detail-type":"a","source":"s","detail-type":"b"}` },
		"event_name not a text": func(m map[string]any) {
			m["Message"] = `{"id":"e","detail-type":"IVS Stage Update","source":"aws.ivs","detail":{"event_name":1}}`
		},
		"Message not a string": func(m map[string]any) { m["Message"] = map[string]any{} },
		"a confirmation":       func(m map[string]any) { m["Type"] = "SubscriptionConfirmation" },
	} {
		m := fixtureMap(t, "stream-state-stream-start.json", now)
		edit(m)
		if _, err := run(t, m); err == nil {
			t.Errorf("%s: accepted", name)
		} else if _, ok := err.(*PayloadError); !ok {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}
}

// TestIVSSignLocal: Sign's own key verifies in this process for the allow-list it signed for
// only, and never without one.
func TestIVSSignLocal(t *testing.T) {
	now := time.Now()
	a := &Auth{Secret: []byte("arn:one, arn:two"), MaxSkew: time.Minute}
	body, _, err := AWSIVS.Sign(AWSIVS.Sample, a, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"TopicArn":"arn:two"`) || !strings.Contains(string(body), "callbridge-local") {
		t.Fatalf("signed: %s", body)
	}
	c := &Callback{Body: body, Header: HeaderMap{}, Received: now}
	if v, err := AWSIVS.Verify(c, a); err != nil || v != Signed {
		t.Fatalf("%v %v", v, err)
	}
	// Another allow-list holding the topic (as another process would) does not know the key,
	// and never fetches a URL of Sign's making.
	f := withFetcher(t, newSNSFetcher(x509.NewCertPool(), 1))
	f.client.Transport = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("nothing serves it") })
	c = &Callback{Body: body, Header: HeaderMap{}, Received: now}
	_, err = AWSIVS.Verify(c, &Auth{Secret: []byte("arn:two"), MaxSkew: time.Minute})
	checkVerify(t, Signed, err, Signed, "callbridge send")
	if f.fetches != 0 {
		t.Errorf("%d fetches of a URL Sign made", f.fetches)
	}
	if _, _, err := AWSIVS.Sign([]byte(`{"Type":"Other"}`), a, now); err == nil {
		t.Error("signed a body that is no SNS message")
	}
	if _, _, err := AWSIVS.Sign(AWSIVS.Sample, &Auth{Secret: []byte(" , ")}, now); err == nil {
		t.Error("signed for an allow-list of no topic")
	}
}

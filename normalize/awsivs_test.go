package normalize

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The published SNS vectors (§10 S1-S5): aws/aws-php-sns-message-validator
// tests/FunctionalValidationsTest.php, copied verbatim. Its certificate (valid 2021-09-07 to
// 2022-08-17) is injected into the cache under the fixtures' SigningCertURL instead of fetched;
// each message arrives one second after its Timestamp, in 2022, when the certificate was valid:
// the validity dates are checked as for live traffic, at arrival.
const snsPHPCert = `-----BEGIN CERTIFICATE-----
MIIF1zCCBL+gAwIBAgIQB9pYWG3Mi7xej22g9pobJTANBgkqhkiG9w0BAQsFADBG
MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRUwEwYDVQQLEwxTZXJ2ZXIg
Q0EgMUIxDzANBgNVBAMTBkFtYXpvbjAeFw0yMTA5MDcwMDAwMDBaFw0yMjA4MTcy
MzU5NTlaMBwxGjAYBgNVBAMTEXNucy5hbWF6b25hd3MuY29tMIIBIjANBgkqhkiG
9w0BAQEFAAOCAQ8AMIIBCgKCAQEAutFqueT3XgP13udzxE6UpbdjOtVO5DwoMpSM
iDNMnGzF1TYH5/R2LPUOBeTB0SkKnR4kpNcUZhicpGD4aKciz/GEZ6wu65xncfT9
H/KBOQwoXYTuClHwp6fYpGzcGFaFoEYMnijL/o4qmTSd+ukglQUgKpsDw4ofw6rU
m2CttJo+GQSNQ9NfGR1h/0J+zsApkeSYrXRx5wNlu87z8os1C/6PBrUHwt3xXeaf
Xzfwut8aRRYsS8BySOA9DAgLfNHlfdQCjKPXKrG/ussgReyWD6n/HH+j7Uha3xos
TzQqJifcxlTq6MxWdPR6fDaJNvqw6DOE7UjUNxHguXHlVfxhlQIDAQABo4IC6TCC
AuUwHwYDVR0jBBgwFoAUWaRmBlKge5WSPKOUByeWdFv5PdAwHQYDVR0OBBYEFAqz
C+vyouneE7mWWLbi9i0UsWUbMBwGA1UdEQQVMBOCEXNucy5hbWF6b25hd3MuY29t
MA4GA1UdDwEB/wQEAwIFoDAdBgNVHSUEFjAUBggrBgEFBQcDAQYIKwYBBQUHAwIw
OwYDVR0fBDQwMjAwoC6gLIYqaHR0cDovL2NybC5zY2ExYi5hbWF6b250cnVzdC5j
b20vc2NhMWIuY3JsMBMGA1UdIAQMMAowCAYGZ4EMAQIBMHUGCCsGAQUFBwEBBGkw
ZzAtBggrBgEFBQcwAYYhaHR0cDovL29jc3Auc2NhMWIuYW1hem9udHJ1c3QuY29t
MDYGCCsGAQUFBzAChipodHRwOi8vY3J0LnNjYTFiLmFtYXpvbnRydXN0LmNvbS9z
Y2ExYi5jcnQwDAYDVR0TAQH/BAIwADCCAX0GCisGAQQB1nkCBAIEggFtBIIBaQFn
AHYAKXm+8J45OSHwVnOfY6V35b5XfZxgCvj5TV0mXCVdx4QAAAF7vfDVkQAABAMA
RzBFAiEA2XfHuy36aqRFiaL8c3md2mH451go8707+fRE0pEdSRACIE/g5FXTUXUZ
PFcmOhm9TZ+uMY1i4CIQ/CKVWln6C3t+AHYAUaOw9f0BeZxWbbg3eI8MpHrMGyfL
956IQpoN/tSLBeUAAAF7vfDVjAAABAMARzBFAiBF1MhhFP0+FQt3daDFfMYoWwnr
muTInrjNpwfzlvQBugIhAPYadFzr+LaxSJoiZEbEHBvTts7bT0M3eCQONA2O7w6n
AHUAQcjKsd8iRkoQxqE6CUKHXk4xixsD6+tLx2jwkGKWBvYAAAF7vfDVdAAABAMA
RjBEAiAtPapmFAuA71ih4NoSd5hJelzAltNQpxDMcDfDyHyU8gIgWxmaa6+2KbBu
9xdv379zvnJACFR7jc+4asl08Dn4aagwDQYJKoZIhvcNAQELBQADggEBAA54QX0u
oFWXfMmv02CGZv4NWo5TapyeeixQ2kKpZHRdVZjxZrw+hoF6HD7P3kGjH8ztyJll
tDxB0qgMltbPhQdScwhA6iTgoaBYqEUC/VHKd4PmmPT6yIsM36NBZVmkGlzl5uNo
/dBgBaG0SsVJnhr5zro3c2quC7n6fVGEZhf/UgQwRnnvThnvbNKguglDMq4uEqv8
njKyleht+glkcmXO0m9qLKt6BOS0amy6U2GlAwRn0Wx02ndJtnRCSC6kPuRWK/SQ
FEjB7gCK4hdKaAOuWdZpI55vF6ifOeM8toC3g7ofO8qLTnJupAG+ZitY5J3cvHWr
HqOUdKigPDHYLRo=
-----END CERTIFICATE-----`

const snsPHPCertURL = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"

// snsVectors are the four HTTP fixtures of the PHP test, in its order: S1 (v1), S2 (v2), S3 (v1,
// Subject), S4 (v2, Subject).
var snsVectors = []map[string]any{
	{"Type": "Notification", "MessageId": "792cda85-518f-5dd3-9163-81d851212f3a", "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362", "Message": "Hello world", "Timestamp": "2022-07-28T21:23:58.317Z", "SignatureVersion": "1", "Signature": "ghtf+deOBAzHJJZ6s6CdRLfTQAlcGzq9naoFM1wi0CJiq//uVRuZnamrkWNF0fhouMFvuLVRwcz8PZLUMSfnmd5VpdTKpTyiKmy1qJAZXma0w+yi7G+I33hD1Jyk1Nbym2n0kqp3fVu2aoooiN2ZeLAT2bH0/BtjLSfN1yAOKNoprco4qV9gGUZinXJdj9a1YdNhDR2jKi33ldlsVtEXAtiaDklGEk7DgRKX38GerBPiLg3FdtgY6KC7cdeGpU/dGK+4hjc83Ive1HoFkAwqhpgInM2sMytBosoiXfCmOKmU4xeGD0gHDNZTlJUJQDlzw8Eag0H9f/5zXF9d3uy0YQ==", "SigningCertURL": snsPHPCertURL, "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362:2296bc94-7992-4be1-b15f-b97229b5c1d8"},
	{"Type": "Notification", "MessageId": "17dea24b-55c2-540b-8362-f916557af765", "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-62674b1d-4295-426b-88e7-5fb75652a04e", "Message": "Hello world", "Timestamp": "2022-07-28T21:24:08.324Z", "SignatureVersion": "2", "Signature": "CXVqp9PfZAL+4JHS3Zxo1PFbQsvnOjvmYhtIf17TWpwc+iIVas8kZ8GopuzVzVMdatE7rCl/O4P91Zp05Dwz8lk8dLhfp8gSu3Njlzxlyrmzo9x3va3Jb7zFnedgS2GKnZWHGBdwTXho+TosNUE+3e10OMSlwN5XGDwX7+R3WL+rn+AXmFAqp3alg27sYa55h1dLE9cGszGPjScPdtF3BmZsUDMx9wSdNKsCk+vSvE8yBjnCmUl7laSFj3LzPVrlSwgNYCF3kYnNAkah7NplK4SFhJYLwS0HCVCQJKa8rVbQLf9cBTu60U402mrgy0bN8xWoyimzbYbrOMJjalqkUg==", "SigningCertURL": snsPHPCertURL, "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:295079676684:publish-and-verify-62674b1d-4295-426b-88e7-5fb75652a04e:ad7d16e3-0a7c-46aa-b23e-ffaf02250cbe"},
	{"Type": "Notification", "MessageId": "11405cc3-9ac7-56d5-b45d-079e8f7a8edf", "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-6e11fed2-fcdf-4c52-9dc4-36ef43f37f84", "Subject": "Hello world", "Message": "Hello world", "Timestamp": "2022-07-28T22:53:49.654Z", "SignatureVersion": "1", "Signature": "AItkS26d8yvnIKJevdirIPW7eM/yKbZy3/CF2EreCHmXWB3etWaV5Fb7SYpGABMpugpDZzNyGY1wCVWaopDoQ+7Q/kI2TpDu8bw1eExbi8U3kduvc/2m2fIrI4gDEY8/v3nzoLcr8pPodqMzrX6SzQou4klfaqbNK+rFmH0LVf2Q1VyOROODoSXmo4jg2Yu12jfxccBl96Drr/ihq4MJ4OcrWh6UzXXlVYjJHx2Ui4anNwNEb+Z4C2CAF1DjQUbhDtaoajDBPY+4d9C1OwbqwQpXsd6tyVcI9nFyEsVK8lfnAV+/3GZQcdXHbIUYBRGcBa4X5TlWJku5nDH2ERtHHw==", "SigningCertURL": snsPHPCertURL, "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:295079676684:publish-and-verify-6e11fed2-fcdf-4c52-9dc4-36ef43f37f84:adb318c3-2234-4c56-905d-c324cf0df874"},
	{"Type": "Notification", "MessageId": "4504e649-d933-5aa9-8199-bd14ccf05f0b", "TopicArn": "arn:aws:sns:us-east-2:295079676684:publish-and-verify-530b26da-0687-4fe4-9f71-780bad3181e2", "Subject": "Hello world", "Message": "Hello world", "Timestamp": "2022-07-28T22:53:55.086Z", "SignatureVersion": "2", "Signature": "cETcSvmmkt+My05qCLKexyl0+RyG83mSryKPqTfS+tYcxDJWVcjPJAr+qdpElzVaBl1aTGYVWMY64i9JqZ/JES8pylNj8LGvdhuNQKO59/WCoIimZAsNhn0xEgOeeDU+W/0BU4sdpCGMNjo0S/FuIiWaRe4E0YWRVrxeQevaQ70euDdfWgd5v1eCKQz8b367b9XBmMztL/CWUFI6YaKK/MV21eyvJe3Y7CtVYiOKEYiAZnAEkynK7gUGO5TsgDjGNYhj6U3xYsWgI03bmioSl7kdFSUj+AZ7ugas5fghqxgoDsdfqsjMYKRm5KKHQWsgzI619yIzpNKUiSMHxdZXpQ==", "SigningCertURL": snsPHPCertURL, "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:295079676684:publish-and-verify-530b26da-0687-4fe4-9f71-780bad3181e2:db0ad2ad-03d1-48ca-a5da-51f317800a57"},
}

// withFetcher makes f the provider's fetcher for the test.
func withFetcher(t *testing.T, f *snsFetcher) *snsFetcher {
	old := snsFetch
	snsFetch = f
	t.Cleanup(func() { snsFetch = old })
	return f
}

// injectPHPCert gives the test a fetcher whose cache holds the PHP test's certificate.
func injectPHPCert(t *testing.T) *snsFetcher {
	f := withFetcher(t, newSNSFetcher(x509.NewCertPool(), snsCacheSize))
	c, err := parseSNSCert([]byte(snsPHPCert))
	if err != nil {
		t.Fatal(err)
	}
	f.certs[snsPHPCertURL] = c
	f.order = append(f.order, snsPHPCertURL)
	return f
}

func snsVectorCallback(t *testing.T, v map[string]any, edit func(map[string]any)) (*Callback, *Auth) {
	m := map[string]any{}
	for k, x := range v {
		m[k] = x
	}
	if edit != nil {
		edit(m)
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339Nano, v["Timestamp"].(string))
	c := &Callback{Body: body, Header: HeaderMap{}, Received: at.Add(time.Second)}
	return c, &Auth{Secret: []byte(v["TopicArn"].(string)), MaxSkew: 5 * time.Minute}
}

func TestSNSPublishedVectors(t *testing.T) {
	f := injectPHPCert(t)
	lambda := func(m map[string]any) { // the Lambda spelling, with a null Subject
		m["SigningCertUrl"] = m["SigningCertURL"]
		delete(m, "SigningCertURL")
		if _, ok := m["Subject"]; !ok {
			m["Subject"] = nil
		}
	}
	for i, v := range snsVectors {
		for _, edit := range []func(map[string]any){nil, lambda} {
			c, a := snsVectorCallback(t, v, edit)
			if got, err := AWSIVS.Verify(c, a); err != nil || got != Signed {
				t.Errorf("S%d: %v %v", i+1, got, err)
			}
		}
	}
	// S5: S1 with Message "Hello World".
	c, a := snsVectorCallback(t, snsVectors[0], func(m map[string]any) { m["Message"] = "Hello World" })
	_, err := AWSIVS.Verify(c, a)
	checkVerify(t, Signed, err, Signed, "Signature does not match")
	// The string to sign of S1, exactly as §8g gives it.
	want := "Message\nHello world\nMessageId\n792cda85-518f-5dd3-9163-81d851212f3a\nTimestamp\n2022-07-28T21:23:58.317Z\nTopicArn\narn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362\nType\nNotification\n"
	c, _ = snsVectorCallback(t, snsVectors[0], nil)
	top, _ := c.members()
	if got, _, _ := appendSNSCanonical(nil, top, snsNotification); string(got) != want {
		t.Errorf("canonical string:\n%q\nwant\n%q", got, want)
	}
	// Arriving after the certificate expired: refused.
	c, a = snsVectorCallback(t, snsVectors[0], nil)
	c.Received = time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC)
	a.MaxSkew = 24 * 90 * time.Hour
	_, err = AWSIVS.Verify(c, a)
	checkVerify(t, Signed, err, Signed, "not valid at the time")
	if f.fetches != 0 {
		t.Errorf("%d fetches, want none: the certificate was injected", f.fetches)
	}
}

// snsServer is a local HTTPS server standing for SNS: it serves signing certificates and
// counts confirmation GETs. Its TLS certificate is issued by a CA the test makes, which the
// fetcher trusts through its pool.
type snsServer struct {
	*httptest.Server
	host     string // 127.0.0.1:port
	key      *rsa.PrivateKey
	certPEM  []byte
	caPEM    []byte // the CA that issued the server's TLS certificate
	confirms atomic.Int32
	status   atomic.Int32 // the confirmation's answer
	fetcher  *snsFetcher
}

func newSNSServer(t *testing.T, cacheSize int) *snsServer {
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	s := &snsServer{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	s.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	s.certPEM = selfSignedPEM(t, s.key)
	s.status.Store(200)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/status-"): // /status-503.pem
			code, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/status-"), ".pem"))
			w.WriteHeader(code)
		case strings.HasSuffix(r.URL.Path, ".pem"):
			w.Write(s.certPEM)
		case r.URL.Query().Get("Action") == "ConfirmSubscription" && r.URL.Query().Get("Token") != "":
			s.confirms.Add(1)
			w.WriteHeader(int(s.status.Load()))
		default:
			http.NotFound(w, r)
		}
	}))
	srvKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	s.TLS = tlsConfig(leafDER, srvKey)
	s.StartTLS()
	t.Cleanup(s.Close)
	s.host = strings.TrimPrefix(s.URL, "https://")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	s.fetcher = withFetcher(t, newSNSFetcher(pool, cacheSize))
	return s
}

// auth allows topic and the server's host.
func (s *snsServer) auth(t *testing.T, topic string) *Auth {
	opts, err := AWSIVS.Options(map[string]string{"CERT_HOSTS": "sns.*.amazonaws.com, " + s.host})
	if err != nil {
		t.Fatal(err)
	}
	return &Auth{Secret: []byte("arn:aws:sns:us-west-2:111122223333:other, " + topic), MaxSkew: 5 * time.Minute, Options: opts}
}

// sign sets the message's SigningCertURL to certURL and signs it with the server's key.
func (s *snsServer) sign(t *testing.T, m map[string]any, certURL string) []byte {
	m["SigningCertURL"] = certURL
	body, _ := json.Marshal(m)
	typ := snsType(topMembers(body))
	canonical, field, ok := appendSNSCanonical(nil, topMembers(body), typ)
	if !ok {
		t.Fatalf("%s is not a string", field)
	}
	sig, err := snsSignature(s.key, m["SignatureVersion"] == "1", canonical)
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = sig
	body, _ = json.Marshal(m)
	return body
}

// fixtureMap is a testdata/aws-ivs fixture as a map, stamped now.
func fixtureMap(t *testing.T, name string, now time.Time) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "aws-ivs", name), &m); err != nil {
		t.Fatal(err)
	}
	m["Timestamp"] = now.UTC().Format("2006-01-02T15:04:05.000Z")
	return m
}

const ivsTopic = "arn:aws:sns:us-west-2:111122223333:ivs-events"

func TestSNSEndToEndLocalTLS(t *testing.T) {
	s := newSNSServer(t, snsCacheSize)
	a := s.auth(t, ivsTopic)
	now := time.Now()
	certURL := s.URL + "/SimpleNotificationService-local.pem"
	for _, version := range []string{"1", "2"} {
		m := fixtureMap(t, "stream-state-stream-start.json", now)
		m["SignatureVersion"] = version
		c := &Callback{Body: s.sign(t, m, certURL), Header: HeaderMap{}, Received: now}
		var ev Event
		if reportErr, err := AWSIVS.Run(c, a, true, &ev); err != nil || reportErr != nil || ev.Unverified {
			t.Fatalf("v%s: %v %v unverified=%v", version, err, reportErr, ev.Unverified)
		}
		if string(ev.Type) != ivsPrefix+"stream.state.stream_start" || string(ev.ID) != "01234567-0123-0123-0123-012345678901" {
			t.Errorf("v%s: %s %s", version, ev.Type, ev.ID)
		}
	}
	if s.fetcher.fetches != 1 {
		t.Errorf("%d certificate fetches, want 1 (cached by URL)", s.fetcher.fetches)
	}

	// SubscriptionConfirmation: verified, confirmed by a GET, answered, never published.
	confirm := fixtureMap(t, "probe-subscription-confirmation.json", now)
	confirm["SubscribeURL"] = s.URL + "/?Action=ConfirmSubscription&TopicArn=" + ivsTopic + "&Token=INVENTEDtoken"
	c := &Callback{Body: s.sign(t, confirm, certURL), Header: HeaderMap{}, Received: now}
	reply, probe, err := AWSIVS.Probe(c, a, nil)
	if !probe || err != nil || string(reply) != "{}" || s.confirms.Load() != 1 {
		t.Fatalf("confirmation: probe=%v %v %q, %d GETs", probe, err, reply, s.confirms.Load())
	}
	// SNS's endpoint failing: 503 for SNS to send it again, 400 when it refused; the token
	// never in the reason.
	for status, want := range map[int32]string{503: "*normalize.UnavailableError", 429: "*normalize.UnavailableError", 404: "*normalize.PayloadError"} {
		s.status.Store(status)
		c = &Callback{Body: c.Body, Header: HeaderMap{}, Received: now}
		_, _, err = AWSIVS.Probe(c, a, nil)
		if fmt.Sprintf("%T", err) != want || !strings.Contains(err.Error(), fmt.Sprint(status)) || strings.Contains(err.Error(), "INVENTEDtoken") {
			t.Errorf("confirmation answered %d: %T %v", status, err, err)
		}
	}
	s.status.Store(200)
	// An unsigned confirmation is never confirmed, and neither is one on a host not allowed.
	for name, m := range map[string]func(map[string]any) []byte{
		"bad signature": func(m map[string]any) []byte {
			b := s.sign(t, m, certURL)
			return []byte(strings.Replace(string(b), "subscribe", "Subscribe", 1))
		},
		"host not allowed": func(m map[string]any) []byte {
			m["SubscribeURL"] = "https://example.com/?Action=ConfirmSubscription&Token=x"
			return s.sign(t, m, certURL)
		},
	} {
		before := s.confirms.Load()
		c := &Callback{Body: m(fixtureMap(t, "probe-subscription-confirmation.json", now)), Header: HeaderMap{}, Received: now}
		if _, _, err := AWSIVS.Probe(c, a, nil); err == nil || s.confirms.Load() != before {
			t.Errorf("%s: %v, %d GETs", name, err, s.confirms.Load()-before)
		}
	}
	// The certificate's host failing: 503 for SNS to send it again; refusing it: 401.
	for status, want := range map[int]string{503: "*normalize.UnavailableError", 404: "*normalize.AuthError"} {
		m := fixtureMap(t, "stream-state-stream-end.json", now)
		c := &Callback{Body: s.sign(t, m, fmt.Sprintf("%s/status-%d.pem", s.URL, status)), Header: HeaderMap{}, Received: now}
		if _, err := AWSIVS.Verify(c, a); fmt.Sprintf("%T", err) != want {
			t.Errorf("certificate answered %d: %T %v", status, err, err)
		}
	}
	// UnsubscribeConfirmation: verified, answered, no GET.
	before := s.confirms.Load()
	c = &Callback{Body: s.sign(t, fixtureMap(t, "probe-unsubscribe-confirmation.json", now), certURL), Header: HeaderMap{}, Received: now}
	if reply, probe, err := AWSIVS.Probe(c, a, nil); !probe || err != nil || string(reply) != "{}" || s.confirms.Load() != before {
		t.Errorf("unsubscribe: %v %v %q", probe, err, reply)
	}
}

// TestSNSRefusedBeforeFetch: what is checked before the certificate is fetched refuses the
// message with an *AuthError and fetches nothing.
func TestSNSRefusedBeforeFetch(t *testing.T) {
	s := newSNSServer(t, snsCacheSize)
	now := time.Now()
	certURL := s.URL + "/SimpleNotificationService-local.pem"
	defaultHosts := &Auth{Secret: []byte(ivsTopic), MaxSkew: 5 * time.Minute}
	tests := []struct {
		name    string
		auth    *Auth
		edit    func(m map[string]any)
		certURL string
		header  HeaderMap
		wantErr string
	}{
		{"topic not allowed", s.auth(t, "arn:aws:sns:us-west-2:111122223333:another"), nil, certURL, nil, "is not in CALLBRIDGE_AWS_IVS_TOPIC_ARNS"},
		{"cert host not allowed", defaultHosts, nil, certURL, nil, "not one of CALLBRIDGE_AWS_IVS_CERT_HOSTS"},
		{"cert over http", s.auth(t, ivsTopic), nil, "http://" + s.host + "/cert.pem", nil, "is not an https URL"},
		{"cert not a .pem", s.auth(t, ivsTopic), nil, s.URL + "/cert.txt", nil, "does not name a .pem file"},
		{"cert with a query", s.auth(t, ivsTopic), nil, s.URL + "/cert.pem?x=.pem", nil, "has a query"},
		{"cert host with userinfo", s.auth(t, ivsTopic), nil, "https://sns.us-west-2.amazonaws.com@" + s.host + "/cert.pem", nil, "is not an https URL"},
		{"Timestamp two hours old", s.auth(t, ivsTopic), func(m map[string]any) {
			m["Timestamp"] = now.Add(-2 * time.Hour).UTC().Format(time.RFC3339)
		}, certURL, nil, "signature window"},
		{"Timestamp ahead", s.auth(t, ivsTopic), func(m map[string]any) {
			m["Timestamp"] = now.Add(time.Hour).UTC().Format(time.RFC3339)
		}, certURL, nil, "in the future"},
		{"raw delivery", s.auth(t, ivsTopic), nil, certURL, HeaderMap{"x-amz-sns-rawdelivery": "true"}, "raw message delivery"},
		{"unknown Type", s.auth(t, ivsTopic), func(m map[string]any) { m["Type"] = "Other" }, certURL, nil, "Type is not"},
	}
	for _, tt := range tests {
		m := fixtureMap(t, "stream-state-stream-start.json", now)
		if tt.edit != nil {
			tt.edit(m)
		}
		h := tt.header
		if h == nil {
			h = HeaderMap{}
		}
		c := &Callback{Body: s.sign(t, m, tt.certURL), Header: h, Received: now}
		_, err := AWSIVS.Verify(c, tt.auth)
		t.Run(tt.name, func(t *testing.T) { checkVerify(t, Signed, err, Signed, tt.wantErr) })
	}
	if s.fetcher.fetches != 0 {
		t.Errorf("%d fetches, want none", s.fetcher.fetches)
	}
	// A retry an hour later (SNS's longest policy) passes.
	m := fixtureMap(t, "stream-state-stream-start.json", now.Add(-time.Hour))
	c := &Callback{Body: s.sign(t, m, certURL), Header: HeaderMap{}, Received: now}
	if _, err := AWSIVS.Verify(c, s.auth(t, ivsTopic)); err != nil {
		t.Errorf("retry an hour later: %v", err)
	}
}

func TestSNSCacheBounded(t *testing.T) {
	s := newSNSServer(t, 2)
	now := time.Now()
	a := s.auth(t, ivsTopic)
	for i, name := range []string{"a", "b", "c", "a"} {
		m := fixtureMap(t, "stream-state-stream-start.json", now)
		c := &Callback{Body: s.sign(t, m, s.URL+"/"+name+".pem"), Header: HeaderMap{}, Received: now}
		if _, err := AWSIVS.Verify(c, a); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if len(s.fetcher.certs) > 2 || len(s.fetcher.order) != len(s.fetcher.certs) {
			t.Fatalf("cache holds %d (%d in order), bound 2", len(s.fetcher.certs), len(s.fetcher.order))
		}
	}
	if s.fetcher.fetches != 4 { // a was evicted by c, and fetched again
		t.Errorf("%d fetches, want 4", s.fetcher.fetches)
	}
}

// TestSNSVerifyAllocs: a verification on a cached certificate allocates what RSA verification
// itself does, nothing more.
func TestSNSVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	s := newSNSServer(t, snsCacheSize)
	a := s.auth(t, ivsTopic)
	now := time.Now()
	c := &Callback{Body: s.sign(t, fixtureMap(t, "stream-state-stream-start.json", now), s.URL+"/x.pem"), Header: HeaderMap{}, Received: now}
	if _, err := AWSIVS.Verify(c, a); err != nil {
		t.Fatal(err)
	}
	verify := testing.AllocsPerRun(50, func() {
		c.scanned = false
		if _, err := AWSIVS.Verify(c, a); err != nil {
			t.Fatal(err)
		}
	})
	sum := sha256.Sum256([]byte("x"))
	sig, _ := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	rsaOnly := testing.AllocsPerRun(50, func() { rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) })
	if verify > rsaOnly {
		t.Errorf("Verify allocates %v times, RSA verification alone %v", verify, rsaOnly)
	}
	t.Logf("Verify %v allocs, RSA verification %v", verify, rsaOnly)
}

package normalize

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Signing SNS messages for `callbridge send`, bench and the tests. Nobody but AWS holds an SNS
// signing key, so Sign signs with a key of its own process: an RSA key made at the first
// signature, whose certificate is never served anywhere. Its SigningCertURL names a host of
// CERT_HOSTS (the first pattern, '*' as "callbridge-local") and a path that is random per process
// and ends with a digest of the topic allow-list it was signed for. Verify knows the key only in
// the process that made it, and only for that allow-list: a bridge in the same process (tests,
// `callbridge bench` against its own bridge) checks the signature with it as it would with a
// cached AWS certificate; any other process (or another allow-list) refuses the message, and
// never fetches a URL of Sign's making. A confirmation this process signed is answered without
// a GET: there is no subscription behind it.

// snsSigner is this process's signing key, its certificate, and the path of its URLs:
// "/callbridge-local-<random>-", then a digest of the allow-list and ".pem".
type snsSigner struct {
	key  *rsa.PrivateKey
	cert snsCert
	path string
}

// snsLocal is the signer once made: read by Verify on any request, so published atomically.
var (
	snsLocal     atomic.Pointer[snsSigner]
	snsLocalOnce sync.Once
	snsLocalErr  error
)

// snsLocalKey returns this process's signer, made on first use.
func snsLocalKey() (*snsSigner, error) {
	snsLocalOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			snsLocalErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "callbridge local SNS signer"},
			NotBefore:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			snsLocalErr = err
			return
		}
		x, _ := x509.ParseCertificate(der)
		var nonce [8]byte
		rand.Read(nonce[:])
		snsLocal.Store(&snsSigner{
			key:  key,
			cert: snsCert{key: &key.PublicKey, notBefore: x.NotBefore, notAfter: x.NotAfter},
			path: snsLocalPrefix + hex.EncodeToString(nonce[:]) + "-",
		})
	})
	return snsLocal.Load(), snsLocalErr
}

// snsListDigest is the URL part naming a topic allow-list: 16 hex digits of its SHA-256.
func snsListDigest(dst []byte, list []byte) []byte {
	sum := sha256.Sum256(list)
	var h [16]byte
	hex.Encode(h[:], sum[:8])
	return append(dst, h[:]...)
}

// snsLocalPrefix starts the path of every URL Sign makes; AWS's are
// /SimpleNotificationService-<hex>.pem.
const snsLocalPrefix = "/callbridge-local-"

// snsLocalCert returns this process's certificate when certURL is one Sign made here for a's
// allow-list. local reports a URL of Sign's making (this process's or another's): never fetched.
// No allocation.
func snsLocalCert(certURL []byte, a *Auth) (cert *snsCert, local bool) {
	_, rest, ok := snsURLHost(certURL)
	if !ok || !bytes.HasPrefix(rest, []byte(snsLocalPrefix)) {
		return nil, false
	}
	signer := snsLocal.Load()
	if signer == nil {
		return nil, true
	}
	p := signer.path
	if len(rest) != len(p)+16+len(".pem") || string(rest[:len(p)]) != p || string(rest[len(rest)-4:]) != ".pem" {
		return nil, true
	}
	var d [16]byte
	if string(snsListDigest(d[:0], a.Secret)) != string(rest[len(p):len(p)+16]) {
		return nil, true
	}
	return &signer.cert, true
}

// signIVS makes body the message SNS would deliver at now: Timestamp now; with a topic
// allow-list, TopicArn its last topic, SigningCertURL this process's, Signature over the
// canonical string (SignatureVersion kept when "1" or "2", else "2"). Without one, the body is
// only stamped: an unsigned message. A body whose Type is not an SNS one, or whose signed
// fields are not strings, is not one SNS sends.
func signIVS(body []byte, a *Auth, now time.Time) ([]byte, []Header, error) {
	var top []member
	err := eachMember(body, func(m member) { top = append(top, m) })
	typ := snsType(top)
	if err != nil || typ == 0 || duplicateKey(top) != nil {
		return nil, nil, errors.New("aws-ivs: not an SNS message: want a JSON object with Type Notification, SubscriptionConfirmation or UnsubscribeConfirmation")
	}
	stamp := now.UTC().AppendFormat(nil, `"2006-01-02T15:04:05.000Z"`)
	body, err = replaceMember(body, "Timestamp", stamp)
	if err != nil {
		return nil, nil, err
	}
	headers := []Header{{"Content-Type", "text/plain; charset=UTF-8"}, {"x-amz-sns-message-type", strings.Trim(string(lookup(top, "Type")), `"`)}}
	if len(a.Secret) == 0 {
		return body, headers, nil
	}
	signer, err := snsLocalKey()
	if err != nil {
		return nil, nil, err
	}
	topic := ""
	for _, t := range strings.Split(string(a.Secret), ",") {
		if t = strings.TrimSpace(t); t != "" {
			topic = t
		}
	}
	if topic == "" {
		return nil, nil, errors.New("aws-ivs: the topic allow-list names no topic")
	}
	version := string(lookup(top, "SignatureVersion"))
	if version != `"1"` {
		version = `"2"`
	}
	host := strings.ReplaceAll(strings.TrimSpace(strings.Split(a.setting(ivsSettings, "CERT_HOSTS").Text, ",")[0]), "*", "callbridge-local")
	certURL := append([]byte("https://"+host+signer.path), snsListDigest(nil, a.Secret)...)
	certURL = append(certURL, ".pem"...)
	for _, set := range []struct{ key, val string }{
		{"TopicArn", string(appendString(nil, []byte(topic)))},
		{"SignatureVersion", version},
		{"SigningCertURL", string(appendString(nil, certURL))},
	} {
		if body, err = replaceMember(body, set.key, []byte(set.val)); err != nil {
			return nil, nil, err
		}
	}
	canonical, field, ok := appendSNSCanonical(nil, topMembers(body), typ)
	if !ok {
		return nil, nil, errors.New("aws-ivs: " + field + " is not a string")
	}
	sig, err := snsSignature(signer.key, version == `"1"`, canonical)
	if err != nil {
		return nil, nil, err
	}
	body, err = replaceMember(body, "Signature", []byte(`"`+sig+`"`))
	return body, headers, err
}

// snsSignature is the base64 Signature of a canonical string: SHA-1 (SignatureVersion 1) or
// SHA-256 (2), RSA PKCS#1 v1.5.
func snsSignature(key *rsa.PrivateKey, sha1Version bool, canonical []byte) (string, error) {
	var sig []byte
	var err error
	if sha1Version {
		sum := sha1.Sum(canonical)
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256(canonical)
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	}
	return base64.StdEncoding.EncodeToString(sig), err
}

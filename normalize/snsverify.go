package normalize

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// The Amazon SNS message signature (shared/providers/PROTOCOLS-WAVE3-GLOBAL.md §8b), for the
// aws-ivs provider (awsivs.go): the topic allow-list, the certificate's URL and the publish
// time are checked before the certificate is fetched (snscert.go), then the RSA signature over
// the canonical string. No allocation on a cached certificate but RSA's own.

// SNS message types.
const (
	snsNotification = iota + 1
	snsSubscribe
	snsUnsubscribe
)

// snsType reads Type; 0 for any other value.
func snsType(top []member) int {
	switch string(lookup(top, "Type")) {
	case `"Notification"`:
		return snsNotification
	case `"SubscriptionConfirmation"`:
		return snsSubscribe
	case `"UnsubscribeConfirmation"`:
		return snsUnsubscribe
	}
	return 0
}

// snsSigned are the fields the signature covers, in the order of the canonical string (§8b).
var snsSigned = [...][]string{
	snsNotification: {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"},
	snsSubscribe:    {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"},
	snsUnsubscribe:  {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"},
}

// appendSNSCanonical appends the string to sign of a message of type typ: Key\nValue\n for each
// signed field present, a null one being absent. ok is false when one is not a string.
func appendSNSCanonical(dst []byte, top []member, typ int) (out []byte, field string, ok bool) {
	for _, k := range snsSigned[typ] {
		v := lookup(top, k)
		if v == nil || string(v) == "null" {
			continue
		}
		if v[0] != '"' {
			return dst, k, false
		}
		dst = append(append(dst, k...), '\n')
		dst = append(appendUnquoted(dst, v), '\n')
	}
	return dst, "", true
}

// snsBufs holds the work space of a verification: decoded fields, the canonical string, the
// signature.
var snsBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// snsString decodes the string member key (or its Lambda spelling alt) into dst.
func snsString(dst []byte, top []member, key, alt string) (out, val []byte, ok bool) {
	raw := lookup(top, key)
	if raw == nil && alt != "" {
		raw = lookup(top, alt)
	}
	if len(raw) < 2 || raw[0] != '"' {
		return dst, nil, false
	}
	start := len(dst)
	dst = appendUnquoted(dst, raw)
	return dst, dst[start:len(dst):len(dst)], true
}

func ivsVerify(c *Callback, a *Auth) (Verified, error) {
	if len(a.Secret) == 0 {
		return unsigned(a)
	}
	top, err := c.members()
	if err != nil {
		return Signed, &AuthError{Reason: "not an SNS message: " + err.Error()}
	}
	if string(c.Header.Peek("x-amz-sns-rawdelivery")) == "true" {
		return Signed, &AuthError{Reason: "raw message delivery carries no signature: turn RawMessageDelivery off on the subscription"}
	}
	typ := snsType(top)
	if typ == 0 {
		return Signed, &AuthError{Reason: "Type is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation"}
	}
	bp := snsBufs.Get().(*[]byte)
	defer snsBufs.Put(bp)
	buf, certURL, err := snsCheckOrigin((*bp)[:0], top, c.Received, a)
	if err == nil {
		buf, err = snsCheckSignature(buf, top, typ, certURL, c.Received, a)
	}
	*bp = buf[:0]
	if err != nil {
		return Signed, err
	}
	return Signed, nil
}

// snsCheckOrigin checks what is checked before any fetch: the topic, the certificate's URL
// (returned, decoded into buf), the publish time.
func snsCheckOrigin(buf []byte, top []member, received time.Time, a *Auth) (_, certURL []byte, err error) {
	buf, topic, ok := snsString(buf, top, "TopicArn", "")
	if !ok {
		return buf, nil, &AuthError{Reason: "TopicArn missing"}
	}
	if !snsTopicAllowed(a.Secret, topic) {
		return buf, nil, &AuthError{Reason: "TopicArn " + excerpt(topic) + " is not in CALLBRIDGE_AWS_IVS_TOPIC_ARNS"}
	}
	buf, certURL, ok = snsString(buf, top, "SigningCertURL", "SigningCertUrl")
	if !ok {
		return buf, nil, &AuthError{Reason: "SigningCertURL missing"}
	}
	if err := snsCheckURL(certURL, a, true); err != nil {
		return buf, nil, &AuthError{Reason: "SigningCertURL " + err.Error()}
	}
	at, ok := parseRFC3339(lookup(top, "Timestamp"))
	if !ok {
		return buf, nil, &AuthError{Reason: "Timestamp missing or not an RFC 3339 time"}
	}
	if err := checkSkew("Timestamp", at, received, a.MaxSkew+snsReplayWindow); err != nil {
		return buf, nil, err
	}
	if at.Sub(received) > a.MaxSkew {
		return buf, nil, &AuthError{Reason: "Timestamp is in the future by more than the allowed clock skew"}
	}
	return buf, certURL, nil
}

// snsCheckSignature reads the signature and builds the canonical string, and only then finds
// the certificate (this process's own, cached or fetched) and checks the signature.
func snsCheckSignature(buf []byte, top []member, typ int, certURL []byte, received time.Time, a *Auth) ([]byte, error) {
	version := string(lookup(top, "SignatureVersion"))
	if version != `"1"` && version != `"2"` {
		return buf, &AuthError{Reason: `SignatureVersion is not "1" or "2"`}
	}
	buf, sig, err := snsDecodeSignature(buf, top)
	if err != nil {
		return buf, err
	}
	from := len(buf)
	buf, field, ok := appendSNSCanonical(buf, top, typ)
	if !ok {
		return buf, &AuthError{Reason: field + " is not a string"}
	}
	cert, err := snsSigningCert(certURL, received, a)
	if err != nil {
		return buf, err
	}
	if version == `"1"` {
		sum := sha1.Sum(buf[from:])
		err = rsa.VerifyPKCS1v15(cert.key, crypto.SHA1, sum[:], sig)
	} else {
		sum := sha256.Sum256(buf[from:])
		err = rsa.VerifyPKCS1v15(cert.key, crypto.SHA256, sum[:], sig)
	}
	if err != nil {
		return buf, &AuthError{Reason: "Signature does not match the message"}
	}
	return buf, nil
}

// snsTopicAllowed reports whether topic is one of the comma-separated ARNs of list.
func snsTopicAllowed(list, topic []byte) bool {
	for len(list) > 0 {
		item := list
		if i := bytes.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = nil
		}
		if t := bytes.TrimSpace(item); len(t) > 0 && string(t) == string(topic) {
			return true
		}
	}
	return false
}

// snsCheckURL checks a SigningCertURL (cert: a path ending in .pem, no query) or SubscribeURL:
// https, and a host of CERT_HOSTS.
func snsCheckURL(u []byte, a *Auth, cert bool) error {
	host, rest, ok := snsURLHost(u)
	if !ok {
		return &AuthError{Reason: "is not an https URL"}
	}
	if cert {
		for _, c := range rest {
			if c == '?' || c == '#' {
				return &AuthError{Reason: "has a query"}
			}
		}
		if len(rest) < 5 || string(rest[len(rest)-4:]) != ".pem" {
			return &AuthError{Reason: "does not name a .pem file"}
		}
	}
	if !snsHostAllowed(a.setting(ivsSettings, "CERT_HOSTS").Text, host) {
		return &AuthError{Reason: "names host " + excerpt(host) + ", not one of CALLBRIDGE_AWS_IVS_CERT_HOSTS"}
	}
	return nil
}

// snsDecodeSignature decodes Signature (base64) into buf.
func snsDecodeSignature(buf []byte, top []member) (_, sig []byte, err error) {
	buf, sig64, ok := snsString(buf, top, "Signature", "")
	if !ok {
		return buf, nil, &AuthError{Reason: "Signature missing"}
	}
	start := len(buf)
	buf = append(buf, make([]byte, base64.StdEncoding.DecodedLen(len(sig64)))...)
	n, derr := base64.StdEncoding.Decode(buf[start:], sig64)
	if derr != nil {
		return buf, nil, &AuthError{Reason: "Signature is not base64"}
	}
	return buf[:start+n], buf[start : start+n : start+n], nil
}

// snsSigningCert returns the certificate at certURL, valid at received: this process's own,
// cached or fetched. A URL of Sign's making is never fetched.
func snsSigningCert(certURL []byte, received time.Time, a *Auth) (*snsCert, error) {
	cert, local := snsLocalCert(certURL, a)
	switch {
	case local && cert == nil:
		return nil, &AuthError{Reason: "signed by `callbridge send` in another process or for another topic allow-list, not by AWS: refused (CALLBRIDGE_AWS_IVS_VERIFY=report accepts it unverified)"}
	case cert == nil:
		var err error
		if cert, err = snsFetch.cert(certURL); snsTransient(err) {
			return nil, &UnavailableError{Reason: "SigningCertURL could not be fetched, retry later: " + err.Error()}
		} else if err != nil {
			return nil, &AuthError{Reason: "SigningCertURL: " + err.Error()}
		}
	}
	if received.Before(cert.notBefore) || received.After(cert.notAfter) {
		return nil, &AuthError{Reason: "the signing certificate is not valid at the time the message arrived"}
	}
	return cert, nil
}

package publish

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Message is one event or dead letter rendered for a broker by an Encoder: everything the
// target takes, so that a sink (or the buffer's forwarder) sends it without knowing the event or
// its provider.
//
// Its slices point into buffers of its own (or, for a Message read back by the buffer, into the
// stored entry): it is valid until the Encoder renders into it again. A Message is not safe for
// concurrent use.
type Message struct {
	Subject []byte   // the NATS subject or the Kafka topic, checked against the broker's limit
	Key     []byte   // the Kafka message key; nil: none (NATS has none)
	ID      []byte   // the deduplication id: Nats-Msg-Id on NATS and in the buffer, unused by Kafka
	Headers []Header // in order; each key at most once
	Data    []byte   // the message value

	seq  uint64 // the NATS publisher's sequence number for it
	buf  []byte // storage of Subject, ID, Key and Data, in that order
	vals []byte // storage of the header values, one after another
}

// Header is one message header. Its key is one of the binding's names (or ours), never a value
// from a payload.
type Header struct {
	Key   string
	Value []byte
}

var messages = sync.Pool{New: func() any {
	return &Message{buf: make([]byte, 0, 2048), vals: make([]byte, 0, 256), Headers: make([]Header, 0, 12)}
}}

// maxPooledMsg: a buffer grown past this by one large event is left to the GC, not pooled.
const maxPooledMsg = 64 << 10

// newMessage is an empty pooled Message; recycle returns it once nothing refers to it.
func newMessage() *Message { return messages.Get().(*Message) }

func (m *Message) recycle() {
	if cap(m.buf) > maxPooledMsg || cap(m.vals) > maxPooledMsg {
		return
	}
	m.reset()
	messages.Put(m)
}

// reset empties m, keeping its buffers.
func (m *Message) reset() {
	clear(m.Headers) // the keys and values they point to
	*m = Message{buf: m.buf[:0], vals: m.vals[:0], Headers: m.Headers[:0]}
}

// addHeader adds a header; its value is copied.
func (m *Message) addHeader(key string, value []byte) {
	start := len(m.vals)
	m.vals = append(m.vals, value...)
	m.Headers = append(m.Headers, Header{Key: key, Value: m.vals[start:len(m.vals):len(m.vals)]})
}

// seal points Subject, ID, Key and Data into buf, which holds them one after another: the
// subject up to nameEnd, the id up to idEnd, the key up to keyEnd and the data after it. Header
// values are pointed to again too, since vals may have moved while they were added.
func (m *Message) seal(nameEnd, idEnd, keyEnd int) {
	b := m.buf
	m.Subject = b[:nameEnd:nameEnd]
	m.ID = b[nameEnd:idEnd:idEnd]
	m.Key = nil
	if keyEnd > idEnd {
		m.Key = b[idEnd:keyEnd:keyEnd]
	}
	m.Data = b[keyEnd:len(b):len(b)]
	start := 0
	for i := range m.Headers {
		end := start + len(m.Headers[i].Value)
		m.Headers[i].Value = m.vals[start:end:end]
		start = end
	}
}

// copyFrom makes m a copy of src that shares nothing with it.
func (m *Message) copyFrom(src *Message) {
	m.reset()
	m.buf = append(append(append(append(m.buf, src.Subject...), src.ID...), src.Key...), src.Data...)
	for _, h := range src.Headers {
		m.addHeader(h.Key, h.Value)
	}
	nameEnd := len(src.Subject)
	idEnd := nameEnd + len(src.ID)
	m.seal(nameEnd, idEnd, idEnd+len(src.Key))
}

// The buffer stores a Message as a frame: frameMagic, then the subject, the id, the key and each
// header as uvarint-length-prefixed bytes (the header count first), then the data to the end.
var frameMagic = []byte{0, 'c', 'b', 1} // 1: the frame's version

// appendFrame appends m as a frame.
func appendFrame(dst []byte, m *Message) []byte {
	dst = append(dst, frameMagic...)
	field := func(dst, v []byte) []byte { return append(binary.AppendUvarint(dst, uint64(len(v))), v...) }
	dst = field(dst, m.Subject)
	dst = field(dst, m.ID)
	dst = field(dst, m.Key)
	dst = binary.AppendUvarint(dst, uint64(len(m.Headers)))
	for _, h := range m.Headers {
		dst = append(binary.AppendUvarint(dst, uint64(len(h.Key))), h.Key...)
		dst = field(dst, h.Value)
	}
	return append(dst, m.Data...)
}

// errUnreadable is a buffered entry that cannot be turned into a Message: it can never be
// forwarded.
var errUnreadable = errors.New("buffered entry unreadable")

// maxFrameHeaders bounds the header count a frame may claim.
const maxFrameHeaders = 64

// readFrame reads a frame written by appendFrame into m, whose slices then point into b.
func readFrame(b []byte, m *Message) error {
	rest, ok := bytes.CutPrefix(b, frameMagic)
	if !ok {
		return fmt.Errorf("%w: not a message frame of this version", errUnreadable)
	}
	field := func() []byte {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			ok = false
			return nil
		}
		v := rest[w : w+int(n) : w+int(n)]
		rest = rest[w+int(n):]
		return v
	}
	*m = Message{Headers: m.Headers[:0]}
	m.Subject, m.ID, m.Key = field(), field(), field()
	if len(m.Key) == 0 {
		m.Key = nil
	}
	count, w := binary.Uvarint(rest)
	if !ok || w <= 0 || count > maxFrameHeaders {
		return fmt.Errorf("%w: a message frame cut short", errUnreadable)
	}
	rest = rest[w:]
	for range count {
		key, value := field(), field()
		if !ok {
			return fmt.Errorf("%w: a message frame cut short", errUnreadable)
		}
		m.Headers = append(m.Headers, Header{Key: headerKey(key), Value: value})
	}
	if len(m.Subject) == 0 {
		return fmt.Errorf("%w: a message frame without a subject", errUnreadable)
	}
	m.Data = rest
	return nil
}

// knownHeaderKeys are the header names an Encoder writes, so that reading a frame back makes no
// string for them.
var knownHeaderKeys = func() map[string]string {
	keys := map[string]string{}
	for _, k := range []string{"content-type", binaryDataContentTypeHeader, ReasonHeader, VerifiedHeader, jetstream.MsgIDHeader} {
		keys[k] = k
	}
	for _, names := range headerNames {
		for _, k := range names {
			keys[k] = k
		}
	}
	return keys
}()

func headerKey(b []byte) string {
	if k, ok := knownHeaderKeys[string(b)]; ok {
		return k
	}
	return string(b)
}

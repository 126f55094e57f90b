package publish

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// What the server answers a publish with, and what the publisher makes of it.
func TestAckError(t *testing.T) {
	noResponders := nats.Header{"Status": []string{"503"}}
	for _, tc := range []struct {
		name   string
		data   string
		header nats.Header
		want   error // nil, a sentinel, or *jetstream.APIError (matched by type and code)
		code   jetstream.ErrorCode
	}{
		{name: "stored", data: `{"stream":"CALLBACKS","seq":12}`},
		{name: "duplicate", data: `{"stream":"CALLBACKS","seq":12,"duplicate":true}`},
		{name: "domain", data: `{"stream":"CALLBACKS","domain":"hub","seq":3}`},
		{name: "spaced", data: `{ "stream": "CALLBACKS", "seq": 1 }`},
		{name: "too large", data: `{"error":{"code":400,"err_code":10054,"description":"message size exceeds maximum allowed"},"stream":"CALLBACKS","seq":0}`,
			want: &jetstream.APIError{}, code: jetstream.JSErrCodeStreamMessageExceedsMaximum},
		{name: "error after stream", data: `{"stream":"CALLBACKS","error":{"code":503,"err_code":10077,"description":"resource limits exceeded for account"}}`,
			want: &jetstream.APIError{}, code: 10077},
		{name: "no stream named", data: `{"seq":1}`, want: jetstream.ErrInvalidJSAck},
		{name: "not JSON", data: `{"stream":"CALLBACKS"`, want: jetstream.ErrInvalidJSAck},
		{name: "no responders", header: noResponders, want: jetstream.ErrNoStreamResponse},
		{name: "empty", want: jetstream.ErrInvalidJSAck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ackError(&nats.Msg{Data: []byte(tc.data), Header: tc.header})
			var apiErr *jetstream.APIError
			switch want := tc.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
			case *jetstream.APIError:
				if !errors.As(err, &apiErr) || apiErr.ErrorCode != tc.code {
					t.Fatalf("got %v, want API error %d", err, tc.code)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
			}
		})
	}
}

// FuzzAckError: the shortcut (no decoding) agrees with decoding the PubAck, for any bytes.
func FuzzAckError(f *testing.F) {
	f.Add([]byte(`{"stream":"CALLBACKS","seq":12}`))
	f.Add([]byte(`{"stream":"CALLBACKS","seq":12,"duplicate":true}`))
	f.Add([]byte(`{"error":{"code":400,"err_code":10054,"description":"x"},"stream":"S","seq":0}`))
	f.Add([]byte(`{"stream":"S","seq":1,"stream":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ackError(&nats.Msg{Data: data})
		var resp struct {
			Error  *jetstream.APIError `json:"error"`
			Stream string              `json:"stream"`
		}
		decoded := json.Unmarshal(data, &resp) == nil && resp.Error == nil && resp.Stream != ""
		if (err == nil) != decoded {
			t.Fatalf("%q: ackError %v, decoded as a success: %v", data, err, decoded)
		}
	})
}

// newTestPublisher is a publisher on s's connection, with its own timeout and bound, and a
// subject "noack.x" that a plain subscriber takes and never answers.
func newTestPublisher(t *testing.T, s *NATS, timeout time.Duration, max int) *jsPublisher {
	t.Helper()
	sub, err := s.nc.SubscribeSync("noack.>")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	p, err := newJSPublisher(s.nc, timeout, max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.close(nil) })
	return p
}

// out is a message for subject with the given Nats-Msg-Id (none if empty).
func out(subject, id string) *Message {
	m := newMessage()
	m.buf = append(append(append(m.buf, subject...), id...), "{}"...)
	m.seal(len(subject), len(subject)+len(id), len(subject)+len(id))
	return m
}

// stored is a message the stream holds.
func stored(id string) *Message { return out("callbacks.test.x", id) }

func TestJSPublisherTimesOut(t *testing.T) {
	s := newEmbedded(t, NATSConfig{})
	p := newTestPublisher(t, s, 200*time.Millisecond, 16)
	start := time.Now()
	err := p.publish(out("noack.x", ""))
	took := time.Since(start)
	if !errors.Is(err, errAckTimeout) {
		t.Fatalf("got %v, want errAckTimeout", err)
	}
	if took < 200*time.Millisecond || took > 200*time.Millisecond+2*p.sweepInterval()+100*time.Millisecond {
		t.Errorf("timed out after %v, want 200ms and at most two sweeps more", took)
	}
	if n := p.pendingCount(); n != 0 {
		t.Errorf("%d still pending", n)
	}
	// A subject no stream holds is answered at once, not timed out.
	if err := p.publish(out("nostream.x", "")); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("no stream: got %v, want ErrNoStreamResponse", err)
	}
}

// A full publisher makes the next caller wait for room, until its own deadline.
func TestJSPublisherWaitsForRoom(t *testing.T) {
	s := newEmbedded(t, NATSConfig{})
	p := newTestPublisher(t, s, 300*time.Millisecond, 1)
	first := make(chan error, 1)
	go func() { first <- p.publish(out("noack.x", "")) }()
	for p.pendingCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	p.timeout = 2 * time.Second // the second caller's: it outlives the first's
	start := time.Now()
	if err := p.publish(stored("after-room")); err != nil {
		t.Fatalf("second publish: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("second publish done after %v: it did not wait for the first to time out", waited)
	}
	if err := <-first; !errors.Is(err, errAckTimeout) {
		t.Errorf("first publish: %v, want errAckTimeout", err)
	}

	// With the one slot held past the caller's deadline, the caller is refused.
	p2 := newTestPublisher(t, s, 300*time.Millisecond, 1)
	go func() { first <- p2.publish(out("noack.x", "")) }()
	for p2.pendingCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	p2.timeout = 50 * time.Millisecond
	if err := p2.publish(stored("no-room")); !errors.Is(err, errTooManyPending) {
		t.Errorf("got %v, want errTooManyPending", err)
	}
	<-first
}

// close waits for what is pending; what is still pending when the caller gives up gets
// ErrClosed, and publishes after close are refused.
func TestJSPublisherClose(t *testing.T) {
	s := newEmbedded(t, NATSConfig{})
	p, err := newJSPublisher(s.nc, 10*time.Second, 16)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := s.nc.SubscribeSync("noack.>")
	defer sub.Unsubscribe()
	if err := p.publish(stored("before-close")); err != nil {
		t.Fatal(err)
	}
	stuck := make(chan error, 1)
	go func() { stuck <- p.publish(out("noack.x", "")) }()
	for p.pendingCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	give := make(chan struct{})
	time.AfterFunc(100*time.Millisecond, func() { close(give) })
	if left := p.close(give); left != 1 {
		t.Errorf("close left %d pending, want 1", left)
	}
	if err := <-stuck; !errors.Is(err, ErrClosed) {
		t.Errorf("pending at close: %v, want ErrClosed", err)
	}
	if err := p.publish(stored("after-close")); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v, want ErrClosed", err)
	}
}

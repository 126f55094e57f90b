package publish

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/callbridge/callbridge/internal/testenv"
)

// The JetStream API's answers to a publish on a cluster, as the server writes them
// (nats-server's jetstream_errors_generated.go), and the two it writes for a stored message.
const (
	replyStored      = `{"stream":"CALLBACKS","seq":1}`
	replyDuplicate   = `{"stream":"CALLBACKS","seq":1,"duplicate":true}`
	replyNotAvail    = `{"error":{"code":503,"err_code":10008,"description":"JetStream system temporarily unavailable"}}`
	replyInProcess   = `{"error":{"code":409,"err_code":10158,"description":"duplicate message id is in process"}}`
	replyTooMany     = `{"error":{"code":429,"err_code":10167,"description":"too many requests"}}`
	replyBadRequest  = `{"error":{"code":400,"err_code":10003,"description":"bad request"}}`
	replyNoResponder = "no responders" // an empty message with Status: 503, as the server sends when nobody listens
	replySilent      = "silent"        // no answer at all: a leader that hung, an acknowledgement lost
)

// fakeStream answers publishes on callbacks.> from a script, one reply a try, the last one
// repeated, and records the Nats-Msg-Id and data of every try. It is a plain subscriber on a
// plain nats-server: the sink's own client code (publisher, reply matching, ackError) is what
// reads the answers.
type fakeStream struct {
	mu     sync.Mutex
	script []string
	ids    []string
	data   []string
}

func (f *fakeStream) answer(m *nats.Msg) {
	f.mu.Lock()
	n := len(f.ids)
	f.ids = append(f.ids, m.Header.Get(jetstream.MsgIDHeader))
	f.data = append(f.data, string(m.Data))
	reply := f.script[min(n, len(f.script)-1)]
	f.mu.Unlock()
	switch reply {
	case replySilent:
	case replyNoResponder:
		m.RespondMsg(&nats.Msg{Subject: m.Reply, Header: nats.Header{"Status": []string{"503"}}})
	default:
		m.Respond([]byte(reply))
	}
}

// listen makes f answer on callbacks.> of the server at url, until the test ends.
func (f *fakeStream) listen(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if _, err := nc.Subscribe("callbacks.>", f.answer); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeStream) tries() (ids, data []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ids...), append([]string(nil), f.data...)
}

// newFakeStreamSink is a NATS sink on a plain server without JetStream (so no stream to
// create), publishing with the given publish timeout.
func newFakeStreamSink(t *testing.T, timeout time.Duration) (*NATS, string) {
	t.Helper()
	url := testenv.JetStream(t, testenv.NoJetStream()).ClientURL()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := ParseTemplate("callbacks.{provider}.{eventtype}")
	s := &NATS{cfg: NATSConfig{Timeout: timeout, Stream: "CALLBACKS", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		nc: nc, enc: NATSEncoder(tmpl, Structured)}
	if s.pub, err = newJSPublisher(nc, timeout, 64); err != nil {
		t.Fatal(err)
	}
	s.health.connected.Store(true)
	s.health.wake = make(chan struct{}, 1)
	t.Cleanup(func() { s.pub.close(nil); nc.Close() })
	return s, url
}

// TestNATSRetriesOnClusterAnswers: each answer a clustered stream gives during an election or
// a concurrent publish is retried with the same Nats-Msg-Id and data within the publish timeout,
// or answered at once when retrying cannot help; a retry that meets the stored message gets a
// duplicate PubAck, which is a success.
func TestNATSRetriesOnClusterAnswers(t *testing.T) {
	tests := []struct {
		name     string
		script   []string
		wantErr  func(error) bool // nil: success
		tries    int              // exactly this many; 0: see minTries
		minTries int
		atLeast  time.Duration // the publish took at least this long (it kept trying)
	}{
		{name: "no responders, then stored", script: []string{replyNoResponder, replyNoResponder, replyStored}, tries: 3},
		{name: "503 10008, then stored", script: []string{replyNotAvail, replyNotAvail, replyStored}, tries: 3},
		{name: "acknowledgement lost, then a duplicate", script: []string{replySilent, replyDuplicate}, tries: 2},
		{name: "409 10158 in process, then a duplicate", script: []string{replyInProcess, replyInProcess, replyDuplicate}, tries: 3},
		{name: "429 10167 answered at once", script: []string{replyTooMany, replyStored}, tries: 1, wantErr: apiCode(jsTooManyRequests)},
		{name: "another API error answered at once", script: []string{replyBadRequest, replyStored}, tries: 1, wantErr: apiCode(10003)},
		{name: "503 10008 until the timeout", script: []string{replyNotAvail}, minTries: 4, atLeast: time.Second, wantErr: apiCode(jsClusterNotAvailable)},
		{name: "silent until the timeout", script: []string{replySilent}, minTries: 3, atLeast: time.Second, wantErr: isAckTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := newFakeStreamSink(t, 1500*time.Millisecond)
			f := &fakeStream{script: tt.script}
			f.listen(t, url)
			m := out("callbacks.test.x", "anyrtc/evt-1")
			defer m.recycle()
			start := time.Now()
			err := s.Send(m)
			took := time.Since(start)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Send: %v, want success", err)
			case tt.wantErr != nil && !tt.wantErr(err):
				t.Fatalf("Send: %v, not the error wanted", err)
			}
			ids, data := f.tries()
			if tt.tries > 0 && len(ids) != tt.tries || len(ids) < tt.minTries {
				t.Errorf("%d tries, want %d (at least %d)", len(ids), tt.tries, tt.minTries)
			}
			for i := range ids {
				if ids[i] != "anyrtc/evt-1" || data[i] != "{}" {
					t.Errorf("try %d: Nats-Msg-Id %q data %q, want the first try's %q %q", i+1, ids[i], data[i], "anyrtc/evt-1", "{}")
				}
			}
			if took < tt.atLeast {
				t.Errorf("gave up after %s, want it to keep trying for %s", took, tt.atLeast)
			}
		})
	}
}

func apiCode(code jetstream.ErrorCode) func(error) bool {
	return func(err error) bool {
		var apiErr *jetstream.APIError
		return errors.As(err, &apiErr) && apiErr.ErrorCode == code
	}
}

func isAckTimeout(err error) bool { return errors.Is(err, errAckTimeout) }

// An election as the server shows it: nobody listens on the stream's subjects for a while (the
// server itself answers "no responders"), then the new leader does. The publish started during
// it is stored, with one id, and answered as a success.
func TestNATSRetriesThroughAnElection(t *testing.T) {
	s, url := newFakeStreamSink(t, 3*time.Second)
	f := &fakeStream{script: []string{replyStored}}
	leader, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer leader.Close()
	time.AfterFunc(300*time.Millisecond, func() { leader.Subscribe("callbacks.>", f.answer); leader.Flush() })
	m := out("callbacks.test.x", "anyrtc/evt-2")
	defer m.recycle()
	if err := s.Send(m); err != nil {
		t.Fatalf("Send during an election: %v", err)
	}
	if ids, _ := f.tries(); len(ids) != 1 || ids[0] != "anyrtc/evt-2" {
		t.Errorf("the new leader saw %q, want the one id once", ids)
	}
}

// A connection that is down is answered at once (SPEC §2: broker unreachable, 503), not waited
// for: nothing of the publish timeout is spent on it.
func TestNATSNoRetryWhileDisconnected(t *testing.T) {
	s, _ := newFakeStreamSink(t, 5*time.Second)
	s.health.connected.Store(false)
	m := out("callbacks.test.x", "anyrtc/evt-3")
	defer m.recycle()
	start := time.Now()
	if err := s.Send(m); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Send while disconnected: %v, want ErrNotReady", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: it waited for the connection", took)
	}
}

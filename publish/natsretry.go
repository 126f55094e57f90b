package publish

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// On a JetStream cluster a publish meets answers that a single server never gives (SPEC §10).
// While a stream elects a leader (4 to 9 s after a hard kill of the old one) nobody listens on
// the stream's subjects, so the server answers "no responders" (ErrNoStreamResponse) or 503 with
// err_code 10008; a publish sent to a leader that hung is never answered at all; and when two
// bridges send the same provider retry at once, the stream answers the second 409 with err_code
// 10158 while the first is still being replicated. Each of these is retried with the SAME
// message, so the same Nats-Msg-Id, within CALLBRIDGE_PUBLISH_TIMEOUT (or the provider's
// shorter CALLBRIDGE_<ID>_PUBLISH_TIMEOUT): the stream's duplicate window makes a retry of a
// message it already holds a duplicate PubAck, which is a success (isPlainPubAck). A lost acknowledgement is never retried with a new id. 429 with err_code
// 10167 (the stream is shedding load) is answered 503 at once: retrying would add to the load.
// A connection that is down is not waited for either (SPEC §2: broker unreachable, 503 now).

const (
	// retryFirstPause is the pause before the first retry; each retry doubles it, up to
	// retryMaxPause, and a random half of it is taken off so that bridges do not retry in step.
	retryFirstPause = 20 * time.Millisecond
	retryMaxPause   = 500 * time.Millisecond
	// retryMinAttempt is the least time worth a try: with less left, the last error stands.
	retryMinAttempt = 50 * time.Millisecond
)

// attemptTimeout is how long one try waits for its acknowledgement: a quarter of the publish
// timeout, between 250 ms and 2 s, so that a publish sent to a leader that hung is sent again
// to the next leader within the timeout, and a healthy stream's slowest acks (milliseconds)
// are far from it.
func attemptTimeout(timeout time.Duration) time.Duration {
	return min(max(timeout/4, 250*time.Millisecond), 2*time.Second)
}

// sendRetrying publishes copies of m until one is acknowledged, the error is not one to retry,
// or timeout (the publish timeout, or a provider's shorter one: publish.Within) leaves no room
// for another try. m stays the caller's.
func (s *NATS) sendRetrying(m *Message, timeout time.Duration) error {
	now := time.Now().UnixNano()
	deadline := now + int64(timeout)
	per := int64(attemptTimeout(timeout))
	for attempt := 0; ; attempt++ {
		c := newMessage()
		c.copyFrom(m)
		err := s.send(c, min(deadline, now+per))
		if err == nil {
			return nil
		}
		pause, again := retryPause(err, attempt)
		now = time.Now().UnixNano()
		if !again || deadline-now < int64(pause+retryMinAttempt) {
			return err
		}
		if pause > 0 {
			time.Sleep(pause)
			now = time.Now().UnixNano()
		}
	}
}

// retryPause says whether err is worth another try of the same message, and after what pause.
func retryPause(err error, attempt int) (time.Duration, bool) {
	switch {
	case errors.Is(err, errAckTimeout), errors.Is(err, errTooManyPending):
		// The try already waited; it may have been stored: the same id again, at once.
		return 0, true
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return backoff(attempt), true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsClusterNotAvailable, jsDuplicateInProcess:
			return backoff(attempt), true
		}
	}
	return 0, false
}

// JetStream API error codes the retry rules name (nats-server's jetstream_errors_generated.go).
const (
	jsClusterNotAvailable jetstream.ErrorCode = 10008 // 503: JetStream system temporarily unavailable
	jsDuplicateInProcess  jetstream.ErrorCode = 10158 // 409: duplicate message id is in process
	jsTooManyRequests     jetstream.ErrorCode = 10167 // 429: too many requests
)

// backoff is the pause before retry attempt+1: retryFirstPause doubled attempt times, at most
// retryMaxPause, less a random part of up to half.
func backoff(attempt int) time.Duration {
	d := retryMaxPause
	if attempt < 5 {
		d = min(retryFirstPause<<attempt, retryMaxPause)
	}
	return d - rand.N(d/2)
}

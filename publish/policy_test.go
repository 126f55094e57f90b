package publish

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
)

// Retriable is what a broker that cannot be reached yet returns, wrapped or not; a refusal is not.
func TestRetriable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{ErrNotReady, true},
		{fmt.Errorf("connect: %w", ErrNotReady), true},
		{fmt.Errorf("nats: %w", nats.ErrNoServers), true},
		{nats.ErrAuthorization, false},
		{errors.New("stream does not fit"), false},
		{nil, false},
	} {
		if got := Retriable(tc.err); got != tc.want {
			t.Errorf("Retriable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

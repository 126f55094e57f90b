package publish

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"syscall"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// A stream is created with CALLBRIDGE_NATS_MAX_BYTES as its size, which JetStream reserves
// up front: a server without that much room refuses the stream ("insufficient storage
// resources available"). The embedded server's room is three quarters of what is free in
// CALLBRIDGE_DATA_DIR when it starts. Start-up then stops with a configuration error (exit 2)
// that says how much room there is and what to set, instead of the server's bare code.

// SettingError is a broker's refusal that one setting explains: the command prints Line alone
// and exits 2, like a configuration error (publish does not import config: the stages below
// the command know nothing of how settings are read).
type SettingError struct{ Line string }

func (e *SettingError) Error() string { return e.Line }

// noStorage reports the JetStream error of a server that cannot reserve a stream's size.
func noStorage(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(server.JSStorageResourcesExceededErr)
}

// noPeers reports the JetStream error of servers that cannot place a stream's replicas: a
// single server, or a cluster without that many servers current.
func noPeers(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jetstream.ErrorCode(server.JSClusterNoPeersErrF), jetstream.ErrorCode(server.JSStreamReplicasNotSupportedErr),
		jetstream.ErrorCode(server.JSInsufficientResourcesErr):
		return true
	}
	return false
}

// singleServer reports the refusal of a server that is not clustered: it never will be without
// a restart, unlike a cluster whose servers are still joining.
func singleServer(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(server.JSStreamReplicasNotSupportedErr)
}

// replicas is how many replicas a stream we create has.
func (s *NATS) replicas() int { return max(1, s.cfg.Replicas) }

// replicasError explains a stream of s.replicas() replicas that the servers cannot place. A
// single server refuses for good (a SettingError: exit 2); a cluster may be one whose servers
// are still joining (they start together with the bridges), so start-up retries, saying why,
// while /readyz says 503.
func (s *NATS) replicasError(err error) error {
	line := fmt.Sprintf("CALLBRIDGE_NATS_REPLICAS=%q: the NATS servers cannot place stream %s on that many servers (%v); "+
		"want at most the number of JetStream servers in the cluster (1 for a single server)", strconv.Itoa(s.replicas()), s.cfg.Stream, err)
	if singleServer(err) {
		return &SettingError{Line: line}
	}
	return fmt.Errorf("%w: %s", ErrNotReady, line)
}

// replicasMismatch refuses an existing stream of has replicas when CALLBRIDGE_NATS_REPLICAS asks
// for another count: the operator expects the durability of the count they set.
func (s *NATS) replicasMismatch(has int) error {
	return &SettingError{Line: fmt.Sprintf("CALLBRIDGE_NATS_REPLICAS=%q: stream %s exists with %d replicas; "+
		"set it to %d, leave it unset to use the stream as it is, or change the stream (nats stream edit %s --replicas %d)",
		strconv.Itoa(s.replicas()), s.cfg.Stream, has, has, s.cfg.Stream, s.replicas())}
}

// diskFree is what an unprivileged writer may still use in dir's file system.
func diskFree(dir string) (int64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, err
	}
	return int64(fs.Bavail) * int64(fs.Bsize), nil
}

// noStorageError explains a stream of s.cfg.MaxBytes that the server refused for want of room.
func (s *NATS) noStorageError(err error) error {
	line := fmt.Sprintf("CALLBRIDGE_NATS_MAX_BYTES=%q: ", strconv.FormatInt(s.cfg.MaxBytes, 10))
	if s.embedded == nil {
		return &SettingError{Line: line + fmt.Sprintf("the NATS server has no room for stream %s that large (%v); "+
			"lower it, or give the server's JetStream more storage", s.cfg.Stream, err)}
	}
	room := int64(-1)
	if js := s.embedded.JetStreamConfig(); js != nil {
		_, reserved, _ := s.embedded.JetStreamReservedResources()
		room = max(0, js.MaxStore-max(0, reserved))
	}
	where := "CALLBRIDGE_DATA_DIR " + strconv.Quote(s.cfg.DataDir)
	if free, ferr := diskFree(s.cfg.DataDir); ferr == nil {
		where += " has " + byteSize(free) + " free"
	}
	if room < 0 {
		return &SettingError{Line: line + "the embedded NATS server has no room for the stream: " + where +
			"; lower it, or give " + where + " more room"}
	}
	fits := room &^ (1<<20 - 1) // whole MiB
	if fits == 0 {
		fits = room
	}
	return &SettingError{Line: line + fmt.Sprintf("the embedded NATS server has no room for the stream: %s, "+
		"of which JetStream may reserve %s; want at most %d (%s), or more room in CALLBRIDGE_DATA_DIR",
		where, byteSize(room), fits, byteSize(fits))}
}

// byteSize is n in KiB, MiB or GiB to a tenth, rounded down (it says how much room there is).
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size {
			return strconv.FormatFloat(math.Floor(float64(n)*10/float64(u.size))/10, 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

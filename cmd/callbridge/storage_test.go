package main

import (
	"bytes"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A stream larger than the data directory's room stops start-up as a configuration error: exit
// 2, with a last line that names CALLBRIDGE_NATS_MAX_BYTES and a value that fits.
func TestRunStreamLargerThanDataDir(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Skipf("statfs: %v", err)
	}
	tooMuch := strconv.FormatInt(2*int64(fs.Bavail)*int64(fs.Bsize)+1<<30, 10)
	t.Setenv("CALLBRIDGE_DATA_DIR", dir)
	t.Setenv("CALLBRIDGE_LISTEN", "127.0.0.1:0")
	t.Setenv("CALLBRIDGE_EMBEDDED_NATS_LISTEN", "127.0.0.1:0")
	t.Setenv("CALLBRIDGE_NATS_MAX_BYTES", tooMuch)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{`CALLBRIDGE_NATS_MAX_BYTES="` + tooMuch + `"`, "free", "want at most "} {
		if !strings.Contains(last, want) {
			t.Errorf("%q does not say %q", last, want)
		}
	}
}

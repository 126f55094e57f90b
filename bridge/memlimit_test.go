package bridge

import (
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"
)

// The Go memory limit follows the container's cgroup limit, 90 % of it, unless GOMEMLIMIT is set
// or the container has none.
func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // put back what the test process had
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	write := func(content string) string {
		f := filepath.Join(t.TempDir(), "memory.max")
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name      string
		files     []string
		gomem     string
		want      int64 // what SetMemoryLimit returns
		wantLimit int64 // the runtime's limit afterwards; 0: unchanged
	}{
		{name: "cgroup v2 limit", files: []string{write("536870912\n")}, want: 483183820, wantLimit: 483183820},
		{name: "cgroup v2 max", files: []string{write("max\n")}},
		{name: "cgroup v1 unlimited", files: []string{write("9223372036854771712\n")}},
		{name: "v2 missing, v1 set", files: []string{filepath.Join(t.TempDir(), "none"), write("1073741824")}, want: 966367641, wantLimit: 966367641},
		{name: "no cgroup files", files: []string{filepath.Join(t.TempDir(), "none")}},
		{name: "GOMEMLIMIT set", files: []string{write("536870912")}, gomem: "300MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			t.Setenv("GOMEMLIMIT", tc.gomem)
			if got := SetMemoryLimit(logger, tc.files); got != tc.want {
				t.Errorf("SetMemoryLimit = %d, want %d", got, tc.want)
			}
			want := tc.wantLimit
			if want == 0 {
				want = math.MaxInt64
			}
			if got := debug.SetMemoryLimit(-1); got != want {
				t.Errorf("runtime limit %d, want %d", got, want)
			}
		})
	}
}

// Where the limit is looked for: the process's own cgroup first (v2 or v1, from
// /proc/self/cgroup), then the mount's root, as a container with a cgroup namespace sees it.
func TestCgroupMemoryFiles(t *testing.T) {
	roots := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	for _, tc := range []struct {
		name, procSelfCgroup string
		want                 []string
	}{
		{"v2 in a namespace", "0::/\n", roots},
		{"v2 on a host", "0::/kubepods/pod1/c1\n", append([]string{"/sys/fs/cgroup/kubepods/pod1/c1/memory.max"}, roots...)},
		{"v1", "9:name=systemd:/\n4:memory:/process_api/1dc5\n1:cpu:/\n0::/\n", append([]string{"/sys/fs/cgroup/memory/process_api/1dc5/memory.limit_in_bytes"}, roots...)},
		{"v1, controllers joined", "5:cpuacct,memory:/a\n", append([]string{"/sys/fs/cgroup/memory/a/memory.limit_in_bytes"}, roots...)},
		{"a path that climbs", "0::/../../etc\n", roots},
		{"unreadable", "", roots},
	} {
		if got := cgroupMemoryFilesFrom(tc.procSelfCgroup); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

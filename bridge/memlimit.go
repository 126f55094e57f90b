package bridge

import (
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// CgroupMemoryFiles are where this process's memory limit may be, most specific first: its own
// cgroup's file (from /proc/self/cgroup, for a host without cgroup namespaces), then the root
// of the mount (a container's own cgroup, with them); cgroup v2's memory.max and v1's
// memory.limit_in_bytes.
func CgroupMemoryFiles() []string {
	b, _ := os.ReadFile("/proc/self/cgroup")
	return cgroupMemoryFilesFrom(string(b))
}

// cgroupMemoryFilesFrom is CgroupMemoryFiles for the given /proc/self/cgroup.
func cgroupMemoryFilesFrom(procSelfCgroup string) []string {
	var files []string
	for _, line := range strings.Split(procSelfCgroup, "\n") {
		// "0::/path" (v2) or "4:memory:/path" (v1)
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || parts[2] == "/" || !strings.HasPrefix(parts[2], "/") || strings.Contains(parts[2], "..") {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			files = append(files, "/sys/fs/cgroup"+parts[2]+"/memory.max")
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			files = append(files, "/sys/fs/cgroup/memory"+parts[2]+"/memory.limit_in_bytes")
		}
	}
	return append(files, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
}

// memoryLimitShare is the part of the container's limit given to the Go runtime: the rest is
// headroom for what the runtime does not count (the kernel's buffers, fragmentation).
const memoryLimitShare = 0.9

// SetMemoryLimit gives the Go runtime a soft memory limit of 90 % of the container's, unless
// GOMEMLIMIT is set. Without one the heap grows to twice what is live before a collection, and
// with the embedded broker what is live grows with the duplicate window (its index of message
// ids, BENCHMARKS.md): a pod would be OOM-killed at a limit its live memory fits in. It returns
// the limit set, 0 when none.
func SetMemoryLimit(logger *slog.Logger, files []string) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // "max", or v1's "unlimited" (a page-rounded MaxInt64)
			continue // no limit in this file; the next one may have it
		}
		limit := int64(float64(n) * memoryLimitShare)
		debug.SetMemoryLimit(limit)
		logger.Info("Go memory limit set from the container's (GOMEMLIMIT overrides it)", "limit_bytes", limit, "container_bytes", n)
		return limit
	}
	return 0
}

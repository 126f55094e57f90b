//go:build unix

package loadgen

import (
	"runtime"
	"syscall"
	"time"
)

// selfCPU is the user+system CPU this process has used so far.
func selfCPU() (time.Duration, bool) { return rusage(syscall.RUSAGE_SELF) }

// threadCPU is the CPU the calling OS thread has used (Linux only): the signer, locked to its
// thread, measures itself with it.
func threadCPU() (time.Duration, bool) {
	if runtime.GOOS != "linux" {
		return 0, false
	}
	return rusage(1) // RUSAGE_THREAD
}

func rusage(who int) (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

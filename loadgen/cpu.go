package loadgen

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"time"
)

// cpuMeter measures the CPU this process and, when its process is known, the bridge spent
// during a run.
type cpuMeter struct {
	pid          int    // the bridge's; 0: not measured
	note         string // why not, or what the figures mean
	selfBefore   time.Duration
	selfAfter    time.Duration
	selfOK       bool
	bridgeBefore time.Duration
	bridgeCPU    time.Duration
}

// newCPUMeter finds the bridge's process: bc.pid, else the process listening on a loopback URL.
func newCPUMeter(bc benchConfig, u *url.URL) *cpuMeter {
	m := &cpuMeter{pid: bc.pid}
	if m.pid == 0 {
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			port, _ := strconv.Atoi(u.Port())
			var err error
			if m.pid, err = listenerPID(port); err != nil {
				m.note = "bridge CPU not measured: " + err.Error() + " (give -pid)"
			}
		} else {
			m.note = "bridge CPU not measured: give -pid of the bridge when it runs on this machine"
		}
	}
	if m.pid == os.Getpid() {
		m.pid, m.note = 0, "the bridge runs in this process: its CPU is in the bench figure"
	}
	return m
}

func (m *cpuMeter) begin() {
	m.selfBefore, m.selfOK = selfCPU()
	if m.pid != 0 {
		var err error
		if m.bridgeBefore, err = procCPU(m.pid); err != nil {
			m.note, m.pid = "bridge CPU not measured: "+err.Error(), 0
		}
	}
}

func (m *cpuMeter) end() {
	m.selfAfter, _ = selfCPU()
	if m.pid != 0 {
		after, err := procCPU(m.pid)
		if err != nil {
			m.note, m.pid = "bridge CPU not measured: "+err.Error(), 0
		}
		m.bridgeCPU = after - m.bridgeBefore
	}
}

// figures fills res.CPU: per request, this tool's (and its signer's), and the bridge's.
func (m *cpuMeter) figures(res *benchResult, sup *supply) {
	if res.Requests > 0 && m.selfOK {
		res.CPU.BenchUSPerReq = float64(m.selfAfter-m.selfBefore) / 1e3 / float64(res.Requests)
		res.CPU.SigningUSPerReq = float64(sup.signCPU.Load()) / 1e3 / float64(res.Requests)
	}
	if m.pid != 0 && res.Answered > 0 {
		res.CPU.BridgePID = m.pid
		res.CPU.BridgeUSPerReq = float64(m.bridgeCPU) / 1e3 / float64(res.Answered)
		if res.CPU.BridgeUSPerReq > 0 {
			res.CPU.Ratio = res.CPU.BenchUSPerReq / res.CPU.BridgeUSPerReq
		}
	}
	res.CPU.Note = m.note
}

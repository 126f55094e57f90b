#!/usr/bin/env bash
# Same-run A/B of callbridge builds: what one change did to the bridge's CPU per callback.
#
# Builds the bridge at each git revision given, then for ROUNDS rounds measures, one after
# another on loopback: the bare fasthttp responder (bench/bare, from the working tree), then the
# bridge of each revision with a fresh external nats-server (JetStream file store, the version in
# go.mod). Each is loaded for SECONDS by wrk -t2 -c64 with distinct pre-signed anyRTC callbacks
# (bench/presigned.lua; HMAC verified, unsigned refused, 200 only after the PubAck). Printed per
# contender and round: req/s, wrk's p99, CPU per callback of the bridge and of nats-server from
# /proc/<pid>/stat, the bridge's write and read system calls per callback from /proc/<pid>/io,
# and the bridge's CPU as a multiple of the bare responder's in the same round. Alternating
# rounds spread the machine's drift over all contenders; compare within a round.
#
# Usage: bench/ab.sh ROUNDS SECONDS REV...     e.g. bench/ab.sh 3 15 b2705f1 HEAD
# Set CALLBRIDGE_PPROF_LISTEN=127.0.0.1:6060 to also write a CPU profile of each bridge over
# the middle half of its load and its allocation profile, to OUT (default ab-profiles) as
# <rev>.round<N>.pprof and .allocs: go tool pprof -top FILE.
# Installs wrk from Debian if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,17p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
rounds=$1 secs=$2
shift 2
out=${OUT:-ab-profiles}
source bench/lib.sh
on_exit() { git worktree prune; }

echo "== building bench/bare, nats-server and the bridge at $*" >&2
go build -o "$dir/bare" ./bench/bare
go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
for rev in "$@"; do
	git worktree add -q --detach "$dir/src-$rev" "$rev"
	(cd "$dir/src-$rev" && go build -o "$dir/cb-$rev" ./cmd/callbridge)
	git worktree remove --force "$dir/src-$rev"
done
gen=$dir/cb-$1 # signs the load

clear_callbridge_env CALLBRIDGE_PPROF_LISTEN
export CALLBRIDGE_ANYRTC_SECRET=ab-anyrtc-secret CALLBRIDGE_ALLOW_UNSIGNED=false
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port

io() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/io"; } # io PID syscw: a count from /proc/PID/io

# load PID: wrk against $url with fresh pre-signed callbacks; sets rps, p99, n (wrk's requests)
load() {
	"$gen" bench -write "$dir/requests" -n $((secs * 45000)) -providers anyrtc >/dev/null
	CALLBRIDGE_BENCH_REQUESTS=$dir/requests wrk -t2 -c64 -d"${secs}s" --timeout 10s --latency \
		-s bench/presigned.lua "$url" -- 2 >"$dir/wrk.txt" 2>&1 || true
	rm -f "$dir/requests"
	rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
	p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
	n=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
	if grep -q 'Non-2xx' "$dir/wrk.txt"; then grep 'Non-2xx' "$dir/wrk.txt" >&2; fi
}

printf '| round | contender | req/s | p99 | CPU µs/callback | × bare | nats-server µs/callback | writes/callback | reads/callback |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for round in $(seq "$rounds"); do
	"$dir/bare" -listen "127.0.0.1:$port" >/dev/null 2>&1 &
	bare=$!
	pids+=("$bare")
	wait_http "$url/"
	c0=$(cpu "$bare")
	load
	c1=$(cpu "$bare")
	kill "$bare"
	wait "$bare" 2>/dev/null || true
	bare_us=$(awk -v t=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.1f", t * 10000 / n}')
	printf '| %s | bare | %.0f | %s | %s | 1.00 | - | - | - |\n' "$round" "$rps" "$p99" "$bare_us"

	for rev in "$@"; do
		rm -rf "$dir/js" "$dir/data"
		"$dir/nats-server" -a 127.0.0.1 -p $((port + 1)) -js -sd "$dir/js" >/dev/null 2>&1 &
		ns=$!
		pids+=("$ns")
		CALLBRIDGE_LISTEN=127.0.0.1:$port CALLBRIDGE_NATS_URL=nats://127.0.0.1:$((port + 1)) \
			CALLBRIDGE_DATA_DIR="$dir/data" CALLBRIDGE_LOG_LEVEL=warn CALLBRIDGE_SHUTDOWN_DELAY=0s \
			"$dir/cb-$rev" 2>"$dir/bridge.log" &
		br=$!
		pids+=("$br")
		wait_http "$url/readyz"
		if [ -n "${CALLBRIDGE_PPROF_LISTEN:-}" ]; then
			mkdir -p "$out"
			(sleep $((secs / 4)) && curl -s -o "$out/$rev.round$round.pprof" \
				"http://$CALLBRIDGE_PPROF_LISTEN/debug/pprof/profile?seconds=$((secs / 2))") &
			prof=$!
		fi
		c0=$(cpu "$br") s0=$(cpu "$ns") w0=$(io "$br" syscw) r0=$(io "$br" syscr)
		load
		c1=$(cpu "$br") s1=$(cpu "$ns") w1=$(io "$br" syscw) r1=$(io "$br" syscr)
		if [ -n "${CALLBRIDGE_PPROF_LISTEN:-}" ]; then
			wait "$prof" || true
			curl -s -o "$out/$rev.round$round.allocs" "http://$CALLBRIDGE_PPROF_LISTEN/debug/pprof/allocs"
		fi
		# Callbacks published, from the bridge's own counter: wrk's count includes any refused.
		pub=$(curl -s "$url/metrics" | sed -n 's/^callbridge_callbacks_total{outcome="published",provider="anyrtc"} //p')
		kill "$br" "$ns"
		wait "$br" "$ns" 2>/dev/null || true
		awk -v round="$round" -v rev="$rev" -v rps="$rps" -v p99="$p99" -v n="$pub" -v c=$((c1 - c0)) \
			-v s=$((s1 - s0)) -v w=$((w1 - w0)) -v r=$((r1 - r0)) -v bare="$bare_us" 'BEGIN {
			us = c * 10000 / n
			printf "| %s | %s | %.0f | %s | %.1f | %.2f | %.1f | %.2f | %.2f |\n", round, rev, rps, p99, us, us / bare, s * 10000 / n, w / n, r / n }'
	done
done
if [ -n "${CALLBRIDGE_PPROF_LISTEN:-}" ]; then echo "profiles in $out" >&2; fi

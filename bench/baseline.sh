#!/usr/bin/env bash
# The bridge against a floor, in one run: the same load, one contender after another, on loopback.
#
#   bare       a fasthttp server answering {"code":0} (bench/bare): what HTTP alone costs here
#   embedded   the bridge with its embedded NATS JetStream (file store)
#   embedded-native  the same with CALLBRIDGE_CANONICAL=off: what the canonical event (a second
#              message per anyRTC callback, SPEC §9) costs, against embedded
#   nats       the bridge with an external nats-server process (the version in go.mod, file store)
#   bare-wait  bench/bare again, waiting before each answer so that its median answer takes as
#              long as the nats bridge's: what answering after a round trip costs a server that
#              does nothing else
#   kafka      the bridge with kfake in its own process (faults/internal/kfakeproc)
#   nats-r3    the bridge with three clustered nats-server processes and an R3 stream
#              (CALLBRIDGE_NATS_REPLICAS=3): what a quorum costs against nats (R1); its broker
#              CPU is the three servers' together
#
# Load, for each: `callbridge bench -c 64 -providers anyrtc` for SECONDS, then wrk -t2 -c64 with
# distinct pre-signed anyRTC callbacks (bench/presigned.lua) as an independent check. Every
# callback is HMAC-signed (CALLBRIDGE_ANYRTC_SECRET set, unsigned refused) and a new event; the
# bridge answers 200 only after the broker's ack. CPU per request of each process is read from
# /proc/<pid>/stat (utime+stime, 10 ms ticks) around each load; "× bare" compares with the bare
# responder measured in the same run. Load generator, bridge and broker share this machine's
# cores: compare ratios within a run, not absolute figures across machines or runs.
#
# Usage: bench/baseline.sh [SECONDS]   (default 20; .ci/run uses 2). Installs wrk from Debian if
# it is missing. Everything listens on 127.0.0.1 and is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
source bench/lib.sh

echo "== building (callbridge, bench/bare, nats-server from go.mod, kfakeproc)" >&2
go build -o "$dir/callbridge" ./cmd/callbridge
go build -o "$dir/bare" ./bench/bare
go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
go build -o "$dir/kfakeproc" ./faults/internal/kfakeproc

base=$((20000 + RANDOM % 20000)) # ports base..base+1, base+5..base+7 and base+11..base+13 (nats-r3)
http_port=$base
broker_port=$((base + 1))

clear_callbridge_env
export CALLBRIDGE_ANYRTC_SECRET=baseline-anyrtc-secret
export CALLBRIDGE_ALLOW_UNSIGNED=false
export CALLBRIDGE_LISTEN=127.0.0.1:$http_port

# children_cpu: CPU of this shell's waited-for children so far, in ms (the second line of bash's
# times, run in this shell: in a subshell it would count the subshell's children only).
children_cpu() {
	times >"$dir/times"
	sed -n 2p "$dir/times" | awk '{
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }'
}
# jnum FILE KEY: the first number after "KEY": in a JSON file.
jnum() { sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p" "$1" | head -1; }


rows=()
declare -A bare_rps bare_cpu # per load: the bare responder's req/s and CPU µs/req
declare -A bench_p50         # per contender: the median latency under callbridge bench, ms
declare -A cpu_of            # per "contender load": the server's CPU µs/req

# measure NAME SERVER_PID BROKER_PID: both loads against the server on $http_port.
measure() {
	local name=$1 spid=$2 bpid=$3 url=http://127.0.0.1:$http_port
	local s0 s1 b0 b1 n rps p50 p99 bad gen

	# 1. callbridge bench, closed loop
	s0=$(cpu "$spid"); b0=0; [ "$bpid" = - ] || b0=$(cpu "$bpid")
	"$dir/callbridge" bench -q -c 64 -d "${secs}s" -providers anyrtc -url "$url" -pid "$spid" \
		-json "$dir/$name.json" >"$dir/$name.bench.txt" 2>&1 || { cat "$dir/$name.bench.txt" >&2; exit 1; }
	s1=$(cpu "$spid"); b1=0; [ "$bpid" = - ] || b1=$(cpu "$bpid")
	sed 's/^/    /' "$dir/$name.bench.txt" >&2
	n=$(jnum "$dir/$name.json" requests)
	rps=$(jnum "$dir/$name.json" req_per_s)
	p50=$(jnum "$dir/$name.json" p50)
	p99=$(jnum "$dir/$name.json" p99)
	bench_p50[$name]=$p50
	bad=$(awk -v n="$n" -v ok="$(jnum "$dir/$name.json" 200)" 'BEGIN{print n - ok}')
	gen=$(awk -v g="$(jnum "$dir/$name.json" bench_us_per_req)" 'BEGIN{printf "%.1f", g}')
	row "$name" "callbridge bench" "$n" "$rps" "$p50" "$p99" "$bad" $((s1 - s0)) $((b1 - b0)) "$gen"

	# 2. wrk with distinct pre-signed callbacks, signed just before
	local file=$dir/requests
	"$dir/callbridge" bench -write "$file" -n $((secs * 40000)) -providers anyrtc >/dev/null
	local c0 c1 out
	s0=$(cpu "$spid"); b0=0; [ "$bpid" = - ] || b0=$(cpu "$bpid")
	children_cpu >"$dir/c0"
	CALLBRIDGE_BENCH_REQUESTS=$file wrk -t2 -c64 -d"${secs}s" --timeout 10s --latency \
		-s bench/presigned.lua "$url" -- 2 >"$dir/$name.wrk.txt" 2>&1 || true
	children_cpu >"$dir/c1"
	c0=$(cat "$dir/c0") c1=$(cat "$dir/c1")
	s1=$(cpu "$spid"); b1=0; [ "$bpid" = - ] || b1=$(cpu "$bpid")
	rm -f "$file"
	out=$dir/$name.wrk.txt
	grep -E 'requests in|Requests/sec|Non-2xx|Socket errors|WARNING' "$out" | sed 's/^/    wrk: /' >&2 || true
	[ "$name" != bare ] || echo "    (the bare responder does not deduplicate: repeats cost it the same)" >&2
	n=$(awk '/requests in/ {print $1}' "$out")
	rps=$(awk '/Requests\/sec/ {print $2}' "$out")
	p50=$(awk '$1 == "50%" {print $2}' "$out" | tounit)
	p99=$(awk '$1 == "99%" {print $2}' "$out" | tounit)
	bad=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
	gen=$(awk -v ms=$((c1 - c0)) -v n="${n:-0}" 'BEGIN{ if (n > 0) printf "%.1f", ms * 1000 / n; else print "-" }')
	row "$name" "wrk" "${n:-0}" "${rps:-0}" "${p50:-0}" "${p99:-0}" "$bad" $((s1 - s0)) $((b1 - b0)) "$gen"
}

tounit() { # wrk's 1.23ms / 456.78us / 1.02s -> ms
	awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }'
}

# row NAME LOAD REQUESTS RPS P50 P99 BAD SERVER_TICKS BROKER_TICKS GEN_US
row() {
	local line
	line=$(awk -v name="$1" -v load="$2" -v n="$3" -v rps="$4" -v p50="$5" -v p99="$6" -v bad="$7" \
		-v st="$8" -v bt="$9" -v gen="${10}" -v brps="${bare_rps[$2]:-}" -v bcpu="${bare_cpu[$2]:-}" -v hasb="$( [ "$1" = bare ] && echo 0 || echo 1)" '
	BEGIN {
		scpu = n > 0 ? st * 10000 / n : 0; bcpuv = n > 0 ? bt * 10000 / n : 0
		broker = (name ~ /^embedded/) ? "(in bridge)" : (name ~ /^bare/ ? "-" : sprintf("%.1f", bcpuv))
		xr = (brps > 0) ? sprintf("%.2f", rps / brps) : "1.00"
		xc = (bcpu > 0) ? sprintf("%.1f", (scpu + bcpuv) / bcpu) : "1.0"
		printf "| %s | %s | %.0f | %s | %.2f | %.2f | %d | %.1f | %s | %s | %s |", name, load, rps, xr, p50, p99, bad, scpu, broker, xc, gen
		printf "\t%.6f\t%.6f\n", rps, scpu
	}')
	cpu_of["$1 $2"]=$(printf '%s' "$line" | cut -f3)
	if [ "$1" = bare ]; then
		bare_rps[$2]=$(printf '%s' "$line" | cut -f2)
		bare_cpu[$2]=$(printf '%s' "$line" | cut -f3)
	fi
	rows+=("$(printf '%s' "$line" | cut -f1)")
}
start() { # NAME LOG CMD...: start in the background, remember the pid in $last
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	last=$!
	pids+=("$last")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

bridge_env=(CALLBRIDGE_LOG_LEVEL=warn CALLBRIDGE_SHUTDOWN_DELAY=0s)

echo "== bare fasthttp responder" >&2
start bare "$dir/bare.log" "$dir/bare" -listen "127.0.0.1:$http_port"
bare=$last
wait_http "http://127.0.0.1:$http_port/"
measure bare "$bare" -
stop "$bare"

echo "== bridge, embedded JetStream" >&2
start bridge "$dir/embedded.log" env "${bridge_env[@]}" CALLBRIDGE_DATA_DIR="$dir/embedded" \
	CALLBRIDGE_EMBEDDED_NATS_LISTEN="127.0.0.1:$broker_port" "$dir/callbridge"
br=$last
wait_http "http://127.0.0.1:$http_port/readyz"
measure embedded "$br" -
stop "$br"

echo "== bridge, embedded JetStream, CALLBRIDGE_CANONICAL=off (native events only)" >&2
start bridge "$dir/embedded-native.log" env "${bridge_env[@]}" CALLBRIDGE_DATA_DIR="$dir/embedded-native" \
	CALLBRIDGE_EMBEDDED_NATS_LISTEN="127.0.0.1:$broker_port" CALLBRIDGE_CANONICAL=off "$dir/callbridge"
br=$last
wait_http "http://127.0.0.1:$http_port/readyz"
measure embedded-native "$br" -
stop "$br"

echo "== bridge, external nats-server (JetStream file store)" >&2
mkdir -p "$dir/nats"
printf 'listen: "127.0.0.1:%s"\njetstream { store_dir: "%s" }\n' "$broker_port" "$dir/nats/js" >"$dir/nats/nats.conf"
start nats "$dir/nats.log" "$dir/nats-server" -c "$dir/nats/nats.conf"
ns=$last
start bridge "$dir/nats-bridge.log" env "${bridge_env[@]}" CALLBRIDGE_DATA_DIR="$dir/nats-bridge" \
	CALLBRIDGE_NATS_URL="nats://127.0.0.1:$broker_port" "$dir/callbridge"
br=$last
wait_http "http://127.0.0.1:$http_port/readyz"
measure nats "$br" "$ns"
stop "$br"
stop "$ns"

echo "== bridge, three clustered nats-servers, R3 stream" >&2
r3urls=() r3pids=() r3routes=()
for i in 1 2 3; do r3routes+=("\"nats-route://127.0.0.1:$((base + 10 + i))\""); done
for i in 1 2 3; do
	mkdir -p "$dir/r3-$i"
	printf 'server_name: n%s\nlisten: "127.0.0.1:%s"\njetstream { store_dir: "%s" }\ncluster {\n  name: bench\n  listen: "127.0.0.1:%s"\n  routes: [%s]\n}\n' \
		"$i" $((base + 4 + i)) "$dir/r3-$i/js" $((base + 10 + i)) "$(IFS=,; echo "${r3routes[*]}")" >"$dir/r3-$i/nats.conf"
	start nats "$dir/r3-$i.log" "$dir/nats-server" -c "$dir/r3-$i/nats.conf"
	r3pids+=("$last")
	r3urls+=("nats://127.0.0.1:$((base + 4 + i))")
done
start bridge "$dir/r3-bridge.log" env "${bridge_env[@]}" CALLBRIDGE_DATA_DIR="$dir/r3-bridge" \
	CALLBRIDGE_NATS_URL="$(IFS=,; echo "${r3urls[*]}")" CALLBRIDGE_NATS_REPLICAS=3 "$dir/callbridge"
br=$last
wait_http "http://127.0.0.1:$http_port/readyz"
measure nats-r3 "$br" "$(IFS=,; echo "${r3pids[*]}")"
stop "$br"
for p in "${r3pids[@]}"; do stop "$p"; done

# The bare responder waits on a timer, which oversleeps (the poller's timeouts are whole
# milliseconds): a first short run finds by how much, so that its median answer takes as long
# as the nats bridge's.
want=${bench_p50[nats]}
probe() { # DELAY_MS: the waiting bare responder's median latency under the bench load, ms
	start bare "$dir/bare-wait.log" "$dir/bare" -listen "127.0.0.1:$http_port" -delay "${1}ms"
	local pid=$last
	wait_http "http://127.0.0.1:$http_port/"
	"$dir/callbridge" bench -q -c 64 -d "$(( secs < 3 ? secs : 3 ))s" -providers anyrtc -url "http://127.0.0.1:$http_port" \
		-json "$dir/probe.json" >/dev/null 2>&1 || true
	stop "$pid"
	jnum "$dir/probe.json" p50
}
got=$(probe "$want")
wait_ms=$(awk -v w="$want" -v g="$got" 'BEGIN { d = 2 * w - g; if (d < 0.05) d = 0.05; printf "%.2f", d }')
echo "== bare fasthttp responder, waiting ${wait_ms} ms before each answer (so that its p50 is near the nats bridge's ${want} ms; waiting ${want} ms gave ${got} ms)" >&2
start bare "$dir/bare-wait.log" "$dir/bare" -listen "127.0.0.1:$http_port" -delay "${wait_ms}ms"
bare=$last
wait_http "http://127.0.0.1:$http_port/"
measure bare-wait "$bare" -
stop "$bare"

echo "== bridge, Kafka (kfake process)" >&2
start kfake "$dir/kfake.log" "$dir/kfakeproc" -port "$broker_port" -dir "$dir/kfake"
kf=$last
for _ in $(seq 300); do grep -q '^ready' "$dir/kfake.log" && break; sleep 0.1; done
start bridge "$dir/kafka-bridge.log" env "${bridge_env[@]}" CALLBRIDGE_DATA_DIR="$dir/kafka-bridge" \
	CALLBRIDGE_SINK=kafka CALLBRIDGE_KAFKA_BROKERS="127.0.0.1:$broker_port" CALLBRIDGE_KAFKA_CREATE_TOPICS=true \
	CALLBRIDGE_KAFKA_REQUIRED_ACKS=all CALLBRIDGE_KAFKA_TOPIC_REPLICATION=1 "$dir/callbridge"
br=$last
wait_http "http://127.0.0.1:$http_port/readyz"
measure kafka "$br" "$kf"
stop "$br"
stop "$kf"

echo
echo "$(nproc) cores, $(go env GOVERSION), ${secs}s per load, 64 connections, anyRTC HMAC-SHA1, every callback a new event"
echo
echo "| contender | load | req/s | req/s × bare | p50 ms | p99 ms | non-200 + errors | server CPU µs/req | broker CPU µs/req | server+broker CPU × bare | load generator CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
for load in "callbridge bench" wrk; do
	awk -v load="$load" -v b="${cpu_of["bare $load"]}" -v w="${cpu_of["bare-wait $load"]}" -v n="${cpu_of["nats $load"]}" -v d="$wait_ms" 'BEGIN {
		if (b > 0 && w > 0) printf "%s: bridge (nats) CPU per request %.1f µs = %.2f × bare (%.1f µs) = %.2f × bare waiting %s ms per answer (%.1f µs)\n", load, n, n / b, b, n / w, d, w }'
done
for load in "callbridge bench" wrk; do
	awk -v load="$load" -v on="${cpu_of["embedded $load"]}" -v off="${cpu_of["embedded-native $load"]}" 'BEGIN {
		if (off > 0) printf "%s: bridge CPU per callback with canonical events on %.1f µs against off %.1f µs (%.2f ×)\n", load, on, off, on / off }'
done
for load in "callbridge bench" wrk; do
	awk -v load="$load" -v r1="${cpu_of["nats $load"]}" -v r3="${cpu_of["nats-r3 $load"]}" 'BEGIN {
		if (r1 > 0) printf "%s: bridge CPU per request on an R3 stream %.1f µs against R1 %.1f µs (%.2f ×)\n", load, r3, r1, r3 / r1 }'
done

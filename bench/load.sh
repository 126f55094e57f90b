#!/usr/bin/env bash
# HTTP load against a real bridge with its embedded JetStream (file store), on loopback only.
# Usage: bench/load.sh [duration] [connections]. Installs wrk from Debian if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}
conns=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/callbridge" ./cmd/callbridge
CALLBRIDGE_LISTEN=127.0.0.1:18080 CALLBRIDGE_DATA_DIR="$dir/data" \
CALLBRIDGE_EMBEDDED_NATS_LISTEN=127.0.0.1:14222 CALLBRIDGE_LOG_LEVEL=warn \
CALLBRIDGE_SHUTDOWN_DELAY=0s "$dir/callbridge" 2>"$dir/log" &
pid=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.1; done

wrk -t2 -c"$conns" -d"$duration" --latency -s bench/netease.lua http://127.0.0.1:18080
curl -s http://127.0.0.1:18080/metrics | grep -E '^callbridge_callbacks_total\{outcome="(published|publish_failed|overloaded)",provider="netease-nertc"\}'

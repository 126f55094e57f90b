#!/usr/bin/env bash
# Instructions per callback for BenchmarkCallback, counted by callgrind: unlike ns/op on a
# shared 2-core VM, the count is the same from run to run, so small changes can be compared.
# Usage: bench/instructions.sh [provider ...]   (default: the first three; installs valgrind from
# Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./normalize
cd normalize
count() { # instructions of the whole run with benchtime $2
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bin" -test.run '^$' -test.bench "Callback/$1\$" -test.benchtime="$2x" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' || true
  # (valgrind cannot decode RDTSCP, which Go's runtime may reach as the process exits: its
  # status is not the count's; a missing count fails the arithmetic below.)
}
n=${N:-20000} # iterations: the difference of n and 2n cancels the start-up's instructions
providers=("$@")
[ ${#providers[@]} -gt 0 ] || providers=(netease-nertc anyrtc tencent-css)
for p in "${providers[@]}"; do
  a=$(count "$p" "$n"); b=$(count "$p" $((2 * n)))
  echo "$p instructions/op: $(( (b - a) / n ))"
done

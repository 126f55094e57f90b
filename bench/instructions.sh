#!/usr/bin/env bash
# Instructions per callback for BenchmarkCallback, counted by callgrind: unlike ns/op on a
# shared 2-core VM, the count is the same from run to run, so small changes can be compared.
# Usage: bench/instructions.sh [provider ...]   (default: the first three; installs valgrind from
# Debian if missing). BENCH=Canonical counts BenchmarkCanonical instead: what the canonical event
# adds to a callback of the provider.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./normalize
cd normalize
count() { # instructions of the whole run with benchtime $2
  # valgrind sometimes meets an instruction it cannot decode (RDTSCP, through the vDSO clock)
  # and the run dies part way, its count short: only a clean run's count is taken, tried anew
  # up to five times.
  local out
  for _ in 1 2 3 4 5; do
    if out=$(GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$bin" -test.run '^$' -test.bench "${BENCH:-Callback}/$1\$" -test.benchtime="$2x" 2>&1 >/dev/null); then
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out"
      return
    fi
  done
  echo "no clean run of $1 in five tries" >&2
  return 1
}
n=${N:-20000} # iterations: the difference of n and 2n cancels the start-up's instructions
providers=("$@")
[ ${#providers[@]} -gt 0 ] || providers=(netease-nertc anyrtc tencent-css)
for p in "${providers[@]}"; do
  a=$(count "$p" "$n"); b=$(count "$p" $((2 * n)))
  echo "$p instructions/op: $(( (b - a) / n ))"
done

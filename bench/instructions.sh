#!/usr/bin/env bash
# Instructions per callback for BenchmarkCallback, counted by callgrind: unlike ns/op on a
# shared 2-core VM, the count is the same from run to run, so small changes can be compared.
# Usage: bench/instructions.sh   (installs valgrind from Debian if missing)
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
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for p in netease-nertc anyrtc tencent-css; do
  a=$(count "$p" 20000); b=$(count "$p" 40000)
  echo "$p instructions/op: $(( (b - a) / 20000 ))"
done

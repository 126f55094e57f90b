# What bench/baseline.sh and bench/ab.sh share; sourced from the repository's root, not run.
# It installs wrk and curl from Debian if they are missing, makes $dir (removed on exit) and
# kills every process whose pid is added to pids on exit; a script may define on_exit for more.

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }

dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if declare -F on_exit >/dev/null; then on_exit; fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# clear_callbridge_env [KEEP]: unsets every CALLBRIDGE_* variable but KEEP, so that nothing from
# the caller's environment leaks into the bridges measured.
clear_callbridge_env() {
	local v
	for v in $(env | sed -n 's/^\(CALLBRIDGE_[A-Z0-9_]*\)=.*/\1/p'); do
		[ "$v" = "${1:-}" ] || unset "$v"
	done
}

# cpu PID[,PID...]: utime+stime of the processes together, in ticks (10 ms).
cpu() {
	local sum=0 p
	for p in ${1//,/ }; do
		sum=$((sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$sum"
}

wait_http() { # URL: up to 30 s
	for _ in $(seq 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
	echo "no answer from $1" >&2
	return 1
}

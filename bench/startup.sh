#!/usr/bin/env bash
# bench/startup.sh: time from process start to serving, on an already
# migrated SQLite database.
#
# It builds storekeep and bench/waitready once into a temporary directory,
# runs `storekeep migrate` once on a fresh database, then N times starts
# `storekeep serve --db X --addr 127.0.0.1:PORT` under waitready, which polls
# /healthz every millisecond from the moment the process starts until the
# first 200, then stops the server with SIGTERM and checks that it exits
# cleanly. It reports min/median/max of:
#
#   ready    process start -> first 200 on /healthz (what a load balancer sees)
#   logged   the "startup" attribute of storekeep's "listening" log line
#            (process start -> just before it accepts connections)
#   stop     SIGTERM -> process exit, idle server
#
# `serve` checks for pending migrations at start-up (--migrate=true is the
# default), so "ready" includes that check; there are none to apply.
#
# For scale it also starts bench/baseline (a bare net/http server) RUNS
# times the same way and reports the ratio of the medians of "ready": the
# floor is process creation, the Go runtime and the first TCP connection.
#
# Settings (environment):
#   RUNS=10            number of starts
#   STOREKEEP_BIN=...  use this storekeep binary instead of building one
#
# Usage: bench/startup.sh        (from anywhere; a few seconds plus the build)
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}

command -v go >/dev/null || { echo "startup.sh: go is required" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/storekeep-bench-startup.XXXXXX")
# waitready stops every server it starts, also on failure; nothing else runs
# in the background.
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/lib.sh
source bench/lib.sh


build_storekeep
go build -o "$tmp/waitready" ./bench/waitready

db=$tmp/bench.db
"$storekeep" migrate --db "$db" >/dev/null

cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu); $(go version | cut -d' ' -f3-)"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== $RUNS starts of: storekeep serve --db $db --addr 127.0.0.1:PORT"

# Alternate storekeep and baseline starts, so that a noisy moment of the
# machine hits both alike.
: >"$tmp/storekeep.results"
: >"$tmp/baseline.results"
for i in $(seq 1 "$RUNS"); do
	port=$(free_port)
	line=$("$tmp/waitready" -url "http://127.0.0.1:$port/healthz" -log "$tmp/serve-$i.log" -- \
		"$storekeep" serve --db "$db" --addr "127.0.0.1:$port")
	echo "   storekeep run $i: $line"
	echo "$line" >>"$tmp/storekeep.results"
	port=$(free_port)
	line=$("$tmp/waitready" -url "http://127.0.0.1:$port/healthz" -- "$tmp/baseline" -addr "127.0.0.1:$port")
	echo "   baseline  run $i: $line"
	echo "$line" >>"$tmp/baseline.results"
done

# values WHO KEY: one key=value column of the results, sorted.
values() {
	tr ' ' '\n' <"$tmp/$1.results" | sed -n "s/^$2=//p" | grep -v '^-$' | sort -g
}

# stats WHO KEY: min, median and max of a column.
stats() {
	values "$1" "$2" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "min %.1f ms, median %.1f ms, max %.1f ms (n=%d)\n", v[1], med, v[NR], NR
	}'
}

# median WHO KEY
median() {
	values "$1" "$2" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "== results"
echo "storekeep ready  (start -> first 200 /healthz): $(stats storekeep ready_ms)"
echo "storekeep logged (\"listening\" startup=):       $(stats storekeep logged_startup_ms)"
echo "storekeep stop   (SIGTERM -> exit):             $(stats storekeep stop_ms)"
echo "baseline  ready  (start -> first 200 /healthz): $(stats baseline ready_ms)"
echo "ratio of medians, storekeep ready / baseline ready: $(awk -v a="$(median storekeep ready_ms)" -v b="$(median baseline ready_ms)" 'BEGIN { printf "%.1f", a / b }')"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"

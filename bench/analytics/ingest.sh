#!/usr/bin/env bash
# bench/analytics/ingest.sh: beacon ingest rate (issue 14, analytics) against,
# in the same run,
#
#   bare         bench/analytics/bare: a bare net/http handler that reads the
#                POST body and answers 204 (the same-run baseline);
#   goatcounter  GoatCounter v2.7.0 on SQLite, GET /count as its count.js
#                sends it (bench/analytics/goatcounter.sh fetches and builds
#                it outside the repository); after each run the script waits
#                until GoatCounter has persisted its hits and counts those
#                that landed in its database (the hourly totals of
#                hit_counts): refused or dropped requests do not count;
#   storekeep    Storekeep's beacon, POST /a/v (bench/analytics/beacon.lua),
#                either at STOREKEEP_URL (a server you started) or from
#                `$STOREKEEP_BIN serve` (or demo) started here on a new SQLite
#                database with STOREKEEP_FLAGS; like GoatCounter, the rows
#                that landed in analytics_views are counted before and after
#                each run (once the writer's queue has been written), and,
#                with serve, the beacon outcomes of its metrics
#                (storekeep_analytics_beacons_total: counted, dropped, ...).
#
# Each mode is measured with wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION
# after a $WARMUP warm-up. ROUNDS rounds of: bare, goatcounter, storekeep;
# and bare once more at the end. A mode's ratio in a round is its req/s over
# the mean of the two bare runs around it; the script prints medians and
# ranges. wrk and the servers share the machine's cores; read ratios, not
# absolute figures (docs/benchmarks.md, "How to read these numbers").
#
# Settings (environment):
#   MODES="bare goatcounter storekeep"
#   DURATION=20s WARMUP=3s ROUNDS=3 CONNECTIONS=32 WRK_THREADS=2
#   GC_BIN=                      a goatcounter binary; empty: goatcounter.sh builds one (cached)
#   GC_FLAGS="-ratelimit count:100000/1"   extra `goatcounter serve` flags
#   GC_COLLECT_HITS=1            the site stores a row per pageview (0: GoatCounter's default)
#   STOREKEEP_URL=               a running Storekeep (http://127.0.0.1:PORT): req/s only,
#                                nothing counted (STOREKEEP_DB=FILE counts its rows); else:
#   STOREKEEP_BIN=               the binary to start; empty: built from this tree
#   STOREKEEP_CMD=serve          serve (--data-dir TMP, --metrics-addr on a loopback port: the
#                                outcomes are read) or demo (--dir TMP; demo has no metrics
#                                listener: rows only)
#   STOREKEEP_FLAGS="--analytics-beacons-per-minute 1000000"
#                                extra flags. All requests come from 127.0.0.1 (X-Forwarded-For
#                                is not trusted), so the beacon's per-address limit (600 a
#                                minute) is lifted by default.
#
# Usage: bench/analytics/ingest.sh
#        MODES="bare storekeep" bench/analytics/ingest.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
MODES=${MODES:-bare goatcounter storekeep}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
GC_BIN=${GC_BIN:-}
GC_FLAGS=${GC_FLAGS:--ratelimit count:100000/1}
GC_COLLECT_HITS=${GC_COLLECT_HITS:-1}
GC_HOST=stats.bench.localhost
STOREKEEP_URL=${STOREKEEP_URL:-}
STOREKEEP_BIN=${STOREKEEP_BIN:-}
STOREKEEP_CMD=${STOREKEEP_CMD:-serve}
STOREKEEP_FLAGS=${STOREKEEP_FLAGS:---analytics-beacons-per-minute 1000000}
STOREKEEP_DB=${STOREKEEP_DB:-}
export BENCH_DIR=$PWD/bench GC_HOST

for tool in wrk curl go sqlite3; do
	command -v "$tool" >/dev/null || { echo "ingest.sh: $tool is required (apt-get install $tool)" >&2; exit 1; }
done
has() { [[ " $MODES " == *" $1 "* ]]; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/storekeep-bench-ingest.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/lib.sh
source bench/lib.sh

# wait_ok URL [HOST]: poll until URL answers 2xx, for at most 30 seconds.
wait_ok() {
	local i
	for i in $(seq 1 300); do
		if curl -fsS -o /dev/null ${2:+-H "Host: $2"} "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "ingest.sh: $1 did not answer within 30s" >&2
	return 1
}

seconds() { # "20s" / "1m" -> seconds
	case $1 in
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

echo "== building into $tmp"
go build -o "$tmp/bare" ./bench/analytics/bare
bare_port=$(free_port)
"$tmp/bare" -addr "127.0.0.1:$bare_port" >"$tmp/bare.log" 2>&1 &
pids+=($!)
bare=http://127.0.0.1:$bare_port
wait_ok "$bare/healthz"

if has goatcounter; then
	if [[ -z $GC_BIN ]]; then
		GC_BIN=$(bench/analytics/goatcounter.sh build)
	fi
	gc_db=$tmp/goatcounter.sqlite3
	"$GC_BIN" db create site -createdb -db "sqlite+$gc_db" -vhost "$GC_HOST" \
		-user.email bench@example.com -user.password bench-password-0 >"$tmp/gc-create.log" 2>&1
	if [[ $GC_COLLECT_HITS == 1 ]]; then
		# v2.7.0's default "collect" setting (190) lacks CollectHits (256):
		# hits are then processed and aggregated but no row per pageview is
		# written. With it, each counted pageview is a row in hits: what
		# a beacon endpoint that stores every beacon does.
		sqlite3 "$gc_db" "UPDATE sites SET settings = json_set(settings, '\$.collect', json_extract(settings, '\$.collect') | 256)"
	fi
	gc_port=$(free_port)
	while [[ $gc_port == "$bare_port" ]]; do gc_port=$(free_port); done
	# shellcheck disable=SC2086 # GC_FLAGS is a list of flags
	"$GC_BIN" serve -listen "127.0.0.1:$gc_port" -tls http -db "sqlite+$gc_db" $GC_FLAGS >"$tmp/gc.log" 2>&1 &
	pids+=($!)
	gc_pid=$!
	gc=http://127.0.0.1:$gc_port
	wait_ok "$gc/status" "$GC_HOST"
	# One hit by hand: it must be counted, or the run measures refusals.
	hdr=$(curl -fsS -D - -o /dev/null -H "Host: $GC_HOST" \
		-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' \
		"$gc/count?p=/bench-check&s=1280,800,1&rnd=1")
	if grep -qi '^X-Goatcounter' <<<"$hdr"; then
		echo "ingest.sh: GoatCounter refused the check hit:" >&2
		echo "$hdr" >&2
		exit 1
	fi
fi

# sk_rows: rows in Storekeep's analytics_views; sk_outcomes: its beacon
# outcomes (serve's metrics) as "counted=N dropped=N ..." (and rows_lost).
sk_rows() { sqlite3 "file:$STOREKEEP_DB?mode=ro" 'SELECT count(*) FROM analytics_views' 2>/dev/null || echo 0; }
sk_outcomes() {
	[[ -n ${sk_metrics:-} ]] || return 0
	curl -fsS "$sk_metrics" | awk '
		/^storekeep_analytics_beacons_total\{outcome="/ { split($1, a, "\""); printf "%s=%d ", a[2], $2 }
		/^storekeep_analytics_rows_lost_total / { printf "rows_lost=%d ", $2 }'
}
# sk_settle: wait until Storekeep's writer has written its queue (every
# second or every 500 rows): the row count stops changing for 3 seconds.
sk_settle() {
	local last now still=0
	last=$(sk_rows)
	while ((still < 3)); do
		sleep 1
		now=$(sk_rows)
		if [[ $now == "$last" ]]; then still=$((still + 1)); else still=0; last=$now; fi
	done
	echo "$last"
}

if has storekeep; then
	if [[ -z $STOREKEEP_URL ]]; then
		if [[ -z $STOREKEEP_BIN ]]; then
			STOREKEEP_BIN=$tmp/storekeep
			go build -o "$STOREKEEP_BIN" ./cmd/storekeep
		fi
		sk_port=$(free_port)
		mkdir -p "$tmp/storekeep"
		case $STOREKEEP_CMD in
		serve)
			sk_metrics_port=$(free_port)
			sk_metrics=http://127.0.0.1:$sk_metrics_port/metrics
			STOREKEEP_DB=$tmp/storekeep/storekeep.db
			# shellcheck disable=SC2086 # STOREKEEP_FLAGS is a list of flags
			"$STOREKEEP_BIN" serve --addr "127.0.0.1:$sk_port" --data-dir "$tmp/storekeep" \
				--metrics-addr "127.0.0.1:$sk_metrics_port" $STOREKEEP_FLAGS >"$tmp/storekeep.out" 2>"$tmp/storekeep.log" &
			;;
		demo)
			STOREKEEP_DB=$tmp/storekeep/demo.db
			# shellcheck disable=SC2086 # STOREKEEP_FLAGS is a list of flags
			"$STOREKEEP_BIN" demo --addr "127.0.0.1:$sk_port" --dir "$tmp/storekeep" $STOREKEEP_FLAGS >"$tmp/storekeep.out" 2>"$tmp/storekeep.log" &
			;;
		*) echo "ingest.sh: STOREKEEP_CMD is serve or demo" >&2; exit 1 ;;
		esac
		pids+=($!)
		echo "== storekeep: $STOREKEEP_BIN $STOREKEEP_CMD $STOREKEEP_FLAGS (pid $!)"
		STOREKEEP_URL=http://127.0.0.1:$sk_port
		wait_ok "$STOREKEEP_URL/healthz"
	fi
	# One beacon by hand: it must land, or the run measures refusals
	# (every answer is 204, counted or not).
	if [[ -n $STOREKEEP_DB ]]; then
		curl -fsS -o /dev/null -X POST -H 'Content-Type: text/plain;charset=UTF-8' \
			-H "Origin: ${BEACON_ORIGIN:-$STOREKEEP_URL}" -H 'Sec-Fetch-Site: same-origin' \
			-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' \
			--data "{\"t\":\"v\",\"id\":\"$(printf '%016x' $((RANDOM * 65536 + RANDOM)))\",\"p\":\"/\",\"w\":1280}" "$STOREKEEP_URL/a/v"
		for i in $(seq 1 50); do
			[[ $(sk_rows) -ge 1 ]] && break
			sleep 0.2
		done
		if [[ $(sk_rows) -lt 1 ]]; then
			echo "ingest.sh: Storekeep did not store the check beacon${sk_metrics:+; its outcomes:}" >&2
			[[ -n ${sk_metrics:-} ]] && curl -fsS "$sk_metrics" | grep '^storekeep_analytics_beacons_total' >&2
			exit 1
		fi
	fi
fi

# hits: pageviews that landed in GoatCounter's database, one row each in
# hits (the site collects them: see GC_COLLECT_HITS); visits: its hourly
# totals (hit_counts), which count a path once per session (user agent and
# address), so from one address and a few user agents they stay small.
hits() { sqlite3 "file:$gc_db?mode=ro" 'SELECT count(*) FROM hits' 2>/dev/null || echo 0; }
visits() { sqlite3 "file:$gc_db?mode=ro" 'SELECT COALESCE(sum(total), 0) FROM hit_counts' 2>/dev/null || echo 0; }
bots() { sqlite3 "file:$gc_db?mode=ro" 'SELECT count(*) FROM bots' 2>/dev/null || echo 0; }
# settle: wait until GoatCounter has persisted its memory store (every 10
# s by default): the count stops changing for 12 seconds.
settle() {
	local last now still=0
	last=$(hits)
	while ((still < 12)); do
		sleep 1
		now=$(hits)
		if [[ $now == "$last" ]]; then still=$((still + 1)); else still=0; last=$now; fi
	done
	echo "$last"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')); $(go version | cut -d' ' -f3-)"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up), loopback; modes: $MODES"

declare -A results
# measure NAME URL SCRIPT: warm up, run wrk, keep its RESULT line.
measure() {
	local name=$1 url=$2 script=$3 out
	wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$script" "$url" >/dev/null
	if [[ $name == goatcounter-* ]]; then gc_before=$(settle); fi
	if [[ $name == storekeep-* && -n $STOREKEEP_DB ]]; then sk_before=$(sk_settle) sk_out_before=$(sk_outcomes); fi
	out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$url")
	results[$name]=$(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //')
	if [[ -z ${results[$name]} ]]; then
		echo "ingest.sh: no RESULT line from wrk for $url:" >&2
		echo "$out" >&2
		exit 1
	fi
	if [[ $name == goatcounter-* ]]; then
		local after landed
		after=$(settle)
		landed=$((after - gc_before))
		results[$name]+=" landed=$landed landed_rps=$(awk -v n="$landed" -v d="$(seconds "$DURATION")" 'BEGIN { printf "%.1f", n / d }')"
	fi
	if [[ $name == storekeep-* && -n $STOREKEEP_DB ]]; then
		local after landed k v
		after=$(sk_settle)
		landed=$((after - sk_before))
		results[$name]+=" landed=$landed landed_rps=$(awk -v n="$landed" -v d="$(seconds "$DURATION")" 'BEGIN { printf "%.1f", n / d }')"
		# The outcomes of this run: the metrics' difference.
		declare -A ob=()
		for kv in $sk_out_before; do ob[${kv%%=*}]=${kv#*=}; done
		for kv in $(sk_outcomes); do
			k=${kv%%=*} v=${kv#*=}
			results[$name]+=" $k=$((v - ${ob[$k]:-0}))"
		done
	fi
	echo "   $name: ${results[$name]}"
}
field() { tr ' ' '\n' <<<"${results[$1]}" | sed -n "s/^$2=//p"; }

for ((i = 1; i <= ROUNDS; i++)); do
	echo "== round $i ($(uptime | sed 's/.*load average: //'))"
	measure "bare-$i" "$bare/a/v" bench/analytics/beacon.lua
	if has goatcounter; then measure "goatcounter-$i" "$gc/" bench/analytics/goatcounter.lua; fi
	if has storekeep; then measure "storekeep-$i" "$STOREKEEP_URL/a/v" bench/analytics/beacon.lua; fi
done
measure "bare-$((ROUNDS + 1))" "$bare/a/v" bench/analytics/beacon.lua

echo "== load after: $(uptime | sed 's/.*load average/load average/')"
if has goatcounter; then
	echo "== goatcounter: $(hits) rows in hits, $(visits) visits in hit_counts, $(bots) rows in bots; its log: $(grep -ciE 'error|warn' "$tmp/gc.log" || true) error/warning lines"
	grep -iE 'error|warn' "$tmp/gc.log" | head -5 || true
fi

# summary: per mode, median and range of req/s, of the ratio to bare, and
# of landed hits per second (GoatCounter).
median_range() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'; }
echo "== summary (median (min–max) over $ROUNDS rounds)"
for mode in $MODES; do
	rps=() ratio=() landed=() errs=0
	for ((i = 1; i <= ROUNDS; i++)); do
		n=$mode-$i
		r=$(field "$n" rps)
		b=$(awk -v a="$(field "bare-$i" rps)" -v c="$(field "bare-$((i + 1))" rps)" 'BEGIN { print (a + c) / 2 }')
		rps+=("$r")
		ratio+=("$(awk -v r="$r" -v b="$b" 'BEGIN { printf "%.4f", r / b }')")
		errs=$((errs + $(field "$n" errors)))
		if [[ $mode == goatcounter || ( $mode == storekeep && -n $STOREKEEP_DB ) ]]; then landed+=("$(field "$n" landed_rps)"); fi
	done
	line="   $mode: req/s $(printf '%s\n' "${rps[@]}" | median_range), ratio to bare $(printf '%s\n' "${ratio[@]}" | median_range), errors $errs"
	if [[ $mode == goatcounter || ( $mode == storekeep && -n $STOREKEEP_DB ) ]]; then
		line+=", rows landed/s $(printf '%s\n' "${landed[@]}" | median_range)"
	fi
	echo "$line"
done
# Storekeep against GoatCounter and bare, round by round: rows landed a
# second over GoatCounter's rows landed a second; Storekeep's landed rows a
# second over bare's req/s (the mean of the two bare runs around it).
if has storekeep && [[ -n $STOREKEEP_DB ]]; then
	vs_gc=() vs_bare=() drops=0 lost=0
	for ((i = 1; i <= ROUNDS; i++)); do
		sk=$(field "storekeep-$i" landed_rps)
		b=$(awk -v a="$(field "bare-$i" rps)" -v c="$(field "bare-$((i + 1))" rps)" 'BEGIN { print (a + c) / 2 }')
		vs_bare+=("$(awk -v r="$sk" -v b="$b" 'BEGIN { printf "%.4f", r / b }')")
		if has goatcounter; then vs_gc+=("$(awk -v r="$sk" -v g="$(field "goatcounter-$i" landed_rps)" 'BEGIN { printf "%.4f", r / g }')"); fi
		drops=$((drops + $(field "storekeep-$i" dropped || true) + 0))
		lost=$((lost + $(field "storekeep-$i" rows_lost || true) + 0))
	done
	line="   storekeep rows landed/s over bare req/s $(printf '%s\n' "${vs_bare[@]}" | median_range)"
	if has goatcounter; then line+=", over GoatCounter's landed/s $(printf '%s\n' "${vs_gc[@]}" | median_range)"; fi
	if [[ -n ${sk_metrics:-} ]]; then line+=", dropped $drops, rows lost $lost"; fi
	echo "$line"
	echo "== storekeep: $(sk_rows) rows in analytics_views; outcomes since start: $(sk_outcomes)"
	echo "   its log: $(grep -c 'level=ERROR\|level=WARN' "$tmp/storekeep.log" 2>/dev/null || true) error/warning lines"
	# Errors first (a failed batch says why), then the warnings.
	{ grep 'level=ERROR' "$tmp/storekeep.log"; grep 'level=WARN' "$tmp/storekeep.log"; } 2>/dev/null | head -10 || true
fi

#!/usr/bin/env bash
# bench/license.sh: the license API under load (issue 10, "Performance"):
#
# 1. Validation by key: POST /api/v1/licenses/validate with a random key of
#    LICENSES seeded licenses per request (bench/license.lua), CONNECTIONS
#    connections, against, in the same run, bench/baseline -signed-size: a
#    bare net/http handler that reads the request and answers a body of the
#    same size signed the way the API signs (sdk/go/httpsig: Content-Digest
#    and an Ed25519 RFC 9421 signature), and does nothing else. ROUNDS
#    rounds of baseline then storekeep, and the baseline once more at the
#    end; each round's ratio is storekeep's req/s over the mean of the two
#    baseline runs around it; the script prints the median and range.
# 2. Activation under contention: ACT_ROUNDS bursts, each of ACT_ATTEMPTS
#    activations (a new machine each) of each of ACT_LICENSES fresh
#    licenses limited to ACT_K machines, from ACT_CLIENTS concurrent
#    clients (bench/licenses activate), and the proof: afterwards every
#    license has exactly ACT_K machines in the database.
#
# With DB (a PostgreSQL URL) the database is a schema of its own in it,
# dropped at the end, and INSTANCES (default 2) storekeep instances share
# it. wrk cannot spread connections over several servers, and a proxy in
# front would spend, on the same two cores, about what the bare baseline
# spends per request, so the ratio would mostly measure the proxy: instead
# one wrk process per instance runs at the same time, each with
# CONNECTIONS/INSTANCES connections, and the baseline is measured the same
# way (as many baseline processes, one wrk each). Throughput is the sum,
# p50 the mean and p99 the highest of the wrk processes' figures. The
# activation bursts take the instances in turn, client by client.
#
# Rate limits stay as they are in production. Validations of good keys
# count against no limit. Activations count per license (20 per 10
# minutes) and per network (60): each burst uses licenses of its own
# (ACT_ATTEMPTS at most 20) and each client connects from a loopback
# network of its own (127.N.c.1), as many products on many networks would.
#
# Settings (environment):
#   DURATION=10s WARMUP=3s ROUNDS=3       wrk run per measurement, warm-up, rounds
#   CONNECTIONS=64 WRK_THREADS=2          wrk -c and -t (split over instances)
#   LICENSES=100000                       licenses seeded (machine limit 3)
#   DB=                                   PostgreSQL URL; empty: SQLite in a temporary directory
#   INSTANCES=1 (SQLite) or 2 (PostgreSQL)
#   ACT_ROUNDS=3 ACT_LICENSES=16 ACT_K=3 ACT_ATTEMPTS=20 ACT_CLIENTS=64
#   SERVER_CPUS= WRK_CPUS=                taskset -c lists to pin the servers (storekeep and
#                                         baseline alike) and wrk; empty: no pinning
#   STOREKEEP_BIN=...                     use this binary instead of building one
#
# Usage: bench/license.sh; DB=postgres://postgres@127.0.0.1:5432/test?sslmode=disable bench/license.sh
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
LICENSES=${LICENSES:-100000}
DB=${DB:-}
if [[ -n $DB ]]; then INSTANCES=${INSTANCES:-2}; else INSTANCES=${INSTANCES:-1}; fi
ACT_ROUNDS=${ACT_ROUNDS:-3}
ACT_LICENSES=${ACT_LICENSES:-16}
ACT_K=${ACT_K:-3}
ACT_ATTEMPTS=${ACT_ATTEMPTS:-20}
ACT_CLIENTS=${ACT_CLIENTS:-64}
SERVER_CPUS=${SERVER_CPUS:-}
WRK_CPUS=${WRK_CPUS:-}

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "license.sh: $tool is required (apt-get install $tool)" >&2; exit 1; }
done
if [[ -n $SERVER_CPUS || -n $WRK_CPUS ]]; then
	command -v taskset >/dev/null || { echo "license.sh: taskset is required for SERVER_CPUS/WRK_CPUS (util-linux)" >&2; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/storekeep-bench-license.XXXXXX")
pids=()
schema=
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $schema ]]; then
		"$tmp/licenses" schema -db "$DB" -drop "$schema" || echo "license.sh: could not drop schema $schema" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/lib.sh
source bench/lib.sh

# pin CPUS: the command prefix that pins to CPUS (taskset execs the
# command, so $! stays the server's pid), or none when CPUS is empty.
pin() { [[ -z $1 ]] || printf '%s\n' taskset -c "$1"; }
pin_srv=() pin_wrk=()
mapfile -t pin_srv < <(pin "$SERVER_CPUS")
mapfile -t pin_wrk < <(pin "$WRK_CPUS")

wait_ok() {
	local i
	for i in $(seq 1 300); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "license.sh: $1 did not answer within 30s" >&2
	return 1
}

build_storekeep
go build -o "$tmp/licenses" ./bench/licenses

dsn=$tmp/bench.db
if [[ -n $DB ]]; then
	schema=bench_license_$$_$RANDOM
	"$tmp/licenses" schema -db "$DB" -create "$schema"
	if [[ $DB == *\?* ]]; then dsn="$DB&search_path=$schema"; else dsn="$DB?search_path=$schema"; fi
fi

cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu); $(go version | cut -d' ' -f3-); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
if [[ -n $DB ]]; then dbname="PostgreSQL (schema $schema)"; else dbname=SQLite; fi
echo "== database: $dbname; instances: $INSTANCES"
echo "== seeding $LICENSES licenses (+$((ACT_ROUNDS * ACT_LICENSES)) for the activation bursts)"
"$tmp/licenses" seed -db "$dsn" -keys "$tmp/keys" -n "$LICENSES" -out "$tmp/keys.txt" \
	-contended "$((ACT_ROUNDS * ACT_LICENSES))" -k "$ACT_K" -contended-out "$tmp/contended.txt"

sk_urls=()
base_urls=()
for i in $(seq 1 "$INSTANCES"); do
	port=$(free_port)
	"${pin_srv[@]}" "$storekeep" serve --db "$dsn" --addr "127.0.0.1:$port" --license-keys "$tmp/keys" \
		--data-dir "$tmp" --migrate=false >"$tmp/storekeep-$i.log" 2>&1 &
	pids+=($!)
	echo "== storekeep $i: http://127.0.0.1:$port (pid $!, log level info, to a file)"
	sk_urls+=("http://127.0.0.1:$port")
	wait_ok "http://127.0.0.1:$port/healthz"
done

# The answer storekeep gives, with the script's nonce length (24).
nonce=bench-0-0000000000000000
validate() {
	curl -fsS -X POST -H 'Content-Type: application/json' \
		-d "{\"key\":\"$2\",\"nonce\":\"$nonce\"}" "$1/api/v1/licenses/validate"
}
for key in $(shuf -n 20 "$tmp/keys.txt"); do
	for u in "${sk_urls[@]}"; do
		out=$(validate "$u" "$key")
		[[ $out == '{"code":"VALID"'* ]] || { echo "license.sh: a seeded key did not validate: $out" >&2; exit 1; }
	done
done
size=$(validate "${sk_urls[0]}" "$(head -1 "$tmp/keys.txt")" | wc -c)
for i in $(seq 1 "$INSTANCES"); do
	port=$(free_port)
	"${pin_srv[@]}" "$tmp/baseline" -addr "127.0.0.1:$port" -signed-size "$size" >"$tmp/baseline-$i.log" 2>&1 &
	pids+=($!)
	base_urls+=("http://127.0.0.1:$port")
	wait_ok "http://127.0.0.1:$port/healthz"
done
echo "== answer body: $size bytes (storekeep and baseline); request body: $(($(head -1 "$tmp/keys.txt" | tr -d '\n' | wc -c) + 45)) bytes"
echo "== wrk -c$CONNECTIONS -t$WRK_THREADS in total over $INSTANCES process(es), -d$DURATION after a $WARMUP warm-up; servers pinned to: ${SERVER_CPUS:-none}, wrk to: ${WRK_CPUS:-none}; wrk and the servers share the cores"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"

export KEYS_FILE=$tmp/keys.txt BENCH_DIR=bench
conns=$((CONNECTIONS / INSTANCES))
threads=$((WRK_THREADS / INSTANCES))
((threads >= 1)) || threads=1

# measure NAME URL...: one wrk process per URL at once (a warm-up, then the
# measured run); keeps the combined RESULT in results[NAME].
declare -A results
measure() {
	local name=$1 u i
	shift
	i=0
	for u in "$@"; do
		"${pin_wrk[@]}" wrk -t"$threads" -c"$conns" -d"$WARMUP" -s bench/license.lua "$u" >/dev/null &
	done
	wait_wrk
	for u in "$@"; do
		i=$((i + 1))
		"${pin_wrk[@]}" wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s bench/license.lua "$u" >"$tmp/wrk-$name-$i.out" &
	done
	wait_wrk
	results[$name]=$(cat "$tmp"/wrk-"$name"-*.out | grep '^RESULT ' | sed 's/^RESULT //' | awk '
		{ for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
		  rps += v["rps"]; p50 += v["p50_ms"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"]; req += v["requests"]; err += v["errors"]; n++ }
		END { if (n) printf "rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d procs=%d", rps, p50 / n, p99, req, err, n }')
	if [[ -z ${results[$name]} || ${results[$name]} != *procs=$#* ]]; then
		echo "license.sh: wrk gave no RESULT for $name:" >&2
		cat "$tmp"/wrk-"$name"-*.out >&2
		exit 1
	fi
	echo "   $name: ${results[$name]}"
}
wait_wrk() {
	local p
	for p in $(jobs -p); do
		# only the wrk jobs: the servers were started before and are in pids
		if ! printf '%s\n' "${pids[@]}" | grep -qx "$p"; then wait "$p"; fi
	done
}
field() { tr ' ' '\n' <<<"${results[$1]}" | sed -n "s/^$2=//p"; }

echo "== validation"
for r in $(seq 1 "$ROUNDS"); do
	measure "baseline-$r" "${base_urls[@]}"
	measure "storekeep-$r" "${sk_urls[@]}"
done
measure "baseline-$((ROUNDS + 1))" "${base_urls[@]}"

echo
printf '%-8s %12s %12s %9s %9s %9s %9s %7s\n' round base_req/s sk_req/s ratio sk_p50 sk_p99 base_p99 errors
ratios=()
errors=0
for r in $(seq 1 "$ROUNDS"); do
	b=$(awk -v a="$(field "baseline-$r" rps)" -v c="$(field "baseline-$((r + 1))" rps)" 'BEGIN { printf "%.1f", (a + c) / 2 }')
	s=$(field "storekeep-$r" rps)
	ratio=$(awk -v s="$s" -v b="$b" 'BEGIN { printf "%.3f", s / b }')
	ratios+=("$ratio")
	e=$(($(field "storekeep-$r" errors) + $(field "baseline-$r" errors)))
	errors=$((errors + e))
	printf '%-8s %12s %12s %9s %9s %9s %9s %7s\n' "$r" "$b" "$s" "$ratio" "$(field "storekeep-$r" p50_ms)" \
		"$(field "storekeep-$r" p99_ms)" "$(field "baseline-$r" p99_ms)" "$e"
done
errors=$((errors + $(field "baseline-$((ROUNDS + 1))" errors)))
read -r med lo hi < <(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END {
	med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %.2f\n", med, v[1], v[NR] }')
p99s=$(for r in $(seq 1 "$ROUNDS"); do field "storekeep-$r" p99_ms; done | sort -g | awk '{ v[NR] = $1 } END {
	printf "%s (%s-%s)", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }')
echo "== validation ratio (storekeep / same-run baseline): median $med ($lo-$hi) over $ROUNDS rounds; storekeep p99 ms: $p99s"
echo "== load after validation: $(uptime | sed 's/.*load average/load average/')"

echo
echo "== activation bursts: $ACT_LICENSES licenses limited to $ACT_K machines, $ACT_ATTEMPTS activations each, $ACT_CLIENTS clients"
urls=$(IFS=,; echo "${sk_urls[*]}")
act=()
for a in $(seq 1 "$ACT_ROUNDS"); do
	if ! out=$("${pin_wrk[@]}" "$tmp/licenses" activate -urls "$urls" -db "$dsn" -keys-file "$tmp/contended.txt" \
		-from "$(((a - 1) * ACT_LICENSES))" -count "$ACT_LICENSES" -k "$ACT_K" -attempts "$ACT_ATTEMPTS" \
		-clients "$ACT_CLIENTS" -net "$((10 + a))" 2>&1); then
		echo "$out" >&2
		echo "license.sh: activation burst $a failed" >&2
		exit 1
	fi
	sed 's/^/   /' <<<"$out" | grep -v '^   instances:'
	act+=("$(sed -n 's/^RESULT //p' <<<"$out")")
done
astat() { for l in "${act[@]}"; do tr ' ' '\n' <<<"$l" | sed -n "s/^$1=//p"; done | sort -g | awk '{ v[NR] = $1 } END {
	printf "%s (%s-%s)", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'; }
echo "== activations: req/s $(astat rps), p50 ms $(astat p50_ms), p99 ms $(astat p99_ms), over $ACT_ROUNDS bursts; every license exactly $ACT_K machines"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"

if ((errors > 0)); then
	echo "license.sh: $errors validation requests failed or answered an error status; the figures are not valid" >&2
	exit 1
fi

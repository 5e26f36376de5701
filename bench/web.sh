#!/usr/bin/env bash
# bench/web.sh: HTTP throughput and latency of the public site, as a ratio of
# a bare net/http server measured in the same run.
#
# It builds storekeep and bench/baseline once into a temporary directory,
# starts `storekeep demo` and the baseline on loopback ports, waits until they
# answer, then runs wrk against:
#
#   baseline /                      (bench/baseline: static bytes, no stack)
#   storekeep /                     (home page)
#   storekeep /products/quillguard  (product page, 2.8 times the bytes)
#   storekeep /pricing              (price comparison)
#   storekeep /privacy              (privacy policy, derived from the inventory)
#   storekeep /products/quillguard  with Accept-Encoding: gzip, as browsers send
#   baseline /sized/N               twice: bench/baseline padded to the bytes of
#                                   the product page and of the privacy page
#                                   (size-matched rows; not the issue's baseline)
#   baseline /                      (again, to see how much the machine drifted)
#
# Public pages come from storekeep's page cache after the warm-up (see
# internal/web/site/cache.go): the figures are the whole stack (router,
# middleware, request log, metrics, the content-version check) around a
# cached page.
#
# and prints req/s, latency p50/p99 and each page's req/s as a ratio of the
# mean of the two baseline / runs (the reference of the issue's target), and
# for the product and privacy pages also as a ratio of the size-matched row. Shared machines are noisy: compare ratios
# between runs, not absolute numbers. See docs/benchmarks.md.
#
# Settings (environment):
#   DURATION=10s       measured wrk run per target
#   WARMUP=2s          unmeasured wrk run before each measured one
#   WRK_THREADS=2      wrk -t
#   WRK_CONNECTIONS=32 wrk -c
#   STOREKEEP_BIN=...  use this storekeep binary instead of building one
#
# Usage: bench/web.sh            (from anywhere; about two minutes)
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "web.sh: $tool is required (apt-get install $tool)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/storekeep-bench-web.XXXXXX")
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


# wait_ok URL: poll until URL answers 2xx, for at most 30 seconds.
wait_ok() {
	local i
	for i in $(seq 1 300); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "web.sh: $1 did not answer within 30s" >&2
	return 1
}

build_storekeep

sk_port=$(free_port)
base_port=$(free_port)
while [[ $base_port == "$sk_port" ]]; do base_port=$(free_port); done
sk=http://127.0.0.1:$sk_port
base=http://127.0.0.1:$base_port

"$storekeep" demo --addr "127.0.0.1:$sk_port" --dir "$tmp/demo" >"$tmp/demo.out" 2>"$tmp/storekeep.log" &
pids+=($!)
sk_pid=$!
pids+=($sk_pid)
wait_ok "$sk/healthz"
product_bytes=$(curl -fsS "$sk/products/quillguard" | wc -c)
privacy_bytes=$(curl -fsS "$sk/privacy" | wc -c)
"$tmp/baseline" -addr "127.0.0.1:$base_port" -sizes "$product_bytes,$privacy_bytes" >"$tmp/baseline.out" 2>&1 &
pids+=($!)
wait_ok "$base/"

cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu); $(go version | cut -d' ' -f3-)"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== storekeep: $storekeep (pid $sk_pid)"
echo "== wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION (after a $WARMUP warm-up), loopback; server and wrk share the cores"
printf '   page sizes: baseline / %s bytes, storekeep / %s, /products/quillguard %s, /pricing %s, /privacy %s bytes\n' \
	"$(curl -fsS "$base/" | wc -c)" "$(curl -fsS "$sk/" | wc -c)" "$product_bytes" \
	"$(curl -fsS "$sk/pricing" | wc -c)" "$privacy_bytes"

# measure NAME URL: warm up, run wrk, keep its RESULT line in results[NAME].
declare -A results
measure() {
	local name=$1 url=$2 out
	shift 2
	wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WARMUP" "$@" "$url" >/dev/null
	out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION" --latency -s bench/report.lua "$@" "$url")
	results[$name]=$(grep '^RESULT ' <<<"$out" | sed 's/^RESULT //')
	if [[ -z ${results[$name]} ]]; then
		echo "web.sh: no RESULT line from wrk for $url:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "   $name: ${results[$name]}"
}

# field NAME KEY: one value of a RESULT line.
field() { tr ' ' '\n' <<<"${results[$1]}" | sed -n "s/^$2=//p"; }

echo "== measuring"
measure baseline-1 "$base/"
measure home "$sk/"
measure product "$sk/products/quillguard"
measure pricing "$sk/pricing"
measure privacy "$sk/privacy"
measure product-gzip "$sk/products/quillguard" -H "Accept-Encoding: gzip"
measure sized-product "$base/sized/$product_bytes"
measure sized-privacy "$base/sized/$privacy_bytes"
measure baseline-2 "$base/"

base_rps=$(awk -v a="$(field baseline-1 rps)" -v b="$(field baseline-2 rps)" 'BEGIN { printf "%.1f", (a + b) / 2 }')
drift=$(awk -v a="$(field baseline-1 rps)" -v b="$(field baseline-2 rps)" 'BEGIN { printf "%+.1f%%", (b - a) / a * 100 }')

echo
echo "== results (ratio = req/s / mean baseline req/s = $base_rps; baseline drift during the run: $drift)"
printf '%-40s %10s %9s %9s %7s %7s\n' target req/s p50_ms p99_ms errors ratio
row() {
	local name=$1 label=$2
	printf '%-40s %10s %9s %9s %7s %7s\n' "$label" "$(field "$name" rps)" "$(field "$name" p50_ms)" \
		"$(field "$name" p99_ms)" "$(field "$name" errors)" \
		"$(awk -v r="$(field "$name" rps)" -v b="$base_rps" 'BEGIN { printf "%.2f", r / b }')"
}
row baseline-1 "baseline / (before)"
row home "storekeep /"
row product "storekeep /products/quillguard"
row pricing "storekeep /pricing"
row privacy "storekeep /privacy"
row product-gzip "storekeep /products/quillguard gzip"
row sized-product "baseline /sized/$product_bytes (size-matched)"
row sized-privacy "baseline /sized/$privacy_bytes (size-matched)"
row baseline-2 "baseline / (after)"
echo
echo "== size-matched ratios (page req/s / baseline req/s for as many bytes; not the issue's target)"
ratio() { awk -v a="$(field "$1" rps)" -v b="$(field "$2" rps)" 'BEGIN { printf "%.2f", a / b }'; }
echo "storekeep /products/quillguard / baseline /sized/$product_bytes: $(ratio product sized-product)"
echo "storekeep /privacy / baseline /sized/$privacy_bytes: $(ratio privacy sized-privacy)"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"

errors=0
for name in baseline-1 home product pricing privacy product-gzip sized-product sized-privacy baseline-2; do
	errors=$((errors + $(field "$name" errors)))
done
if ((errors > 0)); then
	echo "web.sh: $errors requests failed or answered an error status; the figures are not valid" >&2
	exit 1
fi

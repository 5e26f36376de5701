#!/usr/bin/env bash
# bench/webhooks.sh: the webhook-burst benchmark (bench/webhooks) repeated,
# with a same-run baseline: another build of Storekeep, run alternately with
# this one in the same loop.
#
# The burst's time goes to the database writes (one SQLite writer, or two
# instances contending on PostgreSQL) and the mail delivery, so a bare
# handler would either have to reimplement them (a second implementation to
# keep in step) or leave them out (and measure nothing of what matters).
# Another build on the same machine in the same minutes cancels the machine;
# the figure to compare is the ratio of the medians.
#
# Each side uses its own tree's bench/webhooks, so that the seeded orders
# match the schema and the code of its binary.
#
# Settings (environment):
#   RUNS=5             bursts per build
#   BEFORE_TREE=...    a checkout of the other build (git worktree add ...);
#                      empty: only this tree, RUNS times (the spread only)
#   BEFORE_BIN=...     its storekeep binary (default: built from BEFORE_TREE)
#   STOREKEEP_BIN=...  this tree's binary (default: built)
#   DB=...             PostgreSQL URL; empty for SQLite
#   INSTANCES=1        storekeep serve instances sharing the database
#
# Usage: BEFORE_TREE=/work/wt-before bench/webhooks.sh
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
BEFORE_TREE=${BEFORE_TREE:-}
DB=${DB:-}
INSTANCES=${INSTANCES:-1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/storekeep-bench-webhooks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/lib.sh
source bench/lib.sh

build_storekeep
go build -o "$tmp/webhooks-after" ./bench/webhooks
sides=(after)
if [[ -n $BEFORE_TREE ]]; then
	before_bin=${BEFORE_BIN:-}
	if [[ -z $before_bin ]]; then
		before_bin=$tmp/storekeep-before
		(cd "$BEFORE_TREE" && go build -o "$before_bin" ./cmd/storekeep)
	fi
	(cd "$BEFORE_TREE" && go build -o "$tmp/webhooks-before" ./bench/webhooks)
	sides=(before after)
fi

cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($cpu); $(go version | cut -d' ' -f3-)"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== $RUNS bursts per build, alternating ${sides[*]}; database: ${DB:-SQLite}, instances: $INSTANCES"

args=(-instances "$INSTANCES")
[[ -n $DB ]] && args+=(-db "$DB")

# ms DURATION: a Go duration (91ms, 1.2s, 850µs) in milliseconds.
ms() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /ms$/) { sub(/ms$/, "", d); print d + 0 }
		else if (d ~ /[µu]s$/) { sub(/[µu]s$/, "", d); print d / 1000 }
		else if (d ~ /s$/) { sub(/s$/, "", d); print d * 1000 }
		else print d
	}'
}

for i in $(seq 1 "$RUNS"); do
	for side in "${sides[@]}"; do
		bin=$storekeep
		[[ $side == before ]] && bin=$before_bin
		if ! out=$("$tmp/webhooks-$side" -bin "$bin" "${args[@]}" 2>&1); then
			echo "$out" >&2
			echo "webhooks.sh: run $i of $side failed" >&2
			exit 1
		fi
		answered=$(sed -n 's/^all webhooks answered in \([^;]*\);.*/\1/p' <<<"$out")
		accepted=$(sed -n 's/.*all emails accepted after \(.*\)$/\1/p' <<<"$out")
		p50=$(sed -n 's/^webhook -> SMTP acceptance: p50 \([^,]*\),.*/\1/p' <<<"$out")
		p99=$(sed -n 's/.* p99 \([^,]*\),.*/\1/p' <<<"$out")
		line="answered=$(ms "$answered") accepted=$(ms "$accepted") p50=$(ms "$p50") p99=$(ms "$p99")"
		echo "   run $i $side: $line ($(grep -c '^OK:' <<<"$out") OK)"
		echo "$line" >>"$tmp/$side.results"
	done
done

# stats SIDE KEY: median and min-max of a column, in ms.
stats() {
	tr ' ' '\n' <"$tmp/$1.results" | sed -n "s/^$2=//p" | sort -g | awk '{ v[NR] = $1 } END {
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", med, v[1], v[NR]
	}'
}

echo
echo "== results (ms; median, min-max over $RUNS bursts; every burst exactly once)"
printf '%-28s' figure
for side in "${sides[@]}"; do printf ' %24s' "$side"; done
[[ ${#sides[@]} == 2 ]] && printf ' %14s' "after/before"
echo
for key in answered accepted p50 p99; do
	case $key in
	answered) label="all 200 webhooks answered" ;;
	accepted) label="all 160 emails accepted" ;;
	p50) label="webhook -> SMTP p50" ;;
	p99) label="webhook -> SMTP p99" ;;
	esac
	printf '%-28s' "$label"
	for side in "${sides[@]}"; do
		read -r med lo hi < <(stats "$side" "$key")
		printf ' %24s' "$med ($lo-$hi)"
	done
	if [[ ${#sides[@]} == 2 ]]; then
		read -r a _ _ < <(stats after "$key")
		read -r b _ _ < <(stats before "$key")
		printf ' %14s' "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
	fi
	echo
done
echo "== load after: $(uptime | sed 's/.*load average/load average/')"

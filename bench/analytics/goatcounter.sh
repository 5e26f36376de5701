#!/usr/bin/env bash
# bench/analytics/goatcounter.sh: GoatCounter v2.7.0, the reference of issue
# 14's beacon-ingest target, built outside the repository (its code is never
# committed here).
#
#   goatcounter.sh build   fetch zgo.at/goatcounter/v2@$GC_VERSION through the
#                          Go module proxy, copy the module out of the module
#                          cache (read-only there) into $GC_DIR, build
#                          ./cmd/goatcounter with cgo (it uses
#                          github.com/mattn/go-sqlite3, which needs gcc and
#                          libc6-dev), print the binary's path. A binary
#                          already built there is reused.
#
# bench/analytics/ingest.sh calls it, then creates a site on SQLite and serves
# it on a loopback port:
#
#   goatcounter db create site -createdb -db sqlite+FILE -vhost stats.bench.localhost \
#       -user.email bench@example.com -user.password ...
#   goatcounter serve -listen 127.0.0.1:PORT -tls http -db sqlite+FILE -ratelimit count:100000/1
#
# Settings: GC_VERSION=v2.7.0, GC_DIR=${XDG_CACHE_HOME:-~/.cache}/storekeep-bench/goatcounter-$GC_VERSION
set -euo pipefail

cd "$(dirname "$0")/../.."
GC_VERSION=${GC_VERSION:-v2.7.0}
GC_DIR=${GC_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/storekeep-bench/goatcounter-$GC_VERSION}

case ${1:-build} in
build)
	if [[ -x $GC_DIR/goatcounter ]]; then
		echo "$GC_DIR/goatcounter"
		exit 0
	fi
	command -v gcc >/dev/null || { echo "goatcounter.sh: gcc is required (apt-get install gcc libc6-dev): GoatCounter's SQLite driver is mattn/go-sqlite3 (cgo)" >&2; exit 1; }
	# go mod download works outside a module with an explicit version.
	mod=$(cd / && GOFLAGS=-mod=mod go mod download -json "zgo.at/goatcounter/v2@$GC_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d $mod ]] || { echo "goatcounter.sh: go mod download gave no directory" >&2; exit 1; }
	rm -rf "$GC_DIR"
	mkdir -p "$(dirname "$GC_DIR")"
	cp -r "$mod" "$GC_DIR"
	chmod -R u+w "$GC_DIR"
	(cd "$GC_DIR" && CGO_ENABLED=1 go build -o "$GC_DIR/goatcounter.tmp" ./cmd/goatcounter >&2 && mv "$GC_DIR/goatcounter.tmp" "$GC_DIR/goatcounter")
	echo "$GC_DIR/goatcounter"
	;;
*)
	echo "usage: goatcounter.sh build" >&2
	exit 2
	;;
esac

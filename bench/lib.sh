# Shared by the bench/*.sh scripts: source it after setting $tmp.

# free_port prints a loopback TCP port that nothing listens on.
free_port() {
	local port i
	for i in $(seq 1 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "$(basename "$0"): found no free port" >&2
	return 1
}

# build_storekeep sets $storekeep: $STOREKEEP_BIN when given, else a fresh
# build in $tmp; and builds the same-run baseline server into $tmp.
build_storekeep() {
	echo "== building into $tmp"
	if [[ -n ${STOREKEEP_BIN:-} ]]; then
		storekeep=$STOREKEEP_BIN
	else
		storekeep=$tmp/storekeep
		go build -o "$storekeep" ./cmd/storekeep
	fi
	go build -o "$tmp/baseline" ./bench/baseline
}

#!/usr/bin/env bash
# A local four-validator network (Alice, Bob, Charlie, Dave) on 127.0.0.1.
#   scripts/testnet.sh start   build, then start the four nodes in the background
#   scripts/testnet.sh stop    stop them (SIGINT, then SIGKILL after 20 s)
#   scripts/testnet.sh status  best and finalised block of each node
# Each node has its own base path, network key and ports under $TESTNET_DIR (default
# .testnet/ in the repository): RPC on 9944..9947, p2p on 30333..30336, Prometheus on
# 9615..9618; logs in $TESTNET_DIR/logs/. Session keys are the dev keys that --alice..--dave
# insert into each node's keystore.
# -E: the ERR trap of `start` also fires inside the functions it calls.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"

dir="${TESTNET_DIR:-$REPO_ROOT/.testnet}"
names=(alice bob charlie dave)

# Prints the node's answer, or nothing when it does not answer (yet): a refused connection is
# an answer to wait for, never a reason for `set -e` to end the script.
rpc_call() { # port method [params-json]
	curl -s -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[${3:-}]}" \
		"http://127.0.0.1:$1" || true
}

start() {
	"$REPO_ROOT/scripts/build.sh"
	mkdir -p "$dir/logs"
	# Whatever stops the start half-way stops the nodes it started too.
	trap 'say "start failed: stopping the nodes started so far"; stop' ERR
	local bin; bin="$(node_bin)"
	local bootnode=""
	for i in "${!names[@]}"; do
		local name="${names[$i]}" base="$dir/${names[$i]}"
		[ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null && die "$name is already running (scripts/testnet.sh stop)"
		mkdir -p "$base"
		[ -f "$base/node-key" ] || "$bin" key generate-node-key --file "$base/node-key" 2>/dev/null
		local args=(--chain local "--$name" --base-path "$base" --node-key-file "$base/node-key"
			--rpc-port $((9944 + i)) --prometheus-port $((9615 + i))
			--listen-addr "/ip4/127.0.0.1/tcp/$((30333 + i))" --allow-private-ip --no-mdns --no-telemetry)
		[ -n "$bootnode" ] && args+=(--bootnodes "$bootnode")
		"$bin" "${args[@]}" >"$dir/logs/$name.log" 2>&1 &
		echo $! >"$dir/$name.pid"
		if [ -z "$bootnode" ]; then
			local peer=""
			for _ in $(seq 1 120); do
				peer="$(rpc_call 9944 system_localPeerId 2>/dev/null | sed -n 's/.*"result":"\([^"]*\)".*/\1/p')"
				[ -n "$peer" ] && break
				sleep 0.5
			done
			if [ -z "$peer" ]; then
				stop
				die "alice did not start; see $dir/logs/alice.log"
			fi
			bootnode="/ip4/127.0.0.1/tcp/30333/p2p/$peer"
		fi
		say "$name started (pid $(cat "$dir/$name.pid"), RPC ws://127.0.0.1:$((9944 + i)))"
	done
	trap - ERR
	say "logs: $dir/logs/; stop with: scripts/testnet.sh stop"
}

stop() {
	for name in "${names[@]}"; do
		local pidfile="$dir/$name.pid"
		[ -f "$pidfile" ] || continue
		local pid; pid="$(cat "$pidfile")"
		if kill -0 "$pid" 2>/dev/null; then
			kill -INT "$pid"
			for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
			say "$name stopped"
		fi
		rm -f "$pidfile"
	done
}

status() {
	for i in "${!names[@]}"; do
		local port=$((9944 + i))
		local best fin
		best="$(rpc_call $port chain_getHeader | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p')"
		fin="$(rpc_call $port chain_getFinalizedHead | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')"
		if [ -z "$best" ]; then echo "${names[$i]}: down"; continue; fi
		fin="$(rpc_call $port chain_getHeader "\"$fin\"" | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p')"
		[ -n "$fin" ] || fin=0
		echo "${names[$i]}: best #$((best)), finalised #$((fin))"
	done
}

case "${1:-}" in
	start) start ;;
	stop) stop ;;
	status) status ;;
	*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

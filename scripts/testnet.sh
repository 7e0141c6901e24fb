#!/usr/bin/env bash
# A local network on 127.0.0.1: four validators (Alice, Bob, Charlie, Dave) and three worker
# daemons (Dave, Eve, Ferdie) in the demo worker pool.
#   scripts/testnet.sh start         build, start the four nodes, set up the demo market (first
#                                    start only) and start the workers, all in the background
#   scripts/testnet.sh stop          stop the workers (SIGTERM), then the nodes (SIGINT); SIGKILL
#                                    for any still running after 20 s
#   scripts/testnet.sh status        best and finalised block of each node; each worker's state
#   scripts/testnet.sh restart node NAME | worker NAME
#                                    start that node or worker again (after a crash or a kill)
# Each node has its own base path, network key and ports under $TESTNET_DIR (default
# .testnet/ in the repository): RPC on 9944..9947, p2p on 30333..30336, Prometheus on
# 9615..9618; workers serve health, metrics and results on 9716..9718; logs in
# $TESTNET_DIR/logs/. Session keys are the dev keys that --alice..--dave insert into each
# node's keystore. The chain is `local` at the Fast governance pace (docs/governance.md), so
# the demo market's referendum passes in about a minute. TESTNET_WORKERS=0: validators only.
# -E: the ERR trap of `start` also fires inside the functions it calls.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"

dir="${TESTNET_DIR:-$REPO_ROOT/.testnet}"
names=(alice bob charlie dave)
workers=(dave eve ferdie)

# Prints the node's answer, or nothing when it does not answer (yet): a refused connection is
# an answer to wait for, never a reason for `set -e` to end the script.
rpc_call() { # port method [params-json]
	curl -s -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[${3:-}]}" \
		"http://127.0.0.1:$1" || true
}

# Whether the process of pid file `$1` runs, and is ours: a stale pid file (after a reboot)
# may name an unrelated process, which must be neither reported nor signalled.
running() {
	local pid
	pid="$(cat "$dir/$1.pid" 2>/dev/null)" || return 1
	kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

index_of() { # name list...
	local name="$1" i=0; shift
	for n in "$@"; do [ "$n" = "$name" ] && { echo "$i"; return; }; i=$((i + 1)); done
	return 1
}

# The chain spec every node starts from: `local`, at the Fast governance pace.
chain_spec() {
	local spec="$dir/spec.json"
	if [ ! -f "$spec" ]; then
		"$(node_bin)" build-spec --chain local --disable-default-bootnode 2>/dev/null | sed 's/"pace": "Standard"/"pace": "Fast"/' >"$spec.new"
		grep -q '"pace": "Fast"' "$spec.new" || die "the local chain spec has no governance pace to set"
		mv "$spec.new" "$spec"
	fi
	echo "$spec"
}

start_node() { # name
	local name="$1" i base bin
	i="$(index_of "$name" "${names[@]}")"
	base="$dir/$name"
	bin="$(node_bin)"
	running "node-$name" && die "node $name is already running (scripts/testnet.sh stop)"
	# Another process answering on the port would pass for this node.
	[ -z "$(rpc_call $((9944 + i)) system_health)" ] || die "something already answers RPC on port $((9944 + i)): stop it first"
	mkdir -p "$base" "$dir/logs"
	[ -f "$base/node-key" ] || "$bin" key generate-node-key --file "$base/node-key" 2>/dev/null
	local spec
	spec="$(chain_spec)"
	local args=(--chain "$spec" "--$name" --base-path "$base" --node-key-file "$base/node-key"
		--rpc-port $((9944 + i)) --prometheus-port $((9615 + i))
		--listen-addr "/ip4/127.0.0.1/tcp/$((30333 + i))" --allow-private-ip --no-mdns --no-telemetry)
	if [ "$name" != alice ]; then
		local peer
		peer="$(cat "$dir/alice/peer-id" 2>/dev/null || true)"
		[ -n "$peer" ] && args+=(--bootnodes "/ip4/127.0.0.1/tcp/30333/p2p/$peer")
	fi
	# Own sessions: a Ctrl-C in the terminal that started them is not meant for them.
	setsid "$bin" "${args[@]}" >>"$dir/logs/$name.log" 2>&1 &
	echo $! >"$dir/node-$name.pid"
	local ok=""
	for _ in $(seq 1 120); do
		[ -n "$(rpc_call $((9944 + i)) system_health)" ] && { ok=1; break; }
		running "node-$name" || break
		sleep 0.5
	done
	[ -n "$ok" ] || die "node $name did not start; see $dir/logs/$name.log"
	if [ "$name" = alice ]; then
		rpc_call 9944 system_localPeerId | sed -n 's/.*"result":"\([^"]*\)".*/\1/p' >"$dir/alice/peer-id"
	fi
	say "node $name started (pid $(cat "$dir/node-$name.pid"), RPC ws://127.0.0.1:$((9944 + i)))"
}

# The demo market of scripts/dev.sh (the π app, a worker pool, both approved by referendum,
# their orders), once per network; its ids go to market.json.
setup_market() {
	[ -f "$dir/market.json" ] && return
	mkdir -p "$dir/apps"
	local code_hash
	code_hash="$("$(worker_bin)" compile-wat "$REPO_ROOT/worker/apps/pi.wat" "$dir/apps/pi.wasm")"
	say "setting up the demo market (the π app and a pool, approved by referendum: about a minute)"
	node "$REPO_ROOT/scripts/js/dev-setup.mjs" --url ws://127.0.0.1:9944 \
		--wasm-uri "file://$dir/apps/pi.wasm" --code-hash "$code_hash" >"$dir/market.json.new"
	mv "$dir/market.json.new" "$dir/market.json"
}

start_worker() { # name
	local name="$1" i port pool url
	i="$(index_of "$name" "${workers[@]}")"
	port=$((9716 + i))
	running "worker-$name" && die "worker $name is already running (scripts/testnet.sh stop)"
	pool="$(sed -n 's/.*"pool":\([0-9]*\).*/\1/p' "$dir/market.json")"
	# Each worker talks to another validator first, and fails over to the rest.
	url="ws://127.0.0.1:$((9945 + i % 3)),ws://127.0.0.1:9944"
	local suri="//${name^}" log="$dir/logs/worker-$name.log"
	mkdir -p "$dir/workers/$name"
	chmod 700 "$dir/workers"
	if [ ! -f "$dir/workers/$name.joined" ]; then
		"$(worker_bin)" join "$pool" --node-url "$url" --suri "$suri" >>"$log" 2>&1 \
			|| { tail -n 5 "$log" >&2; die "worker $name could not join pool $pool (log above: $log)"; }
		touch "$dir/workers/$name.joined"
	fi
	IEXEC_WORKER_SURI="$suri" setsid "$(worker_bin)" run --node-url "$url" --work-dir "$dir/workers/$name" \
		--listen "127.0.0.1:$port" --result-url "http://127.0.0.1:$port" --allow-file-uris \
		--shutdown-grace-s 10 >>"$log" 2>&1 &
	echo $! >"$dir/worker-$name.pid"
	say "worker $name started (pid $!, pool $pool, metrics http://127.0.0.1:$port/metrics)"
}

start() {
	"$REPO_ROOT/scripts/build.sh"
	mkdir -p "$dir/logs"
	# Whatever stops the start half-way (an error, `die`, Ctrl-C) stops what it started too.
	start_ok=""
	trap '[ -n "$start_ok" ] || { say "start failed: stopping what was started so far"; stop; }' EXIT
	trap 'exit 130' INT TERM
	for name in "${names[@]}"; do start_node "$name"; done
	if [ "${TESTNET_WORKERS:-3}" != 0 ]; then
		setup_market
		for name in "${workers[@]}"; do start_worker "$name"; done
		say "demo market: $(cat "$dir/market.json"); submit a task with:"
		say "  node scripts/js/iexec.mjs request --suri //Charlie --app $(sed -n 's/.*"app":\([0-9]*\).*/\1/p' "$dir/market.json") --params 1000000 --trust 3"
	fi
	start_ok=1
	say "logs: $dir/logs/; stop with: scripts/testnet.sh stop"
}

stop_one() { # pid-file-name signal
	local pidfile="$dir/$1.pid"
	[ -f "$pidfile" ] || return 0
	if running "$1"; then
		local pid; pid="$(cat "$pidfile")"
		kill "-$2" "$pid" 2>/dev/null || true
		for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$pid" 2>/dev/null || true
		say "${1/-/ } stopped"
	fi
	rm -f "$pidfile"
}

stop() {
	# Workers first: with a node to talk to, they hand back what they cannot finish.
	for name in "${workers[@]}"; do stop_one "worker-$name" TERM; done
	for name in "${names[@]}"; do stop_one "node-$name" INT; done
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
	for i in "${!workers[@]}"; do
		local name="${workers[$i]}" port=$((9716 + i))
		if ! running "worker-$name"; then echo "worker $name: down"; continue; fi
		local metrics held
		metrics="$(curl -s "http://127.0.0.1:$port/metrics" || true)"
		held="$(sed -n 's/^iexec_worker_replicas_running \([0-9]*\).*/\1/p' <<<"$metrics")"
		echo "worker $name: running, ${held:-?} replica(s) running"
	done
}

restart() { # node|worker name
	local kind="${1:-}" name="${2:-}"
	case "$kind" in
		node) index_of "$name" "${names[@]}" >/dev/null || die "restart: no node $name (${names[*]})" ;;
		worker) index_of "$name" "${workers[@]}" >/dev/null || die "restart: no worker $name (${workers[*]})" ;;
		*) die "usage: $0 restart node|worker NAME" ;;
	esac
	running "$kind-$name" && die "$kind $name is running"
	"start_$kind" "$name"
}

case "${1:-}" in
	start) start ;;
	stop) stop ;;
	status) status ;;
	restart) restart "${2:-}" "${3:-}" ;;
	*) echo "usage: $0 start|stop|status|restart node|worker NAME" >&2; exit 2 ;;
esac

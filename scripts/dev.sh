#!/usr/bin/env bash
# The main job: set up, build, and run the whole system on this machine — a development chain
# (one validator, Alice; RPC on ws://127.0.0.1:9944), the demo market on it (the π app,
# registered by Alice; a worker pool, registered by Bob; both approved by a real referendum),
# and two worker daemons (Dave and Eve) in that pool. Then it prints the one command that
# submits a task and shows its certified result, and runs until Ctrl-C, which stops it all.
#
#   scripts/dev.sh [iexec-node options…]      e.g. --rpc-external (the RPC port stays 9944)
#
# State and logs go to $IEXEC_DEV_BASE (default: a temporary folder, wiped on exit).
# IEXEC_DEV_WORKERS=0 starts the chain alone (no demo market, no workers).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/setup.sh"
"$REPO_ROOT/scripts/build.sh"

base="${IEXEC_DEV_BASE:-}"
keep_base=1
if [ -z "$base" ]; then
	base="$(mktemp -d)"
	keep_base=0
fi
mkdir -p "$base/logs" "$base/apps"
rpc_port=9944
url="ws://127.0.0.1:$rpc_port"
pids=()

# Everything this script started stops with it, whatever stops it: workers first (they hand
# back what they hold), then the node.
shutdown() {
	trap - EXIT INT TERM
	say "Stopping the workers and the node"
	local pid
	for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
	if [ "${#pids[@]}" -gt 0 ]; then
		kill -INT "${pids[0]}" 2>/dev/null || true
		wait "${pids[0]}" 2>/dev/null || true
	fi
	[ "$keep_base" -eq 1 ] || rm -rf "$base"
}
trap shutdown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

rpc_health() {
	curl -sf -H 'content-type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' \
		"http://127.0.0.1:$rpc_port" >/dev/null
}
# Another node answering on the port would pass for ours.
! rpc_health || die "something already answers RPC on port $rpc_port (another node?): stop it first"
say "Starting the dev chain (base path $base, log $base/logs/node.log)"
# Children run in their own sessions: a Ctrl-C reaches this script only, which stops them in
# order (a node stopped first would leave the workers unable to hand anything back).
setsid "$(node_bin)" --dev --base-path "$base/chain" --rpc-port "$rpc_port" --rpc-cors all "$@" \
	>"$base/logs/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do
	rpc_health && break
	kill -0 "${pids[0]}" 2>/dev/null || { tail -20 "$base/logs/node.log" >&2; die "the node exited (log above)"; }
	sleep 0.5
done
rpc_health || die "the node did not answer within two minutes; see $base/logs/node.log"
say "Dev chain up: RPC $url; polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A$rpc_port"

if [ "${IEXEC_DEV_WORKERS:-2}" != 0 ]; then
	worker="$(worker_bin)"
	say "Compiling the demo app (worker/apps/pi.wat: a Monte Carlo estimate of π)"
	code_hash="$("$worker" compile-wat "$REPO_ROOT/worker/apps/pi.wat" "$base/apps/pi.wasm")"
	# A kept base folder (IEXEC_DEV_BASE) keeps its chain: the market is set up once.
	if [ ! -f "$base/market.json" ]; then
		say "Registering the app and a worker pool, approving them by referendum, publishing orders"
		node "$REPO_ROOT/scripts/js/dev-setup.mjs" --url "$url" \
			--wasm-uri "file://$base/apps/pi.wasm" --code-hash "$code_hash" >"$base/market.json.new"
		mv "$base/market.json.new" "$base/market.json"
	fi
	setup="$(cat "$base/market.json")"
	app="$(sed -n 's/.*"app":\([0-9]*\).*/\1/p' <<<"$setup")"
	pool="$(sed -n 's/.*"pool":\([0-9]*\).*/\1/p' <<<"$setup")"
	listen=9616
	for name in Dave Eve; do
		lower="${name,,}"
		# The demo app is a local file: this machine's workers may read file:// locations.
		if [ ! -f "$base/workers/$lower.joined" ]; then
			"$worker" join "$pool" --node-url "$url" --suri "//$name" >>"$base/logs/worker-$lower.log" 2>&1 \
				|| { tail -5 "$base/logs/worker-$lower.log" >&2; die "$name could not join pool $pool"; }
			mkdir -p "$base/workers" && touch "$base/workers/$lower.joined"
		fi
		IEXEC_WORKER_SURI="//$name" setsid "$worker" run --node-url "$url" --work-dir "$base/workers/$lower" \
			--listen "127.0.0.1:$listen" --result-url "http://127.0.0.1:$listen" --allow-file-uris \
			--shutdown-grace-s 5 >>"$base/logs/worker-$lower.log" 2>&1 &
		pids+=($!)
		# Healthy once it has read the chain; a worker that cannot (a port taken, a bad
		# setting) says why in its log.
		for _ in $(seq 1 60); do
			curl -sf "http://127.0.0.1:$listen/health" >/dev/null && break
			kill -0 "${pids[-1]}" 2>/dev/null || { tail -5 "$base/logs/worker-$lower.log" >&2; die "worker $name exited (log above)"; }
			sleep 0.5
		done
		say "Worker $name joined pool $pool and runs (metrics http://127.0.0.1:$listen/metrics, log $base/logs/worker-$lower.log)"
		listen=$((listen + 1))
	done
	cat <<-EOF

	Ready. From the repository root, submit a task (Charlie asks for π from 1,000,000 samples,
	computed by two workers who must agree) and see its certified result:

	    node scripts/js/iexec.mjs request --suri //Charlie --app $app --params 1000000 --trust 3

	EOF
fi
say "Stop everything with Ctrl-C."
wait "${pids[0]}"

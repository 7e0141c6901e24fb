#!/usr/bin/env bash
# Throughput of the chain under full task lives (docs/benchmarks.md, "Load"): builds the node
# and the load generator in release, then for each run starts a fresh dev node and drives it
# with `load-gen`. First signed balance transfers (the chain's own ceiling, on the same node
# and build), then tasks for each worker count and trust. Prints a Markdown table with each
# run's tasks/s as a ratio to the transfers' figure; each run's JSON report is kept.
#
#   scripts/bench-load.sh                      # 300, 3,000, 30,000 workers; trust 1 and 3
#   WORKERS="300" TRUSTS="1" BLOCKS=10 WARMUP=3 scripts/bench-load.sh
#   PROFILE=debug scripts/bench-load.sh        # the debug build the tests use (quick, slow)
#   EXTRA="--batch 1" scripts/bench-load.sh    # extra load-gen arguments for the task runs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

workers="${WORKERS:-300 3000 30000}"
trusts="${TRUSTS:-1 3}"
blocks="${BLOCKS:-20}"
warmup="${WARMUP:-5}"
profile="${PROFILE:-release}"
senders="${SENDERS:-16000}"
out="${OUT:-$(dirname "$CARGO_TARGET_DIR")/load/$(date -u +%Y-%m-%dT%H%M%S)}"
mkdir -p "$out"

if [ "$profile" = release ]; then
	say "Building the node and the load generator (release; the first time takes long)"
	cargo build --locked --release -p iexec-node -p iexec-worker --bin iexec-node --bin load-gen
else
	say "Building the node and the load generator (debug)"
	cargo build --locked -p iexec-node -p iexec-worker --bin iexec-node --bin load-gen
fi
node="$CARGO_TARGET_DIR/$profile/iexec-node"
gen="$CARGO_TARGET_DIR/$profile/load-gen"

pid=""
base=""
stop_node() {
	if [ -n "$pid" ]; then
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	[ -n "$base" ] && rm -rf "$base"
	pid=""
	base=""
}
trap stop_node EXIT

# Runs load-gen against a fresh dev node: run NAME ARGS...
run() {
	local name="$1"
	shift
	local port=$((20000 + RANDOM % 20000))
	base="$(mktemp -d)"
	# A pool and RPC buffers large enough that the generator, not the node's defaults, decides
	# how many calls wait.
	"$node" --dev --base-path "$base/db" --rpc-port "$port" \
		--listen-addr "/ip4/127.0.0.1/tcp/$((port + 1))" --no-prometheus --no-telemetry --no-mdns \
		--pool-limit 65536 --pool-kbytes 1048576 \
		--rpc-message-buffer-capacity-per-connection 4096 >"$out/$name.node.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do
		curl -s -H 'content-type: application/json' \
			-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' \
			"http://127.0.0.1:$port" >/dev/null && break
		kill -0 "$pid" 2>/dev/null || { tail "$out/$name.node.log"; die "the node stopped"; }
		sleep 0.2
	done
	say "Run $name: load-gen $*"
	"$gen" --url "ws://127.0.0.1:$port" --node-pid "$pid" --blocks "$blocks" --warmup "$warmup" --json "$@" \
		>"$out/$name.json" || die "load-gen failed ($name); its report: $out/$name.json"
	stop_node
}

run transfers --mode transfers --senders "$senders"
for w in $workers; do
	for t in $trusts; do
		# shellcheck disable=SC2086 # EXTRA is a list of arguments
		run "tasks-w$w-t$t" --workers "$w" --trust "$t" ${EXTRA:-}
	done
done

say "Reports in $out"
node - "$out" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name)));
const base = read('transfers.json');
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const fmt = (x, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`transfers (the chain's ceiling): ${fmt(base.per_second)}/s, ${fmt(base.per_block, 0)} per block, `
  + `weight ${pct(base.weight_fullness)}, node ${pct(base.node_cores ?? 0)} of a core\n`);
console.log('| workers | trust | certified/s | per block | ratio to transfers | replicas/task | extrinsics/block | weight full | µs weight/task | bytes/task | node CPU | node RSS (peak) | failed lanes |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const name of fs.readdirSync(dir).filter((f) => f.startsWith('tasks-') && f.endsWith('.json')).sort((a, b) => {
  const key = (f) => f.match(/w(\d+)-t(\d+)/).slice(1).map(Number);
  const [wa, ta] = key(a); const [wb, tb] = key(b);
  return wa - wb || ta - tb;
})) {
  const r = read(name);
  console.log(`| ${r.accounts.toLocaleString('en-US')} | ${r.trust} | ${fmt(r.per_second)} | ${fmt(r.per_block, 0)} | `
    + `${fmt(r.per_second / base.per_second, 2)} | ${fmt(r.replicas_per_task, 2)} | ${fmt(r.extrinsics_per_block)} | `
    + `${pct(r.weight_fullness)} | ${fmt(r.weight_micros_each)} | ${fmt(r.block_bytes_each, 0)} | `
    + `${pct(r.node_cores ?? 0)} | ${fmt(r.node_rss_mib ?? 0, 0)} (${fmt(r.node_peak_rss_mib ?? 0, 0)}) MiB | ${r.lanes_failed} |`);
}
EOF

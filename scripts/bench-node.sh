#!/usr/bin/env bash
# Node figures for docs/benchmarks.md: compressed runtime Wasm size, time from start to the
# first finalised block, and resident memory after N blocks of a dev chain.
#   scripts/bench-node.sh [BLOCKS]     (default 100 blocks: about ten minutes)
# Uses the debug build of scripts/build.sh, like the tests; pass BIN=path to measure another.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

blocks="${1:-100}"
bin="${BIN:-$(node_bin)}"
[ -x "$bin" ] || "$REPO_ROOT/scripts/build.sh"
# A debug build embeds the uncompressed blob (the wasm builder compacts and compresses only in
# release builds); zstd at level 22 is what its compression uses.
wasm="$CARGO_TARGET_DIR/debug/wbuild/iexec-runtime/iexec_runtime.wasm"
if [ -f "$wasm" ]; then
	echo "runtime wasm: $(stat -c %s "$wasm") bytes, zstd -22: $(zstd --ultra -22 -q -c "$wasm" | wc -c) bytes"
fi

port=$((20000 + RANDOM % 20000))
base="$(mktemp -d)"
log="$base/node.log"
"$bin" --dev --base-path "$base/db" --rpc-port "$port" --listen-addr "/ip4/127.0.0.1/tcp/$((port + 1))" \
	--no-prometheus --no-telemetry --no-mdns >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$base"' EXIT
start=$(date +%s.%N)

rpc() { curl -s -H 'content-type: application/json' -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[${2:-}]}" "http://127.0.0.1:$port"; }
number_of() { sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p'; }
finalized() { local h; h="$(rpc chain_getFinalizedHead | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')"; [ -n "$h" ] && echo $(( $(rpc chain_getHeader "\"$h\"" | number_of) )); }
best() { local n; n="$(rpc chain_getHeader | number_of)"; [ -n "$n" ] && echo $((n)); }

while [ -z "$(rpc system_health)" ]; do kill -0 $pid || { tail "$log"; exit 1; }; sleep 0.1; done
rpc_up=$(date +%s.%N)
while [ "$(finalized || echo 0)" -lt 1 ]; do sleep 0.2; done
first_final=$(date +%s.%N)
printf 'start to RPC up: %.1f s\nstart to first finalised block: %.1f s\n' \
	"$(echo "$rpc_up - $start" | bc)" "$(echo "$first_final - $start" | bc)"
echo "waiting for $blocks blocks..." >&2
while [ "$(best || echo 0)" -lt "$blocks" ]; do sleep 2; done
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
printf 'resident memory after %s blocks: %d MiB (best #%s, finalised #%s)\n' "$blocks" $((rss_kib / 1024)) "$(best)" "$(finalized)"

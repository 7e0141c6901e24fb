#!/usr/bin/env bash
# The test command: sets up, builds, and runs every test tier.
#   1. Rust: pallet and runtime unit tests (governance included), node integration tests (a
#      real dev node, referenda on it, a second validator admitted by referendum, real
#      four-validator networks on 127.0.0.1, one with a validator key run twice and punished,
#      CLI error handling), the worker.
#   2. Benchmarks of the pallets, run once as tests; the runtime tests again with every
#      pallet's try_state; the runtime's benchmark API compiles.
#   3. scripts/testnet.sh as an operator uses it: four validators and three workers from a cold
#      start, tasks completed through a killed validator and worker, no RLC created or lost.
#   4. Clients: the real @polkadot/api from npm against a real dev node (transfers, the
#      governance flow through scripts/js/propose-app.mjs, the market and Proof-of-Contribution),
#      real `iexec-worker` daemons taking tasks to certified, paid results, the command-line
#      client (scripts/js/iexec.mjs) for requesters and providers, and scripts/dev.sh (the main
#      job) from a cold start, its printed command run as printed, Ctrl-C leaving nothing.
# Prints a summary line `N passed, M failed` (test suites) at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"
"$REPO_ROOT/scripts/build.sh"

passed=0
failed=0
run_suite() {
	local name="$1"; shift
	say "Test suite: $name"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); say "FAILED: $name"; fi
}

run_suite "rust (cargo test --workspace)" cargo test --locked --workspace
# The pallet benchmarks, run as tests in the mock runtime: they must keep compiling and pass.
run_suite "benchmarks as tests (pallets)" \
	cargo test --locked -p pallet-validator-set -p pallet-registry -p pallet-market -p pallet-poco \
	--features pallet-validator-set/runtime-benchmarks,pallet-registry/runtime-benchmarks,pallet-market/runtime-benchmarks,pallet-poco/runtime-benchmarks
# The runtime tests again with `try-runtime`: after the governance and validator flows, the
# `try_state` of every pallet of the runtime runs, FRAME's included (native only: these
# tests do not need the Wasm).
run_suite "runtime try_state of every pallet (cargo test --features try-runtime)" \
	env SKIP_WASM_BUILD=1 cargo test --locked -p iexec-runtime --features try-runtime \
	--test governance --test validators
# The runtime as scripts/bench-weights.sh builds it, native part only (its Wasm is built there).
run_suite "runtime benchmark API (cargo check)" \
	env SKIP_WASM_BUILD=1 cargo check --locked -p iexec-runtime --features runtime-benchmarks
# The local network a validator operator tries first: start, status, stop from a cold start.
run_suite "local testnet (scripts/testnet.sh: start, status, faults, restart, stop)" "$REPO_ROOT/scripts/testnet-check.sh"
run_suite "polkadot.js client (npm test)" \
	env IEXEC_NODE="$(node_bin)" IEXEC_WORKER="$(worker_bin)" npm --prefix "$REPO_ROOT/scripts/js" test

echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

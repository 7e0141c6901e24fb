#!/usr/bin/env bash
# Regenerates the weights of our pallets from their frame-benchmarking v2 benchmarks, run in
# the runtime's Wasm by frame-omni-bencher, and writes each pallet's src/weights.rs.
#   scripts/bench-weights.sh [PALLET...]   (default: every pallet the runtime benchmarks)
# STEPS (default 50) and REPEAT (default 20) set the sampling. Weights are only as good as
# the machine they are measured on: regenerate them on the reference validator hardware
# before a release (docs/benchmarks.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

steps="${STEPS:-50}"
repeat="${REPEAT:-20}"
cache="$(dirname "$CARGO_TARGET_DIR")"

# The benchmarking CLI that matches polkadot-sdk stable2609, installed once beside the target
# directory (it is a tool, not part of the workspace, so it does not touch our builds).
bencher="$cache/tools/bin/frame-omni-bencher"
if [ ! -x "$bencher" ]; then
	say "installing frame-omni-bencher 0.28.0 into $cache/tools (once; about 40 minutes on two cores)"
	CARGO_TARGET_DIR="$cache/tools-target" cargo install --locked frame-omni-bencher --version 0.28.0 --root "$cache/tools"
fi

# The runtime with its benchmarks compiled in. Its own target directory, so that the node's
# runtime (without benchmarks) is never overwritten by this one; `cargo check` is enough,
# the Wasm builder still builds the Wasm.
bench_target="$cache/bench-target"
say "building the runtime with runtime-benchmarks"
(cd "$REPO_ROOT" && CARGO_TARGET_DIR="$bench_target" cargo check --locked -p iexec-runtime --features runtime-benchmarks)
wasm="$bench_target/debug/wbuild/iexec-runtime/iexec_runtime.wasm"
[ -f "$wasm" ] || die "no runtime Wasm at $wasm"

declare -A dir_of=(
	[pallet_validator_set]=pallets/validator-set
	[pallet_registry]=pallets/registry
	[pallet_market]=pallets/market
	[pallet_poco]=pallets/poco
)
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_validator_set pallet_registry pallet_market pallet_poco)

for pallet in "${pallets[@]}"; do
	dir="${dir_of[$pallet]:-}"
	[ -n "$dir" ] || die "unknown pallet $pallet (known: ${!dir_of[*]})"
	say "benchmarking $pallet: $steps steps, $repeat repeats"
	"$bencher" v1 benchmark pallet \
		--runtime "$wasm" --genesis-builder-preset development \
		--pallet "$pallet" --extrinsic '*' \
		--steps "$steps" --repeat "$repeat" \
		--template "$REPO_ROOT/scripts/bench/weights.hbs" \
		--output "$REPO_ROOT/$dir/src/weights.rs"
done
say "weights written; review with git diff"

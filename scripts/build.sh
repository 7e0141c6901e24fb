#!/usr/bin/env bash
# Builds what the dev chain, the tests and CI use: the node (debug profile, with the runtime
# Wasm). Same profile and features everywhere, so the shared target directory stays warm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
say "Building iexec-node (debug, target dir $CARGO_TARGET_DIR)"
cargo build --locked -p iexec-node

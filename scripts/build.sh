#!/usr/bin/env bash
# Builds what the dev chain, the tests and CI use: the node (debug profile, with the runtime
# Wasm) and the worker. Same profile and features everywhere, so the shared target directory stays warm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
say "Building iexec-node and iexec-worker (debug, target dir $CARGO_TARGET_DIR)"
cargo build --locked -p iexec-node -p iexec-worker

#!/usr/bin/env bash
# The main job: set up, build, and run a development chain (one validator, Alice) with RPC on
# ws://127.0.0.1:9944. Extra arguments go to iexec-node (e.g. --rpc-external).
# State is kept under $IEXEC_DEV_BASE (default: a temporary folder, wiped on exit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/setup.sh"
"$REPO_ROOT/scripts/build.sh"

base="${IEXEC_DEV_BASE:-}"
if [ -z "$base" ]; then
	base="$(mktemp -d)"
	trap 'rm -rf "$base"' EXIT
fi
say "Starting the dev chain (base path $base); polkadot.js Apps: connect to ws://127.0.0.1:9944"
say "Stop with Ctrl-C."
"$(node_bin)" --dev --base-path "$base" --rpc-cors all "$@"

#!/usr/bin/env bash
# Checks scripts/testnet.sh as a new validator operator meets it: from a cold start (a fresh
# directory), `start` brings four validators up, `status` shows each of them producing and
# finalising blocks, `stop` ends them all, and `status` then says each is down. Nothing is left
# running, also when a check fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export TESTNET_DIR; TESTNET_DIR="$(mktemp -d)"
testnet="$REPO_ROOT/scripts/testnet.sh"
cleanup() { "$testnet" stop >/dev/null 2>&1 || true; rm -rf "$TESTNET_DIR"; }
trap cleanup EXIT

fail() { echo "testnet check: $*" >&2; exit 1; }

say "testnet.sh start (cold, in $TESTNET_DIR)"
"$testnet" start
for name in alice bob charlie dave; do
	[ -f "$TESTNET_DIR/$name.pid" ] || fail "no pid file for $name"
	kill -0 "$(cat "$TESTNET_DIR/$name.pid")" || fail "$name is not running"
done
pids="$(cat "$TESTNET_DIR"/*.pid)"

say "testnet.sh status, until every node has finalised a block (at most 3 minutes)"
finalised=""
for _ in $(seq 1 90); do
	out="$("$testnet" status)"
	if [ "$(echo "$out" | grep -cE '^(alice|bob|charlie|dave): best #[0-9]+, finalised #[1-9][0-9]*$')" -eq 4 ]; then
		finalised=yes
		break
	fi
	sleep 2
done
echo "$out"
[ -n "$finalised" ] || fail "not every node finalised a block; logs in $TESTNET_DIR/logs"

say "testnet.sh stop"
"$testnet" stop
for pid in $pids; do
	! kill -0 "$pid" 2>/dev/null || fail "process $pid still runs after stop"
done
ls "$TESTNET_DIR"/*.pid >/dev/null 2>&1 && fail "pid files left after stop"
out="$("$testnet" status)"
echo "$out"
[ "$(echo "$out" | grep -c ': down$')" -eq 4 ] || fail "status after stop should say every node is down"
say "testnet.sh: start, status and stop work from a cold start"

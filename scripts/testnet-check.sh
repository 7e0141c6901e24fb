#!/usr/bin/env bash
# Checks scripts/testnet.sh as an operator meets it: from a cold start (a fresh directory),
# `start` brings four validators and three workers up, `status` shows each node producing and
# finalising blocks and each worker running; then tasks complete while a validator and a
# worker are killed and restarted, with no RLC created or lost (scripts/js/test/
# testnet-faults.mjs); `stop` ends them all, and `status` then says each is down. Nothing is
# left running, also when a check fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export TESTNET_DIR; TESTNET_DIR="$(mktemp -d)"
testnet="$REPO_ROOT/scripts/testnet.sh"
cleanup() { "$testnet" stop >/dev/null 2>&1 || true; rm -rf "$TESTNET_DIR"; }
trap cleanup EXIT

fail() { echo "testnet check: $*" >&2; exit 1; }

say "testnet.sh start (cold, in $TESTNET_DIR)"
"$testnet" start
for name in node-alice node-bob node-charlie node-dave worker-dave worker-eve worker-ferdie; do
	[ -f "$TESTNET_DIR/$name.pid" ] || fail "no pid file for $name"
	kill -0 "$(cat "$TESTNET_DIR/$name.pid")" || fail "$name is not running"
done

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
[ "$(echo "$out" | grep -cE '^worker (dave|eve|ferdie): running')" -eq 3 ] || fail "not every worker runs"

say "faults: tasks complete while a validator and a worker are killed and restarted"
node --test "$REPO_ROOT/scripts/js/test/testnet-faults.mjs" \
	|| { tail -n 30 "$TESTNET_DIR"/logs/worker-*.log >&2; fail "tasks did not complete through the faults"; }
pids="$(cat "$TESTNET_DIR"/*.pid)"

say "testnet.sh stop"
"$testnet" stop
for pid in $pids; do
	! kill -0 "$pid" 2>/dev/null || fail "process $pid still runs after stop"
done
ls "$TESTNET_DIR"/*.pid >/dev/null 2>&1 && fail "pid files left after stop"
out="$("$testnet" status)"
echo "$out"
[ "$(echo "$out" | grep -c ': down$')" -eq 7 ] || fail "status after stop should say every node and worker is down"
say "testnet.sh: start, status, restart and stop work from a cold start; tasks survive the faults"

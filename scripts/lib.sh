# Shared helpers for the scripts in this folder. Source it, do not run it.

# One persistent cargo target directory outside the work tree, so that builds
# stay warm between sessions and in CI on the same machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/iexec-sidechain/target}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run as root directly, otherwise through sudo when there is one.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "need root for: $*"
	fi
}

# The node binary built by `cargo build -p iexec-node` (debug profile, the one
# the tests use).
node_bin() { printf '%s/debug/iexec-node\n' "$CARGO_TARGET_DIR"; }
worker_bin() { printf '%s/debug/iexec-worker\n' "$CARGO_TARGET_DIR"; }

# Starts the Docker engine when it does not answer: workers run Docker tasks, and the tests
# run real containers. Its log goes to $CARGO_TARGET_DIR/../dockerd.log.
ensure_dockerd() {
	if docker version >/dev/null 2>&1; then
		say "Docker engine: running"
		return
	fi
	command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
	local log; log="$(dirname "$CARGO_TARGET_DIR")/dockerd.log"
	mkdir -p "$(dirname "$log")"
	say "Docker engine: starting dockerd (log: $log)"
	# In its own session: a Ctrl-C meant for the script that started it must not stop it.
	as_root setsid sh -c "nohup dockerd >'$log' 2>&1 &"
	for _ in $(seq 1 60); do
		docker version >/dev/null 2>&1 && return
		sleep 0.5
	done
	die "dockerd did not start; see $log"
}

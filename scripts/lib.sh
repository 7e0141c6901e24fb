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

#!/usr/bin/env bash
# Installs everything the build and the tests need. Safe to run again: each
# step checks first and does nothing when its part is already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"

say "Rust: wasm32 targets and rust-src (for the runtime's Wasm build)"
for target in wasm32-unknown-unknown wasm32v1-none; do
	rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

need_pkgs=()
for pkg in protobuf-compiler clang libclang-dev libssl-dev openssl pkg-config make curl ca-certificates \
	docker.io busybox-static bc zstd iproute2; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
command -v npm >/dev/null || need_pkgs+=(nodejs npm)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	say "Debian packages: ${need_pkgs[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
else
	say "Debian packages: all present"
fi

ensure_dockerd

# npm records what it installed in node_modules/.package-lock.json; when that is newer than the
# lock file, the packages are there (and `npm ci`, which empties node_modules first, would pull
# them from under a client already running).
js="$REPO_ROOT/scripts/js"
if [ "$js/node_modules/.package-lock.json" -nt "$js/package-lock.json" ] && [ "$js/node_modules/.package-lock.json" -nt "$js/package.json" ]; then
	say "npm packages (scripts/js): all present"
else
	say "npm packages for the clients and their tests (scripts/js)"
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi

say "setup done (cargo target dir: $CARGO_TARGET_DIR)"

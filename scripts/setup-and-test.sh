#!/usr/bin/env bash
# The README's test command on a fresh machine: install what is missing
# (wasm target, wasm-bindgen CLI at the locked version, cargo-deny and
# cargo-machete at pinned versions, Chromium and chromedriver from Debian,
# the npm packages from their lockfiles, PostgreSQL, Redis, Synapse),
# then run every check (`cargo xtask ci`) and the server suite again
# against a real PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# Disk: a cold build of the workspace (native, wasm tests, size-optimised
# dist) takes about 6 GiB of target directory. No incremental caches and
# line tables instead of full debug info keep it there; a CI run never
# rebuilds incrementally and backtraces keep their file:line.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir"
free_kb=$(df -Pk "$target_dir" | awk 'NR==2 {print $4}')
echo "== disk: $(( free_kb / 1024 / 1024 )) GiB free where $target_dir lives"
if [ "$free_kb" -lt $(( 8 * 1024 * 1024 )) ]; then
  echo "warning: under 8 GiB free; a cold build needs about 6 GiB and may fail with 'No space left on device'" >&2
fi

echo "== toolchain"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# `cargo xtask dist` compiles the standard library for size (-Zbuild-std).
rustup component add rust-src >/dev/null
command -v node >/dev/null || { echo "node is required (Node.js 20+)"; exit 1; }

# wasm-bindgen-test-runner must match the wasm-bindgen crate exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ -n "$wb_version" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  echo "== installing wasm-bindgen-cli $wb_version"
  # Not --locked: its lockfile pins a crate version this registry mirror lacks.
  cargo install wasm-bindgen-cli --version "=$wb_version" --quiet
fi

# The dependency gates of `cargo xtask ci` (steps deny and unused-deps), at
# the versions crates/xtask/src/dependency_checks.rs pins. cargo-machete,
# not cargo-udeps (nightly only) nor cargo-shear (its parser needs rustc
# 1.98); both build offline from crates.io with their own lockfiles.
CARGO_DENY_VERSION=0.20.2
CARGO_MACHETE_VERSION=0.9.2
install_cargo_tool() { # PACKAGE VERSION
  if ! cargo "${1#cargo-}" --version 2>/dev/null | grep -qwF -- "$2"; then
    echo "== installing $1 $2"
    cargo install "$1" --version "=$2" --locked --quiet
  fi
}
install_cargo_tool cargo-deny "$CARGO_DENY_VERSION"
install_cargo_tool cargo-machete "$CARGO_MACHETE_VERSION"

if [ ! -x /usr/bin/chromedriver ] && [ "$(id -u)" = 0 ]; then
  echo "== Chromium and chromedriver (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Each npm package from its committed lockfile: the build tools `dist`
# runs (esbuild, binaryen), the Node peers the Rust tests spawn (Yjs,
# Hocuspocus, BlockNote, the MCP SDK) and the browser tests.
for dir in tools/build peers e2e; do
  echo "== npm ci in $dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
bash scripts/fetch-model.sh || echo "warning: no embedded AI model (data/models/); its tests print SKIPPED" >&2

echo "== checks (SQLite store)"
cargo xtask ci

echo "== server suite again against a real PostgreSQL server on loopback"
eval "$(bash scripts/postgres.sh start)"
# With Redis too (Debian's redis-server): tests/multi_node.rs runs three
# nodes, kills one, restarts Redis and stops PostgreSQL mid-edit.
eval "$(bash scripts/redis.sh start)"
# And a Matrix homeserver (Synapse from PyPI into a cached virtualenv,
# SQLite, loopback) for tests/matrix_bridge.rs: about a minute the first
# time, seconds after. Python's venv module comes from Debian if missing.
if ! python3 -c "import venv, ensurepip" 2>/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
synapse_env=$(bash scripts/synapse.sh start)
eval "$synapse_env"
cargo test -p atelier-server --tests
bash scripts/synapse.sh stop
bash scripts/redis.sh stop
bash scripts/postgres.sh stop

echo "== target directory: $(du -sh "$target_dir" | cut -f1)"
echo "== all done in $(( $(date +%s) - started )) s"

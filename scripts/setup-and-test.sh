#!/usr/bin/env bash
# The README's test command on a fresh machine: install the toolchain pieces
# and npm peers, then run every check (`cargo xtask ci`).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== toolchain"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true
command -v node >/dev/null || { echo "node is required (Node.js 20+)"; exit 1; }

echo "== npm peers (e2e/, from the committed lockfile)"
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)

echo "== checks (SQLite store)"
cargo xtask ci

echo "== server suite again against a real PostgreSQL server on loopback"
eval "$(bash scripts/postgres.sh start)"
cargo test -p atelier-server --tests
bash scripts/postgres.sh stop

#!/usr/bin/env bash
# Starts a private Redis server on loopback for the multi-node tests and
# prints the URL to use (ATELIER_TEST_REDIS). Installs Debian's package if
# needed (that takes root; running it does not). Its own config, port and
# directory: never the system's Redis.
# Usage: eval "$(bash scripts/redis.sh start)"; bash scripts/redis.sh stop
# ATELIER_REDIS_PORT and ATELIER_REDIS_DIR pick another instance (the fault
# tests restart one of their own without touching the shared one).
set -euo pipefail
PORT="${ATELIER_REDIS_PORT:-63790}"
DIR="${ATELIER_REDIS_DIR:-/tmp/atelier-redis}"

cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

case "${1:-start}" in
start)
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
      echo "scripts/redis.sh: redis-server is missing; install it with root (sudo apt-get install -y redis-server) or point ATELIER_TEST_REDIS at a Redis you have" >&2
      exit 1
    fi
    echo "installing redis-server (Debian)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  fi
  mkdir -p "$DIR"
  # Pub/sub only: nothing is persisted, so a restart starts empty, as a
  # crashed Redis would (the nodes resync from PostgreSQL).
  cat >"$DIR/redis.conf" <<EOF
bind 127.0.0.1
port $PORT
dir $DIR
daemonize yes
pidfile $DIR/redis.pid
logfile $DIR/redis.log
save ""
appendonly no
protected-mode yes
EOF
  if ! cli ping >/dev/null 2>&1; then
    redis-server "$DIR/redis.conf" >&2
    for _ in $(seq 1 100); do
      cli ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    cli ping >/dev/null || { echo "redis did not start; see $DIR/redis.log" >&2; exit 1; }
  fi
  echo "export ATELIER_TEST_REDIS=redis://127.0.0.1:$PORT/"
  ;;
stop)
  if cli ping >/dev/null 2>&1; then
    cli shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
      cli ping >/dev/null 2>&1 || break
      sleep 0.05
    done
  fi
  ;;
esac

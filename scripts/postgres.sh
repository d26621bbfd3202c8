#!/usr/bin/env bash
# Starts a private PostgreSQL server on loopback for the store tests and
# prints the URL to use (ATELIER_TEST_DB). Installs Debian's package if
# needed. Usage: eval "$(bash scripts/postgres.sh start)"; bash scripts/postgres.sh stop
set -euo pipefail
PORT="${ATELIER_PG_PORT:-54329}"
DIR="${ATELIER_PG_DIR:-/tmp/atelier-pg}"

case "${1:-start}" in
start)
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "installing postgresql (Debian)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    mkdir -p "$DIR"
    chown postgres:postgres "$DIR"
    su postgres -s /bin/sh -c "$BIN/initdb -D $DIR/data -A trust -U postgres" >&2
  fi
  if ! su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DIR/data status" >/dev/null 2>&1; then
    su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DIR/data -w -l $DIR/log \
      -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on' start" >&2
  fi
  echo "export ATELIER_TEST_DB=postgres://postgres@127.0.0.1:$PORT/postgres"
  ;;
stop)
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DIR/data -m fast stop" >&2 || true
  ;;
esac

#!/usr/bin/env bash
# Starts a private PostgreSQL server on loopback for the store tests and
# prints the URL to use (ATELIER_TEST_DB). Usage:
#   eval "$(bash scripts/postgres.sh start)"; ...; bash scripts/postgres.sh stop
#
# Root is needed only to install Debian's postgresql package when it is
# missing; as root the server also runs as the `postgres` user (PostgreSQL
# refuses to run as root). As any other user, with the package installed,
# the server runs as that user. Otherwise the script stops and says what to
# run: install the package with root (`sudo apt-get install -y postgresql`),
# or point ATELIER_TEST_DB at a PostgreSQL server you already have.
set -euo pipefail
PORT="${ATELIER_PG_PORT:-54329}"
DIR="${ATELIER_PG_DIR:-/tmp/atelier-pg}"

die() {
  echo "scripts/postgres.sh: $*" >&2
  exit 1
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Runs a PostgreSQL command as the user that owns the server: `postgres`
# when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$1"
  else
    sh -c "$1"
  fi
}

case "${1:-start}" in
start)
  if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" != 0 ]; then
      die "PostgreSQL is not installed, and installing it needs root. Run one of:
  sudo apt-get install -y postgresql        # then this script again, as yourself
  sudo bash scripts/postgres.sh start       # installs it and starts the server
or skip this script and point the tests at a server you have:
  export ATELIER_TEST_DB=postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    fi
    echo "installing postgresql (Debian)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  BIN=$(pg_bin)
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then
      chown postgres:postgres "$DIR"
    fi
    as_owner "$BIN/initdb -D $DIR/data -A trust -U postgres" >&2
  fi
  if ! as_owner "$BIN/pg_ctl -D $DIR/data status" >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl -D $DIR/data -w -l $DIR/log \
      -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on' start" >&2 ||
      die "the server did not start; its log is $DIR/log (a $DIR left by another user? set ATELIER_PG_DIR)"
  fi
  echo "export ATELIER_TEST_DB=postgres://postgres@127.0.0.1:$PORT/postgres"
  ;;
stop)
  BIN=$(pg_bin)
  [ -n "$BIN" ] || exit 0
  as_owner "$BIN/pg_ctl -D $DIR/data -m fast stop" >&2 || true
  ;;
*)
  die "usage: bash scripts/postgres.sh start|stop"
  ;;
esac

#!/usr/bin/env bash
# Starts a private Synapse homeserver on loopback (SQLite, no federation) for
# the Matrix bridge tests and prints the variables they read:
#   ATELIER_TEST_MATRIX_URL     the homeserver's client-server API base URL
#   ATELIER_TEST_MATRIX_SECRET  its registration shared secret (the tests
#                               register their users through the admin API)
#   ATELIER_CACHE_DIR           where the virtualenv is, so a test starting
#                               a homeserver of its own reuses it
# Usage: eval "$(bash scripts/synapse.sh start)"; ...; bash scripts/synapse.sh stop
#
# Installs matrix-synapse from PyPI into a virtualenv under the cache
# directory the first time (about 30 s; needs python3 with venv and the
# package index), then reuses it. ATELIER_SYNAPSE_PORT and
# ATELIER_SYNAPSE_DIR pick another instance (a test that stops and restarts
# its own homeserver uses them). ATELIER_SYNAPSE_APPSERVICE=FILE adds an
# application service registration to app_service_config_files (the bridge
# test in application service mode starts an instance of its own with it).
set -euo pipefail
PORT="${ATELIER_SYNAPSE_PORT:-58008}"
APPSERVICE="${ATELIER_SYNAPSE_APPSERVICE:-}"
DIR="${ATELIER_SYNAPSE_DIR:-/tmp/atelier-synapse}"
CACHE="${ATELIER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/atelier}"
VENV="$CACHE/synapse-venv"
# The version the tests were written against; another works as long as the
# client-server API it speaks is v3.
VERSION="${ATELIER_SYNAPSE_VERSION:-1.163.*}"
SECRET="atelier-test-registration-secret"
URL="http://127.0.0.1:$PORT"

die() {
  echo "scripts/synapse.sh: $*" >&2
  exit 1
}

# Whether the client-server API answers (curl if there is one, else the
# virtualenv's Python).
up() {
  if command -v curl >/dev/null; then
    curl -fsS -m 2 "$URL/_matrix/client/versions" >/dev/null 2>&1
  else
    "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('$URL/_matrix/client/versions', timeout=2)" >/dev/null 2>&1
  fi
}

case "${1:-start}" in
start)
  if [ ! -x "$VENV/bin/synapse_homeserver" ]; then
    command -v python3 >/dev/null || die "python3 is missing"
    echo "installing matrix-synapse $VERSION into $VENV" >&2
    mkdir -p "$CACHE"
    python3 -m venv "$VENV" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install -q "matrix-synapse==$VERSION" >&2 ||
      die "pip could not install matrix-synapse; point ATELIER_TEST_MATRIX_URL and ATELIER_TEST_MATRIX_SECRET at a homeserver you have"
  fi
  mkdir -p "$DIR/media"
  if [ -n "$APPSERVICE" ]; then
    [ -f "$APPSERVICE" ] || die "ATELIER_SYNAPSE_APPSERVICE: no file $APPSERVICE"
    APPSERVICE_FILES="app_service_config_files: [\"$APPSERVICE\"]"
  else
    APPSERVICE_FILES="app_service_config_files: []"
  fi
  # Loopback only, SQLite, no federation or key servers (offline), rate
  # limits far above what a test sends, registration by shared secret only.
  cat >"$DIR/homeserver.yaml" <<YAML
server_name: "localhost"
pid_file: "$DIR/homeserver.pid"
listeners:
  - port: $PORT
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "$DIR/homeserver.db"
log_config: "$DIR/log.yaml"
media_store_path: "$DIR/media"
signing_key_path: "$DIR/signing.key"
registration_shared_secret: "$SECRET"
enable_registration: false
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
$APPSERVICE_FILES
rc_message: {per_second: 1000, burst_count: 1000}
rc_registration: {per_second: 1000, burst_count: 1000}
rc_login:
  address: {per_second: 1000, burst_count: 1000}
  account: {per_second: 1000, burst_count: 1000}
  failed_attempts: {per_second: 1000, burst_count: 1000}
rc_joins:
  local: {per_second: 1000, burst_count: 1000}
  remote: {per_second: 1000, burst_count: 1000}
rc_invites:
  per_room: {per_second: 1000, burst_count: 1000}
  per_user: {per_second: 1000, burst_count: 1000}
YAML
  cat >"$DIR/log.yaml" <<YAML
version: 1
formatters:
  precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: precise, filename: "$DIR/homeserver.log"}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
YAML
  if [ ! -f "$DIR/signing.key" ]; then
    "$VENV/bin/python" -m synapse.app.homeserver --config-path "$DIR/homeserver.yaml" \
      --generate-keys >&2 || die "could not generate the signing key"
  fi
  if ! up; then
    "$VENV/bin/python" -m synapse.app.homeserver --config-path "$DIR/homeserver.yaml" \
      --daemonize >&2 || die "synapse did not start; see $DIR/homeserver.log"
    # A cold start creates the SQLite schema (a few seconds).
    deadline=$((SECONDS + 60))
    until up; do
      [ $SECONDS -lt $deadline ] || die "synapse did not answer on $URL within 60 s; see $DIR/homeserver.log"
      sleep 0.2
    done
  fi
  echo "export ATELIER_TEST_MATRIX_URL=$URL"
  echo "export ATELIER_TEST_MATRIX_SECRET=$SECRET"
  # Where the virtualenv is, for tests that start a homeserver of their own.
  echo "export ATELIER_CACHE_DIR=$CACHE"
  ;;
stop)
  if [ -f "$DIR/homeserver.pid" ]; then
    pid=$(cat "$DIR/homeserver.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    rm -f "$DIR/homeserver.pid"
  fi
  ;;
*)
  die "usage: $0 start|stop"
  ;;
esac

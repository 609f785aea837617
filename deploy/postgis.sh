#!/usr/bin/env bash
# Project-local PostGIS cluster for `make run` / `make test`: data, socket and log under .pgdata/ (git-ignored).
# Skipped when DATABASE_URL is set: then that database is used as it is.
#   deploy/postgis.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PGBIN=${SDI_PGBIN:-/usr/lib/postgresql/15/bin}
PGDATA_DIR=${SDI_PGDATA:-$REPO/.pgdata}
PORT=${SDI_PG_PORT:-54329}
DB=${SDI_PG_DB:-sdi}
DB_USER=${SDI_PG_USER:-sdi}
DB_PASSWORD=${SDI_PG_PASSWORD:-sdi}
log() { printf '\033[1;34m[sdi]\033[0m %s\n' "$*"; }

# As root the server runs as `postgres`, which must be able to reach the data folder. A checkout under a
# private directory (e.g. /root) cannot be reached: keep the cluster under /var/tmp instead, one per checkout.
if [ -z "${SDI_PGDATA:-}" ] && [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 \
   && ! runuser -u postgres -- test -x "$REPO"; then
  PGDATA_DIR=/var/tmp/cantho-sdi-pg-$(printf '%s' "$REPO" | md5sum | cut -c1-10)
fi
die() { printf '\033[1;31m[sdi] error:\033[0m %s\n' "$*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, run the server as the `postgres` user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
psql_admin() { as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR/run" -p "$PORT" -d postgres "$@"; }

is_running() { as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR/db" status >/dev/null 2>&1; }

start() {
  if [ -n "${DATABASE_URL:-}" ]; then log "DATABASE_URL is set: using it, no local cluster"; return; fi
  [ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 not found in $PGBIN (run deploy/bootstrap.sh)"
  mkdir -p "$PGDATA_DIR/run" "$PGDATA_DIR/log"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$PGDATA_DIR"
    runuser -u postgres -- test -x "$PGDATA_DIR" ||
      die "user postgres cannot reach $PGDATA_DIR (a parent directory is private); set SDI_PGDATA to a directory it can reach"
  fi
  if [ ! -f "$PGDATA_DIR/db/PG_VERSION" ]; then
    log "creating PostGIS cluster in $PGDATA_DIR (port $PORT)"
    as_owner "$PGBIN/initdb" -D "$PGDATA_DIR/db" -E UTF8 --locale=C.UTF-8 -U postgres \
      --auth-local=trust --auth-host=scram-sha-256 >"$PGDATA_DIR/log/initdb.log"
  fi
  if ! is_running; then
    log "starting PostgreSQL on 127.0.0.1:$PORT"
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR/db" -l "$PGDATA_DIR/log/postgres.log" -w -t 60 start \
      -o "-p $PORT -k $PGDATA_DIR/run -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_connections=200 -c fsync=${SDI_PG_FSYNC:-on}" >/dev/null \
      || { tail -n 20 "$PGDATA_DIR/log/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  # The dev role is a superuser so that Django's test runner can create test databases with PostGIS.
  psql_admin <<SQL
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', '$DB_USER', '$DB_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8''', '$DB', '$DB_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB') \gexec
SQL
  as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR/run" -p "$PORT" -d "$DB" \
    -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null
  log "PostGIS ready: postgres://$DB_USER@127.0.0.1:$PORT/$DB"
}

stop() {
  if is_running; then as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR/db" -m fast stop >/dev/null; log "PostgreSQL stopped"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then echo running; else echo stopped; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

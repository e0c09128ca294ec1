# Source me: start_throwaway_postgres starts a PostgreSQL cluster in a temporary directory on a
# free loopback port, as the `postgres` user (PostgreSQL refuses to run as root), exports
# SCANPAY_TEST_POSTGRES_URL, and stops and deletes it when the calling shell exits.
# `start_throwaway_postgres durable` keeps PostgreSQL's durable commits (for benchmarks); without
# it, fsync is off for fast tests.
# shellcheck shell=bash
start_throwaway_postgres() {
  local bin port dir as_postgres
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (scripts/setup.sh installs them)" >&2; return 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir=$(mktemp -d /tmp/scanpay-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    as_postgres() { runuser -u postgres -- "$@"; }
  else
    as_postgres() { "$@"; }
  fi
  as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
  # Throwaway: durability off for speed unless asked; enough connections for several servers.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${1:-}" = durable ] && durability=""
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=400" \
    start >/dev/null
  SCANPAY_PG_DIR=$dir SCANPAY_PG_BIN=$bin
  trap 'stop_throwaway_postgres' EXIT
  export SCANPAY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

stop_throwaway_postgres() {
  [ -n "${SCANPAY_PG_DIR:-}" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$SCANPAY_PG_BIN/pg_ctl" -D "$SCANPAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  else
    "$SCANPAY_PG_BIN/pg_ctl" -D "$SCANPAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$SCANPAY_PG_DIR"
  SCANPAY_PG_DIR=
}

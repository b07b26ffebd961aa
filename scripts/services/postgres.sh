# PostgreSQL 15 on 127.0.0.1:5432 with trust auth for local TCP (user postgres): start the
# Debian cluster 15/main when nothing answers, and the `services.sh postgres` subcommand.
# shellcheck shell=bash

PG_HOST=127.0.0.1
PG_PORT=5432
PG_VERSION=15
PG_CLUSTER=main

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
pg_trust_ok() { psql -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  local pglog=/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log
  if ! pg_ready; then
    if [[ ! -d /etc/postgresql/$PG_VERSION/$PG_CLUSTER ]]; then
      # the package normally creates 15/main; not when createcluster.conf says otherwise
      log "creating PostgreSQL cluster $PG_VERSION/$PG_CLUSTER"
      pg_createcluster -p "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER" >/dev/null
    fi
    log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start ||
      { tail -20 "$pglog" >&2 || true; die "postgres: pg_ctlcluster $PG_VERSION $PG_CLUSTER start failed (log: $pglog)"; }
    wait_for 30 postgres pg_ready ||
      { tail -20 "$pglog" >&2 || true; die "postgres did not become ready on $PG_HOST:$PG_PORT (log: $pglog)"; }
  fi
  if ! pg_trust_ok; then
    # A fresh Debian install uses scram for TCP; the tests connect as postgres
    # over 127.0.0.1 without password. Prepend trust lines (first match wins).
    local hba=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/pg_hba.conf
    [[ -f $hba ]] || die "postgres: cannot connect as postgres over TCP and $hba not found"
    log "enabling trust auth for 127.0.0.1/::1 in $hba"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" reload
    wait_for 10 "postgres trust auth" pg_trust_ok || die "postgres: still cannot connect as postgres@$PG_HOST:$PG_PORT without password"
  fi
}

# `services.sh postgres` (the demo): only the database and its client tools, not the S3 server's packages.
ensure_postgres_only() {
  local want=(postgresql-client-15)
  port_open "$PG_HOST" "$PG_PORT" || want+=(postgresql)
  install_missing "${want[@]}"
  ensure_postgres
  echo "postgres $PG_HOST:$PG_PORT ok"
}

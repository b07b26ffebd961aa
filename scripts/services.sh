#!/usr/bin/env bash
# Ensure the services the db-backup test suite needs are installed and running
# on a machine of the project's kind (Debian bookworm, root, no docker, only
# Debian packages + npm reachable). Reuses whatever already runs.
#
#   scripts/services.sh [up]           ensure everything; one "name addr ok" line per service
#   scripts/services.sh env            print `export` lines for a test harness (eval them)
#   scripts/services.sh rgw-extra PORT start/reuse an extra radosgw on 127.0.0.1:PORT, print its PID
#   scripts/services.sh rgw-extra-stop PORT  stop that extra radosgw
#   scripts/services.sh down-s3        stop the ceph daemons of our state dir
#   scripts/services.sh selfcheck      slow S3 feature check (lifecycle expiry with the fast clock, ...)
#
# Services:
#   PostgreSQL 15  127.0.0.1:5432  trust auth for local TCP, user postgres
#   NATS (JetStream) 127.0.0.1:4222
#   S3: Ceph RADOS Gateway (Debian's ceph 16.2 "pacific") on 127.0.0.1:7480, a
#       one-mon/one-OSD/no-mgr cluster on loopback whose whole state lives in
#       $DBB_S3_DIR (default /var/lib/db-backup-s3) with its own ceph.conf.
# Env knobs: DBB_S3_DIR, DBB_S3_BLOCK_GB (OSD sparse file size cap, default 24).
set -euo pipefail

# The work is split by service under scripts/services/: common.sh (log, die, port_open,
# wait_for, package install), postgres.sh, nats.sh, s3.sh (the Ceph cluster and its gateways),
# s3-selfcheck.sh, tools.sh (client tools). This file sources them and dispatches.
SERVICES_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services
# shellcheck source=services/common.sh
source "$SERVICES_LIB/common.sh"
# shellcheck source=services/tools.sh
source "$SERVICES_LIB/tools.sh"
# shellcheck source=services/postgres.sh
source "$SERVICES_LIB/postgres.sh"
# shellcheck source=services/nats.sh
source "$SERVICES_LIB/nats.sh"
# shellcheck source=services/s3.sh
source "$SERVICES_LIB/s3.sh"
# shellcheck source=services/s3-selfcheck.sh
source "$SERVICES_LIB/s3-selfcheck.sh"

# Every package `up` may need, in one apt-get run; the servers' packages only when the
# service is not already running.
ensure_packages() {
  local want=("${TOOLS_PKGS[@]}" "${CEPH_PKGS[@]}")
  if ! port_open "$PG_HOST" "$PG_PORT"; then want+=(postgresql); fi
  if ! port_open "$NATS_HOST" "$NATS_PORT"; then want+=(nats-server); fi
  install_missing "${want[@]}"
}

print_env() {
  cat <<EOF
export DBB_TEST_PG_URL=postgres://postgres@$PG_HOST:$PG_PORT/postgres
export DBB_TEST_S3_ENDPOINT=http://$RGW_HOST:$RGW_PORT
export DBB_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
export DBB_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
export DBB_TEST_S3_OTHER_ACCESS_KEY=$S3_OTHER_ACCESS_KEY
export DBB_TEST_S3_OTHER_SECRET_KEY=$S3_OTHER_SECRET_KEY
export DBB_TEST_NATS_URL=nats://$NATS_HOST:$NATS_PORT
EOF
}

up() {
  [[ $(id -u) == 0 ]] || die "run as root (installs packages, starts services)"
  ensure_packages
  ensure_postgres
  ensure_nats
  ensure_s3
  echo "postgres $PG_HOST:$PG_PORT ok"
  echo "nats $NATS_HOST:$NATS_PORT ok"
  echo "s3 (ceph radosgw) http://$RGW_HOST:$RGW_PORT ok"
}

main() {
  local cmd=${1:-up}
  case "$cmd" in
    up) up ;;
    postgres) ensure_postgres_only ;;
    env) print_env ;;
    rgw-extra) rgw_extra "${2:-}" ;;
    rgw-extra-stop) rgw_extra_stop "${2:-}" ;;
    down-s3) down_s3 ;;
    selfcheck) selfcheck ;;
    -h|--help|help) sed -n '2,20p' "$0" ;;
    *) die "unknown command '$cmd' (up|postgres|env|rgw-extra PORT|rgw-extra-stop PORT|down-s3|selfcheck)" ;;
  esac
}

# run unless sourced (sourcing lets a test call the functions one by one)
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi

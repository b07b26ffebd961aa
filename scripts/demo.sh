#!/usr/bin/env bash
# The main job on its embedded default: a small Supabase-like database is backed up into a local
# directory (no S3 needed), listed, reported on, and restored into a second database, whose rows
# are then compared with the source's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# shellcheck source=lib/npm-deps.sh
source scripts/lib/npm-deps.sh
npm_deps
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  bash scripts/services.sh postgres
fi
# The test suite has built the bundle already and runs it concurrently: it must not be rewritten.
[ "${DEMO_SKIP_BUILD:-}" = 1 ] || npm run --silent build

PGURL=${DEMO_PG_URL:-postgres://postgres@127.0.0.1:5432}
SOURCE=dbbackup_demo
TARGET=dbbackup_demo_restored
export PGOPTIONS="-c client_min_messages=warning"
export BACKUP_DIR="$ROOT/.demo/backups"
export SUPABASE_DB_URL="$PGURL/$SOURCE"
unset MINIO_ENDPOINT

echo "== preparing $SOURCE (a small Supabase-like database)"
psql -X -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $SOURCE" -c "DROP DATABASE IF EXISTS $TARGET" -c "CREATE DATABASE $SOURCE" -c "CREATE DATABASE $TARGET"
psql -X -q "$PGURL/$SOURCE" -f test/fixtures/supabase-like.sql >/dev/null

run() { echo "\$ db-backup $*"; node dist/db-backup.cjs "$@"; }
echo "== backing up into $BACKUP_DIR"
run create
run list
run status || true
ID=$(node dist/db-backup.cjs list --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].id)')
echo "== restoring $ID into $TARGET"
# `--target local` reads LOCAL_DB_URL; local, dev and staging targets need no approval.
export LOCAL_DB_URL="$PGURL/$TARGET"
run restore "$ID" --target local

echo "== comparing rows of every restored table with the source"
# One line per table: its name and the md5 of its rows in a fixed order.
fingerprint=$(cat <<'SQL'
SELECT format('%I.%I', n.nspname, c.relname) || ' ' || md5(query_to_xml(format(
  $q$SELECT md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM %I.%I x$q$, n.nspname, c.relname),
  false, false, '')::text)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname IN ('pmoves_core', 'archon') ORDER BY 1
SQL
)
if diff <(psql -X -tA "$PGURL/$SOURCE" -c "$fingerprint") <(psql -X -tA "$PGURL/$TARGET" -c "$fingerprint"); then
  psql -X -tA "$PGURL/$TARGET" -c "$fingerprint" | sed 's/ [0-9a-f]\{32\}$/ identical/; s/^/  /'
else
  echo "MISMATCH between $SOURCE and $TARGET"; exit 1
fi
echo "== demo complete: backups in $BACKUP_DIR"

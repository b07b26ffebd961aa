#!/usr/bin/env bash
# `npm run bench`: the speed and memory bench on a generated database (never part of `npm test`).
#   BENCH_SIZE_MB=2048 npm run bench     # the 2 GB run (default 300 MB of table data)
# It ensures the services (as npm test does), builds the bundle the container runs, checks the disk
# has room for the database, its restores and the dumps, then runs bench/pipeline.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/npm-deps.sh
source scripts/lib/npm-deps.sh
npm_deps
bash scripts/services.sh up >/dev/null
eval "$(bash scripts/services.sh env)"
node scripts/build.mjs

size=${BENCH_SIZE_MB:-300}
# the source with indexes (~1.4x), one restore target at a time, and the dumps (files + S3)
need_mb=$((size * 4 + 1024))
free_mb=$(df -Pm /var/lib/postgresql . | awk 'NR>1{print $4}' | sort -n | head -1)
if ((free_mb < need_mb)); then
  echo "bench: needs about ${need_mb} MB free for BENCH_SIZE_MB=${size}, only ${free_mb} MB" >&2
  exit 1
fi
npx tsx bench/pipeline.ts
if [ -f bench/render-status.ts ]; then npx tsx bench/render-status.ts; fi

#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs the npm packages and the services it
# needs when they are missing (PostgreSQL, NATS with JetStream, the S3 server, Chromium), reuses
# what already runs, builds the bundle, runs vitest. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/npm-deps.sh
source scripts/lib/npm-deps.sh
npm_deps
bash scripts/services.sh up
eval "$(bash scripts/services.sh env)"
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
# One plain closing line that any CI reads: "N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit "$status"

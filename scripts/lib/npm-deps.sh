# One step for scripts/test.sh, demo.sh and bench.sh: `npm ci` when node_modules is missing or
# older than package-lock.json. Source this file, then call npm_deps (any working directory).
# shellcheck shell=bash

npm_deps() {
  (
    cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund
    fi
  )
}

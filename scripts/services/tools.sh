# The command-line tools the suite and services.sh use besides the servers: pigz, s3cmd, the
# PostgreSQL 15 client, zstd, curl, and Chromium for the status page's headless-browser tests.
# shellcheck shell=bash

# chromium: the status page is tested in a real headless browser (playwright-core drives it)
# shellcheck disable=SC2034  # read by ensure_packages in scripts/services.sh
TOOLS_PKGS=(pigz s3cmd postgresql-client-15 zstd curl chromium)

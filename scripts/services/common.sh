# Shared helpers of scripts/services.sh: log prefix, failure, TCP probe, polling and the
# Debian package install step. Sourced by scripts/services.sh (set -euo pipefail is on).
# shellcheck shell=bash

log() { echo "services.sh: $*" >&2; }
die() { echo "services.sh: FAILED: $*" >&2; exit 1; }

# true when something accepts TCP connections on host:port (no extra tools needed)
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for SECONDS DESCRIPTION CMD... : poll CMD every 0.2 s until it succeeds
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || { log "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------
# Packages: collect everything missing, then one `apt-get update` + install.
missing_pkgs() {
  # dpkg-query once for all names; a package is present when its status ends in "installed"
  local want=("$@") have
  # (dpkg-query exits 1 when a name is unknown: that is an answer, not an error)
  have=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null | awk '$2=="installed"{print $1}' || true)
  local p
  for p in "${want[@]}"; do
    grep -qx "$p" <<<"$have" || echo "$p"
  done
}

# install_missing PKG...: install those of the packages that are not installed yet (none: no apt-get)
install_missing() {
  local missing
  mapfile -t missing < <(missing_pkgs "$@")
  ((${#missing[@]} == 0)) && return 0
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wait for the dpkg lock rather than fail when another install runs
  local lock=(-o DPkg::Lock::Timeout=300)
  apt-get "${lock[@]}" update -qq >/dev/null || die "apt-get update"
  apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/tmp/db-backup-services-apt.log 2>&1 ||
    { tail -20 /tmp/db-backup-services-apt.log >&2; die "apt-get install ${missing[*]} (log: /tmp/db-backup-services-apt.log)"; }
}

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

# ---------------------------------------------------------------------------
# Fixed, test-only values. The S3 keys are NOT secrets: the gateway only
# listens on loopback and exists for the test suite.
PG_HOST=127.0.0.1
PG_PORT=5432
PG_VERSION=15
PG_CLUSTER=main
NATS_HOST=127.0.0.1
NATS_PORT=4222
NATS_STORE=/var/lib/nats-server
NATS_LOG=/var/log/nats-server.log
RGW_HOST=127.0.0.1
RGW_PORT=7480
S3_UID=dbbackup-test
S3_ACCESS_KEY=dbbackup-test-access
S3_SECRET_KEY=dbbackup-test-secret-0123456789abcdef
S3_OTHER_UID=dbbackup-other
S3_OTHER_ACCESS_KEY=dbbackup-other-access
S3_OTHER_SECRET_KEY=dbbackup-other-secret-0123456789abcdef

S3_DIR=$(realpath -m "${DBB_S3_DIR:-/var/lib/db-backup-s3}")   # absolute: it is matched in command lines
CONF=$S3_DIR/ceph.conf
MARKER=$S3_DIR/.db-backup-s3-state   # proves the dir is ours before we wipe it
MON_ID=a
MON_V2_PORT=3300
MON_V1_PORT=6789

# chromium: the status page is tested in a real headless browser (playwright-core drives it)
TOOLS_PKGS=(pigz s3cmd postgresql-client-15 zstd curl chromium)
CEPH_PKGS=(ceph-mon ceph-osd radosgw ceph-common uuid-runtime)

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

ensure_packages() {
  local want=("${TOOLS_PKGS[@]}" "${CEPH_PKGS[@]}")
  # the servers' packages are only needed when the service is not already running
  if ! port_open "$PG_HOST" "$PG_PORT"; then want+=(postgresql); fi
  if ! port_open "$NATS_HOST" "$NATS_PORT"; then want+=(nats-server); fi
  local missing
  mapfile -t missing < <(missing_pkgs "${want[@]}")
  ((${#missing[@]} == 0)) && return 0
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wait for the dpkg lock rather than fail when another install runs
  local lock=(-o DPkg::Lock::Timeout=300)
  apt-get "${lock[@]}" update -qq >/dev/null || die "apt-get update"
  apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/tmp/db-backup-services-apt.log 2>&1 ||
    { tail -20 /tmp/db-backup-services-apt.log >&2; die "apt-get install ${missing[*]} (log: /tmp/db-backup-services-apt.log)"; }
}

# ---------------------------------------------------------------------------
# PostgreSQL 15
# For the demo: only the database and its client tools, not the S3 server's packages.
ensure_postgres_only() {
  local want=(postgresql-client-15)
  port_open "$PG_HOST" "$PG_PORT" || want+=(postgresql)
  local missing
  mapfile -t missing < <(missing_pkgs "${want[@]}")
  if ((${#missing[@]} > 0)); then
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null || die "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/tmp/db-backup-services-apt.log 2>&1 ||
      { tail -20 /tmp/db-backup-services-apt.log >&2; die "apt-get install ${missing[*]}"; }
  fi
  ensure_postgres
  echo "postgres $PG_HOST:$PG_PORT ok"
}
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

# ---------------------------------------------------------------------------
# NATS with JetStream. If one already listens (with or without -js) it is the machine's: keep it.
ensure_nats() {
  port_open "$NATS_HOST" "$NATS_PORT" && return 0
  log "starting nats-server"
  mkdir -p "$NATS_STORE"
  # The machine's own start command, plus a pid file so that a nats-server
  # running elsewhere (another port) does not make --oknodo skip the start.
  start-stop-daemon --start --oknodo --background \
    --pidfile "/run/db-backup-nats-$NATS_PORT.pid" --make-pidfile --exec /usr/sbin/nats-server -- \
    -a "$NATS_HOST" -p "$NATS_PORT" -js -sd "$NATS_STORE" -l "$NATS_LOG"
  wait_for 15 nats port_open "$NATS_HOST" "$NATS_PORT" ||
    { tail -20 "$NATS_LOG" >&2 || true; die "nats-server did not listen on $NATS_HOST:$NATS_PORT (log: $NATS_LOG)"; }
}

# ---------------------------------------------------------------------------
# Ceph / RADOS Gateway
ceph_() { timeout 60 ceph -c "$CONF" --connect-timeout 30 "$@"; }
rgw_admin() { timeout 60 radosgw-admin -c "$CONF" "$@"; }

# S3 ListBuckets signed with the test user's keys: the "S3 really works" probe.
# (curl 7.88's SigV4 does not add x-amz-content-sha256, which RGW requires:
# pass the SHA-256 of the empty body ourselves.)
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3_list_ok() {
  local port=${1:-$RGW_PORT}
  curl -fsS --max-time 5 -H "x-amz-content-sha256: $EMPTY_SHA256" \
    --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "http://$RGW_HOST:$port/" 2>/dev/null |
    grep -q "<ID>$S3_UID</ID>"   # our user's ListAllMyBucketsResult, not any HTTP server
}
# any HTTP answer at all (the anonymous ListBuckets of RGW answers 200)
http_answers() { curl -s -o /dev/null --max-time 3 "http://$RGW_HOST:$1/" 2>/dev/null; }

# PIDs of ceph processes whose command line names our ceph.conf (i.e. started from our dir).
our_ceph_pids() {
  local d cmd
  for d in /proc/[0-9]*; do
    [[ -r $d/cmdline ]] || continue
    cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
    case "$cmd" in
      *ceph-mon*|*ceph-osd*|*radosgw\ *) [[ " $cmd " == *" $CONF "* ]] && echo "${d#/proc/}" ;;
    esac
  done
}

# pid_of_daemon NAME: PID from our pid file if that process is alive and is ours
pid_of_daemon() {
  local f=$S3_DIR/run/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

# true while PID exists and is not a zombie (PID 1 of a container may not reap)
alive() {
  local st
  st=$(<"/proc/$1/stat") 2>/dev/null || return 1
  st=${st##*) }
  [[ ${st%% *} != Z ]]
}

# kill_pids [-9] PID...: TERM (then KILL after 5 s), or KILL at once with -9
kill_pids() {
  local sig=TERM
  if [[ ${1:-} == -9 ]]; then sig=KILL; shift; fi
  local pids=("$@") p
  ((${#pids[@]})) || return 0
  kill -"$sig" "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local left=()
    for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
    ((${#left[@]})) || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# down_s3 [-9]: stop every ceph daemon started from our dir (gracefully, or
# KILL at once when the state is about to be wiped anyway)
down_s3() {
  local pids
  mapfile -t pids < <(our_ceph_pids)
  if ((${#pids[@]})); then
    log "stopping ceph daemons of $S3_DIR: ${pids[*]}"
    kill_pids "$@" "${pids[@]}"
  fi
}

# Print the log tail of a daemon and fail with a one-line message.
daemon_failed() {
  local name=$1 msg=$2 f=$S3_DIR/log/$1.log
  if [[ -f $f ]]; then
    echo "---- last lines of $f ----" >&2
    tail -25 "$f" >&2
    echo "----" >&2
  fi
  die "$msg (log: $f)"
}

write_ceph_conf() {
  local fsid=$1 block_bytes=$2
  cat >"$CONF" <<EOF
# Generated by scripts/services.sh: single-node test cluster on loopback, test use only.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]
mon initial members = $MON_ID
public addr = 127.0.0.1
cluster addr = 127.0.0.1

# No cephx: nothing but loopback can reach the cluster. Without cephx the
# msgr2 "secure" mode cannot be negotiated; mon clients default to trying it
# and radosgw then hangs ~300 s fetching its config, so force crc everywhere.
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
# Tools would otherwise look for /etc/ceph/*.keyring and warn.
keyring = $S3_DIR/no-keyring

# Everything under our dir, nothing in /var/run/ceph, /var/log/ceph, /var/lib/ceph.
run dir = $S3_DIR/run
admin socket = $S3_DIR/run/\$name.asok
pid file = $S3_DIR/run/\$name.pid
log file = $S3_DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $S3_DIR/log/cluster.log
crash dir = $S3_DIR/crash

# One OSD: replicas 1, place replicas across OSDs not hosts, few PGs per pool
# (RGW makes ~8 pools) and no autoscaler (it needs a mgr, which we do not run).
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
rgw rados pool pg num min = 8
mon max pg per osd = 1000
mon allow pool delete = true

# Each pool RGW creates costs osdmap epochs; the default 1 s paxos batching
# made a cold boot take ~13 s, 0.1 s makes it ~2 s.
paxos propose interval = 0.1
# The mon shuts itself down when its disk's free space falls below crit
# (default 5 %); CI disks can be crowded.
mon data avail crit = 1
mon data avail warn = 2
# A SIGKILLed extra radosgw (fault tests) leaves its watches on RGW's control
# objects; until the OSD drops them, every metadata change on the main gateway
# (bucket create, policy, ... which notify all watchers) stalls: ~30 s by
# default. 5 s bounds that stall; clients then ping their watches every 1 s
# (default tick 5 s) so live watchers do not time out.
osd client watch timeout = 5
objecter tick interval = 1

[mon]
mon data = $S3_DIR/mon/\$cluster-\$id

[osd]
osd data = $S3_DIR/osd/\$cluster-\$id
# Object store: BlueStore on a sparse file inside our dir. Chosen over
# memstore because memstore keeps every stored byte in the OSD's RAM (the
# suite's 2 GB bench would need >2 GB RSS and the data is lost with the
# process); BlueStore stays ~100-200 MB RSS and survives daemon restarts.
# The file is sparse: it only takes the disk space of the data written.
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $block_bytes
# Keep the cache small (default target 4 GiB of RAM).
osd memory target = 1073741824
bluestore cache autotune = true
osd crush update on start = true

[client]
# Lifecycle: one "day" lasts 10 s, and LC may run at any time of day.
rgw lc debug interval = 10
rgw lifecycle work time = 00:00-23:59
# Free deleted/overwritten object data quickly (defaults: 2 h wait, 1 h period).
rgw gc obj min wait = 30
rgw gc processor period = 10
rgw gc processor max time = 60
rgw data = $S3_DIR/rgw/\$cluster-\$id

[client.rgw.main]
rgw frontends = beast endpoint=$RGW_HOST:$RGW_PORT
EOF
}

# Start a radosgw named client.rgw.$1 (frontend from the conf or the extra args).
start_rgw() {
  local id=$1; shift
  mkdir -p "$S3_DIR/rgw/ceph-rgw.$id"
  radosgw -c "$CONF" -n "client.rgw.$id" "$@" </dev/null >>"$S3_DIR/log/client.rgw.$id.stdout" 2>&1
}

osd_up() { ceph_ osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1,'; }

bootstrap_s3() {
  local t0=$SECONDS
  down_s3 -9
  for p in $MON_V2_PORT $MON_V1_PORT $RGW_PORT; do
    port_open 127.0.0.1 "$p" && die "s3: port 127.0.0.1:$p is taken by a process not started from $S3_DIR"
  done
  if [[ -e $S3_DIR ]]; then
    # Refuse to wipe a directory that we did not create (DBB_S3_DIR=/ would be fatal).
    if [[ ! -e $MARKER ]] && [[ -n $(ls -A "$S3_DIR" 2>/dev/null) ]]; then
      die "s3: $S3_DIR exists, is not empty and has no $MARKER; refusing to wipe it"
    fi
    log "wiping $S3_DIR"
    rm -rf "${S3_DIR:?}"
  fi
  mkdir -p "$S3_DIR"/{mon,osd/ceph-0,run,log,rgw,crash}
  touch "$MARKER"
  : >"$S3_DIR/no-keyring"

  # Sparse OSD file size: up to DBB_S3_BLOCK_GB (default 24 GiB) but no more
  # than 80 % of the free disk, so the OSD gets ENOSPC from Ceph's own full
  # ratios rather than from the filesystem (which would crash it).
  local free_kb block_bytes cap_gb=${DBB_S3_BLOCK_GB:-24}
  free_kb=$(df -Pk "$S3_DIR" | awk 'NR==2{print $4}')
  block_bytes=$((cap_gb * 1024 * 1024 * 1024))
  ((free_kb * 1024 * 8 / 10 < block_bytes)) && block_bytes=$((free_kb * 1024 * 8 / 10))
  ((block_bytes >= 3 * 1024 * 1024 * 1024)) ||
    die "s3: only $((free_kb / 1024)) MiB free under $S3_DIR; need at least ~4 GiB for the OSD"

  local fsid
  fsid=$(uuidgen)
  write_ceph_conf "$fsid" "$block_bytes"

  # --- monitor
  monmaptool --create --clobber --fsid "$fsid" \
    --addv "$MON_ID" "[v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]" \
    "$S3_DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i "$MON_ID" --monmap "$S3_DIR/monmap" >>"$S3_DIR/log/mkfs.log" 2>&1 ||
    daemon_failed mkfs "s3: ceph-mon --mkfs"
  ceph-mon -c "$CONF" -i "$MON_ID" </dev/null >>"$S3_DIR/log/mon.$MON_ID.stdout" 2>&1 ||
    daemon_failed "mon.$MON_ID" "s3: ceph-mon did not start"

  # --- OSD (registering it also waits for the mon to be up)
  local osd_uuid osd_id
  osd_uuid=$(uuidgen)
  osd_id=$(ceph_ osd new "$osd_uuid" 2>>"$S3_DIR/log/mkfs.log") ||
    daemon_failed "mon.$MON_ID" "s3: ceph-mon did not answer (ceph osd new)"
  [[ $osd_id == 0 ]] || die "s3: unexpected osd id '$osd_id'"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$S3_DIR/log/mkfs.log" 2>&1 ||
    daemon_failed mkfs "s3: ceph-osd --mkfs"
  ceph-osd -c "$CONF" -i 0 </dev/null >>"$S3_DIR/log/osd.0.stdout" 2>&1 ||
    daemon_failed osd.0 "s3: ceph-osd did not start"
  wait_for 60 "osd.0 up" osd_up || daemon_failed osd.0 "s3: osd.0 did not come up"

  # --- users first (this also creates RGW's realm/zone pools), then the gateway
  ensure_s3_users
  start_rgw main || daemon_failed client.rgw.main "s3: radosgw did not start"
  wait_for 60 "radosgw on $RGW_PORT" http_answers "$RGW_PORT" ||
    daemon_failed client.rgw.main "s3: radosgw did not answer on $RGW_HOST:$RGW_PORT"
  wait_for 30 "S3 ListBuckets as $S3_UID" s3_list_ok ||
    daemon_failed client.rgw.main "s3: radosgw answers but the test user cannot list buckets"
  s3_smoke_test || daemon_failed client.rgw.main "s3: smoke test (mb/put/get/rb) failed"
  log "s3: cluster booted in $((SECONDS - t0)) s"
}

ensure_s3_users() {
  local out
  out=$(rgw_admin user create --uid "$S3_UID" --display-name "db-backup test" \
    --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" 2>&1) ||
    { echo "$out" | tail -20 >&2; die "s3: radosgw-admin user create $S3_UID"; }
  # lets the test user manage IAM user policies (PutUserPolicy on dbbackup-other)
  rgw_admin caps add --uid "$S3_UID" --caps "user-policy=*" >/dev/null 2>&1 ||
    die "s3: radosgw-admin caps add"
  out=$(rgw_admin user create --uid "$S3_OTHER_UID" --display-name "db-backup other" \
    --access-key "$S3_OTHER_ACCESS_KEY" --secret-key "$S3_OTHER_SECRET_KEY" 2>&1) ||
    { echo "$out" | tail -20 >&2; die "s3: radosgw-admin user create $S3_OTHER_UID"; }
}

s3cmd_() {
  s3cmd --no-check-md5 --access_key="$S3_ACCESS_KEY" --secret_key="$S3_SECRET_KEY" \
    --host="$RGW_HOST:$RGW_PORT" --host-bucket= --no-ssl --region=us-east-1 -c /dev/null "$@"
}

# Quick end-to-end check after a boot: make a bucket, put, get, compare, delete.
s3_smoke_test() {
  local b=dbb-smoke-$$ tmp
  tmp=$(mktemp -d)
  echo "hello $$" >"$tmp/in"
  local rc=0
  {
    s3cmd_ mb "s3://$b" &&
      s3cmd_ put "$tmp/in" "s3://$b/x" &&
      s3cmd_ get "s3://$b/x" "$tmp/out" &&
      cmp -s "$tmp/in" "$tmp/out" &&
      s3cmd_ del "s3://$b/x" &&
      s3cmd_ rb "s3://$b"
  } >"$tmp/log" 2>&1 || rc=1
  ((rc == 0)) || cat "$tmp/log" >&2
  rm -rf "$tmp"
  return $rc
}

ensure_s3() {
  # Fast path: our gateway answers and the test user can list buckets.
  if s3_list_ok; then return 0; fi
  # Only the gateway died (mon and OSD still run, nothing on the port): start it again.
  if pid_of_daemon "mon.$MON_ID" >/dev/null && pid_of_daemon osd.0 >/dev/null &&
    ! pid_of_daemon client.rgw.main >/dev/null && ! port_open "$RGW_HOST" "$RGW_PORT"; then
    log "s3: mon and osd run but radosgw does not; restarting radosgw"
    if start_rgw main && wait_for 20 "S3 ListBuckets as $S3_UID" s3_list_ok; then return 0; fi
    log "s3: restarting radosgw alone did not help"
  fi
  # Otherwise (fresh machine, reused machine with dead daemons, hung or
  # half-dead cluster): kill what is left of ours, wipe the state dir,
  # bootstrap anew. It is throwaway test state and a bootstrap takes ~7 s.
  log "s3: no working RGW on $RGW_HOST:$RGW_PORT; (re)bootstrapping the cluster in $S3_DIR"
  bootstrap_s3
}

# ---------------------------------------------------------------------------
# Extra gateway for fault tests: same cluster, its own name, port, admin
# socket, pid file and log. LC/GC threads off so that killing it leaves no
# LC/GC shard lease behind that would delay the main gateway's work.
rgw_extra() {
  local port=${1:-}
  [[ $port =~ ^[0-9]+$ ]] || die "usage: services.sh rgw-extra PORT"
  [[ $port != "$RGW_PORT" ]] || die "rgw-extra: $port is the main gateway's port"
  local name=x$port pid
  s3_list_ok || die "rgw-extra: the main gateway is not up; run services.sh up first"
  if pid=$(pid_of_daemon "client.rgw.$name") && s3_list_ok "$port"; then
    echo "$pid"
    return 0
  fi
  [[ -n ${pid:-} ]] && kill_pids "$pid"
  port_open "$RGW_HOST" "$port" && die "rgw-extra: 127.0.0.1:$port is taken by another process"
  start_rgw "$name" --rgw-frontends "beast endpoint=$RGW_HOST:$port" \
    --rgw-enable-lc-threads=false --rgw-enable-gc-threads=false ||
    daemon_failed "client.rgw.$name" "rgw-extra: radosgw did not start"
  wait_for 60 "radosgw on $port" s3_list_ok "$port" ||
    daemon_failed "client.rgw.$name" "rgw-extra: radosgw did not answer on $RGW_HOST:$port"
  pid_of_daemon "client.rgw.$name" || die "rgw-extra: no pid file for client.rgw.$name"
}

rgw_extra_stop() {
  local port=${1:-} pid
  [[ $port =~ ^[0-9]+$ ]] || die "usage: services.sh rgw-extra-stop PORT"
  if pid=$(pid_of_daemon "client.rgw.x$port"); then kill_pids "$pid"; fi
}

# ---------------------------------------------------------------------------
# selfcheck: slower feature checks, not part of `up`.

# s3curl METHOD PATH [curl args]: a body-less S3 request signed as the test user
s3curl() {
  local method=$1 path=$2; shift 2
  curl -fsS --max-time 10 -X "$method" -H "x-amz-content-sha256: $EMPTY_SHA256" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    "$@" "http://$RGW_HOST:$RGW_PORT$path"
}

selfcheck_object_lock() {
  local b=dbb-lock-check-$$ lock vers
  s3curl PUT "/$b" -H "x-amz-bucket-object-lock-enabled: true" -o /dev/null ||
    die "selfcheck: create bucket with object lock enabled"
  lock=$(s3curl GET "/$b?object-lock=" || true)   # (curl's SigV4 needs the "=")
  vers=$(s3curl GET "/$b?versioning=" || true)
  s3curl DELETE "/$b" -o /dev/null || log "selfcheck: could not delete bucket $b"
  grep -q "<ObjectLockEnabled>Enabled</ObjectLockEnabled>" <<<"$lock" || die "selfcheck: object lock not enabled: $lock"
  grep -q "<Status>Enabled</Status>" <<<"$vers" || die "selfcheck: object-lock bucket is not versioned: $vers"
  echo "object lock bucket ok (versioning enabled with it)"
}

selfcheck() {
  s3_list_ok || die "selfcheck: S3 is not up; run services.sh up first"
  selfcheck_object_lock
  local b=dbb-lc-check-$$ tmp t0
  tmp=$(mktemp -d)
  cat >"$tmp/lc.xml" <<'EOF'
<LifecycleConfiguration>
  <Rule>
    <ID>expire-tmp</ID>
    <Filter><Prefix>tmp/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>1</Days></Expiration>
  </Rule>
</LifecycleConfiguration>
EOF
  echo data >"$tmp/obj"
  s3cmd_ mb "s3://$b" >/dev/null
  s3cmd_ setlifecycle "$tmp/lc.xml" "s3://$b" >/dev/null
  s3cmd_ put "$tmp/obj" "s3://$b/tmp/a" >/dev/null
  s3cmd_ put "$tmp/obj" "s3://$b/keep/b" >/dev/null
  t0=$SECONDS
  log "selfcheck: lifecycle 'Expiration Days 1' on tmp/ (1 day = 10 s); waiting for tmp/a to vanish"
  while s3cmd_ ls "s3://$b/tmp/" | grep -q "tmp/a"; do
    ((SECONDS - t0 < 90)) || { s3cmd_ rb -r "s3://$b" >/dev/null 2>&1; rm -rf "$tmp"; die "selfcheck: lifecycle did not expire tmp/a within 90 s"; }
    sleep 1
  done
  local took=$((SECONDS - t0))
  s3cmd_ ls "s3://$b/keep/" | grep -q "keep/b" || die "selfcheck: lifecycle removed keep/b (outside the rule's prefix)"
  s3cmd_ rb -r "s3://$b" >/dev/null 2>&1
  rm -rf "$tmp"
  echo "lifecycle expiry ok (object gone ${took}s after upload; other prefix kept)"
}

# ---------------------------------------------------------------------------
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

# NATS with JetStream on 127.0.0.1:4222 (the events tests). If a nats-server already listens
# there (with or without -js) it is the machine's: keep it; otherwise start one.
# shellcheck shell=bash

NATS_HOST=127.0.0.1
NATS_PORT=4222
NATS_STORE=/var/lib/nats-server
NATS_LOG=/var/log/nats-server.log

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

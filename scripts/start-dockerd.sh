#!/usr/bin/env bash
# Start a Docker Engine (dockerd) if none answers; idempotent.
#
#   bash scripts/start-dockerd.sh
#
# Exit 0 when a daemon answers on $DOCKER_SOCK (default /var/run/docker.sock),
# whether it was already running ("already running") or started here
# ("started"). Needs root to start one. Environment:
#   DOCKER_SOCK            socket to ping        (default /var/run/docker.sock)
#   HARNESS_DOCKERD_LOG    daemon log file       (default /var/log/harness-dockerd.log,
#                                                 or $TMPDIR/harness-dockerd.log if /var/log is not writable)
#   HARNESS_DOCKERD_PID    pid file              (default /var/run/harness-dockerd.pid)
#   HARNESS_DOCKERD_WAIT   seconds to wait       (default 60)
#   HARNESS_DOCKERD_STORAGE_DRIVER  force a storage driver (default: let dockerd choose;
#                                   falls back to vfs if the first start fails on a
#                                   storage/overlay error)
set -euo pipefail

SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"
WAIT="${HARNESS_DOCKERD_WAIT:-60}"
PIDFILE="${HARNESS_DOCKERD_PID:-/var/run/harness-dockerd.pid}"
if [[ -n "${HARNESS_DOCKERD_LOG:-}" ]]; then
  LOG="$HARNESS_DOCKERD_LOG"
elif [[ -w /var/log ]]; then
  LOG=/var/log/harness-dockerd.log
else
  LOG="${TMPDIR:-/tmp}/harness-dockerd.log"
fi

log() { printf '[start-dockerd] %s\n' "$*"; }
die() { printf '[start-dockerd] ERROR: %s\n' "$*" >&2; exit 1; }

# Ping the Engine API over the unix socket; independent of the docker CLI's version.
ping_daemon() {
  [[ -S "$SOCK" ]] || return 1
  if command -v curl >/dev/null 2>&1; then
    [[ "$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" == "OK" ]]
  else
    timeout 5 docker -H "unix://$SOCK" version >/dev/null 2>&1
  fi
}

if ping_daemon; then
  log "already running: a Docker daemon answers on $SOCK"
  exit 0
fi

command -v dockerd >/dev/null 2>&1 || die "dockerd not found (install Debian package docker.io)"
[[ "$(id -u)" == 0 ]] || die "no Docker daemon answers on $SOCK and starting one needs root"

# A pid file from an earlier start whose daemon is still alive but not answering: leave it
# alone and wait for it rather than starting a second daemon on the same data root.
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "dockerd pid $(cat "$PIDFILE") (from $PIDFILE) is alive but not answering yet; waiting for it"
  started_pid="$(cat "$PIDFILE")"
else
  started_pid=""
fi

# Start dockerd (extra args: "$@"), wait for the socket. Returns 0 when it answers,
# 1 when the process died, 2 on timeout (process left running).
start_and_wait() {
  local pid="$started_pid"
  if [[ -z "$pid" ]]; then
    mkdir -p "$(dirname "$LOG")"
    {
      printf '\n===== %s starting: dockerd %s =====\n' "$(date -u +%FT%TZ)" "$*"
    } >>"$LOG"
    # --pidfile is dockerd's own pid file (it refuses to start if a live one exists).
    nohup dockerd --host "unix://$SOCK" --pidfile "$PIDFILE" "$@" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    log "started dockerd (pid $pid, log $LOG)${*:+ with $*}"
  fi
  local deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    if ping_daemon; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.5
  done
  return 2
}

t0=$SECONDS
extra=()
if [[ -n "${HARNESS_DOCKERD_STORAGE_DRIVER:-}" ]]; then
  extra=(--storage-driver "$HARNESS_DOCKERD_STORAGE_DRIVER")
fi
rc=0
start_and_wait "${extra[@]}" || rc=$?

if ((rc == 1)) && [[ -z "${HARNESS_DOCKERD_STORAGE_DRIVER:-}" ]] \
  && tail -n 40 "$LOG" | grep -qiE 'overlay|storage.driver|graphdriver'; then
  log "dockerd exited with a storage-driver error; retrying with --storage-driver vfs"
  started_pid=""
  rc=0
  start_and_wait --storage-driver vfs || rc=$?
fi

case "$rc" in
  0)
    driver="$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/info 2>/dev/null \
      | grep -o '"Driver":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)"
    log "started: Docker daemon answers on $SOCK after $((SECONDS - t0)) s (storage driver: ${driver:-unknown})"
    exit 0
    ;;
  1)
    printf '[start-dockerd] ERROR: dockerd exited before answering on %s; last lines of %s:\n' "$SOCK" "$LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
    ;;
  *)
    printf '[start-dockerd] ERROR: dockerd did not answer on %s within %s s; last lines of %s:\n' "$SOCK" "$WAIT" "$LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
    ;;
esac

#!/usr/bin/env bash
# Start a local image registry (Debian's docker-registry, distribution 2.8) on
# 127.0.0.1, plain HTTP, for `make demo` and manual use. (The test suite starts its own.)
#
#   bash scripts/start-registry.sh [PORT] [--htpasswd FILE] [--pidfile FILE]
#                                  [--storage DIR] [--log FILE]
#   bash scripts/start-registry.sh --stop --pidfile FILE
#
#   PORT             listen on 127.0.0.1:PORT (default 5000)
#   --htpasswd FILE  require basic auth with this htpasswd file; entries must be
#                    bcrypt, e.g. `htpasswd -Bbn USER PASS > FILE` (apache2-utils) or
#                    python3 -c 'import bcrypt,sys; print(sys.argv[1]+":"+bcrypt.hashpw(sys.argv[2].encode(),bcrypt.gensalt()).decode())' USER PASS > FILE
#                    The caller supplies the file; without it the registry has no auth.
#   --pidfile FILE   write the registry's pid there (default $TMPDIR/harness-registry-PORT.pid);
#                    the storage dir is recorded in FILE.dir so --stop can remove it
#   --storage DIR    blob storage directory (default: a new temporary directory)
#   --log FILE       registry log (default: $TMPDIR/harness-registry-PORT.log)
#   --stop           stop the registry named by --pidfile (pid from that file only) and
#                    remove its temporary storage directory
#
# Waits up to 20 s for `GET http://127.0.0.1:PORT/v2/` to answer 200 (no auth) or 401 (auth).
# Docker treats 127.0.0.0/8 registries as insecure, so `docker push 127.0.0.1:PORT/x` works
# without TLS or daemon configuration.
set -euo pipefail

PORT=5000
HTPASSWD=""
PIDFILE=""
STORAGE=""
LOG=""
STOP=0
TMP="${TMPDIR:-/tmp}"

log() { printf '[start-registry] %s\n' "$*"; }
die() { printf '[start-registry] ERROR: %s\n' "$*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --htpasswd) HTPASSWD="${2:?--htpasswd needs a file}"; shift 2 ;;
    --pidfile) PIDFILE="${2:?--pidfile needs a file}"; shift 2 ;;
    --storage) STORAGE="${2:?--storage needs a directory}"; shift 2 ;;
    --log) LOG="${2:?--log needs a file}"; shift 2 ;;
    --stop) STOP=1; shift ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option: $1" ;;
    *)
      if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then die "bad port: $1"; fi
      PORT="$1"; shift
      ;;
  esac
done

PIDFILE="${PIDFILE:-$TMP/harness-registry-$PORT.pid}"
LOG="${LOG:-$TMP/harness-registry-$PORT.log}"

if ((STOP)); then
  if [[ ! -s "$PIDFILE" ]]; then
    log "no pid file $PIDFILE; nothing to stop"
    exit 0
  fi
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped registry pid $pid"
  else
    log "registry pid $pid was not running"
  fi
  if [[ -s "$PIDFILE.dir" ]]; then
    dir="$(cat "$PIDFILE.dir")"
    case "$dir" in "$TMP"/harness-registry.*) rm -rf -- "$dir" ;; esac
    rm -f -- "$PIDFILE.dir"
  fi
  rm -f -- "$PIDFILE" "$PIDFILE.yml"
  exit 0
fi

BIN="$(command -v docker-registry || true)"
[[ -n "$BIN" ]] || die "docker-registry not found (apt-get install docker-registry)"
command -v curl >/dev/null 2>&1 || die "curl not found"

URL="http://127.0.0.1:$PORT/v2/"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL" 2>/dev/null || true)"
if [[ "$code" != 000 && -n "$code" ]]; then
  die "something already answers on 127.0.0.1:$PORT (HTTP $code); pick another port"
fi
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "pid file $PIDFILE names a live process ($(cat "$PIDFILE")); stop it first (--stop --pidfile $PIDFILE)"
fi

if [[ -n "$HTPASSWD" ]]; then
  [[ -r "$HTPASSWD" ]] || die "htpasswd file not readable: $HTPASSWD"
  HTPASSWD="$(cd "$(dirname "$HTPASSWD")" && pwd)/$(basename "$HTPASSWD")"
fi

tmp_storage=""
if [[ -z "$STORAGE" ]]; then
  STORAGE="$(mktemp -d "$TMP/harness-registry.XXXXXX")"
  tmp_storage="$STORAGE"
fi
mkdir -p "$STORAGE" "$(dirname "$PIDFILE")" "$(dirname "$LOG")"

CONFIG="$PIDFILE.yml"
{
  echo "version: 0.1"
  echo "log:"
  echo "  level: info"
  echo "  accesslog:"
  echo "    disabled: true"
  echo "storage:"
  echo "  filesystem:"
  echo "    rootdirectory: $STORAGE"
  echo "  delete:"
  echo "    enabled: true"
  echo "  cache:"
  echo "    blobdescriptor: inmemory"
  echo "http:"
  echo "  addr: 127.0.0.1:$PORT"
  echo "  headers:"
  echo "    X-Content-Type-Options: [nosniff]"
  if [[ -n "$HTPASSWD" ]]; then
    echo "auth:"
    echo "  htpasswd:"
    echo "    realm: harness-registry"
    echo "    path: $HTPASSWD"
  fi
} >"$CONFIG"

nohup "$BIN" serve "$CONFIG" </dev/null >>"$LOG" 2>&1 &
pid=$!
echo "$pid" >"$PIDFILE"
if [[ -n "$tmp_storage" ]]; then echo "$tmp_storage" >"$PIDFILE.dir"; fi

want=200
[[ -n "$HTPASSWD" ]] && want=401
deadline=$((SECONDS + 20))
while :; do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL" 2>/dev/null || true)"
  if [[ "$code" == 200 || "$code" == 401 ]]; then
    [[ "$code" == "$want" ]] || log "warning: /v2/ answered $code, expected $want"
    log "registry pid $pid answers on 127.0.0.1:$PORT (HTTP $code, auth: ${HTPASSWD:-none}, storage: $STORAGE, log: $LOG, pid file: $PIDFILE)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    printf '[start-registry] ERROR: docker-registry exited before answering on %s; last lines of %s:\n' "$URL" "$LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    rm -f -- "$PIDFILE" "$PIDFILE.dir"
    [[ -n "$tmp_storage" ]] && rm -rf -- "$tmp_storage"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    printf '[start-registry] ERROR: docker-registry (pid %s) did not answer on %s within 20 s; last lines of %s:\n' "$pid" "$URL" "$LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f -- "$PIDFILE" "$PIDFILE.dir"
    [[ -n "$tmp_storage" ]] && rm -rf -- "$tmp_storage"
    exit 1
  fi
  sleep 0.2
done

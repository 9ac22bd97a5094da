#!/usr/bin/env bash
# Build the fixtures' base image without Docker Hub: a minimal Debian bookworm root
# file system with python3, made by mmdebstrap from the host's configured Debian
# mirror and loaded with `docker import`.
#
#   bash scripts/build-base-image.sh [--force]
#
# Image name: $HARNESS_FIXTURE_BASE (default harness-fixture-base:bookworm).
# Already present locally -> says so and exits 0, unless --force.
# Machines with Docker Hub can use python:3.11-slim instead; this script never
# contacts Docker Hub (mmdebstrap talks only to the Debian mirror).
# Environment:
#   HARNESS_FIXTURE_BASE        image name                      (default harness-fixture-base:bookworm)
#   HARNESS_DEBIAN_MIRROR       mirror URL for mmdebstrap       (default: the host's deb.debian.org-style
#                                                                mirror from /etc/apt/sources.list*, else
#                                                                mmdebstrap's default)
#   HARNESS_BASE_BUILD_TIMEOUT  bound on mmdebstrap|import, s   (default 600)
set -euo pipefail

NAME="${HARNESS_FIXTURE_BASE:-harness-fixture-base:bookworm}"
SUITE=bookworm
BUILD_TIMEOUT="${HARNESS_BASE_BUILD_TIMEOUT:-600}"
FORCE=0

log() { printf '[build-base-image] %s\n' "$*"; }
die() { printf '[build-base-image] ERROR: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: $0 [--force])" ;;
  esac
done

command -v docker >/dev/null 2>&1 || die "docker CLI not found"
timeout 10 docker version >/dev/null 2>&1 \
  || die "no Docker daemon answers (run: bash scripts/start-dockerd.sh)"

if ((FORCE == 0)) && timeout 20 docker image inspect "$NAME" >/dev/null 2>&1; then
  log "image $NAME already exists locally; nothing to do (use --force to rebuild)"
  exit 0
fi

command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap not found (apt-get install mmdebstrap)"

# The Debian main mirror the host uses (deb822 "URIs:" or one-line "deb URL SUITE ...").
host_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    if [[ "$f" == *.sources ]]; then
      # deb822 stanza whose Suites include bookworm (not bookworm-security)
      awk -v suite="$SUITE" '
        BEGIN { RS=""; FS="\n" }
        {
          uri=""; ok=0
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri = u[1] }
            if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
          }
          if (ok && uri != "") { print uri; exit }
        }' "$f"
    else
      awk -v suite="$SUITE" '$1 == "deb" {
          k = 2; if ($k ~ /^\[/) { while ($k !~ /\]$/) k++; k++ }
          if ($(k+1) == suite) { print $k; exit }
        }' "$f"
    fi
  done | head -n1
}

MIRROR="${HARNESS_DEBIAN_MIRROR:-$(host_mirror || true)}"
mirror_args=()
if [[ -n "$MIRROR" ]]; then
  mirror_args=("$MIRROR")
  log "Debian mirror: $MIRROR"
else
  log "Debian mirror: mmdebstrap default (none found in /etc/apt/sources.list*)"
fi

t0=$SECONDS
log "building $NAME: mmdebstrap --variant=apt --include=python3 $SUITE | docker import (bound ${BUILD_TIMEOUT} s)"
errlog="$(mktemp "${TMPDIR:-/tmp}/harness-base-image.XXXXXX.log")"
trap 'rm -f "$errlog"' EXIT
# mmdebstrap writes a tarball to stdout ("-"); its progress goes to stderr (kept in $errlog).
# The whole pipeline runs under one timeout so neither side can hang.
# shellcheck disable=SC2016  # $1.. expand in the inner bash, on purpose
if ! timeout --kill-after=10 "$BUILD_TIMEOUT" bash -o pipefail -c '
    mmdebstrap --quiet --variant=apt --include=python3 "$1" - "${@:4}" 2>>"$3" \
      | docker import --change "CMD [\"python3\"]" --change "ENV LANG=C.UTF-8" - "$2" >/dev/null 2>>"$3"
  ' _ "$SUITE" "$NAME" "$errlog" "${mirror_args[@]}"; then
  printf '[build-base-image] ERROR: building %s failed or exceeded %s s; last lines of the log:\n' "$NAME" "$BUILD_TIMEOUT" >&2
  tail -n 20 "$errlog" >&2 || true
  exit 1
fi
log "imported $NAME in $((SECONDS - t0)) s"

# Verify: detached run, waited on with a bound (never a foreground run that could hang).
cid="$(timeout 60 docker run -d --network none "$NAME" python3 -c 'print(1)')" \
  || die "could not start a verification container from $NAME"
status="$(timeout 60 docker wait "$cid" 2>/dev/null || echo timeout)"
out="$(docker logs "$cid" 2>&1 || true)"
docker rm -f "$cid" >/dev/null 2>&1 || true
if [[ "$status" != 0 || "$out" != 1 ]]; then
  die "verification of $NAME failed: python3 -c 'print(1)' gave exit status '$status', output '$out'"
fi
size="$(docker image inspect --format '{{.Size}}' "$NAME" 2>/dev/null || echo '?')"
log "verified $NAME (python3 runs; size ${size} bytes) in $((SECONDS - t0)) s total"

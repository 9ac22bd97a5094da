#!/usr/bin/env bash
# Installs and starts what the Docker tests and the demo need, on Debian 12 as root:
# docker.io, docker-registry, mmdebstrap, chromium (only when missing), a running dockerd, and the
# fixtures' base image. Idempotent: a machine that has it all is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pair in docker:docker.io dockerd:docker.io docker-registry:docker-registry mmdebstrap:mmdebstrap chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-host: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2046
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
bash scripts/start-dockerd.sh
bash scripts/build-base-image.sh

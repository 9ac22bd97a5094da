#!/usr/bin/env bash
# `make demo`: the main job on the bundled reference algorithm, from a fresh Debian 12 machine.
# Builds the reference image on the fixtures' base image, starts a local registry on
# 127.0.0.1:${HARNESS_DEMO_PORT:-5000}, pushes the image there, and runs the harness on it:
# validate, images --pin (on a copy of the algorithm under demo/), then the whole run.
# Everything it creates lives under demo/ (the registry is stopped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${HARNESS_DEMO_PORT:-5000}"
BASE="${HARNESS_FIXTURE_BASE:-harness-fixture-base:bookworm}"
IMAGE="127.0.0.1:${PORT}/harness/reference-algorithm:1.0"
OUT="$PWD/demo"
HARNESS="$PWD/.venv/bin/harness"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

step "building the reference algorithm on ${BASE}"
docker build --quiet --build-arg "BASE_IMAGE=${BASE}" -t "${IMAGE}" fixtures/algorithms/reference

step "starting a local registry on 127.0.0.1:${PORT}"
PIDFILE="$OUT/registry.pid"
bash scripts/start-registry.sh "$PORT" --pidfile "$PIDFILE" --log "$OUT/registry.log"
trap 'bash scripts/start-registry.sh --stop --pidfile "$PIDFILE" >/dev/null 2>&1 || true' EXIT

step "pushing ${IMAGE}"
docker push --quiet "${IMAGE}"

# The demo works on a copy: `--pin` writes digests into the request, not into fixtures/.
WORK="$OUT/reference"
rm -rf "$WORK"
cp -r fixtures/algorithms/reference "$WORK"
sed -i "s#127.0.0.1:5000/#127.0.0.1:${PORT}/#g" "$WORK/algorithm.json"

rc=0
step "harness validate $WORK/harness.yaml"
"$HARNESS" validate "$WORK/harness.yaml" || rc=$?

step "harness images $WORK/harness.yaml --pin --pull always"
"$HARNESS" images "$WORK/harness.yaml" --pin --pull always || rc=$?
"$HARNESS" images "$WORK/harness.yaml" --format json > "$OUT/images.json" || rc=$?

step "harness run $WORK/harness.yaml --out $OUT/report"
"$HARNESS" run "$WORK/harness.yaml" --out "$OUT/report" || rc=$?

step "done in $((SECONDS - started)) s: exit ${rc}"
echo "pinned request: $WORK/algorithm.json"
echo "report:         $OUT/report/report.json (and junit.xml, per-run logs and model.tar.gz)"
exit "$rc"

#!/usr/bin/env bash
# `make demo`: the main job on the bundled reference algorithm, from a fresh Debian 12 machine.
# Builds the reference image on the fixtures' base image, starts a local registry on
# 127.0.0.1:${HARNESS_DEMO_PORT:-5000}, pushes the image there, and runs the harness on it:
# validate, images --pin (on a copy of the algorithm under demo/), the whole run with its bundle,
# then spec and submit --wait against AWS stand-ins on loopback (moto, 127.0.0.1:5001).
# Everything it creates lives under demo/ (the registry and moto are stopped at the end).
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

step "harness run $WORK/harness.yaml --out $OUT/report --bundle"
"$HARNESS" run "$WORK/harness.yaml" --out "$OUT/report" --bundle || rc=$?

step "harness report verify $OUT/report/harness-report.tar.gz"
"$HARNESS" report verify "$OUT/report/harness-report.tar.gz" || rc=$?

# The AWS steps go to stand-ins on loopback: a moto server (S3) extended with CreateAlgorithm
# and DescribeAlgorithm (tests/moto_algorithms.py). With real credentials, leave out
# --endpoint-url and use your own bucket and role.
AWS_PORT="${HARNESS_DEMO_AWS_PORT:-5001}"
AWS_URL="http://127.0.0.1:${AWS_PORT}"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
step "starting the AWS stand-in (moto) on ${AWS_URL}"
.venv/bin/python -m tests.moto_algorithms -H 127.0.0.1 -p "$AWS_PORT" >"$OUT/moto.log" 2>&1 &
AWS_PID=$!
trap 'kill "$AWS_PID" 2>/dev/null || true; bash scripts/start-registry.sh --stop --pidfile "$PIDFILE" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 100); do curl -sf "$AWS_URL/moto-api/" >/dev/null && break; sleep 0.1; done
.venv/bin/python -c "import boto3; boto3.client('s3', endpoint_url='$AWS_URL').create_bucket(Bucket='harness-demo')"

step "harness spec $WORK/harness.yaml --profile smoke --s3-prefix s3://harness-demo/reference"
"$HARNESS" spec "$WORK/harness.yaml" --profile smoke --report "$OUT/report/report.json" \
  --s3-prefix s3://harness-demo/reference \
  --role arn:aws:iam::123456789012:role/SageMakerValidation \
  --out "$OUT/request.json" --endpoint-url "$AWS_URL" || rc=$?

step "harness submit $OUT/request.json --wait"
"$HARNESS" submit "$OUT/request.json" --wait --poll-interval 0.2 --endpoint-url "$AWS_URL" || rc=$?

step "done in $((SECONDS - started)) s: exit ${rc}"
echo "pinned request: $WORK/algorithm.json"
echo "report:         $OUT/report/report.html (report.json, junit.xml, summary.md, per-run logs)"
echo "bundle:         $OUT/report/harness-report.tar.gz"
echo "submission:     $OUT/request.json (ValidationSpecification generated from the run)"
exit "$rc"

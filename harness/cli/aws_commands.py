"""`harness spec` and `harness submit`: from a passing local run to CreateAlgorithm.

AWS credentials and region come from boto3's usual chain (environment, ~/.aws, SSO, instance
role); `--aws-profile`/`--profile` and `--region` pick among them, `--endpoint-url` points at
another endpoint (a test server, a VPC endpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness.cli.common import (
    TransferPrinter,
    add_aws_options,
    load_input_document,
    positive_seconds,
    write_atomically,
)
from harness.errors import ExitCode, UsageError, ValidationTimeout

if TYPE_CHECKING:
    from harness.algorithm.findings import Finding
    from harness.plan import ProfilePlan
    from harness.sagemaker.channels import ChannelFile

DEFAULT_WAIT_TIMEOUT_S = 6 * 3600  # SageMaker's validation runs a training and a transform job


def register(commands: Any) -> None:
    spec = commands.add_parser(
        "spec",
        help="write the CreateAlgorithm request with a ValidationSpecification from a passing run",
        description="Build the request's ValidationSpecification from a plan profile that "
        "passed `harness run`: upload its channels and transform input under the S3 prefix "
        "(unchanged objects are not sent again), translate the profile into the "
        "TrainingJobDefinition and TransformJobDefinition, pin the digests the run verified, "
        "set the ValidationRole, check the result (SPEC-SCHEMA, SPEC-SEMANTICS) and write it. "
        "Exit 0: written; 1: the run did not pass or the result is invalid; 3: AWS unusable; "
        "4: bad arguments.",
    )
    spec.add_argument("plan", type=Path, metavar="PLAN")
    spec.add_argument(
        "--s3-prefix", required=True, metavar="s3://BUCKET/PREFIX", help="where the data goes"
    )
    spec.add_argument(
        "--role", required=True, metavar="ARN", help="the IAM role SageMaker validates with"
    )
    spec.add_argument(
        "--report",
        type=Path,
        default=Path("harness-report/report.json"),
        help="report.json of the run that proves the profile (default: harness-report/report.json)",
    )
    spec.add_argument(
        "--profile", metavar="NAME", help="the plan profile to submit (needed when it has several)"
    )
    spec.add_argument(
        "--out",
        type=Path,
        default=Path("request.json"),
        help="where the request goes (default: request.json)",
    )
    spec.add_argument(
        "--force",
        action="store_true",
        help="write the request although the report does not show the profile passing",
    )
    add_aws_options(spec, "S3")
    spec.set_defaults(handler=_cmd_spec)

    submit = commands.add_parser(
        "submit",
        help="call CreateAlgorithm with a request, and follow SageMaker's validation",
        description="Validate REQUEST (SPEC-SCHEMA, SPEC-SEMANTICS), then call CreateAlgorithm. "
        "With --wait, poll DescribeAlgorithm (with backoff) and show each validation and image "
        "scan status as it changes. Exit 0: created (with --wait: validation Completed); 1: "
        "the request is invalid or validation Failed; 2: interrupted; 3: AWS unusable, or "
        "--timeout passed (the algorithm exists and SageMaker goes on validating it); 4: bad "
        "arguments, or an algorithm of that name exists.",
    )
    submit.add_argument("request", type=Path, metavar="REQUEST")
    submit.add_argument(
        "--wait", action="store_true", help="follow the validation until Completed or Failed"
    )
    submit.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_WAIT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long --wait waits (default {DEFAULT_WAIT_TIMEOUT_S} s)",
    )
    submit.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="first pause between DescribeAlgorithm calls; it doubles up to 60 s (default 5)",
    )
    submit.add_argument(
        "--dry-run", action="store_true", help="print the exact request and send nothing"
    )
    add_aws_options(submit, "SageMaker", profile_alias=True)
    submit.set_defaults(handler=_cmd_submit)


def _cmd_spec(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.s3_data import (
        DEFAULT_MULTIPART_CHUNKSIZE,
        DEFAULT_MULTIPART_THRESHOLD,
        check_bucket_region,
        check_upload,
        file_digest,
        parse_s3_uri,
        s3_client,
        upload_files,
    )
    from harness.algorithm.validate import validate_request
    from harness.algorithm.validation_spec import TRANSFORM_INPUT, build_spec, profile_evidence
    from harness.jobs.run_parts import file_sha256
    from harness.plan import load_plan
    from harness.sagemaker.channels import data_digest_of

    parse_s3_uri(args.s3_prefix)
    plan = load_plan(args.plan)
    request = load_input_document(plan.algorithm)
    if not isinstance(request.data, dict):
        raise UsageError("the request is not an object", where=str(plan.algorithm))
    if args.profile is not None:
        profile = plan.profile(args.profile)
    elif len(plan.profiles) == 1:
        profile = plan.profiles[0]
    else:
        names = ", ".join(p.name for p in plan.profiles)
        raise UsageError(
            "the plan has several profiles and a request holds one",
            where=str(plan.file),
            hint=f"choose one with --profile ({names})",
        )
    report = _read_report(args.report)
    listings = _local_listings(profile)
    # Every file is hashed once: the digests say both whether the data is what ran and,
    # below, which objects S3 already holds.
    file_digests = {
        f.path: file_digest(
            f.path,
            multipart_threshold=DEFAULT_MULTIPART_THRESHOLD,
            multipart_chunksize=DEFAULT_MULTIPART_CHUNKSIZE,
        )
        for files in listings.values()
        for f in files
    }

    def digest_of(local: Path) -> str:
        return data_digest_of((f, file_digests[f.path].sha256) for f in listings[local])

    data_digests = {c.name: digest_of(c.path) for c in profile.training.channels}
    if profile.transform is not None:
        data_digests[TRANSFORM_INPUT] = digest_of(profile.transform.input)
    evidence = profile_evidence(
        report,
        profile,
        request.data,
        file_sha256(plan.file),  # as the run recorded them
        file_sha256(plan.algorithm),
        data_digests,
    )
    if not evidence.passed:
        reasons = list(evidence.report_problems) + list(evidence.not_passed)
        for reason in reasons:
            _note(f"  {reason}")
        if not args.force:
            _note(
                f"{args.report} does not show profile {profile.name!r} passing: no request "
                "written, nothing uploaded (fix the run and run it again, or --force)"
            )
            return ExitCode.CHECKS_FAILED
        _note(f"--force: writing the request although profile {profile.name!r} did not pass")

    data_bytes = sum(f.size for c in profile.training.channels for f in listings[c.path])
    draft = build_spec(request.data, plan, profile, evidence, args.s3_prefix, args.role, data_bytes)
    findings = validate_request(draft.request)
    if findings:
        _render_findings(args.out, findings, plan.file)
    if any(f.severity.value == "error" for f in findings):
        _note("the generated request is invalid: nothing uploaded, nothing written")
        return ExitCode.CHECKS_FAILED
    out_dir = args.out.parent.resolve()
    if args.out.is_dir() or not out_dir.is_dir() or not os.access(out_dir, os.W_OK):
        raise UsageError("cannot write the request here", where=str(args.out))
    uploads = [
        ([(f.key, f.path) for f in listings[upload.local]], upload.s3_uri)
        for upload in draft.uploads
    ]
    for files, uri in uploads:
        check_upload(files, uri)

    client = s3_client(args.aws_profile, args.region, args.endpoint_url)
    check_bucket_region(client, args.s3_prefix)
    printer = TransferPrinter()
    sent = kept = deleted = sent_bytes = 0
    for files, uri in uploads:
        result = upload_files(client, files, uri, printer, known_digests=file_digests)
        sent += len(result.uploaded)
        kept += len(result.skipped)
        deleted += len(result.deleted)
        sent_bytes += result.bytes_uploaded
    write_atomically(args.out, json.dumps(draft.request, indent=2, ensure_ascii=False) + "\n")
    out.write(
        f"wrote {args.out}: profile {profile.name}, {sent} object(s) uploaded ({sent_bytes} "
        f"bytes), {kept} unchanged, {deleted} stale deleted, under {args.s3_prefix}\n"
        f"next: harness submit {args.out} --wait\n"
    )
    return ExitCode.OK


def _local_listings(profile: ProfilePlan) -> dict[Path, tuple[ChannelFile, ...]]:
    """The files of every channel and of the transform input, listed as the local run lists
    them (links out of the folder and special files left out, said so); an empty one is an
    error before anything is compared or uploaded."""
    from harness.plan import ChannelPlan
    from harness.sagemaker.channels import list_channel

    listings: dict[Path, tuple[ChannelFile, ...]] = {}
    for local in [c.path for c in profile.training.channels] + (
        [profile.transform.input] if profile.transform else []
    ):
        listing = list_channel(ChannelPlan(local.name, local))
        for skipped in listing.skipped:
            _note(f"not uploaded: {local}/{skipped.key}: {skipped.reason}")
        if not listing.files:
            raise UsageError(
                "no files to upload here: SageMaker fails a job whose channel is empty",
                where=str(local),
                hint="put the fixture data there, or fix the plan's path",
            )
        listings[local] = listing.files
    return listings


def _render_findings(file: Path, findings: Sequence[Finding], plan: Path | None = None) -> None:
    """The findings as `harness validate` shows them; for a generated request, headed by the
    plan it came from (the request itself may never be written)."""
    from harness.algorithm.service_model import botocore_version
    from harness.algorithm.validate import ValidationResult
    from harness.report.validation import render_text

    sys.stderr.write(render_text(ValidationResult(file, plan, tuple(findings), botocore_version())))


def _read_report(path: Path) -> dict[str, Any]:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)
    except FileNotFoundError:
        raise UsageError(
            "no report here", where=str(path), hint="run `harness run PLAN` first, or --report"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"not a readable report.json: {exc}", where=str(path)) from None
    if not isinstance(data, dict) or "checks" not in data:
        raise UsageError("not a harness report.json", where=str(path))
    return data


def _cmd_submit(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.aws import session
    from harness.algorithm.findings import Severity
    from harness.algorithm.submission import (
        StatusSnapshot,
        create_algorithm,
        images_outside_ecr,
        sagemaker_client,
        snapshot_changes,
        wait_for_validation,
    )
    from harness.algorithm.validate import validate_request_document
    from harness.plan import is_plan

    document = load_input_document(args.request)
    if is_plan(document.data):
        raise UsageError(
            "this is a plan, not a CreateAlgorithm request",
            where=str(args.request),
            hint="`harness spec PLAN --s3-prefix ... --role ...` writes the request to submit",
        )
    findings = validate_request_document(document)
    if findings:
        _render_findings(args.request, findings)
    if any(f.severity is Severity.ERROR for f in findings):
        _note(f"{args.request} is invalid: nothing sent")
        return ExitCode.CHECKS_FAILED
    request = document.data
    if not isinstance(request.get("ValidationSpecification"), dict):
        _note(
            "note: the request has no ValidationSpecification: SageMaker will not validate it "
            "and it cannot be listed on AWS Marketplace (`harness spec` writes one)"
        )
    region = args.region or session(args.aws_profile).region_name
    for problem in images_outside_ecr(request, region) if region else ():
        _note(f"warning: {problem}: SageMaker pulls an algorithm's images from there only")
    if args.dry_run:
        out.write(json.dumps(request, indent=2, ensure_ascii=False) + "\n")
        _note(f"dry run: CreateAlgorithm for {request['AlgorithmName']} was not sent")
        return ExitCode.OK
    client = sagemaker_client(args.aws_profile, args.region, args.endpoint_url)
    arn = create_algorithm(client, request)
    out.write(f"created {arn}\n")
    if not args.wait:
        out.write(
            "follow it with: aws sagemaker describe-algorithm --algorithm-name "
            f"{request['AlgorithmName']}\n"
        )
        return ExitCode.OK
    started = time.monotonic()
    previous: list[StatusSnapshot] = []

    def on_change(snapshot: StatusSnapshot) -> None:
        for line in snapshot_changes(previous[-1] if previous else None, snapshot):
            out.write(f"{_elapsed(started)} {line}\n")
        out.flush()
        previous.append(snapshot)

    try:
        outcome = wait_for_validation(
            client,
            request["AlgorithmName"],
            on_change,
            args.timeout,
            initial_delay=args.poll_interval,
            max_delay=max(60.0, args.poll_interval),
        )
    except (KeyboardInterrupt, ValidationTimeout):
        # Only the waiting stops: the algorithm exists and SageMaker goes on validating it.
        _note(
            f"{arn} was created and SageMaker goes on validating it; follow it with "
            f"`aws sagemaker describe-algorithm --algorithm-name {request['AlgorithmName']}`"
        )
        raise
    if outcome.succeeded:
        out.write(
            f"Completed: {outcome.name} passed SageMaker's validation "
            f"in {outcome.elapsed_s:.0f} s\n"
        )
        return ExitCode.OK
    out.write(f"Failed: {outcome.name}\n")
    for reason in outcome.failure_reasons or ("SageMaker gave no reason",):
        out.write(f"  {reason}\n")
    return ExitCode.CHECKS_FAILED


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _elapsed(started: float) -> str:
    return f"[{time.monotonic() - started:7.1f}s]"

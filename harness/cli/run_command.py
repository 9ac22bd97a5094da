"""`harness run`: the whole local conformance run of a plan, and the reports it writes."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness.cli.common import (
    TransferPrinter,
    add_aws_options,
    load_input_document,
    non_negative_seconds,
)
from harness.cli.common import write_atomically as _write_atomically
from harness.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from harness.documents import Document
    from harness.plan import Plan


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="the whole local conformance run of a plan",
        description="Validate the request, resolve and pull its images by digest, then run "
        "every profile under each emulated instance type exactly as SageMaker would: training, "
        "the SIGTERM probe, real-time serving and batch transform of the trained model. Writes "
        "report.json, junit.xml, summary.md and report.html (and with --bundle "
        "harness-report.tar.gz) under --out. Profiles run one after another (DESIGN's --jobs "
        "is not implemented). Exit 0: every check passed; 1: a check failed; 2: interrupted; "
        "3: Docker, a registry or S3 unusable; 4: bad plan or arguments.",
    )
    run.add_argument(
        "plan",
        type=Path,
        metavar="PLAN",
        help="a plan, or a CreateAlgorithm request whose ValidationSpecification points to S3 "
        "(its data is downloaded and each ValidationProfile run)",
    )
    run.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this profile of the plan (or ValidationProfile of the request); repeatable",
    )
    run.add_argument(
        "--bundle",
        action="store_true",
        help="also write harness-report.tar.gz: reports, logs, request and plan, checksums "
        "(check it with `harness report verify`)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=Path("harness-report"),
        help="where reports, logs and artifacts go (default: harness-report/)",
    )
    run.add_argument(
        "--instance-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="emulate this instance type instead of the plan's (repeatable)",
    )
    run.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="run only these checks (an ID or a prefix such as TRAIN-; repeatable)",
    )
    run.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="skip these checks (an ID or a prefix; repeatable)",
    )
    run.add_argument(
        "--keep",
        action="store_true",
        help="leave containers, networks and /opt/ml folders for debugging",
    )
    run.add_argument("--pull", choices=("missing", "always", "never"), default="missing")
    run.add_argument("--insecure-registry", action="append", default=[], metavar="HOST")
    run.add_argument(
        "--sigterm-grace",
        type=non_negative_seconds,
        default=120.0,
        metavar="SECONDS",
        help="how long a SIGTERMed job may take to exit (SageMaker: 120)",
    )
    run.add_argument(
        "--serve-sigterm-grace",
        type=non_negative_seconds,
        default=30.0,
        metavar="SECONDS",
        help="how long a SIGTERMed server may take to exit (SageMaker: 30)",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="parallel runs: not implemented yet, rows run one after another (only 1 accepted)",
    )
    aws = run.add_argument_group("S3 data of a request (boto3's credential chain)")
    add_aws_options(aws, "S3")
    shown = run.add_mutually_exclusive_group()
    shown.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="on stderr, only the phases that failed or errored (no live table)",
    )
    shown.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="on stderr, one line per phase and every runner's message (no live table)",
    )
    run.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.request_plan import has_validation_specification
    from harness.algorithm.validate import check_plan_against_request, validate_request_document
    from harness.cli.progress_view import ProgressView
    from harness.engine.docker_engine import DockerEngine, docker_config_credentials
    from harness.jobs.run import ConformanceRun, RunOptions, run_matrix
    from harness.jobs.run_parts import require_known_check_selectors
    from harness.plan import is_plan
    from harness.registry.client import RegistryClient, credential_chain
    from harness.registry.ecr import ecr_credentials
    from harness.report.html import render_html
    from harness.report.json_report import render_report_json
    from harness.report.junit import render_junit
    from harness.report.log_excerpts import read_log_excerpts
    from harness.report.summary import render_summary

    require_known_check_selectors(args.only, args.skip)
    if args.jobs != 1:
        raise UsageError(
            f"--jobs {args.jobs}: parallel runs are not implemented yet",
            where="harness run",
            hint="leave --jobs out: profiles and instance types run one after another",
        )
    out_dir = args.out.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError("--out names a file, not a folder", where=str(args.out))
    document = load_input_document(args.plan)
    if is_plan(document.data):
        plan, request = _plan_of(document, args)
        engine = DockerEngine.connect()
    elif has_validation_specification(document.data):
        # Docker first: no point in downloading data that cannot be run.
        engine = DockerEngine.connect()
        try:
            with _sigterm_as_interrupt():
                plan, request = _plan_from_s3_request(document, args, out_dir), document
        except BaseException:
            engine.close()
            raise
    else:
        raise UsageError(
            "neither a plan nor a request with a ValidationSpecification",
            where=str(args.plan),
            hint="write a plan (fixtures/algorithms/reference/harness.yaml shows one) or run "
            "`harness spec` to add a ValidationSpecification",
        )
    findings = validate_request_document(request)
    findings += [f.located(plan.file, None) for f in check_plan_against_request(plan, request.data)]
    credentials = credential_chain(docker_config_credentials, ecr_credentials)
    registry = RegistryClient(credentials, insecure_registries=frozenset(args.insecure_registry))
    options = RunOptions(
        out_dir=out_dir,
        instance_types=tuple(args.instance_type),
        only=frozenset(args.only),
        skip=frozenset(args.skip),
        keep=args.keep,
        pull=args.pull,
        sigterm_grace_seconds=args.sigterm_grace,
        serve_sigterm_grace_seconds=args.serve_sigterm_grace,
    )
    view = ProgressView(
        sys.stderr,
        [(profile.name, instance_type) for profile, instance_type in run_matrix(plan, options)],
        verbosity="quiet" if args.quiet else "verbose" if args.verbose else "normal",
        started=time.monotonic(),
    )
    run = ConformanceRun(plan, request, findings, engine, registry, credentials, options, view)
    try:
        # The live table stops (its last frame stays) before anything else is written, on
        # Ctrl-C too: execute() returns the partial report then.
        with _sigterm_as_interrupt(), view:
            report = run.execute()
    finally:
        registry.close()
        engine.close()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(options.out_dir / "report.json", render_report_json(report))
    _write_atomically(options.out_dir / "junit.xml", render_junit(report))
    _write_atomically(options.out_dir / "summary.md", render_summary(report))
    excerpts = read_log_excerpts(report, options.out_dir)
    _write_atomically(options.out_dir / "report.html", render_html(report, excerpts))
    out.write(_run_summary(report, options.out_dir))
    if args.bundle:
        from harness.report.bundle import write_bundle

        bundle = write_bundle(
            options.out_dir,
            plan.algorithm,
            plan.file if plan.file != plan.algorithm else None,
            options.out_dir / "harness-report.tar.gz",
        )
        out.write(
            f"bundle: {bundle.path} (sha256 {bundle.sha256}, {bundle.files} files, "
            f"{len(bundle.left_out)} left out)\n"
        )
    if run.failure is not None:
        raise run.failure
    if report.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if report.verdict == "pass" else ExitCode.CHECKS_FAILED


def _plan_of(document: Document, args: argparse.Namespace) -> tuple[Plan, Document]:
    """A plan file, narrowed to --profile, and the request it names."""
    from harness.plan import plan_from_document

    plan = plan_from_document(document)
    if args.profile:
        plan = replace(plan, profiles=tuple(plan.profile(name) for name in args.profile))
    return plan, load_input_document(plan.algorithm)


def _plan_from_s3_request(document: Document, args: argparse.Namespace, out_dir: Path) -> Plan:
    """A request's ValidationProfiles as a plan, their S3 data fetched into OUT/s3-data/."""
    from harness.algorithm.request_plan import plan_from_request
    from harness.algorithm.s3_data import download_prefix, s3_client

    client = s3_client(args.aws_profile, args.region, args.endpoint_url)
    printer = TransferPrinter(quiet=args.quiet)

    def fetch(uri: str, folder: Path) -> None:
        if not args.quiet:
            print(f"fetching {uri} into {folder}", file=sys.stderr, flush=True)
        result = download_prefix(client, uri, folder, printer)
        for path in result.removed if not args.quiet else ():
            print(f"removed {path} (no longer under {uri})", file=sys.stderr, flush=True)

    return plan_from_request(document, out_dir / "s3-data", fetch, tuple(args.profile))


def _run_summary(report: Any, out_dir: Path) -> str:
    from harness.report.text import plain_text

    lines = []
    for check in report.checks:
        where = f"{check.profile}/{check.instance_type}" if check.profile else ""
        subject = f" [{check.subject}]" if check.subject else ""
        # Messages quote container output: no escape sequence of theirs reaches the terminal.
        text = plain_text(f"{check.message}{subject}").replace("\n", " ⏎ ")
        lines.append(f"{check.status.value:<5} {check.id:<20} {where:<28} {text}")
    for error in report.errors:
        lines.append(f"error {'harness':<20} {'':<28} {plain_text(error)}")
    summary = report.summary
    harness_errors = len(report.errors)
    lines += [
        "",
        f"{report.verdict.upper()}: {summary['pass']} passed, {summary['fail']} failed, "
        f"{summary['skip']} skipped, {summary['error']} errors"
        + (f", {harness_errors} harness error(s)" if harness_errors else "")
        + f" in {report.duration_s:.1f} s",
        f"report: {out_dir / 'report.json'}",
    ]
    if report.interrupted:
        lines.append("interrupted: the report holds what was done before")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM to the harness cleans up like Ctrl-C does."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

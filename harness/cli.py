"""The `harness` command: the only module that reads argv, prints, writes report files and exits.

Imports of the heavy parts (botocore, docker, jinja2) happen inside the command functions, so
`harness --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from harness import __version__
from harness.errors import ExitCode, HarnessError, UsageError

PROG = "harness"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments; the harness's usage errors exit 4 (DESIGN §2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, where=self.prog, hint=f"see `{self.prog} --help`")


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=PROG,
        description="Conformance harness for Amazon SageMaker algorithm containers.",
        epilog="Exit codes: 0 passed, 1 checks failed, 2 interrupted, 3 engine problem, "
        "4 usage error, 5 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_ArgumentParser
    )

    validate = commands.add_parser(
        "validate",
        help="check a CreateAlgorithm request (or a plan) against the API model",
        description="Check a CreateAlgorithm request against every constraint of botocore's "
        "SageMaker model (SPEC-SCHEMA) and the cross-field rules (SPEC-SEMANTICS). FILE is the "
        "request in JSON or YAML, or a plan whose `algorithm` names it; a plan's profiles are "
        "checked against the request too. Exit 0: no errors; 1: errors; 4: bad arguments or "
        "unreadable file.",
    )
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (json: see docs/validate-json.md)",
    )
    validate.set_defaults(handler=_cmd_validate)

    images = commands.add_parser(
        "images",
        help="resolve, pin, pull and check every declared image",
        description="Resolve each image the request declares in its registry (credentials from "
        "the Docker config and its helpers; ECR tokens through boto3), compare the manifest "
        "digest with the declared one (index and platform manifests told apart), pull by "
        "digest, and check platform and entrypoint (IMAGE-DIGEST, IMAGE-PLATFORM, "
        "IMAGE-ENTRYPOINT). FILE is a request or a plan. Exit 0: all pass; 1: a mismatch or a "
        "missing image; 3: a registry or Docker cannot be reached or refuses the credentials.",
    )
    images.add_argument("file", type=Path, metavar="FILE")
    images.add_argument(
        "--pin", action="store_true", help="write the resolved digests into the request file"
    )
    images.add_argument(
        "--pull",
        choices=("missing", "always", "never"),
        default="missing",
        help="missing (default): pull unless an image with that RepoDigest is "
        "present; always; never (resolve only)",
    )
    images.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="talk plain HTTP to this registry (loopback registries always are)",
    )
    images.add_argument("--format", choices=("text", "json"), default="text")
    images.set_defaults(handler=_cmd_images)

    run = commands.add_parser(
        "run",
        help="the whole local conformance run of a plan",
        description="Validate the request, resolve and pull its images by digest, then run "
        "every profile's training under each emulated instance type exactly as SageMaker "
        "would, and write report.json and junit.xml. Exit 0: every check passed; 1: a check "
        "failed; 2: interrupted; 3: Docker or a registry unusable; 4: bad plan or arguments.",
    )
    run.add_argument("plan", type=Path, metavar="PLAN")
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
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long a SIGTERMed job may take to exit (SageMaker: 120)",
    )
    run.add_argument(
        "--serve-sigterm-grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a SIGTERMed server may take to exit (SageMaker: 30)",
    )
    run.set_defaults(handler=_cmd_run)

    doctor = commands.add_parser(
        "doctor",
        help="what this host can emulate, and how faithfully",
        description="Host inventory (CPUs, memory, GPUs through NVML, Docker and its runtimes) "
        "and, for every catalogued instance type, whether it can be emulated exactly, scaled "
        "down, or not at all, and why.",
    )
    doctor.add_argument("--format", choices=("text", "json"), default="text")
    doctor.set_defaults(handler=_cmd_doctor)

    clean = commands.add_parser(
        "clean",
        help="remove containers and networks a killed run left behind",
        description="Remove every container and network labelled by harness (all runs, or one "
        "with --run-id).",
    )
    clean.add_argument("--run-id", metavar="ID")
    clean.set_defaults(handler=_cmd_clean)
    return parser


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.validate import validate_file
    from harness.report.validation import render_json, render_text

    result = validate_file(args.file)
    out.write(render_json(result) if args.format == "json" else render_text(result))
    return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED


def _cmd_images(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.pinning import pin_digests
    from harness.documents import load_document
    from harness.engine.docker_engine import DockerEngine, docker_config_credentials
    from harness.errors import DockerUnavailable
    from harness.jobs.images import ImageInspector, declared_images
    from harness.plan import is_plan, plan_from_document
    from harness.registry.client import RegistryClient, credential_chain
    from harness.registry.ecr import ecr_credentials
    from harness.report.images import render_json, render_text

    document = load_document(args.file)
    if is_plan(document.data):
        document = load_document(plan_from_document(document).algorithm)
    images = declared_images(document.data)
    if not images:
        raise UsageError(
            "the request declares no images",
            where=str(document.file),
            hint="TrainingSpecification.TrainingImage is required",
        )
    try:
        engine: DockerEngine | None = DockerEngine.connect()
    except DockerUnavailable:
        if args.pull != "never":
            raise
        engine = None
    credentials = credential_chain(docker_config_credentials, ecr_credentials)
    registry = RegistryClient(credentials, insecure_registries=frozenset(args.insecure_registry))
    notes: list[str] = []
    try:
        inspector = ImageInspector(
            registry, credentials, engine, pull=args.pull, progress=_progress
        )
        result = inspector.inspect(images)
        if args.pin:
            pins = {}
            for outcome in result.outcomes:
                if outcome.pinned_reference is None:
                    continue
                digest = outcome.pinned_reference.rsplit("@", 1)[1]
                if digest != outcome.declared.declared_digest:
                    pins[outcome.declared.digest_path] = digest
                    was = outcome.declared.declared_digest or "none"
                    notes.append(f"pinned {outcome.declared.role}: {digest} (was {was})")
            if pins:
                pinned = pin_digests(document, pins)
                _write_atomically(document.file, pinned.text)
                if not pinned.layout_kept:
                    notes.append(
                        f"{document.file} was rewritten whole: its layout and comments "
                        "could not be kept"
                    )
                result = inspector.inspect(declared_images(load_document(document.file).data))
            else:
                notes.append("nothing to pin: every declared digest is already right")
    finally:
        registry.close()
        if engine is not None:
            engine.close()
    render = render_json if args.format == "json" else render_text
    out.write(render(result, document.file, notes))
    return ExitCode.OK if result.passed else ExitCode.CHECKS_FAILED


def _cmd_run(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.algorithm.validate import check_plan_against_request, validate_request_document
    from harness.documents import DocumentSyntaxError, load_document
    from harness.engine.docker_engine import DockerEngine, docker_config_credentials
    from harness.jobs.run import ConformanceRun, RunOptions
    from harness.plan import load_plan
    from harness.registry.client import RegistryClient, credential_chain
    from harness.registry.ecr import ecr_credentials
    from harness.report.html import render_html
    from harness.report.json_report import render_report_json
    from harness.report.junit import render_junit
    from harness.report.summary import render_summary

    plan = load_plan(args.plan)
    try:
        request = load_document(plan.algorithm)
    except DocumentSyntaxError as exc:
        raise UsageError(
            exc.message, where=exc.where, hint="`harness validate` shows every problem"
        ) from None
    findings = validate_request_document(request)
    findings += [f.located(plan.file, None) for f in check_plan_against_request(plan, request.data)]
    engine = DockerEngine.connect()
    credentials = credential_chain(docker_config_credentials, ecr_credentials)
    registry = RegistryClient(credentials, insecure_registries=frozenset(args.insecure_registry))
    options = RunOptions(
        out_dir=args.out.resolve(),
        instance_types=tuple(args.instance_type),
        only=frozenset(args.only),
        skip=frozenset(args.skip),
        keep=args.keep,
        pull=args.pull,
        sigterm_grace_seconds=args.sigterm_grace,
        serve_sigterm_grace_seconds=args.serve_sigterm_grace,
    )
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    run = ConformanceRun(plan, request, findings, engine, registry, credentials, options, progress)
    try:
        with _sigterm_as_interrupt():
            report = run.execute()
    finally:
        registry.close()
        engine.close()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(options.out_dir / "report.json", render_report_json(report))
    _write_atomically(options.out_dir / "junit.xml", render_junit(report))
    _write_atomically(options.out_dir / "summary.md", render_summary(report))
    _write_atomically(options.out_dir / "report.html", render_html(report))
    out.write(_run_summary(report, options.out_dir))
    if run.failure is not None:
        raise run.failure
    if report.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if report.verdict == "pass" else ExitCode.CHECKS_FAILED


def _run_summary(report: Any, out_dir: Path) -> str:
    lines = []
    for check in report.checks:
        where = f"{check.profile}/{check.instance_type}" if check.profile else ""
        subject = f" [{check.subject}]" if check.subject else ""
        lines.append(f"{check.status.value:<5} {check.id:<20} {where:<28} {check.message}{subject}")
    summary = report.summary
    lines += [
        "",
        f"{report.verdict.upper()}: {summary['pass']} passed, {summary['fail']} failed, "
        f"{summary['skip']} skipped, {summary['error']} errors in "
        f"{report.duration_s:.1f} s",
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


def _cmd_doctor(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.engine.docker_engine import DockerEngine
    from harness.errors import DockerUnavailable
    from harness.hardware.catalogue import load_catalogue
    from harness.hardware.emulation import plan_emulation
    from harness.hardware.host import take_inventory
    from harness.report.doctor import render_doctor_json, render_doctor_text

    try:
        engine = DockerEngine.connect(timeout=10)
        info: dict[str, Any] | None = engine.info()
        engine.close()
    except DockerUnavailable:
        info = None
    host = take_inventory(info)
    emulations = [plan_emulation(kind, host) for kind in load_catalogue().values()]
    render = render_doctor_json if args.format == "json" else render_doctor_text
    out.write(render(host, emulations))
    return ExitCode.OK


def _cmd_clean(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.engine.docker_engine import DockerEngine

    engine = DockerEngine.connect()
    try:
        containers, networks = engine.containers.sweep(args.run_id)
    finally:
        engine.close()
    out.write(f"removed {containers} container(s) and {networks} network(s)\n")
    return ExitCode.OK


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"... {message}", file=sys.stderr)


def _write_atomically(path: Path, text: str) -> None:
    """Write `path` so that a crash leaves the old file or the new one, never half of each."""
    temporary = path.with_name(f".{path.name}.harness-tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write: {exc.strerror}", where=str(path)) from None


Handler = Callable[[argparse.Namespace, TextIO], ExitCode]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or os.environ.get("HARNESS_DEBUG") == "1"
    try:
        args = _build_parser().parse_args(arguments)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            _build_parser().print_help(sys.stderr)
            return ExitCode.USAGE_ERROR
        return handler(args, sys.stdout)
    except HarnessError as exc:
        if debug:
            traceback.print_exc()
        _print_error(exc.one_line())
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # `harness validate x | head`: the reader left; nothing more to say.
        sys.stderr.close()
        return ExitCode.OK
    except Exception as exc:  # the last line of defence: a bug, reported as one
        if debug:
            traceback.print_exc()
        _print_error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)"
        )
        return ExitCode.INTERNAL_ERROR


def _print_error(line: str) -> None:
    print(f"{PROG}: error: {line}", file=sys.stderr)

"""The `harness` command: the only module that reads argv, prints, writes report files and exits.

Imports of the heavy parts (botocore, docker, jinja2) happen inside the command functions, so
`harness --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

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

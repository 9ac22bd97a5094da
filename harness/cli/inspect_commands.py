"""`harness validate`, `harness images`, `harness doctor` and `harness clean`: the commands that
look at a request, its images or the host and change nothing but an explicit `--pin`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from harness.cli.common import status_line as _progress
from harness.cli.common import write_atomically as _write_atomically
from harness.errors import ExitCode, UsageError


def register(commands: Any) -> None:
    """`harness validate` and `harness images`."""
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


def register_host(commands: Any) -> None:
    """`harness doctor` and `harness clean`, listed last in `--help`."""
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

"""`harness report verify`: check a certification bundle (`harness run --bundle`) before it is
sent or after it is received."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from harness.cli.common import ArgumentParser
from harness.errors import ExitCode


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="work with a run's certification bundle",
        description="Commands on the certification bundle `harness run --bundle` writes "
        "(harness-report.tar.gz).",
    )
    actions = report.add_subparsers(
        dest="report_command", metavar="SUBCOMMAND", required=True, parser_class=ArgumentParser
    )
    verify = actions.add_parser(
        "verify",
        help="check a bundle's checksums, layout and report",
        description="Read BUNDLE without extracting it and check that it holds regular files "
        "under one harness-report/ folder (no absolute or `..` paths, links or devices), that "
        "every file MANIFEST.sha256 lists is there with that sha256 and nothing else is, that "
        "report.json follows the report schema and bundle.json agrees with it, and that the "
        "artifacts report.json records are the bundled ones. The run's own verdict does not "
        "matter: a failed run bundles validly. Exit 0: valid; 1: invalid (a damaged or "
        "truncated archive included); 4: BUNDLE missing or not a file that can be opened.",
    )
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> ExitCode:
    from harness.report.bundle_verify import (
        render_verification_json,
        render_verification_text,
        verify_bundle,
    )

    result = verify_bundle(args.bundle)
    render = render_verification_json if args.format == "json" else render_verification_text
    out.write(render(result))
    return ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED

"""Renderers for `harness images`: a readable block per image, and JSON (report.json's parts)."""

from __future__ import annotations

import json
from pathlib import Path

from harness import __version__
from harness.checks.results import CheckStatus
from harness.jobs.images import ImageOutcome, ImagesResult

IMAGES_SCHEMA_VERSION = "1"


def _registry_line(outcome: ImageOutcome) -> str:
    view = outcome.view
    if view is None:
        return "not found"
    if not view.is_index:
        platform = ", ".join(str(p) for p in view.platforms) or "unknown platform"
        return f"manifest {view.digest} ({platform})"
    entries = ", ".join(f"{image.platform} {image.manifest_digest[:19]}…" for image in view.images)
    return f"index {view.digest} ({entries})"


def render_text(result: ImagesResult, request_file: Path, notes: list[str]) -> str:
    lines: list[str] = []
    for outcome in result.outcomes:
        declared = outcome.declared
        lines += [
            f"{declared.role} image  {declared.image}",
            f"  registry  {_registry_line(outcome)}",
            f"  declared  {declared.declared_digest or 'no digest'}",
        ]
        if outcome.pinned_reference:
            lines.append(f"  pinned    {outcome.pinned_reference}")
        lines.append(f"  pull      {outcome.pull_note}")
        for check in outcome.checks:
            lines.append(f"  {check.status.value:<5} {check.id:<17} {check.message}")
            lines += [f"        warning: {warning}" for warning in check.warnings]
        lines.append("")
    failed = [c for c in result.checks if c.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
    verdict = "all image checks passed" if not failed else f"{len(failed)} image checks failed"
    lines += [*notes, f"{request_file}: {len(result.outcomes)} images, {verdict}"]
    return "\n".join(lines) + "\n"


def render_json(result: ImagesResult, request_file: Path, notes: list[str]) -> str:
    document = {
        "schema_version": IMAGES_SCHEMA_VERSION,
        "harness_version": __version__,
        "request": str(request_file),
        "passed": result.passed,
        "images": [outcome.report_entry() for outcome in result.outcomes],
        "checks": [check.to_dict() for check in result.checks],
        "notes": notes,
    }
    return json.dumps(document, indent=2) + "\n"

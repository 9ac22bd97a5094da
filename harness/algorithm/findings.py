"""What the validator reports: one `Finding` per problem, located by JSON path."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from harness.documents import JsonPath, Position, format_json_path


class Severity(StrEnum):
    """An `error` makes `harness validate` exit 1; a `warning` is advice."""

    ERROR = "error"
    WARNING = "warning"


class CheckId(StrEnum):
    """Check IDs of the static checks (docs/checks.md; stable, relied on by users)."""

    SPEC_PARSE = "SPEC-PARSE"
    SPEC_SCHEMA = "SPEC-SCHEMA"
    SPEC_SEMANTICS = "SPEC-SEMANTICS"


@dataclass(frozen=True)
class Finding:
    """One problem in a request: severity, check, where it is, what is wrong, how to fix it."""

    severity: Severity
    check_id: CheckId
    path: JsonPath
    message: str
    hint: str | None = None
    rule: str = ""
    """Short name of the rule inside its check (e.g. `pattern`, `objective-metric-defined`)."""
    position: Position | None = None
    file: Path | None = None

    @property
    def json_path(self) -> str:
        return format_json_path(self.path)

    def located(self, file: Path, position: Position | None) -> Finding:
        return replace(self, file=file, position=position)


def error(
    check: CheckId, rule: str, path: JsonPath, message: str, hint: str | None = None
) -> Finding:
    return Finding(Severity.ERROR, check, path, message, hint, rule)


def warning(
    check: CheckId, rule: str, path: JsonPath, message: str, hint: str | None = None
) -> Finding:
    return Finding(Severity.WARNING, check, path, message, hint, rule)

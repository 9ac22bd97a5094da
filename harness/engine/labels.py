"""Labels on everything the harness creates, so a crashed run can be swept up (`harness clean`)."""

from __future__ import annotations

from harness import __version__

PREFIX = "com.github.harness"
RUN_ID = f"{PREFIX}.run-id"
VERSION = f"{PREFIX}.version"
ROLE = f"{PREFIX}.role"


def labels(run_id: str, role: str) -> dict[str, str]:
    return {RUN_ID: run_id, VERSION: __version__, ROLE: role}

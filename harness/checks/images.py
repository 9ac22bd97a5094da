"""IMAGE-DIGEST, IMAGE-PLATFORM and IMAGE-ENTRYPOINT evaluated from what was observed (pure).

The observations come from the registry (manifests, index entries, image configs) and, once an
image is pulled, from a created-but-never-started container of it (where `train` lives).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from harness.checks.results import CheckResult, CheckStatus
from harness.engine.types import FileInImage
from harness.registry.manifests import ImageConfig, Platform
from harness.registry.reference import ImageReference

IMAGE_DIGEST = "IMAGE-DIGEST"
IMAGE_PLATFORM = "IMAGE-PLATFORM"
IMAGE_ENTRYPOINT = "IMAGE-ENTRYPOINT"
_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}


@dataclass(frozen=True)
class PlatformImage:
    """One runnable image: a single manifest, or one platform's entry of an index."""

    platform: Platform | None
    manifest_digest: str
    config_digest: str | None = None
    config: ImageConfig | None = None


@dataclass(frozen=True)
class RegistryView:
    """What the registry says a reference names."""

    reference: ImageReference
    digest: str
    """The digest of the manifest or index the tag (or the given digest) names."""
    media_type: str
    is_index: bool
    images: tuple[PlatformImage, ...]

    @property
    def kind(self) -> str:
        return "index" if self.is_index else "manifest"

    def image_for(self, platform: Platform) -> PlatformImage | None:
        for image in self.images:
            if image.platform and (image.platform.os, image.platform.architecture) == (
                platform.os,
                platform.architecture,
            ):
                return image
        return None

    @property
    def platforms(self) -> tuple[Platform, ...]:
        return tuple(image.platform for image in self.images if image.platform is not None)


def evaluate_digest(
    declared: str | None, view: RegistryView, required: tuple[Platform, ...], subject: str
) -> CheckResult:
    evidence = {
        "declared_digest": declared,
        "resolved_digest": view.digest,
        "kind": view.kind,
        "tag": view.reference.tag,
    }
    if declared is None:
        return CheckResult(
            IMAGE_DIGEST,
            CheckStatus.PASS,
            f"no digest declared; the registry's {view.kind} digest is "
            f"{view.digest} (pinned for this run)",
            subject,
            evidence,
            warnings=(
                "declare the digest so SageMaker runs exactly this image: "
                "`harness images --pin` writes it",
            ),
        )
    declared = declared.lower()
    if declared == view.digest:
        what = "index (multi-platform)" if view.is_index else "image manifest"
        return CheckResult(
            IMAGE_DIGEST,
            CheckStatus.PASS,
            f"the declared digest is the {what} digest of {_tag_text(view.reference)}",
            subject,
            evidence,
        )
    for image in view.images:
        if image.manifest_digest == declared and view.is_index:
            if image.platform in required or not required:
                return CheckResult(
                    IMAGE_DIGEST,
                    CheckStatus.PASS,
                    f"the declared digest is the {image.platform} manifest of the "
                    f"index {view.digest}",
                    subject,
                    evidence,
                )
            return CheckResult(
                IMAGE_DIGEST,
                CheckStatus.FAIL,
                f"the declared digest is the {image.platform} manifest of the "
                f"index, but SageMaker runs {_names(required)}",
                subject,
                evidence,
            )
    for image in view.images:
        if image.config_digest == declared:
            return CheckResult(
                IMAGE_DIGEST,
                CheckStatus.FAIL,
                f"the declared digest {declared} is the image ID (config digest), not a "
                f"manifest digest; the registry's {view.kind} digest is {view.digest}",
                subject,
                evidence,
                warnings=(
                    "`docker inspect --format '{{.Id}}'` gives the config digest; "
                    "SageMaker needs the RepoDigests digest",
                ),
            )
    return CheckResult(
        IMAGE_DIGEST,
        CheckStatus.FAIL,
        f"declared {declared} but {_tag_text(view.reference)} is {view.digest} "
        "in the registry: the tag moved, or the digest is another image's",
        subject,
        {**evidence, "mismatch": True},
    )


def evaluate_platform(
    view: RegistryView, required: tuple[Platform, ...], subject: str
) -> CheckResult:
    available = view.platforms
    evidence = {"required": [str(p) for p in required], "available": [str(p) for p in available]}
    missing = [p for p in required if view.image_for(p) is None]
    if not available:
        return CheckResult(
            IMAGE_PLATFORM,
            CheckStatus.FAIL,
            "the image config names no os/architecture",
            subject,
            evidence,
        )
    if missing:
        return CheckResult(
            IMAGE_PLATFORM,
            CheckStatus.FAIL,
            f"SageMaker needs {_names(required)} for the declared instance types; "
            f"the image has {_names(available)}",
            subject,
            evidence,
        )
    return CheckResult(
        IMAGE_PLATFORM,
        CheckStatus.PASS,
        f"{_names(required)} available ({_names(available)} in the {view.kind})",
        subject,
        evidence,
    )


@dataclass(frozen=True)
class EntrypointObservation:
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    path: tuple[str, ...]
    found: FileInImage | None
    searched: bool
    """False when the image's files could not be looked at (not pulled)."""


def evaluate_entrypoint(command: str, seen: EntrypointObservation, subject: str) -> CheckResult:
    evidence = {
        "entrypoint": list(seen.entrypoint) if seen.entrypoint else None,
        "cmd": list(seen.cmd) if seen.cmd else None,
        "path": list(seen.path),
        "command": command,
    }
    if seen.entrypoint:
        warnings = []
        program = posixpath.basename(seen.entrypoint[0])
        if program in _SHELLS and "-c" in seen.entrypoint[1:]:
            warnings.append(
                "shell-form ENTRYPOINT: SIGTERM goes to the shell, not the program, "
                "so SageMaker's stop signal never reaches it; use the exec form "
                'ENTRYPOINT ["program", ...]'
            )
        if any("tini" in posixpath.basename(part) for part in seen.entrypoint):
            warnings.append(
                "tini as ENTRYPOINT: SageMaker's docs say it gets confused by the "
                f"`{command}` argument"
            )
        return CheckResult(
            IMAGE_ENTRYPOINT,
            CheckStatus.PASS,
            f"`docker run IMAGE {command}` runs {list(seen.entrypoint)} with argument {command!r}",
            subject,
            evidence,
            tuple(warnings),
        )
    if not seen.searched:
        return CheckResult(
            IMAGE_ENTRYPOINT,
            CheckStatus.SKIP,
            f"no ENTRYPOINT, and the image was not pulled, so `{command}` on PATH "
            "could not be looked for",
            subject,
            evidence,
        )
    if seen.found is None:
        return CheckResult(
            IMAGE_ENTRYPOINT,
            CheckStatus.FAIL,
            f"no ENTRYPOINT and no `{command}` on PATH ({':'.join(seen.path)}): "
            f"`docker run IMAGE {command}` cannot start",
            subject,
            evidence,
        )
    evidence["found"] = seen.found.path
    if seen.found.is_directory or not seen.found.executable:
        return CheckResult(
            IMAGE_ENTRYPOINT,
            CheckStatus.FAIL,
            f"{seen.found.path} is not an executable file",
            subject,
            evidence,
        )
    via = "" if seen.found.resolved == seen.found.path else f" (-> {seen.found.resolved})"
    return CheckResult(
        IMAGE_ENTRYPOINT,
        CheckStatus.PASS,
        f"no ENTRYPOINT; `{command}` is {seen.found.path}{via} on PATH",
        subject,
        evidence,
    )


def _names(platforms: tuple[Platform, ...] | list[Platform]) -> str:
    return ", ".join(str(p) for p in platforms) or "none"


def _tag_text(reference: ImageReference) -> str:
    return f"{reference.name}:{reference.tag}" if reference.tag else reference.name

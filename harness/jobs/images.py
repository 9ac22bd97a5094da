"""The images step: resolve every declared image in its registry, pin it, pull it by digest, and
check its digest, platform and entrypoint. `harness images` runs it alone; `harness run` first.

Every container of a run then uses the pinned `registry/repository@sha256:...` reference, never
the tag, so the run tests exactly the bytes that will be submitted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from harness.checks.images import (
    IMAGE_DIGEST,
    IMAGE_ENTRYPOINT,
    IMAGE_PLATFORM,
    EntrypointObservation,
    PlatformImage,
    RegistryView,
    evaluate_digest,
    evaluate_entrypoint,
    evaluate_platform,
)
from harness.checks.results import CheckResult, CheckStatus
from harness.documents import JsonPath
from harness.engine.types import LocalImage
from harness.errors import DockerUnavailable, ImageNotFound, UsageError
from harness.registry.client import CredentialLookup, RegistryClient
from harness.registry.manifests import LINUX_AMD64, LINUX_ARM64, ImageConfig, Platform
from harness.registry.reference import DOCKER_HUB, ImageReference, parse_reference

if TYPE_CHECKING:
    from harness.engine.docker_engine import DockerEngine

PullPolicy = Literal["missing", "always", "never"]
Progress = Callable[[str], None]
# Graviton families (c6g, m6gd, r7gd, c7gn, t4g, ...): a letter, a generation, then `g`.
_GRAVITON = re.compile(r"ml\.[a-z]+\d+g[a-z]*\.")


@dataclass(frozen=True)
class DeclaredImage:
    """One image the request declares, with what SageMaker will run it as."""

    role: str
    image: str
    declared_digest: str | None
    command: str
    required_platforms: tuple[Platform, ...]
    digest_path: JsonPath
    """Where the digest is (or would be) declared in the request: `--pin` writes there."""


@dataclass(frozen=True)
class ImageOutcome:
    declared: DeclaredImage
    view: RegistryView | None
    pinned_reference: str | None
    local: LocalImage | None
    pull_note: str
    checks: tuple[CheckResult, ...]

    @property
    def resolved_digest(self) -> str | None:
        return self.view.digest if self.view else None

    def report_entry(self) -> dict[str, Any]:
        """The entry of report.json's `images[]` (DESIGN §2) plus what else was learned."""
        view = self.view
        return {
            "role": self.declared.role,
            "image": self.declared.image,
            "declared_digest": self.declared.declared_digest,
            "resolved_digest": view.digest if view else None,
            "kind": view.kind if view else None,
            "platform": ", ".join(str(p) for p in view.platforms) if view else None,
            "platform_manifests": {
                str(i.platform): i.manifest_digest for i in view.images if i.platform
            }
            if view and view.is_index
            else {},
            "pinned_reference": self.pinned_reference,
            "local_image_id": self.local.id if self.local else None,
            "pull": self.pull_note,
        }


@dataclass(frozen=True)
class ImagesResult:
    outcomes: tuple[ImageOutcome, ...]

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(check for outcome in self.outcomes for check in outcome.checks)

    @property
    def passed(self) -> bool:
        return all(c.status in (CheckStatus.PASS, CheckStatus.SKIP) for c in self.checks)

    def pinned(self, role: str) -> str | None:
        for outcome in self.outcomes:
            if outcome.declared.role == role:
                return outcome.pinned_reference
        return None


def required_platforms(instance_types: list[str]) -> tuple[Platform, ...]:
    """linux/amd64, plus (or only) linux/arm64 where Graviton instance types are declared."""
    graviton = [t for t in instance_types if _GRAVITON.match(t)]
    platforms = []
    if not instance_types or len(graviton) < len(instance_types):
        platforms.append(LINUX_AMD64)
    if graviton:
        platforms.append(LINUX_ARM64)
    return tuple(platforms)


def declared_images(request: Any) -> list[DeclaredImage]:
    """The training image and each inference container's image, as the request declares them."""
    if not isinstance(request, dict):
        return []
    found: list[DeclaredImage] = []
    training = request.get("TrainingSpecification")
    if isinstance(training, dict) and isinstance(training.get("TrainingImage"), str):
        types = [
            t for t in training.get("SupportedTrainingInstanceTypes") or [] if isinstance(t, str)
        ]
        found.append(
            DeclaredImage(
                "training",
                training["TrainingImage"],
                _digest(training.get("TrainingImageDigest")),
                "train",
                required_platforms(types),
                ("TrainingSpecification", "TrainingImageDigest"),
            )
        )
    inference = request.get("InferenceSpecification")
    if isinstance(inference, dict):
        types = [
            t
            for key in (
                "SupportedTransformInstanceTypes",
                "SupportedRealtimeInferenceInstanceTypes",
            )
            for t in inference.get(key) or []
            if isinstance(t, str)
        ]
        for index, container in enumerate(inference.get("Containers") or []):
            if isinstance(container, dict) and isinstance(container.get("Image"), str):
                found.append(
                    DeclaredImage(
                        f"inference[{index}]",
                        container["Image"],
                        _digest(container.get("ImageDigest")),
                        "serve",
                        required_platforms(types),
                        ("InferenceSpecification", "Containers", index, "ImageDigest"),
                    )
                )
    return found


def _digest(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


class ImageInspector:
    """Resolves, pulls and checks declared images; one per run (it remembers what it did)."""

    def __init__(
        self,
        registry: RegistryClient,
        credentials: CredentialLookup,
        engine: DockerEngine | None,
        *,
        pull: PullPolicy = "missing",
        run_id: str = "images",
        progress: Progress = lambda _: None,
    ):
        self._registry = registry
        self._credentials = credentials
        self._engine = engine  # a DockerEngine; None with --pull never and no daemon
        self._pull_policy = pull
        self._run_id = run_id
        self._progress = progress
        self._views: dict[str, RegistryView | ImageNotFound] = {}
        self._pulled: dict[str, tuple[LocalImage | None, str]] = {}

    def inspect(self, images: list[DeclaredImage]) -> ImagesResult:
        return ImagesResult(tuple(self._inspect_one(image) for image in images))

    def _inspect_one(self, declared: DeclaredImage) -> ImageOutcome:
        subject = f"{declared.role} image"
        try:
            reference = parse_reference(declared.image)
        except UsageError as exc:
            check = CheckResult(IMAGE_DIGEST, CheckStatus.FAIL, exc.message, subject)
            return _unresolved(declared, check, "the image reference is invalid")
        view = self._view(reference, declared.required_platforms)
        if isinstance(view, ImageNotFound):
            check = CheckResult(
                IMAGE_DIGEST,
                CheckStatus.FAIL,
                f"{reference}: {view.message}",
                subject,
                {"declared_digest": declared.declared_digest},
            )
            return _unresolved(declared, check, "the image is not in the registry")
        digest_check = evaluate_digest(
            declared.declared_digest, view, declared.required_platforms, subject
        )
        if (
            digest_check.evidence.get("mismatch")
            and declared.declared_digest
            and not reference.digest
        ):
            digest_check = self._explain_mismatch(digest_check, reference, declared.declared_digest)
        platform_check = evaluate_platform(view, declared.required_platforms, subject)
        pin = (
            declared.declared_digest
            if digest_check.status is CheckStatus.PASS and declared.declared_digest
            else view.digest
        )
        pinned = f"{reference.name}@{pin}"
        if platform_check.status is not CheckStatus.PASS:
            entry = CheckResult(
                IMAGE_ENTRYPOINT,
                CheckStatus.SKIP,
                "no image for the required platform to look into",
                subject,
            )
            return ImageOutcome(
                declared, view, pinned, None, "not pulled", (digest_check, platform_check, entry)
            )
        local, note = self._pull(reference, pin, pinned)
        entry = evaluate_entrypoint(
            declared.command, self._entrypoint(view, declared, local, pinned), subject
        )
        return ImageOutcome(
            declared, view, pinned, local, note, (digest_check, platform_check, entry)
        )

    def _view(
        self, reference: ImageReference, required: tuple[Platform, ...]
    ) -> RegistryView | ImageNotFound:
        key = f"{reference}|{','.join(map(str, required))}"
        if key not in self._views:
            self._progress(f"resolving {reference}")
            try:
                self._views[key] = self._resolve(reference, required)
            except ImageNotFound as exc:
                self._views[key] = exc
        return self._views[key]

    def _resolve(self, reference: ImageReference, required: tuple[Platform, ...]) -> RegistryView:
        registry = self._registry
        top = registry.manifest(reference, reference.digest or reference.tag or "latest")
        images: list[PlatformImage] = []
        if top.is_index:
            for entry in top.entries:
                wanted = entry.platform is not None and any(
                    (entry.platform.os, entry.platform.architecture) == (p.os, p.architecture)
                    for p in required
                )
                config_digest = config = None
                if wanted:
                    manifest = registry.manifest(reference, entry.digest)
                    config_digest = manifest.config_digest
                    if config_digest:
                        config = ImageConfig.parse(registry.blob_json(reference, config_digest))
                images.append(PlatformImage(entry.platform, entry.digest, config_digest, config))
        else:
            config_digest = top.config_digest
            config = (
                ImageConfig.parse(registry.blob_json(reference, config_digest))
                if config_digest
                else None
            )
            images.append(
                PlatformImage(
                    config.platform if config else None, top.digest, config_digest, config
                )
            )
        return RegistryView(reference, top.digest, top.media_type, top.is_index, tuple(images))

    def _explain_mismatch(
        self, check: CheckResult, reference: ImageReference, declared: str
    ) -> CheckResult:
        try:
            self._registry.manifest(reference, declared)
            exists = True
        except ImageNotFound:
            exists = False
        where = (
            "still exists in the repository: the tag was moved after the digest was declared"
            if exists
            else "does not exist in the repository"
        )
        return CheckResult(
            check.id,
            check.status,
            f"{check.message}; the declared digest {where}",
            check.subject,
            {**check.evidence, "declared_digest_exists": exists},
            check.warnings,
        )

    def _pull(
        self, reference: ImageReference, digest: str, pinned: str
    ) -> tuple[LocalImage | None, str]:
        if pinned in self._pulled:
            return self._pulled[pinned]
        engine = self._engine
        if engine is None:
            if self._pull_policy != "never":
                raise DockerUnavailable(
                    "pulling needs a Docker daemon", hint="start dockerd, or use --pull never"
                )
            result: tuple[LocalImage | None, str] = (None, "not pulled (--pull never)")
        else:
            local = engine.local_image(pinned)
            if self._pull_policy == "never":
                note = "present locally" if local else "not pulled (--pull never)"
                result = (local, note)
            elif local is not None and self._pull_policy == "missing":
                result = (local, "already present with this RepoDigest: not pulled again")
            else:
                self._progress(f"pulling {pinned}")
                local = engine.pull(reference.name, digest, self._credentials(reference.registry))
                if not _has_repo_digest(local, reference, digest):
                    raise ImageNotFound(
                        f"after pulling, the engine lists RepoDigests "
                        f"{list(local.repo_digests)}, not {pinned}",
                        where=pinned,
                    )
                result = (local, "pulled by digest")
        self._pulled[pinned] = result
        return result

    def _entrypoint(
        self, view: RegistryView, declared: DeclaredImage, local: LocalImage | None, pinned: str
    ) -> EntrypointObservation:
        if local is not None and self._engine is not None:
            config = ImageConfig(local.platform, local.entrypoint, local.cmd, local.env, "/")
            found = None
            if not local.entrypoint:
                with self._engine.inert_container(pinned, self._run_id) as container:
                    for folder in config.path:
                        found = self._engine.file_in_container(
                            container, f"{folder.rstrip('/')}/{declared.command}"
                        )
                        if found is not None:
                            break
            return EntrypointObservation(local.entrypoint, local.cmd, config.path, found, True)
        image = next(
            (
                view.image_for(p)
                for p in declared.required_platforms
                if view.image_for(p) is not None
            ),
            None,
        )
        config_seen = image.config if image else None
        if config_seen is None:
            return EntrypointObservation(None, None, (), None, False)
        return EntrypointObservation(
            config_seen.entrypoint, config_seen.cmd, config_seen.path, None, False
        )


def _unresolved(declared: DeclaredImage, digest_check: CheckResult, why: str) -> ImageOutcome:
    """The outcome for an image that could not be resolved: its platform and entrypoint
    cannot be looked at."""
    subject = f"{declared.role} image"
    return ImageOutcome(
        declared, None, None, None, "not pulled", (digest_check, *_skipped(subject, why))
    )


def _skipped(subject: str, why: str) -> tuple[CheckResult, CheckResult]:
    return (
        CheckResult(IMAGE_PLATFORM, CheckStatus.SKIP, why, subject),
        CheckResult(IMAGE_ENTRYPOINT, CheckStatus.SKIP, why, subject),
    )


def _has_repo_digest(local: LocalImage, reference: ImageReference, digest: str) -> bool:
    names = {reference.name}
    if reference.registry == DOCKER_HUB:
        short = reference.repository.removeprefix("library/")
        names |= {reference.repository, short}
    return any(entry in {f"{name}@{digest}" for name in names} for entry in local.repo_digests)

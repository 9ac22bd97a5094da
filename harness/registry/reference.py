"""Docker image references (`registry/repository:tag@digest`) parsed as Docker itself does."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from harness.errors import UsageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_LOOPBACK = re.compile(r"(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?")


@dataclass(frozen=True)
class ImageReference:
    """One image reference; `tag` and `digest` may both be set (`repo:tag@sha256:...`)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """`registry/repository` as `docker pull` takes it."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host serving the registry HTTP API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def is_loopback(self) -> bool:
        """Docker talks plain HTTP to registries on loopback addresses (they are 'insecure')."""
        return _LOOPBACK.fullmatch(self.registry) is not None

    @property
    def is_ecr(self) -> bool:
        return ecr_region(self.registry) is not None

    @property
    def pinned(self) -> str:
        """`registry/repository@digest`: the exact image, whatever the tag says later."""
        if self.digest is None:
            raise ValueError(f"{self} has no digest to pin")
        return f"{self.name}@{self.digest}"

    def with_digest(self, digest: str) -> ImageReference:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


_ECR = re.compile(r"\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")


def ecr_region(registry: str) -> str | None:
    """The AWS region of an ECR registry host, None for any other registry."""
    match = _ECR.fullmatch(registry)
    return match.group(1) if match else None


def parse_reference(text: str) -> ImageReference:
    """Parse `text` the way `docker pull` does; raise UsageError when it is not a reference."""
    original = text
    digest = None
    if "@" in text:
        text, digest = text.rsplit("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise _bad(original, f"{digest!r} is not a digest (algorithm:hex)")
        digest = digest.lower()
    tag = None
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        text, tag = text.rsplit(":", 1)
        if not _TAG.fullmatch(tag):
            raise _bad(original, f"{tag!r} is not a valid tag")
    parts = text.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, parts[1:]
    else:
        registry, path = DOCKER_HUB, parts
        if len(path) == 1:
            path = ["library", *path]
    if not path or not all(_COMPONENT.fullmatch(component) for component in path):
        raise _bad(original, "repository names are lower-case letters, digits and . _ - /")
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(registry, "/".join(path), tag, digest)


def _bad(text: str, why: str) -> UsageError:
    return UsageError(
        f"{text!r} is not an image reference: {why}",
        hint="e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1.0",
    )

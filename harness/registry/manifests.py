"""Manifests, indexes and image configs as the registry HTTP API returns them (pure).

A tag points either at one image manifest or at an index (Docker manifest list / OCI image
index) of per-platform manifests. Sellers confuse the two digests, and the config digest
(`docker inspect` Id) with both; these types keep them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    @classmethod
    def parse(cls, data: Any) -> Platform | None:
        if not isinstance(data, dict):
            return None
        os_name, arch = data.get("os"), data.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str):
            return None
        variant = data.get("variant")
        return cls(os_name, arch, variant if isinstance(variant, str) else None)


LINUX_AMD64 = Platform("linux", "amd64")
LINUX_ARM64 = Platform("linux", "arm64")


@dataclass(frozen=True)
class IndexEntry:
    digest: str
    media_type: str
    platform: Platform | None


@dataclass(frozen=True)
class Manifest:
    """One document fetched from `/v2/<name>/manifests/<reference>`."""

    digest: str
    media_type: str
    body: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or "manifests" in self.body

    @property
    def entries(self) -> tuple[IndexEntry, ...]:
        """The per-platform manifests of an index (attestations and the like excluded)."""
        found = []
        for item in self.body.get("manifests", []) if self.is_index else []:
            if not isinstance(item, dict) or not isinstance(item.get("digest"), str):
                continue
            platform = Platform.parse(item.get("platform"))
            if platform is not None and platform.os == "unknown":
                continue  # BuildKit's attestation manifests claim platform unknown/unknown
            found.append(IndexEntry(item["digest"], str(item.get("mediaType", "")), platform))
        return tuple(found)

    @property
    def config_digest(self) -> str | None:
        config = self.body.get("config")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            return str(config["digest"])
        return None

    def entry_for(self, platform: Platform) -> IndexEntry | None:
        for entry in self.entries:
            if entry.platform and (entry.platform.os, entry.platform.architecture) == (
                platform.os,
                platform.architecture,
            ):
                return entry
        return None


@dataclass(frozen=True)
class ImageConfig:
    """What the image config blob says about how the image runs."""

    platform: Platform | None
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    env: tuple[str, ...]
    working_dir: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ImageConfig:
        config = body.get("config") or {}
        if not isinstance(config, dict):
            config = {}

        def strings(value: Any) -> tuple[str, ...] | None:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            return None

        return cls(
            platform=Platform.parse(body),
            entrypoint=strings(config.get("Entrypoint")),
            cmd=strings(config.get("Cmd")),
            env=strings(config.get("Env")) or (),
            working_dir=str(config.get("WorkingDir") or "/"),
        )

    @property
    def path(self) -> tuple[str, ...]:
        """The PATH a process in the image gets (Docker's default when the image sets none)."""
        for item in self.env:
            if item.startswith("PATH="):
                return tuple(p for p in item[5:].split(":") if p)
        return ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

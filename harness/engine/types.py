"""Plain data the engine returns; importable without the Docker SDK."""

from __future__ import annotations

from dataclasses import dataclass

from harness.registry.manifests import Platform


@dataclass(frozen=True)
class LocalImage:
    """An image as the engine has it."""

    id: str
    repo_digests: tuple[str, ...]
    platform: Platform
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    env: tuple[str, ...]


@dataclass(frozen=True)
class FileInImage:
    path: str
    """The path asked for."""
    resolved: str
    """The file it names after following symbolic links."""
    executable: bool
    is_directory: bool

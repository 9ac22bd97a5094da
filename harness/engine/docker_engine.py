"""The Docker Engine through the Docker SDK: the only module that imports `docker`.

Everything returned is plain data (frozen dataclasses); docker's exceptions are translated into
the harness's own here and nowhere else: each method handles the daemon's answers it expects, and
`daemon_call` (engine/boundary.py) turns a daemon that stopped answering into `DockerLost`.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import docker
import docker.auth
import docker.errors
from docker.models.images import Image

from harness.engine.boundary import LOST_CONNECTION, daemon_call, lost
from harness.engine.containers import Containers
from harness.engine.labels import labels
from harness.engine.messages import short_message as _short
from harness.engine.types import FileInImage, LocalImage
from harness.errors import DockerUnavailable, ImageNotFound, RegistryAuthError
from harness.registry.client import RegistryCredentials
from harness.registry.manifests import Platform

_GO_SYMLINK = 1 << 27
_GO_DIRECTORY = 1 << 31


class DockerEngine:
    """A connection to one Docker daemon."""

    def __init__(self, client: docker.DockerClient):
        self._client = client

    @classmethod
    def connect(cls, timeout: float = 120) -> DockerEngine:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if host.startswith("unix://") and not os.path.exists(host.removeprefix("unix://")):
            # Checked first: docker-py leaks the socket of a failed unix connection.
            raise DockerUnavailable(
                f"no Docker daemon answers: there is no socket at {host.removeprefix('unix://')}",
                hint="start dockerd (scripts/start-dockerd.sh) or set DOCKER_HOST",
            )
        client = None
        try:
            client = docker.from_env(timeout=int(timeout))
            client.ping()
        except LOST_CONNECTION as exc:  # DockerException, or requests' from a TCP DOCKER_HOST
            if client is not None:
                client.close()
            raise DockerUnavailable(
                f"no Docker daemon answers: {_short(exc)}",
                hint="start dockerd (scripts/start-dockerd.sh) or set DOCKER_HOST",
            ) from None
        return cls(client)

    def close(self) -> None:
        self._client.close()

    @daemon_call("read the daemon's version")
    def version(self) -> dict[str, Any]:
        return dict(self._client.version())

    @daemon_call("read the daemon's info")
    def info(self) -> dict[str, Any]:
        """Docker's `GET /info`: runtimes, default runtime, cgroup version, ..."""
        try:
            return dict(self._client.info())
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot read the daemon's info: {_short(exc)}") from None

    @property
    def containers(self) -> Containers:
        return Containers(self._client)

    # -- images ------------------------------------------------------------------------------

    @daemon_call("inspect a local image")
    def local_image(self, reference: str) -> LocalImage | None:
        try:
            image = self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot inspect {reference}: {_short(exc)}") from None
        return _local_image(image)

    @daemon_call("pull an image")
    def pull(self, name: str, digest: str, credentials: RegistryCredentials | None) -> LocalImage:
        """Pull `name@digest`; the engine verifies the content against the digest."""
        auth = None
        if credentials is not None:
            auth = {"username": credentials.username, "password": credentials.password}
            if credentials.identity_token:
                auth = {"identitytoken": credentials.identity_token}
        try:
            image = self._client.images.pull(name, tag=digest, auth_config=auth)
        except docker.errors.NotFound as exc:
            raise ImageNotFound(
                f"the engine cannot pull it: {_short(exc)}", where=f"{name}@{digest}"
            ) from None
        except docker.errors.APIError as exc:
            text = _short(exc)
            if "unauthorized" in text.lower() or "denied" in text.lower():
                raise RegistryAuthError(
                    f"the engine's pull was refused: {text}", where=f"{name}@{digest}"
                ) from None
            raise DockerUnavailable(f"pull failed: {text}", where=f"{name}@{digest}") from None
        return _local_image(image)

    @contextmanager
    def inert_container(self, image: str, run_id: str) -> Iterator[str]:
        """A created, never started container of `image`, to read files from; removed after."""
        # Not daemon_call: that would also translate what the caller's `with` body raises.
        try:
            container = self._client.containers.create(
                image, command=["true"], labels=labels(run_id, "inspect"), network_disabled=True
            )
        except docker.errors.APIError as exc:
            raise DockerUnavailable(
                f"cannot create a container of {image}: {_short(exc)}"
            ) from None
        except LOST_CONNECTION as exc:
            raise lost(f"create a container of {image}", exc) from exc
        try:
            yield str(container.id)
        finally:
            # Else `harness clean` sweeps it by label; a removal that fails must not hide
            # what the body raised.
            with suppress(*LOST_CONNECTION):  # APIError included (a DockerException)
                container.remove(force=True)

    @daemon_call("read a file in a container")
    def file_in_container(self, container_id: str, path: str) -> FileInImage | None:
        """Stat `path` in a container, following symbolic links; None when it does not exist."""
        current = path
        for _ in range(16):
            stat = self._stat(container_id, current)
            if stat is None:
                return None
            mode = int(stat.get("mode", 0))
            if mode & _GO_SYMLINK:
                target = str(stat.get("linkTarget") or "")
                current = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
                continue
            return FileInImage(
                path,
                current,
                bool(mode & 0o111) and not mode & _GO_DIRECTORY,
                bool(mode & _GO_DIRECTORY),
            )
        return None  # a loop of links

    def _stat(self, container_id: str, path: str) -> dict[str, Any] | None:
        # HEAD on the archive endpoint returns only the stat header: the SDK's get_archive
        # would download the whole file (a training binary can be gigabytes).
        api = self._client.api
        url = api._url("/containers/{0}/archive", container_id)  # type: ignore[attr-defined]
        # A connection failure leaves through file_in_container's daemon_call.
        response = api.head(url, params={"path": path}, timeout=api.timeout)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise DockerUnavailable(
                f"cannot read {path} in a container: HTTP {response.status_code}"
            )
        header = response.headers.get("X-Docker-Container-Path-Stat", "")
        try:
            stat = json.loads(base64.b64decode(header))
        except ValueError:
            return None
        return stat if isinstance(stat, dict) else None


def docker_config_credentials(registry: str) -> RegistryCredentials | None:
    """Credentials for `registry` the way `docker pull` finds them: DOCKER_CONFIG or
    ~/.docker/config.json, its `auths`, `credHelpers` and `credsStore`. Needs no daemon."""
    try:
        config = docker.auth.load_config()
        found = config.resolve_authconfig(registry)
    except docker.errors.DockerException as exc:
        raise RegistryAuthError(
            f"the Docker credential helper for {registry} failed: {_short(exc)}"
        ) from None
    if not found:
        return None
    helper = config.get_credential_store(registry)
    source = f"credential helper docker-credential-{helper}" if helper else "the Docker config"
    return RegistryCredentials(
        username=found.get("Username") or found.get("username"),
        password=found.get("Password") or found.get("password"),
        identity_token=found.get("IdentityToken"),
        source=source,
    )


def _local_image(image: Image) -> LocalImage:
    attrs = image.attrs
    config = attrs.get("Config") or {}
    platform = Platform(
        str(attrs.get("Os", "")), str(attrs.get("Architecture", "")), attrs.get("Variant")
    )

    def strings(value: Any) -> tuple[str, ...] | None:
        return tuple(value) if isinstance(value, list) else None

    return LocalImage(
        id=str(image.id),
        repo_digests=tuple(attrs.get("RepoDigests") or ()),
        platform=platform,
        entrypoint=strings(config.get("Entrypoint")),
        cmd=strings(config.get("Cmd")),
        env=tuple(config.get("Env") or ()),
    )

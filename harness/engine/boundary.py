"""The engine's boundary: whatever the Docker SDK raises leaves the engine as a harness error.

docker-py translates only the daemon's HTTP answers into `docker.errors.APIError`; a daemon
that is gone (socket removed, connection refused, dockerd killed mid-run) or hangs surfaces as
`requests`/`urllib3` exceptions, which no caller expects. `daemon_call` wraps every public
method of `DockerEngine` and `Containers` so that those become `DockerLost` (exit 3, and the
run stops: nothing more can run) and an APIError a method did not handle itself becomes
`DockerUnavailable`. A method's own `except docker.errors.APIError` runs first, inside it.
"""

from __future__ import annotations

import functools
import http.client
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import docker.errors
import requests.exceptions
import urllib3.exceptions

from harness.engine.messages import short_message
from harness.errors import DockerUnavailable

P = ParamSpec("P")
R = TypeVar("R")

LOST_CONNECTION: tuple[type[Exception], ...] = (
    requests.exceptions.RequestException,  # ConnectionError, Timeout, ChunkedEncodingError
    urllib3.exceptions.HTTPError,  # ProtocolError and friends, when requests does not wrap
    http.client.HTTPException,
    ConnectionError,  # the builtin: refused, reset, broken pipe on a raw socket
    docker.errors.DockerException,  # not APIError (handled before): TLS, config, version
)
"""What the SDK raises when the daemon cannot be talked to at all."""

_HINT = "is dockerd running? (`docker info`); `harness clean` removes what the run left"


class DockerLost(DockerUnavailable):
    """The daemon stopped answering: connection refused, socket gone, or no answer in time.
    Unlike a refused request (plain DockerUnavailable), nothing after it can work either."""


def daemon_call(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an engine method that talks to the daemon; `what` completes "cannot ..."."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except docker.errors.APIError as exc:
                # The daemon answered, the method did not expect the answer: still exit 3.
                raise DockerUnavailable(f"cannot {what}: {short_message(exc)}") from exc
            except LOST_CONNECTION as exc:
                raise lost(what, exc) from exc

        return call

    return decorate


def lost(what: str, exc: BaseException) -> DockerLost:
    return DockerLost(
        f"cannot {what}: the Docker daemon does not answer ({connection_reason(exc)})",
        hint=_HINT,
    )


def connection_reason(exc: BaseException) -> str:
    """The root cause of a connection failure in a few words ("Connection refused", "No such
    file or directory"), found in the chain requests and urllib3 wrap it in; else the
    exception's first line without object addresses (they differ on every run)."""
    queue: list[BaseException] = [exc]
    seen: set[int] = set()
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        nested = [a for a in current.args if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        nested += [e for e in (current.__cause__, current.__context__) if e is not None]
        queue += nested
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r" (object )?at 0x[0-9a-fA-F]+", "", text)[:200]

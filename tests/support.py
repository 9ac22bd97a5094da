"""Helpers shared by the test suites (not fixtures: plain functions)."""

from __future__ import annotations


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Poll `url` until anything answers over HTTP; fail the test after `timeout` seconds."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answered at {url} within {timeout} s") from None
            time.sleep(0.1)

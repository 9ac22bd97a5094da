"""An EndpointClient whose requests go to a function (FakeTransport) instead of a socket."""

from __future__ import annotations

from collections.abc import Callable

from harness.serving.http import EndpointClient, FakeRequest, FakeTransport, InvocationResult


class FakeClient(EndpointClient):
    def __init__(self, handler: Callable[[FakeRequest], InvocationResult]) -> None:
        self.transport = FakeTransport(handler)
        super().__init__("http://container:8080", transport=self.transport)

    @property
    def requests(self) -> list[FakeRequest]:
        return self.transport.requests

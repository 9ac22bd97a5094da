"""An inference pipeline seen as one endpoint: the containers are called in order, each
response becoming the next request, as SageMaker chains a pipeline's containers.

The client's Accept goes to the last container only; each intermediate request carries the
previous response's Content-Type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from harness.serving.http import (
    DEFAULT_INVOKE_TIMEOUT,
    DEFAULT_PING_TIMEOUT,
    EndpointClient,
    InvocationResult,
)


class PipelineClient:
    def __init__(self, urls: Sequence[str], *, pool_maxsize: int = 1) -> None:
        self._clients = [EndpointClient(url, pool_maxsize=pool_maxsize) for url in urls]

    def ping(self, timeout: float = DEFAULT_PING_TIMEOUT) -> InvocationResult:
        """Healthy when every container is: the first failure, else the slowest answer."""
        answers = [client.ping(timeout) for client in self._clients]
        failed = next((a for a in answers if not a.ok), None)
        return failed or max(answers, key=lambda a: a.latency_s)

    def execution_parameters(self, timeout: float = DEFAULT_PING_TIMEOUT) -> InvocationResult:
        return self._clients[0].execution_parameters(timeout)

    def invoke(
        self,
        body: bytes | Iterable[bytes],
        content_type: str,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_INVOKE_TIMEOUT,
        chunked: bool = False,
    ) -> InvocationResult:
        latency = 0.0
        result: InvocationResult | None = None
        last = len(self._clients) - 1
        for index, client in enumerate(self._clients):
            result = client.invoke(
                body,
                content_type,
                accept if index == last else None,
                headers,
                timeout,
                chunked and index == 0,
            )
            latency += result.latency_s
            if not result.ok:
                break
            body = result.body
            content_type = result.content_type or content_type
        assert result is not None  # a pipeline has at least one container
        return replace(result, latency_s=latency)

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def __enter__(self) -> PipelineClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def endpoint_client(
    urls: Sequence[str], *, pool_maxsize: int = 1
) -> EndpointClient | PipelineClient:
    """A client for one container, or for a pipeline of several."""
    if len(urls) == 1:
        return EndpointClient(urls[0], pool_maxsize=pool_maxsize)
    return PipelineClient(urls, pool_maxsize=pool_maxsize)

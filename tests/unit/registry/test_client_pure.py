"""The registry client's pure parts: auth challenges and credential chains."""

from __future__ import annotations

from harness.registry.client import RegistryCredentials, _parse_challenge, credential_chain


def test_bearer_challenge():
    scheme, params = _parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/python:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/python:pull",
    }


def test_basic_challenge():
    assert _parse_challenge('Basic realm="harness"') == ("basic", {"realm": "harness"})


def test_credential_chain_takes_the_first_answer_and_remembers_it():
    calls: list[str] = []

    def first(registry: str) -> RegistryCredentials | None:
        calls.append(f"first:{registry}")
        return None

    def second(registry: str) -> RegistryCredentials | None:
        calls.append(f"second:{registry}")
        return RegistryCredentials("u", "p", source="second")

    lookup = credential_chain(first, second)
    assert lookup("r") == RegistryCredentials("u", "p", source="second")
    assert lookup("r") == RegistryCredentials("u", "p", source="second")
    assert calls == ["first:r", "second:r"]

"""A small client of the registry HTTP API v2: manifests and config blobs, with Docker's auth.

The Docker Engine's distribution API tells the digest of a tag but not the per-platform
manifests of an index or the config of an image it has not pulled, so the harness reads them
here, without pulling. Authentication follows the registry's challenge: HTTP Basic, or a Bearer
token from the realm it names (Docker Hub, ECR, GHCR, distribution with token auth).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from harness.errors import ImageNotFound, RegistryAuthError, RegistryUnreachable
from harness.registry.manifests import ACCEPT, Manifest
from harness.registry.reference import ImageReference

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)


@dataclass(frozen=True)
class RegistryCredentials:
    username: str | None = None
    password: str | None = None
    identity_token: str | None = None
    source: str = ""
    """Where they came from, for messages: `~/.docker/config.json`, `credHelper ecr-login`..."""


CredentialLookup = Callable[[str], RegistryCredentials | None]


def no_credentials(_registry: str) -> RegistryCredentials | None:
    return None


def credential_chain(*lookups: CredentialLookup) -> CredentialLookup:
    """The first lookup that knows the registry wins; answers are remembered per registry
    (an ECR token costs an AWS call)."""
    known: dict[str, RegistryCredentials | None] = {}

    def lookup(registry: str) -> RegistryCredentials | None:
        if registry not in known:
            known[registry] = next(
                (found for found in (each(registry) for each in lookups) if found is not None), None
            )
        return known[registry]

    return lookup


class RegistryClient:
    """Reads manifests and blobs. One instance per run; it caches bearer tokens per scope."""

    def __init__(
        self,
        credentials: CredentialLookup = no_credentials,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        insecure_registries: frozenset[str] = frozenset(),
    ):
        self._credentials = credentials
        self._session = session or requests.Session()
        self._timeout = timeout
        self._insecure = insecure_registries
        self._tokens: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._session.close()

    def manifest(self, image: ImageReference, reference: str) -> Manifest:
        """The manifest or index that `reference` (a tag or a digest) names."""
        response = self._get(image, f"manifests/{reference}", accept=ACCEPT)
        body_bytes = response.content
        computed = "sha256:" + hashlib.sha256(body_bytes).hexdigest()
        # The registry's Docker-Content-Digest is authoritative for a tag; for a digest request
        # the bytes must hash to it, or the registry served something else.
        digest = response.headers.get("Docker-Content-Digest") or computed
        if reference.startswith("sha256:") and computed != reference:
            raise ImageNotFound(
                f"the registry served a manifest whose digest is {computed}, "
                f"not the {reference} asked for",
                where=str(image),
            )
        try:
            body = json.loads(body_bytes)
        except ValueError:
            raise ImageNotFound("the registry's manifest is not JSON", where=str(image)) from None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if isinstance(body, dict) and isinstance(body.get("mediaType"), str):
            media_type = body["mediaType"]
        return Manifest(digest, media_type, body if isinstance(body, dict) else {})

    def blob_json(self, image: ImageReference, digest: str) -> dict[str, Any]:
        """A JSON blob (an image config) by digest."""
        response = self._get(image, f"blobs/{digest}", accept="*/*")
        try:
            body = response.json()
        except ValueError:
            raise ImageNotFound(f"blob {digest} is not JSON", where=str(image)) from None
        return body if isinstance(body, dict) else {}

    # -- HTTP and auth ----------------------------------------------------------------------

    def _url(self, image: ImageReference, tail: str) -> str:
        scheme = "http" if image.is_loopback or image.registry in self._insecure else "https"
        return f"{scheme}://{image.api_host}/v2/{image.repository}/{tail}"

    def _get(self, image: ImageReference, tail: str, *, accept: str) -> requests.Response:
        url = self._url(image, tail)
        scope = f"repository:{image.repository}:pull"
        headers = {"Accept": accept}
        token = self._tokens.get((image.registry, scope))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self._send(url, headers, image)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            authorization = self._authorize(image, challenge, scope)
            response = self._send(url, {**headers, "Authorization": authorization}, image)
            if response.status_code in (401, 403):
                raise RegistryAuthError(
                    f"registry {image.registry} refused the credentials "
                    f"({self._describe_credentials(image)})",
                    where=str(image),
                    hint=f"check them with `docker login {image.registry}`",
                )
        if response.status_code == 403:
            raise RegistryAuthError(
                f"registry {image.registry} denies access to {image.repository}", where=str(image)
            )
        if response.status_code == 404:
            message = _not_found_message(response, tail)
            if tail.startswith("manifests/") and not tail.startswith("manifests/sha256:"):
                message = self._explain_missing_tag(image, message)
            raise ImageNotFound(message, where=str(image))
        if response.status_code >= 400:
            raise RegistryUnreachable(
                f"registry {image.registry} answered HTTP {response.status_code} for {tail}",
                where=str(image),
            )
        return response

    def _explain_missing_tag(self, image: ImageReference, message: str) -> str:
        """Distribution answers MANIFEST_UNKNOWN for a missing repository too: the tag list
        tells the two apart, and names the tags there are."""
        scope = f"repository:{image.repository}:pull"
        headers = {"Accept": "application/json"}
        token = self._tokens.get((image.registry, scope))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        credentials = self._credentials(image.registry)
        auth = None
        if not token and credentials is not None and credentials.username is not None:
            auth = (credentials.username, credentials.password or "")
        response = self._send(self._url(image, "tags/list"), headers, image, auth=auth)
        if response.status_code == 404:
            return "the repository does not exist in the registry"
        try:
            tags = response.json().get("tags") or []
        except (ValueError, AttributeError):
            return message
        if not tags:
            return "the repository has no tags"
        shown = ", ".join(sorted(tags)[:10]) + (", ..." if len(tags) > 10 else "")
        return f"{message} (it has: {shown})"

    def _send(
        self,
        url: str,
        headers: dict[str, str],
        image: ImageReference,
        params: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._session.get(
                url,
                headers=headers,
                params=params,
                auth=auth,
                timeout=self._timeout,
                allow_redirects=True,
            )
        except requests.exceptions.SSLError as exc:
            raise RegistryUnreachable(
                f"TLS with registry {image.registry} failed: {exc}", where=str(image)
            ) from None
        except requests.exceptions.Timeout:
            raise RegistryUnreachable(
                f"registry {image.registry} did not answer within {self._timeout[1]:.0f} s",
                where=str(image),
            ) from None
        except requests.exceptions.ConnectionError:
            raise RegistryUnreachable(
                f"cannot connect to registry {image.registry}",
                where=str(image),
                hint="is it running, and is the host name right?",
            ) from None

    def _authorize(self, image: ImageReference, challenge: str, scope: str) -> str:
        scheme, params = _parse_challenge(challenge)
        credentials = self._credentials(image.registry)
        if scheme == "basic":
            if credentials is None or credentials.username is None:
                raise _needs_credentials(image)
            pair = f"{credentials.username}:{credentials.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if scheme != "bearer" or "realm" not in params:
            raise RegistryAuthError(
                f"registry {image.registry} asks for unsupported authentication {challenge!r}",
                where=str(image),
            )
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        auth = None
        if credentials is not None and credentials.username is not None:
            auth = (credentials.username, credentials.password or "")
        if credentials is not None and credentials.identity_token:
            response = self._post_token(params["realm"], image, query, credentials.identity_token)
        else:
            response = self._send(params["realm"], {}, image, params=query, auth=auth)
        if response.status_code in (401, 403):
            if credentials is None:
                raise _needs_credentials(image)
            raise RegistryAuthError(
                f"registry {image.registry} refused the credentials "
                f"({self._describe_credentials(image)})",
                where=str(image),
                hint=f"check them with `docker login {image.registry}`",
            )
        if response.status_code >= 400:
            raise RegistryUnreachable(
                f"token service of {image.registry} answered HTTP {response.status_code}",
                where=str(image),
            )
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        token = payload.get("token") or payload.get("access_token")
        if not isinstance(token, str):
            raise RegistryAuthError(
                f"token service of {image.registry} returned no token", where=str(image)
            )
        self._tokens[(image.registry, scope)] = token
        return f"Bearer {token}"

    def _post_token(
        self, realm: str, image: ImageReference, query: dict[str, str], refresh_token: str
    ) -> requests.Response:
        form = {
            **query,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "harness",
        }
        try:
            return self._session.post(realm, data=form, timeout=self._timeout)
        except requests.exceptions.RequestException:
            raise RegistryUnreachable(
                f"cannot reach the token service of {image.registry}", where=str(image)
            ) from None

    def _describe_credentials(self, image: ImageReference) -> str:
        credentials = self._credentials(image.registry)
        if credentials is None:
            return "none configured"
        who = credentials.username or "identity token"
        return f"{who} from {credentials.source}" if credentials.source else who


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def _needs_credentials(image: ImageReference) -> RegistryAuthError:
    return RegistryAuthError(
        f"registry {image.registry} requires credentials and none are configured",
        where=str(image),
        hint=f"run `docker login {image.registry}` or set DOCKER_CONFIG",
    )


def _not_found_message(response: requests.Response, tail: str) -> str:
    try:
        errors = response.json().get("errors") or []
        codes = {e.get("code") for e in errors if isinstance(e, dict)}
    except (ValueError, AttributeError):
        codes = set()
    what = tail.split("/", 1)[1] if "/" in tail else tail
    if "NAME_UNKNOWN" in codes:
        return "the repository does not exist in the registry"
    if tail.startswith("manifests/"):
        kind = "digest" if what.startswith("sha256:") else "tag"
        return f"{kind} {what} does not exist in the repository"
    return f"{what} does not exist in the repository"

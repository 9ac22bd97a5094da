"""Amazon ECR credentials: a registry token from `ecr:GetAuthorizationToken` through boto3.

Used when the Docker config has no credentials for an ECR host (sellers often have AWS
credentials but no `docker login`). boto3's usual chain supplies the AWS credentials, and
AWS_ENDPOINT_URL_ECR points it at a test server.
"""

from __future__ import annotations

import base64

from harness.errors import RegistryAuthError, RegistryUnreachable
from harness.registry.client import RegistryCredentials
from harness.registry.reference import ecr_region


def ecr_credentials(registry: str) -> RegistryCredentials | None:
    """Credentials for an ECR registry host; None for a host that is not ECR."""
    region = ecr_region(registry)
    if region is None:
        return None
    import boto3  # deferred: only ECR users pay for importing boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    account = registry.split(".", 1)[0]
    # A session of its own: boto3's default session caches credentials for the process.
    client = boto3.session.Session().client(
        "ecr",
        region_name=region,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
    )
    try:
        answer = client.get_authorization_token(registryIds=[account])
    except NoCredentialsError:
        raise RegistryAuthError(
            f"no AWS credentials to get an ECR token for {registry}",
            hint="configure AWS credentials (aws configure, AWS_PROFILE) "
            "or `docker login` to the registry",
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise RegistryAuthError(
            f"ECR refused a token for {registry}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise RegistryUnreachable(f"cannot reach ECR in {region}: {exc}") from None
    finally:
        client.close()
    data = answer.get("authorizationData") or []
    if not data:
        raise RegistryAuthError(f"ECR returned no authorization data for {registry}")
    username, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    return RegistryCredentials(username, password, source="ecr:GetAuthorizationToken")

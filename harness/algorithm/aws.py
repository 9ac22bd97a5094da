"""boto3 sessions for the AWS side (S3, SageMaker), and botocore's errors as one-line HarnessErrors.

Every boto3 call of the harness runs inside `aws_errors(where)`, so the CLI never shows a
botocore traceback: credentials, reachability and throttling problems are environment errors
(exit 3), a request the service refuses as invalid is the user's to fix (exit 4).
boto3 is imported lazily: `harness --help` must not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.errors import (
    AwsAuthError,
    AwsError,
    AwsRequestRejected,
    AwsThrottled,
    AwsUnreachable,
    HarnessError,
    S3NotFound,
    UsageError,
)

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

# botocore's standard retry mode already backs off on throttling and 5xx; five attempts ride out
# a short burst without hiding a real outage for long.
DEFAULT_MAX_ATTEMPTS = 5

_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "403",  # HEAD requests carry no error body: the status code is all botocore has
        "Forbidden",
    }
)
_EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
)
_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
    }
)
_CREDENTIALS_HINT = (
    "configure AWS credentials (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY)"
)


def session(profile: str | None = None, region: str | None = None) -> boto3.session.Session:
    """A fresh boto3 session on the standard credential chain.

    A session of its own because boto3's default session caches credentials for the process.
    """
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise UsageError(
            f"no AWS profile named {profile!r}",
            hint="list the profiles with `aws configure list-profiles`",
        ) from None


def service_client(
    service: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    *,
    require_region: bool = False,
) -> Any:
    """A client of `service` from a fresh session; a malformed region or endpoint URL is a
    usage error, not botocore's ValueError."""
    from botocore.exceptions import InvalidRegionError

    aws = session(profile, region)
    if require_region and aws.region_name is None:
        # botocore would raise NoRegionError; say which settings give it one.
        raise no_region_error({"sagemaker": "SageMaker", "s3": "S3"}.get(service, service))
    try:
        # The stubs type client() per literal service name; this serves two of them.
        make: Any = aws.client
        return make(service, endpoint_url=endpoint_url, config=client_config(max_attempts))
    except InvalidRegionError:
        raise UsageError(
            f"{aws.region_name!r} is not an AWS region name", hint="e.g. --region us-east-1"
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"not a usable endpoint URL: {endpoint_url!r} ({exc})",
            hint="a URL such as https://HOST or http://127.0.0.1:PORT",
        ) from None


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """Timeouts and retries for every client: nothing waits forever, throttling is retried."""
    from botocore.config import Config

    return Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )


def no_region_error(service: str) -> UsageError:
    return UsageError(
        f"no AWS region for {service}",
        hint="set AWS_REGION (or AWS_DEFAULT_REGION), or a region in the AWS profile",
    )


@contextmanager
def aws_errors(where: str | None = None) -> Iterator[None]:
    """Turn botocore and boto3 exceptions raised inside the block into one-line HarnessErrors."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, Boto3Error) as exc:
        raise translate(exc, where=where) from None


def translate(exc: Exception, *, where: str | None = None) -> HarnessError:
    """The HarnessError that says what `exc` (a botocore/boto3 exception) means for the user."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        CredentialRetrievalError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        PartialCredentialsError,
    )

    if isinstance(exc, S3UploadFailedError):
        # s3transfer wraps the ClientError in a string; the original is its __context__.
        cause = exc.__context__
        if isinstance(cause, ClientError):
            return translate(cause, where=where)
        return AwsError(f"upload failed: {exc}", where=where)
    if isinstance(exc, ClientError):
        return _client_error(exc, where)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return AwsAuthError(
            f"no usable AWS credentials: {exc}", where=where, hint=_CREDENTIALS_HINT
        )
    if isinstance(exc, NoRegionError):
        return no_region_error("the AWS client")
    if isinstance(exc, ParamValidationError):
        # botocore's client-side check lists one problem per line; the CLI prints one line.
        problems = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return AwsRequestRejected(problems, where=where)
    if isinstance(exc, ConnectionError | HTTPClientError):
        return AwsUnreachable(
            f"cannot reach AWS: {exc}",
            where=where,
            hint="check the network, the region and any endpoint URL (AWS_ENDPOINT_URL)",
        )
    return AwsError(f"{type(exc).__name__}: {exc}", where=where)


def error_code(exc: Any) -> str:
    """The service's error code of a ClientError ('' when it has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: Any) -> str:
    """The service's message of a ClientError, on one line."""
    return " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())


def _client_error(exc: Any, where: str | None) -> HarnessError:
    code = error_code(exc)
    message = error_message(exc)
    operation = exc.operation_name
    said = f"{code}: {message}" if message else code
    if code == "NoSuchBucket":
        bucket = exc.response.get("Error", {}).get("BucketName")
        return S3NotFound(
            f"no such bucket{f' {bucket!r}' if bucket else ''}",
            where=where,
            hint="check the bucket name, or create it with `aws s3 mb s3://BUCKET`",
        )
    if code in {"NoSuchKey", "404", "NotFound"}:
        return S3NotFound("no such object", where=where, hint="check the key in the S3 URI")
    if code in _EXPIRED_CODES:
        return AwsAuthError(
            f"{operation} refused: {said}",
            where=where,
            hint="the AWS credentials expired: refresh them (aws sso login, a new session token)",
        )
    if code in _AUTH_CODES:
        return AwsAuthError(
            f"{operation} refused: {said}",
            where=where,
            hint=f"the credentials in use lack permission for {operation}; check the IAM "
            "policy, the profile and the bucket policy",
        )
    if code in _THROTTLE_CODES:
        return AwsThrottled(
            f"{operation} throttled: {said}",
            where=where,
            hint="try again later, or ask AWS for a higher API rate quota",
        )
    if code in {"ValidationException", "InvalidParameterValue", "InvalidArgument"}:
        return AwsRequestRejected(f"{operation} rejected the request: {said}", where=where)
    if code == "ResourceLimitExceeded":
        return AwsRequestRejected(
            f"{operation}: {said}",
            where=where,
            hint="an account quota is reached; delete unused resources or request a higher "
            "quota in Service Quotas",
        )
    return AwsError(f"{operation} failed: {said}", where=where)

"""The one exception tree of harness, and the exit codes the CLI maps it to.

    HarnessError                 every failure the harness expects and can explain
     +-- UsageError              bad arguments, unreadable input file        -> exit 4
     |    +-- PlanError          a plan file that does not load              -> exit 4
     |    +-- AwsRequestRejected an AWS service refused the request as invalid -> exit 4
     |         +-- AlgorithmExists  CreateAlgorithm: that AlgorithmName is taken
     |         +-- S3NotFound       the bucket, object or prefix names nothing
     +-- EngineError             Docker or a registry cannot be used         -> exit 3
     |    +-- DockerUnavailable  no daemon answers, or it refuses a request
     |    +-- RegistryUnreachable   connection refused, DNS, TLS, timeout
     |    +-- RegistryAuthError     credentials missing or refused
     +-- AwsError                an AWS service cannot be used               -> exit 3
     |    +-- AwsUnreachable     connection refused, DNS, TLS, timeout
     |    +-- AwsAuthError       credentials missing, expired or refused (AccessDenied)
     |    +-- AwsThrottled       still throttled after botocore's retries
     |    +-- ValidationTimeout  SageMaker's validation did not finish in the time allowed
     +-- ImageNotFound           a tag, digest or repository the registry lacks -> exit 1
     +-- RunInterrupted          Ctrl-C or SIGTERM during a run              -> exit 2

Each error carries `where` (file, line, JSON path...) and a `hint` so the CLI can print one
useful line. This module imports nothing of ours.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of every `harness` command (DESIGN §2; part of the interface)."""

    OK = 0
    CHECKS_FAILED = 1
    INTERRUPTED = 2
    ENGINE_ERROR = 3
    USAGE_ERROR = 4
    INTERNAL_ERROR = 5


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def one_line(self) -> str:
        """`where: message (hint: ...)`, the form the CLI prints."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} (hint: {self.hint})" if self.hint else text


class UsageError(HarnessError):
    """Bad command-line arguments or an input file that cannot be read."""

    exit_code = ExitCode.USAGE_ERROR


class PlanError(UsageError):
    """A plan file that does not parse or does not follow the plan format."""


class EngineError(HarnessError):
    """The container engine or an image registry cannot be reached or refuses us."""

    exit_code = ExitCode.ENGINE_ERROR


class DockerUnavailable(EngineError):
    """No Docker daemon answers, or it failed a request the harness cannot do without."""


class RegistryUnreachable(EngineError):
    """An image registry cannot be reached (connection, DNS, TLS or timeout)."""


class RegistryAuthError(EngineError):
    """A registry wants credentials that are missing, or refuses the ones given."""


class AwsError(HarnessError):
    """An AWS service cannot be used: the environment is at fault, as with Docker (exit 3)."""

    exit_code = ExitCode.ENGINE_ERROR


class AwsUnreachable(AwsError):
    """No answer from an AWS endpoint (connection refused, DNS, TLS or timeout)."""


class AwsAuthError(AwsError):
    """AWS credentials are missing or expired, or the service refuses them (AccessDenied)."""


class AwsThrottled(AwsError):
    """The service kept throttling us after botocore's own retries."""


class ValidationTimeout(AwsError):
    """DescribeAlgorithm did not reach Completed or Failed within the time allowed."""


class AwsRequestRejected(UsageError):
    """The service refused what the user asked for (ValidationException): fix the input."""


class AlgorithmExists(AwsRequestRejected):
    """CreateAlgorithm named an algorithm that already exists in the account and region."""


class S3NotFound(AwsRequestRejected):
    """An S3 URI names a bucket, object or prefix that does not exist."""


class ImageNotFound(HarnessError):
    """The registry has no such repository, tag or digest: a failed check, not a broken host."""

    exit_code = ExitCode.CHECKS_FAILED


class RunInterrupted(HarnessError):
    """The user or the system stopped a run before it finished."""

    exit_code = ExitCode.INTERRUPTED

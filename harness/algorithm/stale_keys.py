"""Keys that old seller templates still carry although the CreateAlgorithm API dropped them.

AWS's own Marketplace example (a ValidationSpecification template filled by string replacement)
still has `ValidationOutputS3Prefix` and `ValidateForMarketplace`; botocore rejects both as
unknown parameters. Naming them as stale, with what replaced them, saves a seller the search.
"""

from __future__ import annotations

from harness.algorithm.findings import CheckId, Finding, error
from harness.documents import JsonPath

# (botocore shape that holds the key, key) -> what to do instead
STALE_KEYS: dict[tuple[str, str], str] = {
    (
        "AlgorithmValidationSpecification",
        "ValidationOutputS3Prefix",
    ): "remove it: validation outputs go to each profile's "
    "TrainingJobDefinition.OutputDataConfig.S3OutputPath and "
    "TransformJobDefinition.TransformOutput.S3OutputPath",
    (
        "AlgorithmValidationSpecification",
        "ValidateForMarketplace",
    ): "remove it and set CertifyForMarketplace at the top level of the request instead",
    ("CreateAlgorithmInput", "ValidateForMarketplace"): "rename it to CertifyForMarketplace",
}


def stale_key_finding(shape_name: str, key: str, path: JsonPath) -> Finding | None:
    """A SPEC-SEMANTICS finding when `key` under `shape_name` is a known stale key."""
    advice = STALE_KEYS.get((shape_name, key))
    if advice is None:
        return None
    return error(
        CheckId.SPEC_SEMANTICS,
        "stale-template-key",
        path,
        f"{key!r} is a key from an old seller template that the CreateAlgorithm API "
        "no longer accepts",
        advice,
    )

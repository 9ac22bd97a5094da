"""IMAGE-DIGEST, IMAGE-PLATFORM, IMAGE-ENTRYPOINT evaluated from literal observations."""

from __future__ import annotations

import pytest

from harness.checks.images import (
    EntrypointObservation,
    PlatformImage,
    RegistryView,
    evaluate_digest,
    evaluate_entrypoint,
    evaluate_platform,
)
from harness.checks.results import CheckStatus
from harness.engine.types import FileInImage
from harness.jobs.images import declared_images, required_platforms
from harness.registry.manifests import LINUX_AMD64, LINUX_ARM64, Platform
from harness.registry.reference import parse_reference

REF = parse_reference("127.0.0.1:5000/algo:1.0")
AMD64 = (LINUX_AMD64,)


def digest(char: str) -> str:
    return "sha256:" + char * 64


SINGLE = RegistryView(
    REF,
    digest("m"),
    "application/vnd.docker.distribution.manifest.v2+json",
    False,
    (PlatformImage(LINUX_AMD64, digest("m"), digest("c")),),
)
INDEX = RegistryView(
    REF,
    digest("i"),
    "application/vnd.oci.image.index.v1+json",
    True,
    (
        PlatformImage(LINUX_AMD64, digest("a"), digest("c")),
        PlatformImage(LINUX_ARM64, digest("b")),
    ),
)


def test_undeclared_digest_passes_with_a_warning_to_pin():
    result = evaluate_digest(None, SINGLE, AMD64, "training image")
    assert result.status is CheckStatus.PASS
    assert digest("m") in result.message
    assert "--pin" in result.warnings[0]


def test_declared_manifest_digest_passes():
    result = evaluate_digest(digest("m"), SINGLE, AMD64, "training image")
    assert result.status is CheckStatus.PASS
    assert "image manifest digest" in result.message


def test_declared_digest_is_compared_case_insensitively():
    assert (
        evaluate_digest(digest("m").upper().replace("SHA256", "sha256"), SINGLE, AMD64, "x").status
        is CheckStatus.PASS
    )


def test_declared_index_digest_passes_and_says_so():
    result = evaluate_digest(digest("i"), INDEX, AMD64, "training image")
    assert result.status is CheckStatus.PASS
    assert "index" in result.message


def test_declared_platform_manifest_of_an_index_passes_and_says_which():
    result = evaluate_digest(digest("a"), INDEX, AMD64, "training image")
    assert result.status is CheckStatus.PASS
    assert "linux/amd64 manifest of the index" in result.message


def test_declared_manifest_of_the_wrong_platform_fails():
    result = evaluate_digest(digest("b"), INDEX, AMD64, "training image")
    assert result.status is CheckStatus.FAIL
    assert "linux/arm64" in result.message
    assert "linux/amd64" in result.message


def test_declared_config_digest_is_named_as_the_image_id():
    result = evaluate_digest(digest("c"), SINGLE, AMD64, "training image")
    assert result.status is CheckStatus.FAIL
    assert "image ID (config digest)" in result.message
    assert "RepoDigests" in result.warnings[0]


def test_other_digest_fails_naming_both():
    result = evaluate_digest(digest("x"), SINGLE, AMD64, "training image")
    assert result.status is CheckStatus.FAIL
    assert digest("x") in result.message
    assert digest("m") in result.message


@pytest.mark.parametrize(
    ("view", "required", "status"),
    [
        (SINGLE, AMD64, CheckStatus.PASS),
        (INDEX, (LINUX_AMD64, LINUX_ARM64), CheckStatus.PASS),
        (SINGLE, (LINUX_ARM64,), CheckStatus.FAIL),
        (
            RegistryView(REF, digest("i"), "", True, (PlatformImage(LINUX_ARM64, digest("b")),)),
            AMD64,
            CheckStatus.FAIL,
        ),
        (
            RegistryView(REF, digest("m"), "", False, (PlatformImage(None, digest("m")),)),
            AMD64,
            CheckStatus.FAIL,
        ),
    ],
    ids=["amd64-manifest", "both-in-index", "arm64-needed", "arm64-only-index", "no-platform"],
)
def test_platform(view, required, status):
    assert evaluate_platform(view, required, "training image").status is status


def _seen(entrypoint=None, found=None, searched=True):
    return EntrypointObservation(entrypoint, None, ("/usr/local/bin", "/usr/bin"), found, searched)


def test_exec_form_entrypoint_passes():
    result = evaluate_entrypoint("train", _seen(("/opt/run",)), "training image")
    assert result.status is CheckStatus.PASS
    assert result.warnings == ()


def test_shell_form_entrypoint_passes_with_a_warning():
    result = evaluate_entrypoint("train", _seen(("/bin/sh", "-c", "python run.py")), "x")
    assert result.status is CheckStatus.PASS
    assert "shell-form ENTRYPOINT" in result.warnings[0]


def test_tini_entrypoint_is_warned_about():
    result = evaluate_entrypoint("serve", _seen(("/usr/bin/tini", "--")), "x")
    assert any("tini" in w for w in result.warnings)


def test_program_on_path_passes():
    found = FileInImage("/usr/local/bin/train", "/opt/program/train", True, False)
    result = evaluate_entrypoint("train", _seen(found=found), "x")
    assert result.status is CheckStatus.PASS
    assert "/usr/local/bin/train (-> /opt/program/train)" in result.message


def test_program_missing_from_path_fails():
    result = evaluate_entrypoint("train", _seen(), "x")
    assert result.status is CheckStatus.FAIL
    assert "/usr/local/bin:/usr/bin" in result.message


def test_program_not_executable_fails():
    found = FileInImage("/usr/bin/train", "/usr/bin/train", False, False)
    assert evaluate_entrypoint("train", _seen(found=found), "x").status is CheckStatus.FAIL


def test_unpulled_image_without_entrypoint_is_skipped():
    assert evaluate_entrypoint("train", _seen(searched=False), "x").status is CheckStatus.SKIP


@pytest.mark.parametrize(
    ("types", "platforms"),
    [
        ([], (LINUX_AMD64,)),
        (["ml.m5.large", "ml.g5.xlarge"], (LINUX_AMD64,)),
        (["ml.c6g.large", "ml.m6gd.xlarge", "ml.t4g.medium"], (LINUX_ARM64,)),
        (["ml.c7g.large", "ml.c5.large"], (LINUX_AMD64, LINUX_ARM64)),
    ],
    ids=["none", "x86-and-gpu", "graviton-only", "mixed"],
)
def test_required_platforms(types, platforms):
    assert required_platforms(types) == platforms


def test_declared_images_from_a_request(request_dict):
    request_dict["InferenceSpecification"]["SupportedTransformInstanceTypes"] = ["ml.c6g.large"]
    request_dict["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] = []
    training, inference = declared_images(request_dict)
    assert training.role == "training"
    assert training.command == "train"
    assert training.declared_digest == request_dict["TrainingSpecification"]["TrainingImageDigest"]
    assert training.digest_path == ("TrainingSpecification", "TrainingImageDigest")
    assert inference.role == "inference[0]"
    assert inference.command == "serve"
    assert inference.required_platforms == (Platform("linux", "arm64"),)
    assert inference.digest_path == ("InferenceSpecification", "Containers", 0, "ImageDigest")

"""ECR tokens through boto3, against a moto server on loopback (real HTTP)."""

from __future__ import annotations

import pytest

from harness.errors import RegistryAuthError
from harness.registry.ecr import ecr_credentials


@pytest.fixture
def aws_env(monkeypatch, moto_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_ecr_registry_gets_a_token(aws_env):
    credentials = ecr_credentials("123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert credentials is not None
    assert credentials.username == "AWS"
    assert credentials.password
    assert credentials.source == "ecr:GetAuthorizationToken"


def test_other_registries_are_not_ecr(aws_env):
    assert ecr_credentials("ghcr.io") is None


def test_no_aws_credentials_is_a_clear_auth_error(monkeypatch, moto_endpoint, tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", moto_endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(RegistryAuthError, match="no AWS credentials"):
        ecr_credentials("123456789012.dkr.ecr.us-east-1.amazonaws.com")

"""`harness images` against real registries on loopback and the real engine.

Registries: Debian's docker-registry without auth and with htpasswd auth, started by the session.
Images: tiny ones built FROM scratch, pushed in a second; an OCI index is PUT over the registry
HTTP API to prove index-vs-platform handling.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from harness.cli import main
from harness.errors import ExitCode

from .conftest import Registry, build_scratch_image, push

pytestmark = pytest.mark.docker

EXE = 0o755
SCRIPT = b"#!/bin/sh\nexit 0\n"


@pytest.fixture(autouse=True)
def isolated_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the machine's ~/.docker/config.json."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    return folder


@pytest.fixture(scope="session")
def images(docker_client: docker.DockerClient) -> dict[str, str]:
    """Local tags of the tiny test images, by purpose."""
    specs: dict[str, tuple[str, dict[str, tuple[bytes, int]]]] = {
        "good": (
            "FROM scratch\nCOPY train serve /usr/local/bin/\n",
            {"train": (SCRIPT, EXE), "serve": (SCRIPT, EXE)},
        ),
        "other": (
            "FROM scratch\nCOPY train serve /usr/local/bin/\nLABEL v=2\n",
            {"train": (SCRIPT + b"#2\n", EXE), "serve": (SCRIPT, EXE)},
        ),
        "exec-entrypoint": (
            'FROM scratch\nCOPY run /app/run\nENTRYPOINT ["/app/run"]\n',
            {"run": (SCRIPT, EXE)},
        ),
        "shell-entrypoint": (
            "FROM scratch\nCOPY run /app/run\nENTRYPOINT /app/run\n",
            {"run": (SCRIPT, EXE)},
        ),
        "no-program": ("FROM scratch\nCOPY README /README\n", {"README": (b"hi\n", 0o644)}),
        "not-executable": (
            "FROM scratch\nCOPY train /usr/local/bin/train\n",
            {"train": (SCRIPT, 0o644)},
        ),
        "symlink": (
            "FROM scratch\nCOPY opt /opt\nCOPY bin /usr/local/bin\n",
            {"opt/program/train": (SCRIPT, EXE)},
        ),
    }
    tags = {}
    for name, (dockerfile, files) in specs.items():
        tag = f"harness-test/{name}:latest"
        symlinks = {"bin/train": "../../../opt/program/train"} if name == "symlink" else None
        build_scratch_image(docker_client, tag, dockerfile, files, symlinks)
        tags[name] = tag
    return tags


def publish(client, registry: Registry, local_tag: str, repository: str, tag: str) -> str:
    client.images.get(local_tag).tag(f"{registry.host}/{repository}", tag=tag)
    return push(client, registry, repository, tag)


def write_request(
    folder: Path, image: str, digest: str | None = None, inference_image: str | None = None
) -> Path:
    training: dict[str, Any] = {
        "TrainingImage": image,
        "SupportedTrainingInstanceTypes": ["ml.m5.large"],
        "TrainingChannels": [
            {
                "Name": "training",
                "SupportedContentTypes": ["text/csv"],
                "SupportedInputModes": ["File"],
            }
        ],
    }
    if digest:
        training["TrainingImageDigest"] = digest
    request: dict[str, Any] = {"AlgorithmName": "images-test", "TrainingSpecification": training}
    if inference_image:
        request["InferenceSpecification"] = {
            "Containers": [{"Image": inference_image}],
            "SupportedTransformInstanceTypes": ["ml.m5.large"],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        }
    path = folder / "algorithm.json"
    path.write_text(json.dumps(request, indent=2))
    return path


def run_images(capsys, *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["images", *args, "--format", "json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def check(report: dict[str, Any], check_id: str, role: str = "training") -> dict[str, Any]:
    return next(
        c for c in report["checks"] if c["id"] == check_id and c["subject"] == f"{role} image"
    )


def test_good_image_passes_is_pinned_and_pulled_by_digest(
    docker_client, registry, images, tmp_path, capsys
):
    digest = publish(docker_client, registry, images["good"], "algo/good", "1.0")
    image = f"{registry.host}/algo/good:1.0"
    request = write_request(tmp_path, image, inference_image=image)
    code, report, _ = run_images(capsys, str(request), "--pull", "always")
    assert code == ExitCode.OK, report
    training, inference = report["images"]
    assert inference["pinned_reference"] == training["pinned_reference"]
    assert training["resolved_digest"] == digest
    assert training["kind"] == "manifest"
    assert training["platform"] == "linux/amd64"
    assert training["pinned_reference"] == f"{registry.host}/algo/good@{digest}"
    assert training["pull"] == "pulled by digest"
    pulled = docker_client.images.get(training["pinned_reference"])
    assert f"{registry.host}/algo/good@{digest}" in pulled.attrs["RepoDigests"]
    assert (
        "`serve` is /usr/local/bin/serve"
        in check(report, "IMAGE-ENTRYPOINT", "inference[0]")["message"]
    )
    code, report, _ = run_images(capsys, str(request))
    assert report["images"][0]["pull"].startswith("already present")


def test_pin_writes_the_digests_into_the_request(docker_client, registry, images, tmp_path, capsys):
    digest = publish(docker_client, registry, images["good"], "algo/pin", "1.0")
    image = f"{registry.host}/algo/pin:1.0"
    request = write_request(tmp_path, image, inference_image=image)
    code, report, _ = run_images(capsys, str(request), "--pin")
    assert code == ExitCode.OK
    assert any("pinned training" in note for note in report["notes"])
    data = json.loads(request.read_text())
    assert data["TrainingSpecification"]["TrainingImageDigest"] == digest
    assert data["InferenceSpecification"]["Containers"][0]["ImageDigest"] == digest
    assert check(report, "IMAGE-DIGEST")["warnings"] == []


def test_moved_tag_fails_naming_both_digests(docker_client, registry, images, tmp_path, capsys):
    old = publish(docker_client, registry, images["good"], "algo/moving", "1.0")
    new = publish(docker_client, registry, images["other"], "algo/moving", "1.0")
    assert old != new
    request = write_request(tmp_path, f"{registry.host}/algo/moving:1.0", old)
    code, report, _ = run_images(capsys, str(request))
    assert code == ExitCode.CHECKS_FAILED
    result = check(report, "IMAGE-DIGEST")
    assert result["status"] == "fail"
    assert old in result["message"]
    assert new in result["message"]
    assert "tag was moved" in result["message"]


def test_config_digest_is_named_as_the_image_id(docker_client, registry, images, tmp_path, capsys):
    publish(docker_client, registry, images["good"], "algo/config", "1.0")
    image_id = docker_client.images.get(images["good"]).id
    request = write_request(tmp_path, f"{registry.host}/algo/config:1.0", image_id)
    code, report, err = run_images(capsys, str(request))
    assert code == ExitCode.CHECKS_FAILED, err
    assert "image ID (config digest)" in check(report, "IMAGE-DIGEST")["message"]


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ("algo/good:no-such-tag", "tag no-such-tag does not exist"),
        ("algo/no-such-repository:1.0", "repository does not exist"),
    ],
    ids=["missing-tag", "missing-repository"],
)
def test_missing_image_fails_the_check(
    docker_client, registry, images, tmp_path, capsys, reference, words
):
    publish(docker_client, registry, images["good"], "algo/good", "1.0")
    request = write_request(tmp_path, f"{registry.host}/{reference}")
    code, report, err = run_images(capsys, str(request))
    assert code == ExitCode.CHECKS_FAILED, err
    result = check(report, "IMAGE-DIGEST")
    assert result["status"] == "fail"
    assert words in result["message"]
    assert check(report, "IMAGE-ENTRYPOINT")["status"] == "skip"


def test_unreachable_registry_exits_3_naming_it(tmp_path, capsys):
    from tests.support import free_port

    host = f"127.0.0.1:{free_port()}"
    request = write_request(tmp_path, f"{host}/algo/x:1.0")
    code = main(["images", str(request)])
    out, err = capsys.readouterr()
    assert code == ExitCode.ENGINE_ERROR
    assert out == ""
    assert err.count("\n") == 1
    assert f"cannot connect to registry {host}" in err


def put_index(registry: Registry, repository: str, tag: str, entries: list[tuple[str, str]]) -> str:
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "digest": digest,
                    "size": manifest_size(registry, repository, digest),
                    "platform": {"os": "linux", "architecture": arch},
                }
                for digest, arch in entries
            ],
        }
    ).encode()
    response = requests.put(
        f"{registry.url}/v2/{repository}/manifests/{tag}",
        data=body,
        auth=registry.auth,
        headers={"Content-Type": "application/vnd.oci.image.index.v1+json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.headers["Docker-Content-Digest"])


def manifest_size(registry: Registry, repository: str, digest: str) -> int:
    response = requests.get(
        f"{registry.url}/v2/{repository}/manifests/{digest}",
        auth=registry.auth,
        timeout=10,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    response.raise_for_status()
    return len(response.content)


@pytest.fixture
def multi_platform(docker_client, registry, images) -> dict[str, str]:
    amd64 = publish(docker_client, registry, images["good"], "algo/multi", "amd64")
    arm64 = publish(docker_client, registry, images["other"], "algo/multi", "arm64")
    index = put_index(registry, "algo/multi", "1.0", [(amd64, "amd64"), (arm64, "arm64")])
    arm_only = put_index(registry, "algo/multi", "arm-only", [(arm64, "arm64")])
    return {"amd64": amd64, "arm64": arm64, "index": index, "arm_only": arm_only}


@pytest.mark.parametrize(
    ("declared", "status", "words"),
    [
        ("index", "pass", "index (multi-platform) digest"),
        ("amd64", "pass", "linux/amd64 manifest of the index"),
        ("arm64", "fail", "linux/arm64 manifest of the index, but SageMaker runs linux/amd64"),
    ],
    ids=["index-digest", "platform-manifest", "wrong-platform-manifest"],
)
def test_index_and_platform_digests_are_told_apart(
    registry, multi_platform, tmp_path, capsys, declared, status, words
):
    request = write_request(tmp_path, f"{registry.host}/algo/multi:1.0", multi_platform[declared])
    code, report, _ = run_images(capsys, str(request))
    result = check(report, "IMAGE-DIGEST")
    assert result["status"] == status, result
    assert words in result["message"]
    entry = report["images"][0]
    assert entry["kind"] == "index"
    assert entry["platform_manifests"] == {
        "linux/amd64": multi_platform["amd64"],
        "linux/arm64": multi_platform["arm64"],
    }
    assert code == (ExitCode.OK if status == "pass" else ExitCode.CHECKS_FAILED)


def test_index_without_amd64_fails_the_platform_check(registry, multi_platform, tmp_path, capsys):
    request = write_request(tmp_path, f"{registry.host}/algo/multi:arm-only")
    code, report, _ = run_images(capsys, str(request))
    assert code == ExitCode.CHECKS_FAILED
    platform = check(report, "IMAGE-PLATFORM")
    assert platform["status"] == "fail"
    assert "SageMaker needs linux/amd64" in platform["message"]
    assert check(report, "IMAGE-ENTRYPOINT")["status"] == "skip"


@pytest.mark.parametrize(
    ("image", "status", "words"),
    [
        ("exec-entrypoint", "pass", "runs ['/app/run'] with argument 'train'"),
        ("shell-entrypoint", "pass", "runs ['/bin/sh', '-c', '/app/run']"),
        ("no-program", "fail", "no ENTRYPOINT and no `train` on PATH"),
        ("not-executable", "fail", "is not an executable file"),
        ("symlink", "pass", "/usr/local/bin/train (-> /opt/program/train)"),
    ],
    ids=["exec-form", "shell-form", "missing", "not-executable", "symlink"],
)
def test_entrypoints(docker_client, registry, images, tmp_path, capsys, image, status, words):
    publish(docker_client, registry, images[image], f"algo/{image}", "1.0")
    request = write_request(tmp_path, f"{registry.host}/algo/{image}:1.0")
    _, report, _ = run_images(capsys, str(request))
    result = check(report, "IMAGE-ENTRYPOINT")
    assert result["status"] == status, result
    assert words in result["message"]
    if image == "shell-entrypoint":
        assert "shell-form ENTRYPOINT" in result["warnings"][0]


def test_pull_never_resolves_without_pulling(docker_client, registry, images, tmp_path, capsys):
    publish(docker_client, registry, images["no-program"], "algo/never", "1.0")
    request = write_request(tmp_path, f"{registry.host}/algo/never:1.0")
    code, report, _ = run_images(capsys, str(request), "--pull", "never")
    assert report["images"][0]["pull"] in ("present locally", "not pulled (--pull never)")
    assert code in (ExitCode.OK, ExitCode.CHECKS_FAILED)


# --- credentials ------------------------------------------------------------------------------


def test_registry_with_auth_and_no_credentials_exits_3(
    docker_client, auth_registry, images, tmp_path, capsys
):
    publish(docker_client, auth_registry, images["good"], "algo/private", "1.0")
    request = write_request(tmp_path, f"{auth_registry.host}/algo/private:1.0")
    code, _, err = run_images(capsys, str(request))
    assert code == ExitCode.ENGINE_ERROR
    assert "requires credentials and none are configured" in err
    assert "docker login" in err


def _config_with_auth(folder: Path, registry: Registry, password: str) -> None:
    import base64

    token = base64.b64encode(f"{registry.username}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": token}}}))


def test_refused_credentials_exit_3(
    docker_client, auth_registry, images, tmp_path, capsys, isolated_docker_config
):
    publish(docker_client, auth_registry, images["good"], "algo/private", "1.0")
    _config_with_auth(isolated_docker_config, auth_registry, "wrong-password")
    request = write_request(tmp_path, f"{auth_registry.host}/algo/private:1.0")
    code, _, err = run_images(capsys, str(request))
    assert code == ExitCode.ENGINE_ERROR
    assert f"registry {auth_registry.host} refused the credentials" in err
    assert "seller from the Docker config" in err


def test_credentials_from_the_docker_config_resolve_and_pull(
    docker_client, auth_registry, images, tmp_path, capsys, isolated_docker_config
):
    digest = publish(docker_client, auth_registry, images["good"], "algo/private", "1.0")
    _config_with_auth(isolated_docker_config, auth_registry, str(auth_registry.password))
    request = write_request(tmp_path, f"{auth_registry.host}/algo/private:1.0")
    code, report, _ = run_images(capsys, str(request), "--pull", "always")
    assert code == ExitCode.OK, report
    assert report["images"][0]["resolved_digest"] == digest
    assert report["images"][0]["pull"] == "pulled by digest"


def test_credentials_from_a_credential_helper(
    docker_client, auth_registry, images, tmp_path, capsys, isolated_docker_config, monkeypatch
):
    digest = publish(docker_client, auth_registry, images["good"], "algo/private", "1.0")
    helpers = tmp_path / "bin"
    helpers.mkdir()
    helper = helpers / "docker-credential-harnesstest"
    answer = json.dumps(
        {
            "ServerURL": auth_registry.host,
            "Username": auth_registry.username,
            "Secret": auth_registry.password,
        }
    )
    helper.write_text(f"#!/bin/sh\nread server\ncat <<'EOF'\n{answer}\nEOF\n")
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helpers}:{__import__('os').environ['PATH']}")
    (isolated_docker_config / "config.json").write_text(
        json.dumps({"credHelpers": {auth_registry.host: "harnesstest"}})
    )
    request = write_request(tmp_path, f"{auth_registry.host}/algo/private:1.0")
    code, report, _ = run_images(capsys, str(request), "--pull", "always")
    assert code == ExitCode.OK, report
    assert report["images"][0]["resolved_digest"] == digest

from __future__ import annotations

from harness.registry.manifests import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    ImageConfig,
    Manifest,
    Platform,
)

INDEX = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": "sha256:amd",
            "size": 1,
            "platform": {"os": "linux", "architecture": "amd64"},
        },
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": "sha256:arm",
            "size": 1,
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        },
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": "sha256:att",
            "size": 1,
            "platform": {"os": "unknown", "architecture": "unknown"},
        },
    ],
}


def test_index_entries_skip_attestations():
    index = Manifest("sha256:idx", OCI_INDEX, INDEX)
    assert index.is_index
    assert [e.digest for e in index.entries] == ["sha256:amd", "sha256:arm"]
    arm = index.entry_for(Platform("linux", "arm64"))
    assert arm is not None
    assert str(arm.platform) == "linux/arm64/v8"


def test_single_manifest_has_a_config_digest_and_no_entries():
    manifest = Manifest(
        "sha256:m", DOCKER_MANIFEST, {"config": {"digest": "sha256:cfg"}, "layers": []}
    )
    assert not manifest.is_index
    assert manifest.entries == ()
    assert manifest.config_digest == "sha256:cfg"


def test_image_config_and_its_path():
    config = ImageConfig.parse(
        {
            "os": "linux",
            "architecture": "amd64",
            "config": {"Entrypoint": ["/bin/run"], "Env": ["A=1", "PATH=/opt/bin:/usr/bin"]},
        }
    )
    assert config.platform == Platform("linux", "amd64")
    assert config.entrypoint == ("/bin/run",)
    assert config.cmd is None
    assert config.path == ("/opt/bin", "/usr/bin")


def test_image_config_without_path_gets_dockers_default():
    config = ImageConfig.parse({"os": "linux", "architecture": "amd64", "config": None})
    assert config.path[:2] == ("/usr/local/sbin", "/usr/local/bin")
    assert config.entrypoint is None

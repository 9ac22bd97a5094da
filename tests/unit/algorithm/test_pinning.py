"""`--pin` edits digests into the request text, keeping layout and comments when it can."""

from __future__ import annotations

import json
from pathlib import Path

from harness.algorithm.pinning import pin_digests
from harness.documents import parse_document

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
TRAINING = ("TrainingSpecification", "TrainingImageDigest")
CONTAINER = ("InferenceSpecification", "Containers", 0, "ImageDigest")

JSON_TEXT = """{
  "AlgorithmName": "a",
  "TrainingSpecification": {
    "TrainingImage": "r/a:1",
    "TrainingChannels": []
  },
  "InferenceSpecification": {"Containers": [{"Image": "r/a:1", "ImageDigest": "sha256:old"}]}
}
"""

YAML_TEXT = """# my algorithm
AlgorithmName: a
TrainingSpecification:
  TrainingImage: r/a:1   # the training image
  TrainingChannels: []
InferenceSpecification:
  Containers:
    - Image: r/a:1
"""


def test_json_digest_inserted_after_the_image_and_replaced_in_place():
    document = parse_document(JSON_TEXT, Path("r.json"))
    pinned = pin_digests(document, {TRAINING: D1, CONTAINER: D2})
    assert pinned.layout_kept
    assert f'    "TrainingImage": "r/a:1",\n    "TrainingImageDigest": "{D1}",\n' in pinned.text
    assert f'"ImageDigest": "{D2}"' in pinned.text
    data = json.loads(pinned.text)
    assert data["TrainingSpecification"]["TrainingImageDigest"] == D1
    assert data["InferenceSpecification"]["Containers"][0]["ImageDigest"] == D2


def test_yaml_keeps_comments_and_indents_list_items():
    document = parse_document(YAML_TEXT, Path("r.yaml"))
    pinned = pin_digests(document, {TRAINING: D1, CONTAINER: D2})
    assert pinned.layout_kept
    assert pinned.text.startswith("# my algorithm\n")
    assert (
        f'  TrainingImage: r/a:1   # the training image\n  TrainingImageDigest: "{D1}"\n'
        in pinned.text
    )
    assert f'    - Image: r/a:1\n      ImageDigest: "{D2}"\n' in pinned.text


def test_flow_style_yaml_is_rewritten_whole_and_says_so():
    text = "AlgorithmName: a\nTrainingSpecification: {TrainingImage: r/a, TrainingChannels: []}\n"
    pinned = pin_digests(parse_document(text, Path("r.yaml")), {TRAINING: D1})
    assert not pinned.layout_kept
    data = parse_document(pinned.text, Path("r.yaml")).data
    assert data["TrainingSpecification"] == {
        "TrainingImage": "r/a",
        "TrainingChannels": [],
        "TrainingImageDigest": D1,
    }

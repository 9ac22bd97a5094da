"""Fixtures for the unit tests: a complete, valid request to mutate one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
_COMPLETE = yaml.safe_load((FIXTURES / "requests" / "complete.yaml").read_text())


@pytest.fixture
def request_dict() -> dict[str, Any]:
    """A fresh copy of fixtures/requests/complete.yaml (valid, Marketplace-ready)."""
    return copy.deepcopy(_COMPLETE)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write

"""Fixtures shared by the real-component tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real.blocklab import BlockLab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[BlockLab]:
    """Loop devices on image files in a temp dir; everything attached or mounted is released afterwards."""
    block_lab = BlockLab.open(tmp_path)
    try:
        yield block_lab
    finally:
        block_lab.close()

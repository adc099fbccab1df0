"""Shared test helpers: repository paths, fixture hosts, and the reference corpora beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURE_HOSTS = REPO / "tests" / "fixtures" / "hosts"
SHARED = Path(os.environ.get("KERNCHECK_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (set KERNCHECK_SHARED to the shared/ directory)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """State files (SMART counters, watch cursors) of tests never land in /var/lib/kerncheck."""
    os.environ["KERNCHECK_STATE_DIR"] = str(tmp_path_factory.mktemp("kerncheck-state"))


@pytest.fixture
def fixture_host():
    """Open a fixture host by scenario name: ``fixture_host("rhel9-ready")``."""
    from kerncheck.host import SnapshotHost

    def _open(name: str) -> SnapshotHost:
        return SnapshotHost(str(FIXTURE_HOSTS / name))

    return _open

"""The live lab layer: boots Debian's real kernel under QEMU (TCG) and provokes each incident.

Every case the selected tests need is booted once per session, up to two guests at a time (the lab's
machine-wide cap; ``KERNCHECK_LAB_GUESTS=1`` for one), longest first. Without QEMU, apt or the network the
layer skips with the reason; a guest that overruns its timeout is killed and its case fails.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lab import cases, qemu
from lab.errors import LabUnavailable
from lab.run import CaseRun, Guest, run_many


@pytest.fixture(scope="session")
def lab_guest() -> Guest:
    try:
        return Guest.prepare()
    except LabUnavailable as exc:
        pytest.skip(f"the QEMU lab cannot run here: {exc}")


def _needed(session: pytest.Session) -> list[str]:
    names = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("case_name") if callspec else None
        if name and name not in names:
            names.append(name)
    return names


@pytest.fixture(scope="session")
def lab_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab-dumps")


@pytest.fixture(scope="session")
def lab_runs(request: pytest.FixtureRequest, lab_guest: Guest, lab_outdir: Path) -> dict[str, CaseRun]:
    """Every case the selected tests parametrize over (``case_name``), booted once."""
    selected = sorted((cases.get(name) for name in _needed(request.session)), key=lambda c: -c.timeout)
    started = time.monotonic()
    runs = run_many(selected, lab_guest, qemu.max_guests(), lab_outdir)
    # Timed cases (lockups, stalls, hung tasks) depend on the host's load; a case that did not produce its
    # text on a busy machine gets one more boot, alone. Known emulator limits are not retried.
    retry = [run.case for run in runs if not run.ok and run.case.limit is None]
    if retry:
        again = {run.case.name: run for run in run_many(retry, lab_guest, 1, lab_outdir)}
        runs = [again.get(run.case.name, run) for run in runs]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nQEMU lab: {len(runs) + len(retry)} boots in {time.monotonic() - started:.1f} s")
            for run in runs:
                note = " (second boot)" if run.case in retry else ""
                reporter.write_line(f"  {run.case.name:<18} {run.wall:5.1f} s  {run.verdict()}{note}")
    return {run.case.name: run for run in runs}

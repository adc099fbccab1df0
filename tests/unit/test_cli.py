"""The kerncheck CLI as a user runs it: text and JSON output, exit statuses, explain, usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FIXTURE_HOSTS, REPO

ENV = dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="120")


def kerncheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kerncheck", *args], capture_output=True, text=True, env=ENV,
                          timeout=60, check=False)


@pytest.mark.parametrize(("scenario", "status"), [
    ("rhel9-ready", 1),  # SysRq 16 is a warning
    ("no-kdump", 2),
    ("bigbox-64m", 2),
    ("container", 0),
])
def test_exit_status_follows_nagios(scenario: str, status: int) -> None:
    proc = kerncheck("audit", "--root", str(FIXTURE_HOSTS / scenario), "--format", "json")
    assert proc.returncode == status, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "kerncheck.audit/1"


def test_nothing_evaluable_exits_3(tmp_path) -> None:
    proc = kerncheck("audit", "--root", str(tmp_path), "--check", "KC1")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr + proc.stdout


def test_text_report_reads_well() -> None:
    proc = kerncheck("audit", "--root", str(FIXTURE_HOSTS / "bigbox-64m"))
    out = proc.stdout
    assert proc.returncode == 2
    assert "kerncheck audit — bigbox" in out
    assert "FAIL" in out and "critical" in out and "KC102" in out
    assert "fix:" in out
    assert "\x1b[" not in out  # no colour codes when not writing to a terminal
    assert out.strip().splitlines()[-1].startswith("2 critical")


def test_verbose_shows_evidence() -> None:
    out = kerncheck("audit", "--root", str(FIXTURE_HOSTS / "bigbox-64m"), "--check", "KC102", "-v").stdout
    assert "/sys/kernel/kexec_crash_size: 67108864" in out


def test_check_selection_and_skip() -> None:
    doc = json.loads(kerncheck("audit", "--root", str(FIXTURE_HOSTS / "no-kdump"), "--format", "json",
                               "--check", "KC2", "--skip", "KC203").stdout)
    assert sorted(f["id"] for f in doc["findings"]) == ["KC201", "KC202"]


def test_missing_root_is_a_clear_error(tmp_path) -> None:
    proc = kerncheck("audit", "--root", str(tmp_path / "nope"))
    assert proc.returncode == 3
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_usage_error_is_not_a_verdict() -> None:
    proc = kerncheck("audit", "--format", "yaml")
    assert proc.returncode == 3
    assert "invalid choice" in proc.stderr


def test_explain_and_version() -> None:
    proc = kerncheck("explain", "KC201")
    assert proc.returncode == 0
    assert proc.stdout.startswith("KC201: SysRq allows emergency keys")
    for section in ("What it checks:", "Why it matters:", "Fix:", "References:"):
        assert section in proc.stdout
    assert kerncheck("explain", "KC999").returncode == 3
    listing = kerncheck("explain").stdout
    assert "KC101" in listing and "KC203" in listing
    assert kerncheck("--version").stdout.startswith("kerncheck ")


def test_archive_root(tmp_path) -> None:
    import tarfile

    archive = tmp_path / "snap.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURE_HOSTS / "bigbox-64m", arcname="bigbox-64m")
    proc = kerncheck("audit", "--root", str(archive), "--check", "KC102", "--format", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["findings"][0]["status"] == "fail"

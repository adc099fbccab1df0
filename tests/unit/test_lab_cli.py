"""`python -m lab` as a user runs it: listing, and clear refusals instead of hangs or tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lab import cases

REPO = Path(__file__).resolve().parent.parent.parent


def _lab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=env)


def test_list_names_every_case_and_the_known_limit():
    proc = _lab("list")
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines()[1:]]
    assert listed == [case.name for case in cases.CASES]
    required = {"panic", "bug", "warning", "oops", "gpf", "atomic_sleep", "oops_panic", "soft_lockup",
                "rcu_stall", "hung_task", "oom", "memcg_oom", "sysrq_c", "sysrq_t", "sysrq_w", "init_exit",
                "kdump"}
    assert required <= set(listed)
    assert "known limit: TCG emulates no PMU" in next(line for line in proc.stdout.splitlines()
                                                      if line.startswith("hard_lockup"))


def test_missing_qemu_is_a_clear_refusal(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # nothing on PATH: no qemu-system-x86_64, no apt
    out = tmp_path / "panic.log"
    proc = _lab("run", "panic", "--out", str(out), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("lab: cannot run a guest: qemu-system-x86_64 is not installed "
                                   "(Debian package qemu-system-x86)")
    assert not out.exists()


def test_unknown_case_is_a_usage_error(tmp_path):
    proc = _lab("run", "hardlockup", "--out", str(tmp_path / "x.log"))
    assert proc.returncode == 3
    assert "unknown case 'hardlockup'" in proc.stderr and "Traceback" not in proc.stderr

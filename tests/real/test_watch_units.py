"""The shipped systemd units, checked by real systemd tools, and their command lines run for real.

This machine does not boot with systemd, so the units are not started; ``systemd-analyze verify`` and
``systemd-analyze security --offline`` (the same analysis systemd applies) check them, and the exact
``ExecStart=`` command lines run here with temporary paths.
"""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.real.watchproc import REPO, free_port, http_get, wait_until

pytestmark = pytest.mark.real
UNITS = REPO / "contrib" / "systemd"
KERNCHECK = [sys.executable, "-m", "kerncheck"]


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if not path:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return path


def exec_start(unit: str) -> list[str]:
    line = next(ln for ln in (UNITS / unit).read_text().splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.split("=", 1)[1])
    assert argv[0] == "/usr/bin/kerncheck"
    return argv[1:]


def directives(unit: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ln in (UNITS / unit).read_text().splitlines():
        if "=" in ln and not ln.startswith("#"):
            key, value = ln.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


@pytest.fixture
def units(tmp_path):
    """The units with ExecStart pointing at this checkout's kerncheck (verify wants an executable)."""
    exe = shutil.which("kerncheck", path=str(REPO / ".venv" / "bin")) or shutil.which("kerncheck")
    if not exe:
        pytest.skip("no kerncheck executable installed")
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace("/usr/bin/kerncheck", exe))
    return tmp_path


def test_units_verify_without_a_warning(units):
    tool = systemd_analyze()
    names = sorted(str(p) for p in units.iterdir())
    done = subprocess.run([tool, "verify", *names], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize("unit", ["kerncheck-watch.service", "kerncheck-audit.service"])
def test_units_are_hardened(units, unit):
    tool = systemd_analyze()
    done = subprocess.run([tool, "security", "--offline=true", str(units / unit)], capture_output=True,
                          text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout + done.stderr)
    assert m, done.stdout + done.stderr
    assert float(m.group(1)) <= 3.0, done.stdout


def test_watch_unit_reads_kmsg_with_cap_syslog_only_and_writes_only_its_state():
    d = directives("kerncheck-watch.service")
    argv = exec_start("kerncheck-watch.service")
    assert d["CapabilityBoundingSet"] == ["CAP_SYSLOG"]
    assert d["ProtectSystem"] == ["strict"]
    state = argv[argv.index("--state") + 1]
    assert d["ReadWritePaths"] == [state] and d["StateDirectory"] == [state.removeprefix("/var/lib/")]
    assert d["DeviceAllow"] == ["/dev/kmsg r"] and "ProtectKernelLogs" not in d  # it would hide /dev/kmsg


def test_the_watch_unit_command_line_runs_and_stops_cleanly_on_sigterm(tmp_path):
    argv = exec_start("kerncheck-watch.service")
    argv[argv.index("--state") + 1] = str(tmp_path / "state")
    port = free_port()
    argv[argv.index("--metrics-addr") + 1] = f"127.0.0.1:{port}"
    (tmp_path / "kerncheck.toml").write_text("")
    proc = subprocess.Popen([*KERNCHECK, *argv, "--config", str(tmp_path / "kerncheck.toml"),
                             "--audit-interval", "0"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        body = wait_until(lambda: proc.poll() is not None or http_get(f"http://127.0.0.1:{port}/metrics"), 30,
                          "the unit's /metrics")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert 'kerncheck_watch_info{source="kmsg"' in body
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "state" / "state.json").is_file()


def test_the_audit_unit_command_line_writes_the_textfile(tmp_path):
    argv = exec_start("kerncheck-audit.service")
    argv[argv.index("--textfile") + 1] = str(tmp_path)
    done = subprocess.run([*KERNCHECK, *argv], cwd=REPO, capture_output=True, text=True, timeout=120)
    success = {0} | {int(x) for x in directives("kerncheck-audit.service")["SuccessExitStatus"][0].split()}
    assert done.returncode in success, done.stderr
    assert "kerncheck_check_status{" in (tmp_path / "kerncheck.prom").read_text()

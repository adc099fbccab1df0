"""kerncheck crash-test against a host re-rooted in a temp dir (its /proc/sysrq-trigger is a plain file).

The readiness checks are the real KC101-KC103, the drain command is a real process, the health URL a real
HTTP server on 127.0.0.1, the confirmation is typed into a real pseudo-terminal. Every refusal must leave
the trigger file untouched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import pytest

from kerncheck.guard import crashtest as ct
from kerncheck.guard import record as ctrec
from kerncheck.host import LiveHost

HOSTNAME = "drill-host.example.com"
BOOT_ID = "0f6a8a2e-3c2d-4d7e-9a52-6b1f3d0c9e11"
# Saturday 2024-06-01 02:30 in Berlin (CEST, UTC+2): inside "Sat 02:00-04:00 Europe/Berlin".
IN_WINDOW = datetime(2024, 6, 1, 0, 30, tzinfo=timezone.utc)
OUT_OF_WINDOW = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)
ALWAYS = "daily 00:00-24:00 UTC"


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def ready_root(root: Path, armed: bool = True) -> Path:
    """A Debian 12 host with 4 GB of RAM, crashkernel=512M reserved and (if ``armed``) loaded."""
    write(root, "/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
          'VERSION_ID="12"\nID=debian\n')
    write(root, "/etc/default/kdump-tools", 'USE_KDUMP=1\nKDUMP_COREDIR="/var/crash"\n')
    (root / "var/crash").mkdir(parents=True)
    write(root, "/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=5d1c0e1a ro quiet "
          "crashkernel=512M\n")
    write(root, "/proc/meminfo", "MemTotal:        4028440 kB\nMemFree:         3100000 kB\n"
          "MemAvailable:    3500000 kB\nSwapTotal:             0 kB\n")
    write(root, "/proc/iomem", "00001000-0009fbff : System RAM\n00100000-bffdffff : System RAM\n"
          "  8f000000-aeffffff : Crash kernel\n100000000-13fffffff : System RAM\n")
    write(root, "/sys/kernel/kexec_crash_loaded", "1\n" if armed else "0\n")
    write(root, "/sys/kernel/kexec_crash_size", "536870912\n")
    write(root, "/proc/sys/kernel/hostname", HOSTNAME + "\n")
    write(root, "/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
    write(root, "/proc/sys/kernel/random/boot_id", BOOT_ID + "\n")
    write(root, "/proc/sysrq-trigger", "")
    return root


def config(windows: Optional[list[str]] = None, **extra: object) -> dict:
    table: dict[str, object] = {"windows": windows or ["Sat 02:00-04:00 Europe/Berlin"],
                                "drain_command": ["true"]}
    table.update(extra)
    return {"crash_test": {k: v for k, v in table.items() if v is not None}}


def trigger_text(root: Path) -> str:
    return (root / "proc/sysrq-trigger").read_text()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return ready_root(tmp_path / "host")


def pre(root: Path, cfg: Optional[dict] = None, now: datetime = IN_WINDOW, answer: Optional[str] = HOSTNAME,
        tty: bool = False, config_error: Optional[str] = None) -> ct.Preflight:
    return ct.preflight(LiveHost(str(root)), cfg if cfg is not None else config(), config_error, now, answer, tty)


# -- preflight, in process ----------------------------------------------------------------------------
def test_ready_host_passes_every_preflight(root: Path):
    result = pre(root)
    assert result.ok, result.failures
    joined = "\n".join(result.passed)
    for fragment in ("KC101 kdump armed: pass", "KC102 crashkernel size: pass", "KC103 Dump target has room: pass",
                     "inside maintenance window 'Sat 02:00-04:00 Europe/Berlin'", "drain command `true` exited 0",
                     f"--yes-really-crash names this host ({HOSTNAME})"):
        assert fragment in joined
    assert (result.hostname, result.kernel, result.boot_id, result.dump_path) == (
        HOSTNAME, "6.1.0-18-amd64", BOOT_ID, "/var/crash")


@pytest.mark.parametrize("case, expected", [
    ("outside window", "outside every maintenance window"),
    ("drain fails", "drain command `false` exited 1, so the host is not drained"),
    ("kdump not armed", "KC101 kdump armed: fail"),
    ("wrong hostname", "--yes-really-crash 'other-host' does not name this host"),
    ("no tty no flag", "no terminal to confirm on"),
    ("no window configured", "no maintenance window is configured"),
    ("no drain configured", "no drain check is configured"),
    ("bad window", "unknown timezone 'Mars/Olympus'"),
    ("typo in key", "unknown keys drain_comand"),
    ("unreadable config", "configuration: /etc/kerncheck/kerncheck.toml: invalid TOML"),
    ("no sysrq", "/proc/sysrq-trigger does not exist"),
    ("no boot id", "cannot read the boot id"),
])
def test_each_unsafe_state_is_a_failure(root: Path, case: str, expected: str):
    kwargs: dict = {}
    if case == "outside window":
        kwargs["now"] = OUT_OF_WINDOW
    elif case == "drain fails":
        kwargs["cfg"] = config(drain_command=["false"])
    elif case == "kdump not armed":
        write(root, "/sys/kernel/kexec_crash_loaded", "0\n")
    elif case == "wrong hostname":
        kwargs["answer"] = "other-host"
    elif case == "no tty no flag":
        kwargs["answer"] = None
    elif case == "no window configured":
        kwargs["cfg"] = {"crash_test": {"drain_command": ["true"]}}
    elif case == "no drain configured":
        kwargs["cfg"] = {"crash_test": {"windows": ["Sat 02:00-04:00 Europe/Berlin"]}}
    elif case == "bad window":
        kwargs["cfg"] = config(windows=["Sat 02:00-04:00 Mars/Olympus"])
    elif case == "typo in key":
        kwargs["cfg"] = {"crash_test": {"windows": ["Sat 02:00-04:00 UTC"], "drain_comand": ["true"]}}
    elif case == "unreadable config":
        kwargs["config_error"] = "/etc/kerncheck/kerncheck.toml: invalid TOML: Expected '=' (at line 1, column 5)"
    elif case == "no sysrq":
        (root / "proc/sysrq-trigger").unlink()
    elif case == "no boot id":
        (root / "proc/sys/kernel/random/boot_id").unlink()
    result = pre(root, **kwargs)
    assert not result.ok
    assert any(expected in f for f in result.failures), result.failures


def test_refusal_lists_every_failure_at_once(root: Path):
    write(root, "/sys/kernel/kexec_crash_loaded", "0\n")
    result = pre(root, cfg=config(drain_command=["false"]), now=OUT_OF_WINDOW, answer="nope")
    kinds = ["KC101", "outside every maintenance window", "drain command `false`", "--yes-really-crash 'nope'"]
    for kind in kinds:
        assert any(kind in f for f in result.failures), (kind, result.failures)


def test_outside_window_names_the_next_opening(root: Path):
    result = pre(root, now=OUT_OF_WINDOW)
    assert any("opens Sat 2024-06-08 02:00 CEST" in f for f in result.failures), result.failures


def test_drain_command_timeout_and_missing_command(root: Path):
    slow = pre(root, cfg=config(drain_command=["sleep", "5"], drain_timeout=0.3))
    assert any("did not finish within 0.3s" in f for f in slow.failures), slow.failures
    missing = pre(root, cfg=config(drain_command=["/nonexistent/kc-drain"]))
    assert any("cannot run: command not found" in f for f in missing.failures), missing.failures


def test_missing_readiness_check_is_a_refusal(root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ct, "PREFLIGHT_CHECKS", ("KC101", "KC102", "KC103", "KC999"))
    result = pre(root)
    assert "KC999 is not available in this kerncheck: readiness unknown" in result.failures


# -- the drain health URL against a real HTTP server on loopback --------------------------------------
class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/health")
        else:
            self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Health", (_Health,), {"status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_health_url_drained_only_on_the_drained_status(root: Path, health_server):
    base, handler = health_server
    cfg = config(drain_command=None, health_url=f"{base}/health", drain_timeout=5)
    handler.status = 200
    in_rotation = pre(root, cfg=cfg)
    assert any("answers 200: the load balancer still sees this host as healthy" in f
               for f in in_rotation.failures), in_rotation.failures
    handler.status = 503
    drained = pre(root, cfg=cfg)
    assert drained.ok, drained.failures
    assert any("answers 503 (drained)" in p for p in drained.passed)
    handler.status = 500
    assert any("answers 500, not the drained status 503" in f for f in pre(root, cfg=cfg).failures)
    redirected = pre(root, cfg=config(drain_command=None, health_url=f"{base}/moved"))
    assert any("answers 302" in f for f in redirected.failures)


def test_health_url_that_does_not_answer_is_unknown(root: Path, health_server):
    base, _ = health_server
    port = int(base.rsplit(":", 1)[1])
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    assert dead != port
    result = pre(root, cfg=config(drain_command=None, health_url=f"http://127.0.0.1:{dead}/health",
                                  drain_timeout=2))
    assert any("did not answer" in f and "drain state unknown" in f for f in result.failures), result.failures


def test_both_drain_checks_must_pass(root: Path, health_server):
    base, handler = health_server
    handler.status = 503
    result = pre(root, cfg=config(drain_command=["false"], health_url=f"{base}/health"))
    assert not result.ok and any("`false` exited 1" in f for f in result.failures)


# -- the command end to end (subprocess, temp-rooted) --------------------------------------------------
def kerncheck(*args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kerncheck", *args], capture_output=True, text=True,
                          timeout=120, stdin=stdin, check=False)


def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kerncheck.toml"
    path.write_text(body)
    return path


ALWAYS_CFG = f'[crash_test]\nwindows = ["{ALWAYS}"]\ndrain_command = ["true"]\n'


@pytest.mark.parametrize("body, flag, expected", [
    ('[crash_test]\nwindows = ["Sat 02:00-04:00 Europe/Berlin"]\nwindows_typo = 1\n', HOSTNAME, "unknown keys"),
    ("[crash_test\nwindows = 3\n", HOSTNAME, "invalid TOML"),
    (ALWAYS_CFG.replace('["true"]', '["false"]'), HOSTNAME, "drain command `false` exited 1"),
    (ALWAYS_CFG, "not-this-host", "does not name this host"),
    (ALWAYS_CFG, None, "no terminal to confirm on"),
])
def test_cli_refuses_with_64_and_never_touches_the_trigger(root: Path, tmp_path: Path, body: str,
                                                           flag: Optional[str], expected: str):
    cfg = config_file(tmp_path, body)
    before = (root / "proc/sysrq-trigger").stat().st_mtime_ns
    args = ["crash-test", "--root", str(root), "--config", str(cfg)]
    if flag:
        args += ["--yes-really-crash", flag]
    proc = kerncheck(*args)
    assert proc.returncode == 64, proc.stderr
    assert expected in proc.stderr
    assert trigger_text(root) == "" and (root / "proc/sysrq-trigger").stat().st_mtime_ns == before
    assert not (root / "var/lib/kerncheck/crash-test.json").exists()


def test_cli_missing_config_file_and_usage_error_refuse(root: Path, tmp_path: Path):
    proc = kerncheck("crash-test", "--root", str(root), "--config", str(tmp_path / "absent.toml"),
                     "--yes-really-crash", HOSTNAME)
    assert proc.returncode == 64 and "absent.toml: no such file" in proc.stderr
    assert kerncheck("crash-test", "--root", str(root), "--bogus").returncode == 64
    assert trigger_text(root) == ""


def test_cli_outside_the_window_refuses(root: Path, tmp_path: Path):
    # A window that is certainly closed now: it ended one hour ago (and opened three hours ago), in UTC.
    now = datetime.now(timezone.utc)
    start = (now.hour + 21) % 24
    end = (now.hour + 23) % 24
    days = "daily"
    cfg = config_file(tmp_path, f'[crash_test]\nwindows = ["{days} {start:02d}:00-{end:02d}:00 UTC"]\n'
                                'drain_command = ["true"]\n')
    proc = kerncheck("crash-test", "--root", str(root), "--config", str(cfg), "--yes-really-crash", HOSTNAME)
    assert proc.returncode == 64 and "outside every maintenance window" in proc.stderr
    assert trigger_text(root) == ""


def test_cli_dry_run_prints_the_plan_and_changes_nothing(root: Path, tmp_path: Path):
    cfg = config_file(tmp_path, ALWAYS_CFG)
    proc = kerncheck("crash-test", "--dry-run", "--root", str(root), "--config", str(cfg),
                     "--yes-really-crash", HOSTNAME)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "would go ahead" in proc.stdout and "write 'c' to /proc/sysrq-trigger" in proc.stdout
    assert "staging or pre-production" in proc.stderr  # first use on this host
    assert trigger_text(root) == ""
    assert not (root / "var/lib/kerncheck/crash-test.json").exists()
    again = kerncheck("crash-test", "--dry-run", "--root", str(root), "--config", str(cfg),
                      "--yes-really-crash", HOSTNAME)
    assert "staging or pre-production" not in again.stderr  # only the first time
    write(root, "/sys/kernel/kexec_crash_loaded", "0\n")
    refused = kerncheck("crash-test", "--dry-run", "--root", str(root), "--config", str(cfg),
                        "--yes-really-crash", HOSTNAME)
    assert refused.returncode == 64 and "would REFUSE" in refused.stdout and "FAIL  KC101" in refused.stdout


def test_cli_happy_path_records_then_writes_c_to_the_trigger(root: Path, tmp_path: Path):
    cfg = config_file(tmp_path, ALWAYS_CFG)
    before = time.time()
    proc = kerncheck("crash-test", "--root", str(root), "--config", str(cfg), "--yes-really-crash", HOSTNAME)
    assert proc.returncode == 0, proc.stderr
    assert trigger_text(root) == "c"
    state = json.loads((root / "var/lib/kerncheck/crash-test.json").read_text())
    assert state["schema"] == "kerncheck.crash-test/1"
    assert (state["hostname"], state["kernel"], state["boot_id"], state["dump_path"]) == (
        HOSTNAME, "6.1.0-18-amd64", BOOT_ID, "/var/crash")
    assert before - 1 <= state["started_at"] <= time.time() + 1
    record = ctrec.load_record(LiveHost(str(root)))
    assert record is not None and record.verified_at is None
    assert not list((root / "var/lib/kerncheck").glob(".crash-test.*"))  # no temp file left behind


def _read_until(fd: int, needle: bytes, timeout: float = 60) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            out += chunk
    return out


def _drain(fd: int) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            return out
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return out
        if not chunk:
            return out
        out += chunk


@pytest.mark.parametrize("typed, status, trigger", [("drill-host", 0, "c"), ("wrong-host", 64, "")])
def test_typed_hostname_on_a_real_pty(root: Path, tmp_path: Path, typed: str, status: int, trigger: str):
    cfg = config_file(tmp_path, ALWAYS_CFG)
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kerncheck", "crash-test", "--root", str(root),
                             "--config", str(cfg)], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    try:
        seen = _read_until(master, b"Type the hostname")
        assert b"Type the hostname of this machine" in seen, seen.decode(errors="replace")
        assert trigger_text(root) == ""  # nothing happens before the answer
        os.write(master, typed.encode() + b"\n")
        assert proc.wait(timeout=60) == status
        tail = _drain(master)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert trigger_text(root) == trigger
    if status:
        assert b"that is not this host's name" in tail


# -- --verify -----------------------------------------------------------------------------------------
def _recorded(root: Path) -> ctrec.CrashTestRecord:
    host = LiveHost(str(root))
    record = ctrec.CrashTestRecord(started_at=time.time() - 600, hostname=HOSTNAME, kernel="6.1.0-18-amd64",
                                boot_id=BOOT_ID, dump_path="/var/crash", family="debian")
    ctrec.save_record(host, record)
    return record


def _reboot(root: Path) -> None:
    write(root, "/proc/sys/kernel/random/boot_id", "7d3c1f0e-2b4a-4f5e-8d6c-1a2b3c4d5e6f\n")


VMCORE_DMESG = """\
[  612.101234] sysrq: Trigger a crash
[  612.101400] Kernel panic - not syncing: sysrq triggered crash
[  612.101500] CPU: 1 PID: 4242 Comm: bash Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1
[  612.101600] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[  612.101700] Call Trace:
[  612.101710]  <TASK>
[  612.101720]  dump_stack_lvl+0x44/0x5c
[  612.101730]  panic+0x118/0x2ed
[  612.101740]  sysrq_handle_crash+0x16/0x20
[  612.101750]  __handle_sysrq.cold+0x43/0x11b
[  612.101760]  write_sysrq_trigger+0x24/0x40
[  612.101770]  proc_reg_write+0x56/0xa0
[  612.101780]  vfs_write+0xb9/0x3e0
[  612.101790]  ksys_write+0x6b/0xf0
[  612.101800]  do_syscall_64+0x58/0xc0
[  612.101810]  entry_SYSCALL_64_after_hwframe+0x64/0xce
[  612.101820]  </TASK>
"""


def test_verify_success_with_a_new_debian_dump(root: Path):
    record = _recorded(root)
    _reboot(root)
    dump_dir = root / "var/crash/202406010231"
    dump_dir.mkdir(parents=True)
    (dump_dir / "dump.202406010231").write_bytes(b"KDUMP   " + b"\0" * 4096)
    (dump_dir / "dmesg.202406010231").write_text(VMCORE_DMESG)
    outcome = ct.verify(LiveHost(str(root)), record)
    assert outcome.ok is True and outcome.exit_status == 0
    assert "kdump captured the test crash: /var/crash/202406010231" in outcome.message
    assert any("its kernel log shows the SysRq test crash" in d for d in outcome.details)
    assert any("dmesg.202406010231" in d for d in outcome.details)
    if importlib.util.find_spec("kerncheck.logs.scan") is None:
        # the log engine is not built yet: the report must say the culprit was not analysed
        assert any("panic culprit not analysed" in d for d in outcome.details), outcome.details
    else:
        assert outcome.dump is not None and outcome.dump["culprit"] == "sysrq_handle_crash", outcome.details
    proc = kerncheck("crash-test", "--verify", "--root", str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK: kdump captured the test crash" in proc.stdout
    saved = ctrec.load_record(LiveHost(str(root)))
    assert saved is not None and saved.verified_ok is True and saved.verified_at is not None
    assert "dump captured" in saved.summary()


def test_verify_rhel_layout_incomplete_dump(root: Path):
    record = _recorded(root)
    _reboot(root)
    dump_dir = root / "var/crash/192.168.122.10-2024-06-01-02:31:07"
    dump_dir.mkdir(parents=True)
    (dump_dir / "vmcore-incomplete").write_bytes(b"\0" * 1024)
    (dump_dir / "vmcore-dmesg.txt").write_text(VMCORE_DMESG)
    outcome = ct.verify(LiveHost(str(root)), record)
    assert outcome.ok is False and outcome.exit_status == 2
    assert "incomplete" in outcome.message


def test_verify_without_a_dump_and_without_a_crash(root: Path):
    record = _recorded(root)
    old = root / "var/crash/2023-01-01-00-00"  # a SUSE-style dump from before the test
    old.mkdir(parents=True)
    (old / "vmcore").write_bytes(b"\0" * 1024)
    (old / "dmesg").write_text(VMCORE_DMESG)
    os.utime(old / "vmcore", (record.started_at - 86400, record.started_at - 86400))
    os.utime(old / "dmesg", (record.started_at - 86400, record.started_at - 86400))
    same_boot = ct.verify(LiveHost(str(root)), record)
    assert same_boot.ok is False and "no crash happened: the boot id is unchanged" in same_boot.message
    _reboot(root)
    no_dump = ct.verify(LiveHost(str(root)), record)
    assert no_dump.ok is False and "no dump newer than the test" in no_dump.message
    assert "only older dumps: /var/crash/2023-01-01-00-00" in no_dump.message
    proc = kerncheck("crash-test", "--verify", "--root", str(root))
    assert proc.returncode == 2 and "FAILED" in proc.stdout
    saved = ctrec.load_record(LiveHost(str(root)))
    assert saved is not None and saved.verified_ok is False


def test_verify_without_record_is_unknown(root: Path):
    proc = kerncheck("crash-test", "--verify", "--root", str(root))
    assert proc.returncode == 3 and "no crash test is recorded" in proc.stderr


def test_corrupt_record_is_an_error_not_absent(root: Path):
    write(root, ctrec.STATE_FILE, "{not json")
    with pytest.raises(ctrec.RecordError, match="not valid JSON"):
        ctrec.load_record(LiveHost(str(root)))
    proc = kerncheck("crash-test", "--verify", "--root", str(root))
    assert proc.returncode == 3 and "cannot read the record" in proc.stderr

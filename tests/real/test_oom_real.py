"""OOM investigation against the real kernel: repeated memory-cgroup OOM kills, a process whose RSS really
grows, and JVMs (a process exec'd as ``java``, and a real JDK) inside memory cgroups with a limit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kerncheck.cli import main
from kerncheck.facts import Context
from kerncheck.host import LiveHost
from kerncheck.oom.investigate import investigate, jvm_fits
from kerncheck.oom.jvmheap import JvmFit
from kerncheck.oom.rsstrend import sample
from kerncheck.processes import read_process
from tests.real.memcg import MemoryCgroup

pytestmark = pytest.mark.real
MiB = 1 << 20

# Grows its RSS by 2 MiB every 0.2 s (touching every page), then holds it.
GROWER = r"""
import sys, time
hold = []
print("ready", flush=True)
for _ in range(int(sys.argv[1])):
    hold.append(bytearray(2 << 20))
    time.sleep(0.2)
time.sleep(600)
"""


def set_limit(cg: MemoryCgroup, mb: int) -> None:
    """Raise or lower a cgroup's limit (v1 keeps memory+swap ≥ memory: order the two writes)."""
    value = str(mb << 20)
    if cg.version == 2:
        Path(cg.path, "memory.max").write_text(value)
        return
    mem, memsw = Path(cg.path, "memory.limit_in_bytes"), Path(cg.path, "memory.memsw.limit_in_bytes")
    order = [memsw, mem] if (mb << 20) > int(mem.read_text()) else [mem, memsw]
    for f in order:
        if f.exists():
            f.write_text(value)


def start_in(cg: MemoryCgroup, argv: list[str], executable: str,
             ready: str = "ready") -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``argv`` inside the cgroup; returns the process and what it printed before ``ready``."""
    procs = os.path.join(cg.path, "cgroup.procs")

    def join() -> None:
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))

    proc = subprocess.Popen(argv, executable=executable, preexec_fn=join, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    output = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        output.append(line)
        if line.strip() == ready:
            return proc, output
    proc.kill()
    proc.wait()
    raise AssertionError(f"{argv[0]} did not start: {''.join(output)[-2000:]}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def test_repeated_memcg_oom_with_a_raised_limit_is_a_recurring_leak(capsys) -> None:
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    comm = f"kc-leak-{uuid.uuid4().hex[:6]}"
    with MemoryCgroup.create(limit_mb=48) as cg:
        victims = []
        for mb in (48, 64, 96):  # the operator's reflex: raise the limit and restart
            set_limit(cg, mb)
            victims.append(cg.oom_kill(comm=comm, allocate_mb=256))
        assert all(v.returncode == -9 for v in victims)
        report = investigate(Context(LiveHost()))
        (group,) = [g for g in report.groups if g.comm == comm]
        assert group.memcg == cg.kernel_path
        assert [k.pid for k in group.kills] == [v.pid for v in victims]
        names = [v.name for v in group.verdicts]
        assert "recurring_victim" in names and "leak_suspected" in names, group.verdicts
        sizes = [k.rss_kb for k in group.kills]
        assert sizes == sorted(sizes) and sizes[-1] > 1.5 * sizes[0]
        assert [k.limit_kb for k in group.kills] == [48 * 1024, 64 * 1024, 96 * 1024]

        rc = main(["oom", "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert doc["schema"] == "kerncheck.oom/1" and rc == 2 == doc["exit_status"]
        (victim,) = [v for v in doc["victims"] if v["victim"] == comm]
        assert victim["kill_count"] == 3 and victim["severity"] == "critical"
        main(["oom"])
        text = capsys.readouterr().out
        assert f"{comm} in {cg.kernel_path}" in text and "leak suspected" in text and "next:" in text


def test_live_rss_trend_of_a_growing_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", GROWER, "40"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
        host = LiveHost()
        me = read_process(host, proc.pid)
        idle = read_process(host, os.getpid())
        assert me and idle
        growing, steady = sample(host, [me, idle], seconds=4, interval=0.5)
        assert growing.growing, growing.describe()
        slope, r2 = growing.fit() or (0.0, 0.0)
        assert 5 * 1024 < slope < 20 * 1024 and r2 > 0.9  # ≈ 10 MiB/s
        assert not steady.growing
    finally:
        stop(proc)


def test_oom_cli_watches_a_pid(capsys) -> None:
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    proc = subprocess.Popen([sys.executable, "-c", GROWER, "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
        rc = main(["oom", "--watch-seconds", "3", "--interval", "0.5", "--pid", str(proc.pid), "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        (trend,) = [t for t in doc["trends"]["processes"] if t["pid"] == proc.pid]
        assert trend["growing"] and trend["samples"] >= 5
        assert rc >= 1
    finally:
        stop(proc)


def _fit_for(pid: int) -> JvmFit:
    ctx = Context(LiveHost())
    (fit,) = [f for f in jvm_fits(ctx) if f.proc.pid == pid]
    return fit


def test_fake_jvm_with_a_heap_above_its_cgroup_limit_is_critical() -> None:
    """A sleeper exec'd with argv[0] = java and JVM options, in a cgroup of 256 MiB."""
    sleeper = "import sys, time; print('ready', flush=True); time.sleep(600)"
    with MemoryCgroup.create(limit_mb=256) as cg:
        proc, _ = start_in(cg, ["java", "-Xmx512m", "-XX:+UseG1GC", "-c", sleeper], sys.executable)
        try:
            fit = _fit_for(proc.pid)
            assert fit.heap_bytes == 512 * MiB and fit.limit_bytes == 256 * MiB
            assert fit.proc.memcg == cg.kernel_path and cg.kernel_path in fit.limit_source
            assert fit.severity == "critical" and "reaches the limit" in fit.message()
        finally:
            stop(proc)


def test_real_jdk_in_a_cgroup_matches_its_own_heap_and_warns(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("no java on PATH (Debian openjdk-17-jre-headless)")
    src = tmp_path / "Sleep.java"
    src.write_text('public class Sleep { public static void main(String[] a) throws Exception {'
                   ' System.out.println("ready"); System.out.flush(); Thread.sleep(600000); } }\n')
    with MemoryCgroup.create(limit_mb=512) as cg:
        java = shutil.which("java") or "java"
        proc, printed = start_in(cg, ["java", "-XX:MaxRAMPercentage=50", "-XX:+PrintFlagsFinal", str(src)], java)
        try:
            # The JVM's own final flags, printed at start-up inside the cgroup.
            (real_heap,) = [int(ln.split()[3]) for ln in printed if ln.split()[1:2] == ["MaxHeapSize"]]
            fit = _fit_for(proc.pid)
            assert real_heap - 32 * MiB <= fit.heap_bytes <= real_heap, (fit.heap_bytes, real_heap)
            assert fit.limit_bytes == 512 * MiB and fit.severity == "warning", fit.message()
        finally:
            stop(proc)


def test_snapshot_keeps_only_the_jvm_option_variables(tmp_path: Path) -> None:
    """kerncheck collect of a host running a JVM whose environment holds a secret: the snapshot has the
    JVM option variable (the audit sees the heap it sets) and no environ file, no secret."""
    from kerncheck.collect import collect_into
    from kerncheck.host import SnapshotHost

    sleeper = "import sys, time; print('ready', flush=True); time.sleep(600)"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JAVA_TOOL_OPTIONS": "-Xmx200m",
           "DB_PASSWORD": "kc-secret-4711"}
    with MemoryCgroup.create(limit_mb=256) as cg:
        procs = os.path.join(cg.path, "cgroup.procs")

        def join() -> None:
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))

        proc = subprocess.Popen(["java", "-XX:+UseG1GC", "-c", sleeper], executable=sys.executable, env=env,
                                preexec_fn=join, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout and proc.stdout.readline().strip() == "ready"
            snap = tmp_path / "snap"
            snap.mkdir()
            collect_into(LiveHost(), str(snap))
            leaked = [p for p in snap.rglob("*") if p.is_file() and b"kc-secret-4711" in p.read_bytes()]
            assert leaked == [] and not list(snap.glob("proc/*/environ"))
            (fit,) = [f for f in jvm_fits(Context(SnapshotHost(str(snap)))) if f.proc.pid == proc.pid]
            assert fit.heap_bytes == 200 * MiB and "JAVA_TOOL_OPTIONS" in fit.options.heap_source()
            assert fit.limit_bytes == 256 * MiB and fit.severity == "critical"  # 200M + ~130M overhead > 256M
        finally:
            stop(proc)


JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"


def _journal_entries(log: str, boot: str, start_usec: int) -> str:
    """``dmesg -r`` lines as journal export entries of kernel transport (what journald stores)."""
    entries = []
    for line in log.splitlines():
        prio, _, rest = line.partition(">[")
        stamp, _, msg = rest.partition("] ")
        mono = int(float(stamp) * 1e6)
        entries.append(f"__REALTIME_TIMESTAMP={start_usec + mono}\n__MONOTONIC_TIMESTAMP={mono}\n_BOOT_ID={boot}\n"
                       f"_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\nPRIORITY={prio.lstrip('<')}\n"
                       f"_SOURCE_MONOTONIC_TIMESTAMP={mono}\nMESSAGE={msg}\n\n")
    return "".join(entries)


def test_kills_of_an_earlier_boot_come_from_journald(tmp_path: Path) -> None:
    """Two kills logged in the previous boot (a real journal file, read by real journalctl) and one in this
    boot's log make one victim group across boots."""
    from kerncheck.host import SnapshotHost
    from kerncheck.logs.boots import host_incidents
    from kerncheck.oom.investigate import oom_groups
    from tests.conftest import FIXTURE_HOSTS

    if not shutil.which("journalctl") or not os.path.exists(JOURNAL_REMOTE):
        pytest.skip("journalctl and systemd-journal-remote (Debian package systemd-journal-remote) are needed")
    snap = tmp_path / "snap"
    shutil.copytree(FIXTURE_HOSTS / "oom-memcg-recurring", snap, symlinks=True)
    log = (snap / "commands" / "dmesg_-r").read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(log) if "invoked oom-killer" in line]
    earlier, current = "".join(log[:starts[2]]), "".join(log[starts[2]:])
    journal = tmp_path / "kernel.journal"
    data = (_journal_entries(earlier, "1e0f5d2b9a6c4f1e8d7c6b5a49382716", 1795500000_000000)
            + _journal_entries("<6>[    0.000000] Linux version 6.18.44-fc-v657\n", "2f1e6d3c0b7d5e2f9e8d7c6b5a493827",
                               1795600000_000000))
    done = subprocess.run([JOURNAL_REMOTE, f"--output={journal}", "-"], input=data.encode(), capture_output=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    argv = ["journalctl", f"--file={journal}", "-k", "-b", "-1", "-o", "json", "--no-pager"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.count("Killed process") == 2, out.stderr
    (snap / "commands" / "journalctl_-k_-b_-1_-o_json_--no-pager").write_text(out.stdout)
    (snap / "commands" / "journalctl_-k_-b_-1_-o_json_--no-pager.rc").write_text("0\n")
    (snap / "commands" / "journalctl_-k_-b_-1_-o_json_--no-pager.err").unlink()
    (snap / "commands" / "dmesg_-r").write_text(current)

    ctx = Context(SnapshotHost(str(snap)))
    logs = host_incidents(ctx)
    assert logs.sources == ["dmesg -r", "journalctl -k -b -1"]
    (group,) = oom_groups(ctx, logs)
    assert [k.boot for k in group.kills] == ["-1", "-1", "current"]
    assert [v.name for v in group.verdicts] == ["recurring_victim", "leak_suspected"]
    assert group.kills[0].epoch is not None  # journald gives the earlier boot's kills a wall-clock time


def test_no_journald_on_this_machine_is_a_note_not_an_error() -> None:
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    from kerncheck.logs.boots import host_incidents

    logs = host_incidents(Context(LiveHost()))
    assert logs.error is None and logs.sources[0] == "/dev/kmsg"
    if shutil.which("journalctl") is None:
        assert any("earlier boots not read" in n for n in logs.notes)
    elif len(logs.sources) == 1:  # journalctl is here, but this VM keeps no journal of earlier boots
        assert any("no earlier boot in the journal" in n for n in logs.notes), logs.notes

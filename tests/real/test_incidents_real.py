"""The incident engine and KC503 on this machine's real kernel: an ext4 error provoked on a loop device
(ext4's ``trigger_fs_error``), and a real memory-cgroup OOM kill read back from /dev/kmsg."""

from __future__ import annotations

import os

import pytest

from kerncheck.facts import Context
from kerncheck.finding import Status
from kerncheck.host import LiveHost
from kerncheck.logs.incidents import build_incidents
from kerncheck.logs.records import iter_records
from tests.real.memcg import MemoryCgroup

pytestmark = pytest.mark.real


def _kmsg_after(start: int) -> bytes:
    """Records appended to /dev/kmsg since ``start`` (an offset from :func:`_kmsg_end`)."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    chunks = []
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                chunks.append(os.read(fd, 8192))
            except BlockingIOError:
                break
            except BrokenPipeError:
                continue
    finally:
        os.close(fd)
    return b"".join(c for c in chunks if int(c.split(b",", 2)[1]) >= start)


def _kmsg_end() -> int:
    """The sequence number the next kernel record will get."""
    data = _kmsg_after(0)
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1] if data else b"0,0"
    return int(last.split(b",", 2)[1]) + 1 if b";" in last else 0


def test_ext4_error_remount_read_only_is_reported_by_the_log_and_kc503(lab):
    dev = lab.loop(lab.image("fserr", mkfs="ext4"))
    lab.mount(dev, options=["errors=remount-ro"])
    name = os.path.basename(dev)
    trigger = f"/sys/fs/ext4/{name}/trigger_fs_error"
    if not os.path.exists(trigger):
        pytest.skip(f"{trigger} is missing: this kernel cannot provoke an ext4 error")
    start = _kmsg_end()
    with open(trigger, "w") as fh:
        fh.write("kerncheck real test error\n")

    incidents = build_incidents(iter_records(_kmsg_after(start), "/dev/kmsg", fmt="kmsg"))
    mine = [i for i in incidents if i.device == name]
    assert [i.kind for i in mine] == ["fs_error", "fs_readonly"]
    assert mine[0].function == "trigger_test_error" and mine[0].details["fs"] == "ext4"

    from kerncheck.checks.kernel_log import filesystem_errors

    results = {r.subject: r for r in filesystem_errors(Context(LiveHost()))}
    assert results[name].status is Status.FAIL
    assert results[name].evidence["ext4"]["errors_count"] >= 1
    assert results[name].evidence["remounted_read_only"]["mount_points"]
    assert f"kerncheck fsck /dev/{name}" in results[name].fix


def test_real_memcg_oom_kill_names_the_victim():
    start = _kmsg_end()
    with MemoryCgroup.create(limit_mb=48) as cg:
        victim = cg.oom_kill(comm="kc-incident-oom", allocate_mb=256)
        memcg = cg.kernel_path
    kills = [i for i in build_incidents(iter_records(_kmsg_after(start), "/dev/kmsg", fmt="kmsg"))
             if i.kind == "oom_kill"]
    assert kills, "the OOM kill did not reach /dev/kmsg"
    inc = kills[-1]
    assert inc.process == {"pid": victim.pid, "comm": victim.comm}
    assert inc.details["oom_memcg"] == memcg and inc.details["memcg_limit_kb"] == 48 * 1024
    assert inc.details["victim"]["anon_rss_kb"] > 0

"""A real ext4 error on a loop device makes the kernel remount it read-only; the fs_readonly condition stays
open while the filesystem is read-only and resolves once it is no longer mounted read-only.

The image, loop device and mount are this test's own (temp dir), removed also when the test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.real.watchproc import WatchProcess

pytestmark = pytest.mark.real


def run(*argv: str) -> str:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture
def ext4_loop(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("loop devices and mounts need root")
    for tool in ("mkfs.ext4", "losetup", "mount", "umount"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (Debian packages e2fsprogs, mount)")
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(image, "wb") as fh:
        fh.truncate(64 << 20)
    run("mkfs.ext4", "-q", "-F", str(image))
    dev = run("losetup", "--find", "--show", str(image))
    mounted = False
    try:
        run("mount", "-o", "errors=remount-ro", dev, str(mnt))
        mounted = True
        name = os.path.basename(dev)
        trigger = f"/sys/fs/ext4/{name}/trigger_fs_error"
        if not os.path.exists(trigger):
            pytest.skip(f"{trigger} is absent: this kernel cannot be asked for an ext4 error")
        yield name, mnt, trigger
    finally:
        if mounted and os.path.ismount(mnt):
            subprocess.run(["umount", str(mnt)], capture_output=True, timeout=60)
        subprocess.run(["losetup", "-d", dev], capture_output=True, timeout=60)


def test_readonly_condition_opens_on_the_error_and_resolves_when_unmounted(ext4_loop, tmp_path):
    name, mnt, trigger = ext4_loop
    with WatchProcess(tmp_path, "--source", "kmsg") as w:
        with open(trigger, "w") as fh:
            fh.write("kerncheck watch test")
        _, ro = w.wait_for(lambda e: e["kind"] == "fs_readonly" and e["device"] == name, 10)
        w.wait_for(lambda e: e["kind"] == "fs_error" and e["device"] == name, 10)
        assert ro["state"] == "open" and ro["severity"] == "critical"
        gauge = 'kerncheck_condition{device="' + name + '",kind="fs_readonly"}'
        assert w.metric(gauge) == 1
        time.sleep(2.5)  # two ticks of clearing checks: still read-only, so still open
        assert not [e for _, e in w.events if e["id"] == ro["id"] and e["state"] == "resolved"]
        subprocess.run(["umount", str(mnt)], check=True, capture_output=True, timeout=60)
        _, resolved = w.wait_for(lambda e: e["id"] == ro["id"] and e["state"] == "resolved", 10)
        assert resolved["reason"] == f"{name} is no longer mounted read-only"
        assert w.metric(gauge) == 0

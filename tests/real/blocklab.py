"""Real block devices for tests: loop devices on image files in a temp dir, with guaranteed cleanup.

    def test_x(block_lab):                     # fixture in test modules: skips with a reason if impossible
        dev = block_lab.loop(block_lab.image("a", mkfs="ext4", label="kc-a"))
        mnt = block_lab.mount(dev)

Everything created is undone in reverse order when the test ends, also when it fails: processes holding
mount namespaces are killed, mounts unmounted, swap turned off, device-mapper targets removed, loop devices
detached and images deleted with the temp dir. Only devices created here are ever formatted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Optional

import pytest


def run(argv: Sequence[str], check: bool = True, input: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, input=input, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (install util-linux/e2fsprogs/xfsprogs/fdisk)")


class BlockLab:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._undo: list[tuple[str, Callable[[], object]]] = []
        self.images: list[Path] = []

    @classmethod
    def open(cls, tmp: Path) -> BlockLab:
        if os.geteuid() != 0:
            pytest.skip("loop devices need root")
        if not os.path.exists("/dev/loop-control"):
            pytest.skip("no /dev/loop-control: this kernel has no loop driver")
        require("losetup", "mount", "umount", "blkid")
        return cls(tmp)

    # -- building ---------------------------------------------------------------------------------
    def image(self, name: str, size_mb: int = 16, mkfs: Optional[str] = "ext4", label: Optional[str] = None,
              directory: Optional[Path] = None) -> Path:
        path = (directory or self.tmp) / f"{name}.img"
        with open(path, "wb") as fh:
            fh.truncate(size_mb << 20)
        self.images.append(path)
        if mkfs:
            self.mkfs(str(path), mkfs, label)
        return path

    def mkfs(self, target: str, fstype: str, label: Optional[str] = None) -> None:
        if fstype == "ext4":
            require("mkfs.ext4")
            run(["mkfs.ext4", "-q", "-F", *(["-L", label] if label else []), target])
        elif fstype == "xfs":
            require("mkfs.xfs")
            run(["mkfs.xfs", "-q", "-f", *(["-L", label] if label else []), target])
        elif fstype == "swap":
            require("mkswap")
            run(["mkswap", *(["-L", label] if label else []), target])
        else:
            raise ValueError(fstype)

    def loop(self, image: Path, partitions: bool = False) -> str:
        dev = run(["losetup", "--find", "--show", *(["--partscan"] if partitions else []), str(image)]).stdout.strip()
        self._undo.append((f"detach {dev}", lambda: run(["losetup", "--detach", dev], check=False)))
        return dev

    def partitions(self, dev: str, count: int) -> list[str]:
        """Partition nodes of a partitioned loop device; asks the kernel with partx when the kernel's own
        partition-table parsing is not built in."""
        names = [f"{dev}p{i}" for i in range(1, count + 1)]
        if not all(os.path.exists(n) for n in names):
            require("partx")
            run(["partx", "--add", dev], check=False)
            self._undo.append((f"partx -d {dev}", lambda: run(["partx", "--delete", dev], check=False)))
        for _ in range(50):
            if all(os.path.exists(n) for n in names):
                return names
            time.sleep(0.1)
        pytest.skip(f"partitions of {dev} did not appear (no partition support for loop devices here)")
        return names

    def mount(self, dev: str, where: Optional[Path] = None, options: Sequence[str] = ()) -> Path:
        mnt = where or Path(self._fresh_dir("mnt"))
        mnt.mkdir(parents=True, exist_ok=True)
        run(["mount", *(["-o", ",".join(options)] if options else []), dev, str(mnt)])
        self._undo.append((f"umount {mnt}", lambda: self.umount(mnt)))
        return mnt

    def bind(self, source: Path, target: Optional[Path] = None) -> Path:
        mnt = target or Path(self._fresh_dir("bind"))
        mnt.mkdir(parents=True, exist_ok=True)
        run(["mount", "--bind", str(source), str(mnt)])
        self._undo.append((f"umount {mnt}", lambda: self.umount(mnt)))
        return mnt

    def umount(self, mnt: Path, lazy: bool = False) -> None:
        if lazy or run(["umount", str(mnt)], check=False).returncode != 0:
            run(["umount", "--lazy", str(mnt)], check=False)

    def swap(self, dev: str) -> None:
        require("swapon", "swapoff")
        self.mkfs(dev, "swap")
        proc = run(["swapon", dev], check=False)
        if proc.returncode != 0:
            pytest.skip(f"swapon {dev} is not permitted here: {proc.stderr.strip()}")
        self._undo.append((f"swapoff {dev}", lambda: run(["swapoff", dev], check=False)))

    def dm_linear(self, dev: str, name: str) -> str:
        require("dmsetup", "blockdev")
        sectors = run(["blockdev", "--getsz", dev]).stdout.strip()
        proc = run(["dmsetup", "create", name, "--table", f"0 {sectors} linear {dev} 0"], check=False)
        if proc.returncode != 0:
            pytest.skip(f"device-mapper is not available here: {proc.stderr.strip().splitlines()[0]}")
        self._undo.append((f"dmsetup remove {name}", lambda: run(["dmsetup", "remove", "--retry", name],
                                                                   check=False)))
        return f"/dev/mapper/{name}"

    def mount_in_new_namespace(self, dev: str) -> tuple[subprocess.Popen[str], Path]:
        """Mount ``dev`` in a private mount namespace kept alive by a sleeping process (killed at cleanup)."""
        require("unshare")
        mnt = Path(self._fresh_dir("nsmnt"))
        mnt.mkdir()
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"mount {dev} {mnt} && echo ready && exec sleep 600"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def stop() -> None:
            proc.kill()
            proc.wait(timeout=10)

        self._undo.append((f"kill namespace holder {proc.pid}", stop))
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            pytest.skip(f"cannot mount in a new mount namespace (unshare -m): {err.strip() or 'no reply'}")
        return proc, mnt

    def _fresh_dir(self, stem: str) -> str:
        for i in range(1000):
            path = self.tmp / f"{stem}{i}"
            if not path.exists():
                return str(path)
        raise RuntimeError("no free directory name")

    # -- cleanup ----------------------------------------------------------------------------------
    def close(self) -> None:
        errors = []
        for what, undo in reversed(self._undo):
            try:
                undo()
            except Exception as exc:  # keep undoing the rest
                errors.append(f"{what}: {exc}")
        self._undo.clear()
        leftover = run(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"], check=False).stdout
        ours = [line for line in leftover.splitlines() if str(self.tmp) in line]
        if ours or errors:
            raise AssertionError(f"cleanup left {ours} / errors {errors}")

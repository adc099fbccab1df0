"""The lab's kernel cache: ABI resolution from apt's output, manifests, locking, offline fallback."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from lab import cache, images
from lab.errors import LabError, LabUnavailable

# `apt-cache depends linux-image-amd64` and `apt-cache show --no-all-versions linux-image-6.1.0-56-amd64`
# on Debian 12, verbatim (show output cut after the fields that matter).
DEPENDS = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n"
SHOW = """Package: linux-image-6.1.0-56-amd64
Source: linux-signed-amd64 (6.1.192+2)
Version: 6.1.192-2
Installed-Size: 407929
Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
Architecture: amd64
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
"""
LDD_KEXEC = """\tlinux-vdso.so.1 (0x00007ff4f1c7f000)
\tlibxenctrl.so.4.17 => /lib/x86_64-linux-gnu/libxenctrl.so.4.17 (0x00007ff4f1b3b000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff4f1959000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007ff4f1c81000)
"""


def test_resolution_parsing():
    assert cache.parse_meta_depends(DEPENDS) == "6.1.0-56-amd64"
    assert cache.parse_show_version(SHOW) == "6.1.192-2"
    ref = cache.KernelRef("6.1.0-56-amd64", "6.1.192-2")
    assert ref.packages == ("linux-image-6.1.0-56-amd64", "linux-headers-6.1.0-56-amd64",
                            "linux-headers-6.1.0-56-common", "linux-kbuild-6.1")
    assert ref.key == "6.1.0-56-amd64_6.1.192-2"


def test_resolution_failures_say_what_is_wrong():
    with pytest.raises(LabUnavailable, match="apt-get update"):
        cache.parse_meta_depends("linux-image-amd64\n")
    with pytest.raises(LabUnavailable, match="Version"):
        cache.parse_show_version("Package: x\n")


def test_ldd_parsing():
    assert images.parse_ldd(LDD_KEXEC) == ["/lib/x86_64-linux-gnu/libxenctrl.so.4.17",
                                           "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
    with pytest.raises(LabUnavailable, match="libfoo"):
        images.parse_ldd("\tlibfoo.so.1 => not found\n")


def test_static_elf_detection():
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.skip("busybox (Debian busybox-static) is not installed")
    assert images.is_static_elf(Path(busybox).resolve())
    assert not images.is_static_elf(Path(shutil.which("sh") or "/bin/sh").resolve())


def _entry(root: Path, name: str) -> Path:
    entry = root / name
    entry.mkdir(parents=True)
    (entry / "vmlinuz").write_bytes(b"kernel" * 100)
    cache.write_manifest(entry, {"abi": name.split("_")[0]}, ["vmlinuz"])
    return entry


def test_manifest_detects_interrupted_and_corrupt_entries(tmp_path):
    entry = _entry(tmp_path, "6.1.0-56-amd64_6.1.192-2")
    assert cache.verify_manifest(entry) is None
    (entry / "vmlinuz").write_bytes(b"truncated")
    assert "does not match its sha256" in cache.verify_manifest(entry)
    (entry / "vmlinuz").unlink()
    assert "vmlinuz" in cache.verify_manifest(entry)
    (entry / cache.MANIFEST).unlink()
    assert "interrupted build" in cache.verify_manifest(entry)
    cache.discard(entry)
    assert not entry.exists() and not list(tmp_path.iterdir())


def test_without_apt_the_newest_complete_entry_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # apt-cache really cannot be run
    with pytest.raises(LabUnavailable, match=r"apt-cache is not installed.*holds no complete kernel"):
        cache.kernel(tmp_path)
    old = _entry(tmp_path, "6.1.0-55-amd64_6.1.180-1")
    new = _entry(tmp_path, "6.1.0-56-amd64_6.1.192-2")
    os.utime(old, (1, 1))
    broken = _entry(tmp_path, "6.1.0-57-amd64_6.1.200-1")
    (broken / "vmlinuz").write_bytes(b"corrupt")
    assert cache.kernel(tmp_path).path == new
    assert cache.kernel(tmp_path, offline=True).ref == cache.KernelRef("6.1.0-56-amd64", "6.1.192-2")


def test_lock_wait_is_bounded(tmp_path):
    lock = tmp_path / ".lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(LabError, match="timed out after 0 s waiting for the test"), \
                cache.file_lock(lock, 0.3, "the test"):
            pass
    finally:
        os.close(fd)
    with cache.file_lock(lock, 0.3, "the test"):
        pass

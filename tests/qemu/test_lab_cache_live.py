"""A cold lab cache, built for real from Debian's archive into a private directory, then corrupted."""

from __future__ import annotations

import re

import pytest

from lab import cache, images
from lab.errors import LabUnavailable

pytestmark = pytest.mark.qemu


def test_cold_build_then_a_corrupt_entry_is_rebuilt(tmp_path, capfd):
    try:
        ref = cache.resolve_kernel()
    except LabUnavailable as exc:
        pytest.skip(f"apt cannot resolve the current Debian kernel: {exc}")
    root = tmp_path / "cache"
    kernel = cache.kernel(root)
    assert kernel.ref == ref and kernel.path == root / ref.key
    assert cache.verify_manifest(kernel.path) is None
    assert kernel.vmlinuz.stat().st_size > 4 << 20
    assert (kernel.headers / "Makefile").read_text().startswith("include ../")
    assert not list(root.glob(".build-*")), "the temporary build directory must be gone"

    built = images.images(kernel)
    modinfo = built.crashtest.read_bytes()
    vermagic = re.search(rb"vermagic=(\S+)", modinfo)
    assert vermagic and vermagic.group(1).decode() == ref.abi
    assert built.initrd.stat().st_size > 500_000

    kernel.vmlinuz.write_bytes(b"not a kernel")
    assert "does not match its sha256" in (cache.verify_manifest(kernel.path) or "")
    capfd.readouterr()
    again = cache.kernel(root)
    assert "rebuilding cache entry" in capfd.readouterr().err
    assert cache.verify_manifest(again.path) is None and again.vmlinuz.stat().st_size > 4 << 20

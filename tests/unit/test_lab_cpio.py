"""The lab's pure-Python newc writer, checked byte by byte and read back by a real cpio (busybox)."""

from __future__ import annotations

import gzip
import io
import shutil
import stat
import subprocess

import pytest

from lab import cpio


def _entries() -> dict[str, cpio.Entry]:
    return {
        "init": cpio.regular(b"#!/bin/sh\necho hi\n", 0o755),
        "dev/console": cpio.chardev(5, 1, 0o600),
        "dev/null": cpio.chardev(1, 3, 0o666),
        "lib/modules/x.ko": cpio.regular(b"\x7fELF" + bytes(range(256)) * 3),
        "bin/sh": cpio.symlink("busybox"),
        "tmp": cpio.directory(0o1777),
    }


def _parse(stream: bytes) -> list[tuple[str, int, int, tuple[int, int], bytes]]:
    """An independent reading of the newc layout (name, mode, nlink, rdev, data)."""
    out, pos = [], 0
    while True:
        assert pos % 4 == 0
        assert stream[pos:pos + 6] == b"070701"
        fields = [int(stream[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name = stream[pos + 110:pos + 110 + namesize]
        assert name.endswith(b"\0")
        pos += 110 + namesize
        pos += -pos % 4
        data = stream[pos:pos + filesize]
        pos += filesize
        pos += -pos % 4
        if name[:-1] == b"TRAILER!!!":
            assert pos == len(stream)
            return out
        out.append((name[:-1].decode(), fields[1], fields[4], (fields[9], fields[10]), data))


def test_layout_parents_first_and_trailer():
    raw = io.BytesIO()
    cpio.write_newc(_entries(), raw)
    parsed = _parse(raw.getvalue())
    names = [p[0] for p in parsed]
    assert names == sorted(names)
    for implied in ("dev", "lib", "lib/modules", "bin"):
        assert implied in names
        assert names.index(implied) < names.index(next(n for n in names if n.startswith(implied + "/")))
    by_name = {p[0]: p for p in parsed}
    assert by_name["dev/console"][1] == stat.S_IFCHR | 0o600 and by_name["dev/console"][3] == (5, 1)
    assert by_name["dev/null"][3] == (1, 3)
    assert by_name["lib"][1] == stat.S_IFDIR | 0o755 and by_name["lib"][2] == 2
    assert by_name["tmp"][1] == stat.S_IFDIR | 0o1777
    assert by_name["init"][4] == b"#!/bin/sh\necho hi\n" and by_name["init"][2] == 1
    assert by_name["bin/sh"][1] == stat.S_IFLNK | 0o777 and by_name["bin/sh"][4] == b"busybox"
    assert len(set(names)) == len(names)


def test_gzip_is_deterministic():
    first = cpio.gzip_newc(_entries())
    assert first == cpio.gzip_newc(dict(reversed(list(_entries().items()))))
    assert gzip.decompress(first).startswith(b"070701")


@pytest.mark.parametrize("bad", ["", "/", "../etc/passwd", "a/../../b"])
def test_rejects_paths_outside_the_archive(bad):
    with pytest.raises(ValueError):
        cpio.write_newc({bad: cpio.regular(b"")}, io.BytesIO())


def test_real_cpio_reads_it(tmp_path):
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.skip("busybox (Debian busybox-static) is not installed")
    image = tmp_path / "initrd.cpio"
    with open(image, "wb") as fh:
        cpio.write_newc(_entries(), fh)
    with open(image, "rb") as fh:
        listing = subprocess.run([busybox, "cpio", "-t", "-v"], stdin=fh, capture_output=True, text=True,
                                 timeout=30, check=True).stdout
    lines = {line.split()[-1] if "->" not in line else line.split()[-3]: line for line in listing.splitlines()}
    assert lines["dev/console"].startswith("crw-------")
    assert lines["dev/null"].startswith("crw-rw-rw-")
    assert lines["init"].startswith("-rwxr-xr-x")
    assert lines["bin/sh"].startswith("lrwxrwxrwx") and lines["bin/sh"].endswith("-> busybox")
    # Regular files and symlinks extract intact (device nodes are left out: extracting them needs mknod).
    out = tmp_path / "out"
    out.mkdir()
    with open(image, "rb") as fh:
        subprocess.run([busybox, "cpio", "-i", "-d", "init", "lib/modules/x.ko", "bin/sh"], stdin=fh,
                       cwd=out, capture_output=True, timeout=30, check=True)
    assert (out / "init").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert (out / "init").stat().st_mode & 0o777 == 0o755
    assert (out / "lib/modules/x.ko").read_bytes() == _entries()["lib/modules/x.ko"].data
    assert (out / "bin/sh").is_symlink() and str((out / "bin/sh").readlink()) == "busybox"

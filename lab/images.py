"""Guest images: the crash-trigger module built against the cached headers, and the initramfs images.

* ``initrd.gz`` — static busybox, ``/init`` (``guest/init.sh``) and ``crashtest.ko``: every ordinary case;
* ``capture.gz`` — the same plus the virtio modules, ``makedumpfile`` and ``vmcore-dmesg`` with their
  shared libraries: the kdump capture kernel's initramfs;
* ``initrd-kdump.gz`` — the base plus ``kexec`` (with libraries), the kernel as ``/boot/vmlinuz`` and the
  capture initramfs as ``/boot/capture.gz``: the first kernel of the kdump cases.

Images live beside the kernel they were built for, keyed by a hash of every input (guest sources, this
builder, the host binaries copied in), so editing ``init.sh`` rebuilds them and nothing else does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lab import cpio
from lab.cache import MANIFEST, VIRTIO_MODULES, Kernel, discard, file_lock, verify_manifest, write_manifest
from lab.errors import LabError, LabUnavailable

GUEST = Path(__file__).resolve().parent / "guest"
BUILDER_SOURCES = (GUEST / "init.sh", GUEST / "crashtest.c", GUEST / "Kbuild", Path(__file__).resolve(),
                   Path(cpio.__file__).resolve())
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MODULE_BUILD_TIMEOUT = 300.0
_PT_INTERP = 3


def parse_ldd(text: str) -> list[str]:
    """Absolute library paths from ``ldd`` output (the vDSO has none and is skipped).

    >>> parse_ldd("\\tlinux-vdso.so.1 (0x00007ff4)\\n\\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\\n"
    ...           "\\t/lib64/ld-linux-x86-64.so.2 (0x00007ff4)\\n")
    ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']
    """
    paths = []
    for line in text.splitlines():
        m = re.match(r"\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$", line)
        if m:
            paths.append(m.group(1))
        elif "=> not found" in line:
            raise LabUnavailable(f"ldd: a library is missing: {line.strip()}")
    return paths


def is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF executable without a program interpreter (statically linked)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != _PT_INTERP for i in range(phnum))


def which(name: str) -> Optional[Path]:
    found = shutil.which(name, path=SEARCH_PATH)
    return Path(found) if found else None


def libraries(binary: Path) -> list[Path]:
    try:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30, check=False,
                             stdin=subprocess.DEVNULL)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise LabUnavailable(f"cannot list the libraries of {binary}: {exc}") from None
    return [Path(p) for p in parse_ldd(out.stdout)]


@dataclass(frozen=True)
class HostTools:
    """The host binaries copied into the guest; the kdump ones are optional."""

    busybox: Path
    kdump: dict[str, Path]  # kexec, makedumpfile, vmcore-dmesg → path (empty when incomplete)
    kdump_missing: tuple[str, ...]


def find_tools() -> HostTools:
    busybox = which("busybox")
    if busybox is None:
        raise LabUnavailable("busybox is not installed (Debian package busybox-static)")
    if not is_static_elf(busybox.resolve()):
        raise LabUnavailable(f"{busybox} is dynamically linked; the guest needs busybox-static")
    kdump = {name: which(name) for name in ("kexec", "makedumpfile", "vmcore-dmesg")}
    missing = tuple(name for name, path in kdump.items() if path is None)
    found = {name: path for name, path in kdump.items() if path is not None}
    return HostTools(busybox.resolve(), {} if missing else found, missing)


def _identity(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _images_key(tools: HostTools, libs: list[Path]) -> str:
    digest = hashlib.sha256()
    for source in BUILDER_SOURCES:
        digest.update(source.read_bytes())
    for path in [tools.busybox, *tools.kdump.values(), *libs]:
        digest.update(_identity(path).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Images:
    path: Path
    kdump_missing: tuple[str, ...]  # host tools whose absence rules out the kdump cases

    @property
    def initrd(self) -> Path:
        return self.path / "initrd.gz"

    @property
    def kdump_initrd(self) -> Path:
        if self.kdump_missing:
            raise LabUnavailable(f"the kdump cases need {', '.join(self.kdump_missing)} on the host "
                                 "(Debian packages kexec-tools, makedumpfile)")
        return self.path / "initrd-kdump.gz"

    @property
    def crashtest(self) -> Path:
        return self.path / "crashtest.ko"


def build_module(kernel: Kernel, work: Path) -> Path:
    """``crashtest.ko`` built against the cached headers (as any user, nothing installed)."""
    src = work / "crashtest"
    src.mkdir()
    for name in ("crashtest.c", "Kbuild"):
        shutil.copy(GUEST / name, src / name)
    argv = ["make", "-C", str(kernel.headers), f"M={src}", "modules"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=MODULE_BUILD_TIMEOUT, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise LabUnavailable("make is not installed (the module build needs make and gcc)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"building crashtest.ko took more than {MODULE_BUILD_TIMEOUT:.0f} s") from None
    ko = src / "crashtest.ko"
    if proc.returncode != 0 or not ko.exists():
        output = [line for line in (proc.stdout + proc.stderr).splitlines() if "BTF" not in line]
        raise LabError("building crashtest.ko failed:\n" + "\n".join(output[-25:]))
    return ko


def _base_entries(tools: HostTools, init: bytes, crashtest: bytes) -> dict[str, cpio.Entry]:
    entries: dict[str, cpio.Entry] = {d: cpio.directory() for d in
                                      ("bin", "sbin", "lib", "dev", "proc", "sys", "tmp", "boot", "etc")}
    entries.update({
        "bin/busybox": cpio.regular(tools.busybox.read_bytes(), 0o755),
        "init": cpio.regular(init, 0o755),
        "dev/console": cpio.chardev(5, 1, 0o600),
        "dev/null": cpio.chardev(1, 3, 0o666),
        "lib/crashtest.ko": cpio.regular(crashtest),
    })
    return entries


def _add_binary(entries: dict[str, cpio.Entry], binary: Path) -> None:
    """A dynamic binary as ``/bin/<name>``, its libraries at the absolute paths ``ldd`` resolved."""
    entries[f"bin/{binary.name}"] = cpio.regular(binary.read_bytes(), 0o755)
    for lib in libraries(binary):
        entries[str(lib).lstrip("/")] = cpio.regular(lib.resolve().read_bytes(), 0o755)


def _build_images(kernel: Kernel, tools: HostTools, final: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=".build-images-", dir=final.parent))
    try:
        entry = work / "entry"
        entry.mkdir()
        ko = build_module(kernel, work)
        shutil.copy(ko, entry / "crashtest.ko")
        base = _base_entries(tools, (GUEST / "init.sh").read_bytes(), ko.read_bytes())
        (entry / "initrd.gz").write_bytes(cpio.gzip_newc(base))
        files = ["crashtest.ko", "initrd.gz"]
        if tools.kdump:
            capture = dict(base)
            for name in VIRTIO_MODULES:
                capture[f"lib/modules/{name}.ko"] = cpio.regular(kernel.module(name).read_bytes())
            _add_binary(capture, tools.kdump["makedumpfile"])
            _add_binary(capture, tools.kdump["vmcore-dmesg"])
            capture_gz = cpio.gzip_newc(capture)
            first = dict(base)
            _add_binary(first, tools.kdump["kexec"])
            first["boot/vmlinuz"] = cpio.regular(kernel.vmlinuz.read_bytes())
            first["boot/capture.gz"] = cpio.regular(capture_gz)
            (entry / "capture.gz").write_bytes(capture_gz)
            (entry / "initrd-kdump.gz").write_bytes(cpio.gzip_newc(first))
            files += ["capture.gz", "initrd-kdump.gz"]
        write_manifest(entry, {"kernel": kernel.ref.key, "kdump_missing": list(tools.kdump_missing),
                               "built": time.strftime("%Y-%m-%dT%H:%M:%S")}, files)
        os.rename(entry, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def images(kernel: Kernel) -> Images:
    """The guest images for ``kernel``, built (under the cache lock) when an input changed."""
    tools = find_tools()
    libs = [lib for binary in tools.kdump.values() for lib in libraries(binary)]
    final = kernel.path / f"images-{_images_key(tools, libs)}"
    if verify_manifest(final) is None:
        return Images(final, tools.kdump_missing)
    with file_lock(kernel.path.parent / ".lock", 900.0, "another process building the lab images"):
        problem = verify_manifest(final)
        if problem is not None:
            if final.exists():
                discard(final)
            started = time.monotonic()
            _build_images(kernel, tools, final)
            problem = verify_manifest(final)
            if problem:
                raise LabError(f"freshly built images are not intact: {problem}")
            print(f"lab: built guest images in {time.monotonic() - started:.1f} s", file=sys.stderr,
                  flush=True)
        for old in kernel.path.glob("images-*"):  # images of older inputs
            if old != final and (old / MANIFEST).exists():
                discard(old)
    return Images(final, tools.kdump_missing)

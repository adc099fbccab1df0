"""The kernel cache: Debian's current ``linux-image-*-amd64`` and its headers, keyed by kernel version.

The version is resolved at run time from the ``linux-image-amd64`` meta-package (Debian drops old ABIs from
the archive, so nothing is pinned). A cache entry is built in a temporary directory under a lock file and
renamed into place; its ``manifest.json`` (written last, with sha256 sums) marks it complete, and an entry
whose sums no longer match is rebuilt. When the archive cannot be reached, the newest complete entry is
used instead, and the reason is reported.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lab.errors import LabError, LabUnavailable

MANIFEST = "manifest.json"
LOCK_TIMEOUT = 900.0  # a cold build downloads ~85 MB; another process may be doing it
APT_TIMEOUT = 600.0
# The virtio stack the capture kernel needs to write the dump disk, in load order.
VIRTIO_MODULES = ("virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
                  "virtio_blk")


def cache_root() -> Path:
    """``$KERNCHECK_LAB_CACHE``, else ``$XDG_CACHE_HOME/kerncheck-lab`` (``~/.cache`` by default).

    It lives outside the work tree, so CI runs on the same machine reuse it."""
    env = os.environ.get("KERNCHECK_LAB_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "kerncheck-lab"


@dataclass(frozen=True)
class KernelRef:
    """A Debian kernel ABI (``6.1.0-56-amd64``) and the package version that provides it."""

    abi: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.abi}_{self.version}"

    @property
    def packages(self) -> tuple[str, ...]:
        flavourless = re.sub(r"-[a-z0-9]+$", "", self.abi)  # 6.1.0-56
        series = ".".join(self.abi.split(".")[:2])  # 6.1
        return (f"linux-image-{self.abi}", f"linux-headers-{self.abi}", f"linux-headers-{flavourless}-common",
                f"linux-kbuild-{series}")


def parse_meta_depends(text: str) -> str:
    """The ABI the ``linux-image-amd64`` meta-package points at, from ``apt-cache depends`` output.

    >>> parse_meta_depends("linux-image-amd64\\n  Depends: linux-image-6.1.0-56-amd64\\n")
    '6.1.0-56-amd64'
    """
    for line in text.splitlines():
        m = re.match(r"\s*\|?Depends:\s+linux-image-(\d\S*-amd64)\s*$", line)
        if m:
            return m.group(1)
    raise LabUnavailable("apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package "
                         "(is the Debian archive configured and `apt-get update` done?)")


def parse_show_version(text: str) -> str:
    """The ``Version:`` of the first stanza of ``apt-cache show --no-all-versions`` output."""
    m = re.search(r"^Version:\s*(\S+)\s*$", text, re.M)
    if not m:
        raise LabUnavailable("apt-cache show printed no Version: field")
    return m.group(1)


def _run(argv: Sequence[str], timeout: float, cwd: Optional[Path] = None) -> str:
    try:
        proc = subprocess.run(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise LabUnavailable(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise LabUnavailable(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise LabUnavailable(f"`{' '.join(argv)}` failed (exit {proc.returncode}): {' / '.join(detail)}")
    return proc.stdout


def resolve_kernel() -> KernelRef:
    """The kernel ``linux-image-amd64`` currently depends on, asked of apt (no network needed)."""
    abi = parse_meta_depends(_run(["apt-cache", "depends", "linux-image-amd64"], 60))
    version = parse_show_version(_run(["apt-cache", "show", "--no-all-versions", f"linux-image-{abi}"], 60))
    return KernelRef(abi, version)


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``, waiting at most ``timeout`` seconds for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LabError(f"timed out after {timeout:.0f} s waiting for {what} ({path})") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: Path, info: dict, files: Sequence[str]) -> None:
    """Write ``manifest.json`` with ``info`` and the sha256 of ``files``: the mark of a complete entry."""
    info = dict(info, sha256={name: sha256_file(directory / name) for name in files})
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(info, indent=1, sort_keys=True))
    os.rename(tmp, directory / MANIFEST)


def verify_manifest(directory: Path) -> Optional[str]:
    """None when ``directory`` is a complete, intact cache entry, else why not."""
    try:
        info = json.loads((directory / MANIFEST).read_text())
        sums = info["sha256"]
    except FileNotFoundError:
        return f"{directory} has no {MANIFEST} (an interrupted build)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{directory / MANIFEST} is unreadable: {exc}"
    for name, expected in sums.items():
        try:
            if sha256_file(directory / name) != expected:
                return f"{directory / name} does not match its sha256 in {MANIFEST}"
        except OSError as exc:
            return f"{directory / name}: {exc.strerror}"
    return None


def discard(path: Path) -> None:
    """Remove a cache entry: rename it out of the way first, so no reader sees half of it."""
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


@dataclass(frozen=True)
class Kernel:
    """A complete kernel cache entry."""

    ref: KernelRef
    path: Path

    @property
    def vmlinuz(self) -> Path:
        return self.path / "vmlinuz"

    @property
    def config(self) -> Path:
        return self.path / "config"

    @property
    def headers(self) -> Path:
        return self.path / "headers" / "usr" / "src" / f"linux-headers-{self.ref.abi}"

    def module(self, name: str) -> Path:
        return self.path / "modules" / f"{name}.ko"


def _extract_image(deb: Path, dest: Path) -> None:
    """vmlinuz, config and the virtio modules out of a linux-image deb, streamed (no full unpack)."""
    wanted = {f"{name}.ko" for name in VIRTIO_MODULES}
    (dest / "modules").mkdir(parents=True)
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    found = set()
    try:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                base = os.path.basename(member.name)
                if not member.isfile():
                    continue
                if re.fullmatch(r"\./boot/vmlinuz-.*", member.name):
                    target = dest / "vmlinuz"
                elif re.fullmatch(r"\./boot/config-.*", member.name):
                    target = dest / "config"
                elif base in wanted and "/kernel/drivers/" in member.name:
                    target = dest / "modules" / base
                else:
                    continue
                src = tar.extractfile(member)
                assert src is not None
                with open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                found.add(target.name)
    finally:
        if proc.stdout:
            proc.stdout.close()
        rc = proc.wait(timeout=60)
    missing = ({"vmlinuz", "config"} | wanted) - found
    if rc != 0 or missing:
        raise LabError(f"{deb.name}: dpkg-deb exit {rc}, missing {sorted(missing)}")


def _extract_headers(debs: Sequence[Path], dest: Path, abi: str) -> None:
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(dest)], 300)
    makefile = dest / "usr" / "src" / f"linux-headers-{abi}" / "Makefile"
    try:
        text = makefile.read_text()
    except OSError as exc:
        raise LabError(f"headers have no {makefile}: {exc.strerror}") from None
    # The arch package includes the -common tree by absolute path; make it relative (make -C runs in the
    # arch directory, and every symlink in the tree is relative), so the tree works wherever it lies.
    makefile.write_text(text.replace("include /usr/src/", "include ../"))


def _download(ref: KernelRef, dest: Path) -> dict[str, Path]:
    _run(["apt-get", "download", "-q", *ref.packages], APT_TIMEOUT, cwd=dest)
    debs = {}
    for name in ref.packages:
        matches = sorted(dest.glob(f"{name}_*.deb"))
        if not matches:
            raise LabUnavailable(f"apt-get download did not produce {name}_*.deb")
        debs[name] = matches[-1]
    return debs


def _build_kernel(ref: KernelRef, final: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f".build-{ref.key}-", dir=final.parent))
    try:
        entry = work / "entry"
        debs_dir = work / "debs"
        debs_dir.mkdir()
        _say(f"downloading {', '.join(ref.packages)}")
        started = time.monotonic()
        debs = _download(ref, debs_dir)
        size = sum(d.stat().st_size for d in debs.values()) >> 20
        _say(f"downloaded {size} MiB in {time.monotonic() - started:.1f} s; extracting")
        _extract_image(debs[ref.packages[0]], entry)
        _extract_headers([debs[name] for name in ref.packages[1:]], entry / "headers", ref.abi)
        files = ["vmlinuz", "config", *(f"modules/{m}.ko" for m in VIRTIO_MODULES)]
        write_manifest(entry, {"abi": ref.abi, "version": ref.version, "packages": list(ref.packages),
                               "built": time.strftime("%Y-%m-%dT%H:%M:%S")}, files)
        os.rename(entry, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _say(message: str) -> None:
    print(f"lab: {message}", file=sys.stderr, flush=True)


def _newest_complete(root: Path) -> Optional[Kernel]:
    candidates = []
    for path in root.glob("*_*"):
        if path.is_dir() and not path.name.startswith(".") and verify_manifest(path) is None:
            abi, _, version = path.name.partition("_")
            candidates.append((path.stat().st_mtime, Kernel(KernelRef(abi, version), path)))
    return max(candidates, key=lambda item: item[0])[1] if candidates else None


def kernel(root: Optional[Path] = None, offline: bool = False) -> Kernel:
    """The cached current kernel, downloading and unpacking it first if needed.

    ``offline`` skips apt entirely and uses the newest complete entry."""
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    try:
        if offline:
            raise LabUnavailable("offline mode")
        ref = resolve_kernel()
    except LabUnavailable as exc:
        fallback = _newest_complete(root)
        if fallback is None:
            raise LabUnavailable(f"cannot resolve the current Debian kernel ({exc}) "
                                 f"and {root} holds no complete kernel") from None
        _say(f"using cached kernel {fallback.ref.key}: {exc}")
        return fallback
    final = root / ref.key
    if verify_manifest(final) is None:
        return Kernel(ref, final)
    with file_lock(root / ".lock", LOCK_TIMEOUT, "another process building the lab cache"):
        problem = verify_manifest(final)
        if problem is None:
            return Kernel(ref, final)
        if final.exists():
            _say(f"rebuilding cache entry: {problem}")
            discard(final)
        for stale in [*root.glob(".build-*"), *root.glob(".trash-*")]:  # left by killed builds
            shutil.rmtree(stale, ignore_errors=True)
        try:
            _build_kernel(ref, final)
        except LabUnavailable as exc:
            fallback = _newest_complete(root)
            if fallback is None:
                raise
            _say(f"using cached kernel {fallback.ref.key}: {exc}")
            return fallback
        problem = verify_manifest(final)
        if problem:
            raise LabError(f"freshly built cache entry is not intact: {problem}")
        for old in root.glob("*_*"):  # superseded kernels: the archive no longer offers them
            if old != final and old.is_dir() and not old.name.startswith("."):
                discard(old)
        return Kernel(ref, final)

"""The Host seam: every read of the machine goes through here.

A :class:`LiveHost` reads the running system (optionally re-rooted in a directory, which is how the
dangerous paths are tested). A :class:`SnapshotHost` reads a directory whose sub-paths mirror absolute
paths, as written by ``kerncheck collect`` or by ``sos report``:

* ``proc/cmdline``, ``sys/kernel/kexec_crash_size``, ``etc/kdump.conf`` … — files at their absolute path;
* ``commands/<name>`` — the standard output of a command, ``commands/<name>.rc`` its exit status and
  ``commands/<name>.err`` its standard error (both optional). ``<name>`` is the argv mangled the way sos
  does it (:func:`mangle_command`): ``kdumpctl status`` → ``commands/kdumpctl_status``;
* ``kerncheck-snapshot.json`` — when and where it was collected.

An extracted sosreport is recognised by its ``sos_commands/`` directory; command outputs are then looked
up as ``sos_commands/<plugin>/<name>`` (sos keeps no exit status, so ``returncode`` is ``None``).
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import re
import shutil
import stat as stat_mod
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from kerncheck.parsers.elf import build_id_from_elf

SNAPSHOT_META = "kerncheck-snapshot.json"
SNAPSHOT_STAT = "kerncheck-stat.json"  # file metadata; the only trace of files too large to copy (kernels, dumps)
COMMANDS_DIR = "commands"
_MAX_SYMLINKS = 40
# Captured kernel-log commands a snapshot may hold, best first.
KERNEL_LOG_COMMANDS = (["dmesg", "-r"], ["dmesg"], ["journalctl", "-k", "-b", "-o", "short-monotonic"])


class HostError(Exception):
    """A read or command through the Host failed; ``str()`` says what and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NotFound(HostError):
    """The file, directory or command output does not exist on this host."""


class AccessDenied(HostError):
    """The file exists but cannot be read with the current privileges."""


class CommandUnavailable(HostError):
    """The command is not installed (live) or was not captured (snapshot)."""


class CommandTimeout(HostError):
    """The command did not finish within its timeout and was killed."""


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: Optional[int]  # None when unknown (sosreport output)
    stdout: str
    stderr: str = ""


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime: float
    mode: int
    inode: int = 0
    device: int = 0  # st_dev: the filesystem holding the file
    rdev: int = 0  # st_rdev: the device a block/character device node stands for

    @property
    def is_dir(self) -> bool:
        return stat_mod.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return stat_mod.S_ISREG(self.mode)

    @property
    def is_block_device(self) -> bool:
        return stat_mod.S_ISBLK(self.mode)


@dataclass(frozen=True)
class FsUsage:
    """Space on the filesystem holding a path, in bytes."""

    mountpoint: str
    total: int
    available: int


def mangle_command(argv: Sequence[str]) -> str:
    """File name under which sos (and ``kerncheck collect``) stores a command's output.

    >>> mangle_command(["kdumpctl", "status"])
    'kdumpctl_status'
    >>> mangle_command(["/usr/sbin/dmesg", "-T"])
    'dmesg_-T'
    >>> mangle_command(["lsinitrd", "/boot/initramfs-5.14.0kdump.img"])
    'lsinitrd_.boot.initramfs-5.14.0kdump.img'
    """
    cmd = " ".join(argv)
    cmd = re.sub(r"^(/usr/bin/|/usr/sbin/|/bin/|/sbin/)", "", cmd)
    cmd = re.sub(r"[^\w\-./]+", "_", cmd)
    cmd = cmd.replace("/", ".")
    return cmd.strip(" ._-")


def _errno_error(path: str, exc: OSError) -> HostError:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return NotFound(path, "no such file")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return AccessDenied(path, "permission denied")
    return HostError(path, exc.strerror or str(exc))


class Host(ABC):
    """Read-only view of a machine. Paths are absolute paths *on that machine*."""

    kind: str = "host"

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    # -- path mapping -------------------------------------------------------------------------
    def local_path(self, path: str) -> str:
        """The path on this machine's filesystem that holds ``path`` of the host (symlinks re-rooted)."""
        if not path.startswith("/"):
            raise HostError(path, "host paths must be absolute")
        if self.root == "/":
            return path
        return self._resolve(path)

    def _resolve(self, path: str, follow_last: bool = True) -> str:
        parts = [p for p in path.split("/") if p and p != "."]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = os.path.join(self.root, *resolved, part)
            if os.path.islink(candidate) and (parts or follow_last):
                hops += 1
                if hops > _MAX_SYMLINKS:
                    raise HostError(path, "too many levels of symbolic links")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                parts = [p for p in target.split("/") if p and p != "."] + parts
                continue
            resolved.append(part)
        return os.path.join(self.root, *resolved)

    def host_path(self, local: str) -> str:
        """Inverse of :meth:`local_path` for paths below the root."""
        if self.root == "/":
            return local
        rel = os.path.relpath(local, self.root)
        return "/" if rel == "." else "/" + rel

    # -- files -------------------------------------------------------------------------------
    def read_bytes(self, path: str, limit: Optional[int] = None, offset: int = 0) -> bytes:
        local = self.local_path(path)
        try:
            with open(local, "rb") as fh:
                if offset:
                    fh.seek(offset)
                if limit is None:
                    return fh.read()
                # Read in chunks: /proc/sys handlers allocate a kernel buffer of the requested size.
                chunks: list[bytes] = []
                remaining = limit
                while remaining > 0:
                    chunk = fh.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    remaining -= len(chunk)
                return b"".join(chunks)
        except OSError as exc:
            if exc.errno == errno.EISDIR:
                raise HostError(path, "is a directory") from exc
            raise _errno_error(path, exc) from exc

    def read_text(self, path: str, limit: Optional[int] = None) -> str:
        return self.read_bytes(path, limit).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.local_path(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self.local_path(path))

    def is_file(self, path: str) -> bool:
        return os.path.isfile(self.local_path(path))

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self.local_path(path)))
        except OSError as exc:
            raise _errno_error(path, exc) from exc

    def glob(self, pattern: str) -> list[str]:
        """Host paths matching a shell pattern (``*``, ``?``, ``[..]`` per component), sorted."""
        if not pattern.startswith("/"):
            raise HostError(pattern, "host patterns must be absolute")
        found = ["/"]
        for comp in [c for c in pattern.split("/") if c]:
            nxt: list[str] = []
            for base in found:
                if any(ch in comp for ch in "*?["):
                    try:
                        names = self.listdir(base)
                    except HostError:
                        continue
                    nxt.extend(os.path.join(base, n) for n in names
                               if fnmatch.fnmatchcase(n, comp) and (comp.startswith(".") or n[0] != "."))
                else:
                    candidate = os.path.join(base, comp)
                    if self.exists(candidate):
                        nxt.append(candidate)
            found = nxt
        return sorted(found)

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        local = self.local_path(path) if follow_symlinks else self._nofollow(path)
        try:
            st = os.stat(local, follow_symlinks=follow_symlinks)
        except OSError as exc:
            raise _errno_error(path, exc) from exc
        return FileStat(st.st_size, st.st_mtime, st.st_mode, st.st_ino, st.st_dev, st.st_rdev)

    def _nofollow(self, path: str) -> str:
        if self.root == "/":
            return path
        head, tail = os.path.split(path.rstrip("/") or "/")
        return os.path.join(self._resolve(head), tail) if tail else self._resolve(head)

    def readlink(self, path: str) -> str:
        try:
            return os.readlink(self._nofollow(path))
        except OSError as exc:
            raise _errno_error(path, exc) from exc

    def build_id(self, path: str) -> Optional[str]:
        """GNU build-id of an ELF file on the host (``None`` if it is not ELF or has none)."""
        return build_id_from_elf(lambda offset, length: self.read_bytes(path, length, offset))

    def realpath(self, path: str) -> str:
        """The canonical host path, with symlinks resolved inside the host."""
        if self.root == "/":
            return os.path.realpath(path)
        return self.host_path(self._resolve(path))

    # -- the rest differs between live hosts and snapshots ----------------------------------
    @abstractmethod
    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        """Run (live) or look up (snapshot) a command given as an argv list. Never uses a shell."""

    @abstractmethod
    def fs_usage(self, path: str) -> FsUsage:
        """Size and free space of the filesystem holding ``path``."""

    @abstractmethod
    def now(self) -> float:
        """Current time on the host (for a snapshot: when it was collected)."""

    @abstractmethod
    def kernel_log(self) -> tuple[str, bytes]:
        """The current boot's kernel log as ``(source name, raw bytes)``; the log engine detects the format.

        Live: every record still in the ``/dev/kmsg`` ring buffer (raw kmsg format, read without
        blocking). Snapshot: the captured ``dev/kmsg`` records, else a captured ``dmesg`` output.
        """

    @property
    def is_live(self) -> bool:
        return False

    @property
    def absence_is_known(self) -> bool:
        """Whether a missing file means it does not exist on the host (not merely: was not captured)."""
        return True

    def describe(self) -> str:
        return f"{self.kind} {self.root}"


class LiveHost(Host):
    """The running machine. ``root`` other than ``/`` re-roots file access (used by tests of guards)."""

    kind = "live"

    def __init__(self, root: str = "/") -> None:
        super().__init__(root)

    @property
    def is_live(self) -> bool:
        return True

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        argv = tuple(argv)
        if not argv:
            raise HostError("<command>", "empty argv")
        if shutil.which(argv[0]) is None:
            raise CommandUnavailable(argv[0], "command not found")
        env = dict(os.environ, LC_ALL="C", LANG="C")
        try:
            proc = subprocess.run(
                list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CommandTimeout(" ".join(argv), f"timed out after {timeout:g}s") from exc
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOEXEC):
                raise CommandUnavailable(argv[0], "command not found") from exc
            raise _errno_error(argv[0], exc) from exc
        return CommandResult(argv, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                             proc.stderr.decode("utf-8", "replace"))

    def fs_usage(self, path: str) -> FsUsage:
        local = self.local_path(path)
        try:
            st = os.statvfs(local)
        except OSError as exc:
            raise _errno_error(path, exc) from exc
        mount = os.path.realpath(local)
        while not os.path.ismount(mount) and mount != "/":
            mount = os.path.dirname(mount)
        return FsUsage(self.host_path(mount) if self.root != "/" else mount,
                       st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize)

    def now(self) -> float:
        return time.time()

    def kernel_log(self) -> tuple[str, bytes]:
        path = self.local_path("/dev/kmsg")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise _errno_error("/dev/kmsg", exc) from exc
        chunks: list[bytes] = []
        try:
            while True:
                try:
                    rec = os.read(fd, 8192)
                except BlockingIOError:
                    break
                except BrokenPipeError:
                    continue  # records overwritten while reading: the next read returns the oldest one left
                except OSError as exc:
                    if exc.errno == errno.EINVAL:  # re-rooted hosts hold a plain file, not the device
                        break
                    raise _errno_error("/dev/kmsg", exc) from exc
                if not rec:
                    break
                chunks.append(rec)
        finally:
            os.close(fd)
        return "/dev/kmsg", b"".join(chunks)

    def write_text(self, path: str, data: str) -> None:
        """Write to a host file (used only by the guarded crash trigger and state files)."""
        local = self.local_path(path)
        try:
            with open(local, "w") as fh:
                fh.write(data)
        except OSError as exc:
            raise _errno_error(path, exc) from exc


def _parse_df(text: str) -> list[FsUsage]:
    """Parse POSIX ``df -P`` / ``df -al`` output (1K, 512 or 1-byte blocks) into FsUsage rows."""
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split()
    unit = 1024
    if len(header) > 1:
        m = re.match(r"(\d+)([KMG]?)-?[bB]locks", header[1])
        if m:
            unit = int(m.group(1)) * {"": 1, "K": 1024, "M": 1 << 20, "G": 1 << 30}[m.group(2)]
    rows: list[FsUsage] = []
    pending = ""
    for line in lines[1:]:
        fields = (pending + " " + line).split() if pending else line.split()
        if len(fields) < 6:
            pending = line  # long device names wrap onto the next line
            continue
        pending = ""
        try:
            total, avail = int(fields[1]), int(fields[3])
        except ValueError:
            continue
        rows.append(FsUsage(" ".join(fields[5:]), total * unit, avail * unit))
    return rows


class SnapshotHost(Host):
    """A captured host: a ``kerncheck collect`` snapshot or an extracted sosreport."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        if not os.path.isdir(self.root):
            raise NotFound(root, "snapshot directory does not exist")
        self.is_sosreport = os.path.isdir(os.path.join(self.root, "sos_commands"))
        self.kind = "sosreport" if self.is_sosreport else "snapshot"
        self.meta: dict[str, object] = {}
        meta_path = os.path.join(self.root, SNAPSHOT_META)
        if os.path.isfile(meta_path):
            try:
                with open(meta_path) as fh:
                    loaded = json.load(fh)
                if isinstance(loaded, dict):
                    self.meta = loaded
            except (OSError, ValueError):
                self.meta = {}
        self._sos_index: Optional[dict[str, str]] = None
        self.stat_manifest: dict[str, dict[str, Any]] = {}
        manifest_path = os.path.join(self.root, SNAPSHOT_STAT)
        if os.path.isfile(manifest_path):
            try:
                with open(manifest_path) as fh:
                    loaded = json.load(fh)
                if isinstance(loaded, dict):
                    self.stat_manifest = {k: v for k, v in loaded.items() if isinstance(v, dict)}
            except (OSError, ValueError):
                pass

    # Files recorded only by their metadata appear in listings and stat(), but cannot be read.
    def exists(self, path: str) -> bool:
        return super().exists(path) or path in self.stat_manifest or self.is_dir(path)

    def is_file(self, path: str) -> bool:
        entry = self.stat_manifest.get(path)
        if entry is not None:
            return stat_mod.S_ISREG(int(entry.get("mode", stat_mod.S_IFREG)))
        return super().is_file(path)

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        extra = {p[len(prefix):].split("/")[0] for p in self.stat_manifest if p.startswith(prefix)}
        try:
            names = set(super().listdir(path))
        except NotFound:
            if not extra:
                raise
            names = set()
        return sorted(names | extra)

    def is_dir(self, path: str) -> bool:
        entry = self.stat_manifest.get(path)
        if entry is not None:
            return stat_mod.S_ISDIR(int(entry.get("mode", 0)))
        prefix = path.rstrip("/") + "/"
        return super().is_dir(path) or any(p.startswith(prefix) for p in self.stat_manifest)

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        # The manifest keeps the host's times even where the copy's were lost (e.g. fixtures in git).
        entry = self.stat_manifest.get(path)
        if entry is not None:
            return FileStat(int(entry.get("size", 0)), float(entry.get("mtime", 0)),
                            int(entry.get("mode", stat_mod.S_IFREG | 0o644)))
        return super().stat(path, follow_symlinks)

    def read_bytes(self, path: str, limit: Optional[int] = None, offset: int = 0) -> bytes:
        if path in self.stat_manifest and not super().exists(path):
            raise AccessDenied(path, f"only the metadata of this file is in the {self.kind}")
        return super().read_bytes(path, limit, offset)

    def build_id(self, path: str) -> Optional[str]:
        entry = self.stat_manifest.get(path)
        if entry is not None and "build_id" in entry:
            value = entry["build_id"]
            return value if isinstance(value, str) else None
        return super().build_id(path)

    def _command_file(self, argv: Sequence[str]) -> Optional[str]:
        name = mangle_command(argv)
        own = os.path.join(self.root, COMMANDS_DIR, name)
        if os.path.isfile(own):
            return own
        if self.is_sosreport:
            if self._sos_index is None:
                self._sos_index = {}
                base = os.path.join(self.root, "sos_commands")
                for plugin in sorted(os.listdir(base)):
                    pdir = os.path.join(base, plugin)
                    if os.path.isdir(pdir):
                        for fname in os.listdir(pdir):
                            self._sos_index.setdefault(fname, os.path.join(pdir, fname))
            return self._sos_index.get(name)
        return None

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        argv = tuple(argv)
        path = self._command_file(argv)
        if path is None:
            raise CommandUnavailable(" ".join(argv), f"not captured in this {self.kind}")
        with open(path, "rb") as fh:
            stdout = fh.read().decode("utf-8", "replace")
        rc: Optional[int] = None
        stderr = ""
        if not self.is_sosreport or path.startswith(os.path.join(self.root, COMMANDS_DIR)):
            rc = 0
            try:
                with open(path + ".rc") as fh:
                    rc = int(fh.read().strip())
            except (OSError, ValueError):
                pass
            try:
                with open(path + ".err", "rb") as fh:
                    stderr = fh.read().decode("utf-8", "replace")
            except OSError:
                pass
            if rc == 127 and not stdout:
                raise CommandUnavailable(" ".join(argv), "command was not installed on the host")
        return CommandResult(argv, rc, stdout, stderr)

    def fs_usage(self, path: str) -> FsUsage:
        rows: list[FsUsage] = []
        for argv in (["df", "-P", "-B1", "-a"], ["df", "-al", "-x", "autofs"], ["df", "-al"], ["df", "-P"]):
            try:
                rows = _parse_df(self.run(argv).stdout)
            except CommandUnavailable:
                continue
            if rows:
                break
        if not rows:
            raise CommandUnavailable("df", f"no df output captured in this {self.kind}")
        target = self.realpath(path)
        best: Optional[FsUsage] = None
        for row in rows:
            mp = row.mountpoint.rstrip("/") or "/"
            if (target == mp or target.startswith(mp + "/") or mp == "/") and (
                best is None or len(mp) > len(best.mountpoint.rstrip("/") or "/")
            ):
                best = row
        if best is None:
            raise NotFound(path, "no filesystem in the captured df output holds this path")
        return best

    def kernel_log(self) -> tuple[str, bytes]:
        kmsg = os.path.join(self.root, "dev", "kmsg")
        if os.path.isfile(kmsg):
            with open(kmsg, "rb") as fh:
                return "/dev/kmsg", fh.read()
        for argv in KERNEL_LOG_COMMANDS:
            try:
                return " ".join(argv), self.run(argv).stdout.encode("utf-8")
            except CommandUnavailable:
                continue
        for path in ("/var/log/dmesg", "/var/log/kern.log"):
            local = self.local_path(path)
            if os.path.isfile(local):
                with open(local, "rb") as fh:
                    return path, fh.read()
        raise NotFound("/dev/kmsg", f"no kernel log captured in this {self.kind}")

    @property
    def absence_is_known(self) -> bool:
        """True for ``kerncheck collect`` snapshots and sosreports; a bare directory proves no absence."""
        return bool(self.meta) or self.is_sosreport

    def now(self) -> float:
        collected = self.meta.get("collected_at")
        if isinstance(collected, (int, float)):
            return float(collected)
        return os.stat(self.root).st_mtime


def open_host(root: Optional[str]) -> Host:
    """``None`` or ``/`` → the live machine; a directory → a snapshot or sosreport; a ``.tar.*`` archive
    of either is extracted into a temporary directory first (removed at exit)."""
    if root is None or root == "/":
        return LiveHost("/")
    if os.path.isfile(root) and (".tar" in os.path.basename(root) or root.endswith(".tgz")):
        import atexit
        import tarfile
        import tempfile

        from kerncheck.collect import extract_archive

        tmp = tempfile.mkdtemp(prefix="kerncheck-snapshot-")
        atexit.register(shutil.rmtree, tmp, True)
        try:
            return SnapshotHost(extract_archive(root, tmp))
        except (OSError, EOFError, ValueError, tarfile.TarError) as exc:
            raise HostError(root, f"cannot extract archive: {exc}") from exc
    return SnapshotHost(root)

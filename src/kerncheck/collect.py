"""``kerncheck collect``: capture what the checks read into a snapshot that ``audit --root`` understands.

The snapshot layout is the one :class:`~kerncheck.host.SnapshotHost` reads: files at their absolute path,
command outputs under ``commands/``, metadata of large files in ``kerncheck-stat.json`` and the collection
context in ``kerncheck-snapshot.json``. Secrets are never copied: a deny list of paths (shadow files, SSH
and TLS private keys…) is applied to every pattern, and any file whose content holds a private key is
dropped.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
import stat as stat_mod
import tarfile
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Optional

from kerncheck import __version__, registry
from kerncheck.facts import Context
from kerncheck.host import (
    COMMANDS_DIR,
    SNAPSHOT_META,
    SNAPSHOT_STAT,
    CommandTimeout,
    CommandUnavailable,
    Host,
    HostError,
    mangle_command,
)

MAX_FILE_BYTES = 8 << 20
DENY_PATTERNS = (
    "/etc/shadow*", "/etc/gshadow*", "/etc/security/opasswd", "/etc/sudoers*",
    "/etc/ssh/*key*", "*/.ssh/*", "*.key", "*.pem", "*.p12", "*.pfx", "*/private/*",
    "/proc/*/environ", "/proc/kcore", "/proc/kmsg", "/dev/mem", "/var/crash/*/vmcore*",
)
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
# Always captured: df for free space, mount tables, and what identifies the host.
BASE_FILES = ("/proc/self/mountinfo", "/proc/mounts", "/etc/os-release", "/usr/lib/os-release",
              "/proc/sys/kernel/osrelease", "/proc/sys/kernel/hostname", "/etc/hostname")
BASE_COMMANDS = (("df", "-P", "-B1", "-a"), ("uname", "-a"))


def denied(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, pat) for pat in DENY_PATTERNS)


@dataclass
class CollectReport:
    files: int = 0
    stat_only: int = 0
    commands: int = 0
    skipped: list[str] = field(default_factory=list)


def _mirror_links(host: Host, path: str, dest: str) -> str:
    """Recreate the symlinked directories above ``path`` in the snapshot (sysfs is full of them) and return
    the real path under which the file itself is stored."""
    parts = [p for p in path.split("/") if p]
    current = "/"
    for part in parts[:-1]:
        candidate = posixpath.join(current, part)
        try:
            st = host.stat(candidate, follow_symlinks=False)
        except HostError:
            return path
        if stat_mod.S_ISLNK(st.mode):
            link = os.path.join(dest, candidate.lstrip("/"))
            if not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(host.readlink(candidate), link)
            current = host.realpath(candidate)
        else:
            current = candidate
    return posixpath.join(current, parts[-1]) if parts else path


def _copy_file(host: Host, path: str, dest: str, report: CollectReport, manifest: dict[str, dict]) -> None:
    target = os.path.join(dest, _mirror_links(host, path, dest).lstrip("/"))
    if os.path.lexists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        st = host.stat(path, follow_symlinks=False)
    except HostError as exc:
        report.skipped.append(f"{path}: {exc.reason}")
        return
    if stat_mod.S_ISLNK(st.mode):  # keep symlinks: the snapshot resolves them inside its root
        os.symlink(host.readlink(path), target)
        report.files += 1
        return
    if st.is_dir:
        os.makedirs(target, exist_ok=True)
        return
    try:
        data = host.read_bytes(path, MAX_FILE_BYTES + 1)
    except HostError as exc:
        report.skipped.append(f"{path}: {exc.reason}")
        return
    if PRIVATE_KEY.search(data):
        report.skipped.append(f"{path}: holds a private key, not collected")
        return
    if len(data) > MAX_FILE_BYTES:
        manifest[path] = {"size": st.size, "mtime": st.mtime, "mode": st.mode}
        report.stat_only += 1
        return
    with open(target, "wb") as fh:
        fh.write(data)
    os.utime(target, (st.mtime, st.mtime))
    manifest[path] = {"size": len(data), "mtime": st.mtime, "mode": st.mode}
    report.files += 1


def _record_stat(host: Host, path: str, manifest: dict[str, dict], report: CollectReport) -> None:
    try:
        st = host.stat(path)
    except HostError as exc:
        report.skipped.append(f"{path}: {exc.reason}")
        return
    entry: dict[str, object] = {"size": st.size, "mtime": st.mtime, "mode": st.mode}
    if st.is_file:
        try:
            entry["build_id"] = host.build_id(path)
        except HostError:
            pass
    manifest[path] = entry
    report.stat_only += 1


def _run_command(host: Host, argv: tuple[str, ...], dest: str, report: CollectReport) -> None:
    base = os.path.join(dest, COMMANDS_DIR, mangle_command(argv))
    os.makedirs(os.path.dirname(base), exist_ok=True)
    try:
        result = host.run(argv, timeout=30)
        stdout, stderr, rc = result.stdout, result.stderr, result.returncode
    except CommandUnavailable:
        stdout, stderr, rc = "", f"{argv[0]}: command not found\n", 127
    except CommandTimeout as exc:
        stdout, stderr, rc = "", f"{exc}\n", 124
    except HostError as exc:
        stdout, stderr, rc = "", f"{exc}\n", 126
    with open(base, "w") as fh:
        fh.write(stdout)
    with open(base + ".rc", "w") as fh:
        fh.write(f"{rc}\n")
    if stderr:
        with open(base + ".err", "w") as fh:
            fh.write(stderr)
    report.commands += 1


def collect_into(host: Host, dest: str) -> CollectReport:
    """Write a snapshot of ``host`` into the directory ``dest``."""
    registry.load_all()
    report = CollectReport()
    manifest: dict[str, dict] = {}
    paths: list[str] = []
    for pattern in (*BASE_FILES, *registry.COLLECT_FILES):
        paths.extend(host.glob(pattern) if any(c in pattern for c in "*?[") else [pattern])
    for path in dict.fromkeys(paths):
        if denied(path):
            continue
        if host.exists(path):
            _copy_file(host, path, dest, report, manifest)
    ctx = Context(host)
    dynamic = {kind: [item for func in funcs for item in func(ctx)] for kind, funcs in registry.COLLECT_DYNAMIC.items()}
    for path in dynamic["files"]:
        if not denied(path) and host.exists(path):
            _copy_file(host, path, dest, report, manifest)
    for pattern in (*registry.COLLECT_STAT, *dynamic["stat"]):
        for path in host.glob(pattern):
            if path not in manifest:  # metadata only: safe even for files whose content is denied
                _record_stat(host, path, manifest, report)
    for argv in (*BASE_COMMANDS, *registry.COLLECT_COMMANDS, *dynamic["commands"]):
        _run_command(host, tuple(argv), dest, report)
    try:
        source, log = host.kernel_log()
        kmsg = os.path.join(dest, "dev", "kmsg") if source == "/dev/kmsg" else None
        if kmsg:
            os.makedirs(os.path.dirname(kmsg), exist_ok=True)
            with open(kmsg, "wb") as fh:
                fh.write(log)
    except HostError as exc:
        report.skipped.append(f"kernel log: {exc}")
    with open(os.path.join(dest, SNAPSHOT_STAT), "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
    meta = {
        "collected_at": host.now(),
        "kerncheck_version": __version__,
        "hostname": _read_first(host, ("/proc/sys/kernel/hostname", "/etc/hostname")),
        "kernel": _read_first(host, ("/proc/sys/kernel/osrelease",)),
        "skipped": report.skipped,
        "layout": "files at their absolute path; commands/<mangled argv> (+ .rc exit status, .err stderr)",
    }
    with open(os.path.join(dest, SNAPSHOT_META), "w") as fh:
        json.dump(meta, fh, indent=1)
    return report


def _read_first(host: Host, paths: Iterable[str]) -> Optional[str]:
    for path in paths:
        try:
            return host.read_text(path).strip()
        except HostError:
            continue
    return None


def collect_archive(host: Host, output: str) -> CollectReport:
    """Write a snapshot of ``host`` as a ``.tar.gz`` archive with one top-level directory."""
    name = os.path.basename(output)
    for ext in (".tar.gz", ".tgz"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    with tempfile.TemporaryDirectory(prefix="kerncheck-collect-") as tmp:
        root = os.path.join(tmp, name or "kerncheck-snapshot")
        os.makedirs(root)
        report = collect_into(host, root)
        partial = output + ".partial"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(root, arcname=os.path.basename(root))
        os.replace(partial, output)
    return report


def default_archive_name(hostname: Optional[str]) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"kerncheck-{hostname or 'host'}-{stamp}.tar.gz"


def extract_archive(archive: str, dest: str) -> str:
    """Safely extract a snapshot or sosreport archive; returns the snapshot root directory."""
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            name = os.path.normpath(member.name)
            if name.startswith(("/", "..")) or member.isdev() or (
                member.islnk() and os.path.normpath(member.linkname).startswith(("/", ".."))
            ):
                continue
            members.append(member)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)  # members filtered above
    entries = [e for e in os.listdir(dest) if not e.startswith(".")]
    if len(entries) == 1 and os.path.isdir(os.path.join(dest, entries[0])):
        return os.path.join(dest, entries[0])
    return dest


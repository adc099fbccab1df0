"""The kdump setup of a host, per distribution family: config files, dump path, kdump initrds, saved dumps.

Facts per family come from ``shared/research/crash-readiness.md`` §2: RHEL/Fedora (kdump-utils,
``/etc/kdump.conf``, ``kdumpctl``), Debian/Ubuntu (kdump-tools, ``/etc/default/kdump-tools``,
``kdump-config``) and SUSE (``/etc/sysconfig/kdump``). Everything is read through the Host.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Optional

from kerncheck.facts import Context
from kerncheck.host import HostError
from kerncheck.parsers.kdumpconf import REMOTE_TARGETS, KdumpConf, parse_kdump_conf
from kerncheck.parsers.shellvars import parse_shell_vars

DEFAULT_DUMP_PATH = "/var/crash"
CONFIG_FILES = {
    "rhel": ("/etc/kdump.conf", "/etc/sysconfig/kdump"),
    "debian": ("/etc/default/kdump-tools",),
    "suse": ("/etc/sysconfig/kdump",),
}
# Files a core dump may be saved as (RHEL/SUSE vmcore, Debian dump.<stamp>) and the kernel log beside it.
CORE_NAMES = re.compile(r"^(vmcore(-incomplete)?|dump\.\d+|dump-incomplete|vmcore\.flat)$")
DMESG_NAMES = re.compile(r"^(vmcore-dmesg(-incomplete)?\.txt|dmesg(\.\d+|\.txt)?|kexec-dmesg\.log)$")


@dataclass
class KdumpSetup:
    family: str
    config_files: dict[str, str] = field(default_factory=dict)  # path → text, only those that exist
    dump_path: str = DEFAULT_DUMP_PATH
    dump_path_source: str = "default"
    remote_target: Optional[str] = None  # nfs/ssh/ftp/cifs destination: space cannot be checked locally
    fs_target: Optional[tuple[str, str]] = None  # RHEL "xfs UUID=…": path is relative to that filesystem
    collector: Optional[str] = None
    use_kdump: Optional[str] = None  # Debian USE_KDUMP

    @property
    def configured(self) -> bool:
        return bool(self.config_files)

    @property
    def dump_level(self) -> Optional[int]:
        """makedumpfile ``-d`` level of the configured collector (31 excludes all but kernel data)."""
        if self.collector is None:
            return None
        m = re.search(r"(?:^|\s)-d\s*(\d+)", self.collector)
        if m:
            return int(m.group(1))
        if self.collector.split() and self.collector.split()[0] in ("cp", "dd", "scp"):
            return 0
        return None


def _read(ctx: Context, path: str) -> Optional[str]:
    try:
        return ctx.read_optional(path)
    except HostError:
        return None


def kdump_setup(ctx: Context) -> KdumpSetup:
    """The kdump configuration of the host's family (all families when it is unknown), read once per Context."""
    return ctx.cached("kerncheck.kdump-setup", lambda: _read_setup(ctx))


def _read_setup(ctx: Context) -> KdumpSetup:
    family = ctx.family
    setup = KdumpSetup(family)
    families = [family] if family in CONFIG_FILES else list(CONFIG_FILES)
    for fam in families:
        for path in CONFIG_FILES[fam]:
            text = _read(ctx, path)
            if text is not None:
                setup.config_files[path] = text
    conf_text = setup.config_files.get("/etc/kdump.conf")
    if conf_text is not None:
        conf: KdumpConf = parse_kdump_conf(conf_text)
        setup.dump_path = conf.path
        setup.dump_path_source = "/etc/kdump.conf path" if "path" in conf.options else "kdump.conf default"
        setup.collector = conf.collector
        target = conf.target
        if target and target[0] in REMOTE_TARGETS:
            setup.remote_target = f"{target[0]} {target[1]}"
        elif target and target[0] != "raw":
            setup.fs_target = target
        elif target:
            setup.remote_target = f"raw device {target[1]} (dump written to the raw device)"
    debian = setup.config_files.get("/etc/default/kdump-tools")
    if debian is not None:
        values = parse_shell_vars(debian)
        setup.use_kdump = values.get("USE_KDUMP")
        if values.get("KDUMP_COREDIR"):
            setup.dump_path = values["KDUMP_COREDIR"]
            setup.dump_path_source = "/etc/default/kdump-tools KDUMP_COREDIR"
        if values.get("SSH"):
            setup.remote_target = f"ssh {values['SSH']}"
        elif values.get("NFS"):
            setup.remote_target = f"nfs {values['NFS']}"
        setup.collector = "makedumpfile " + values.get("MAKEDUMP_ARGS", "-F -c -d 31")
    sysconfig = setup.config_files.get("/etc/sysconfig/kdump")
    if sysconfig is not None and "/etc/kdump.conf" not in setup.config_files:
        values = parse_shell_vars(sysconfig)
        savedir = values.get("KDUMP_SAVEDIR", "")
        if savedir:
            scheme, sep, rest = savedir.partition("://")
            if not sep:
                setup.dump_path, setup.dump_path_source = savedir, "/etc/sysconfig/kdump KDUMP_SAVEDIR"
            elif scheme == "file":
                setup.dump_path = "/" + rest.lstrip("/")
                setup.dump_path_source = "/etc/sysconfig/kdump KDUMP_SAVEDIR"
            else:
                setup.remote_target = savedir
        level = values.get("KDUMP_DUMPLEVEL", "31")
        setup.collector = f"makedumpfile -d {level}"
    return setup


def kdump_initrd_paths(family: str, release: str) -> list[str]:
    """Where the kdump (capture) initrd for kernel ``release`` lives, per family (any family if unknown)."""
    paths = {
        "rhel": [f"/boot/initramfs-{release}kdump.img", f"/var/lib/kdump/initramfs-{release}kdump.img"],
        "debian": [f"/var/lib/kdump/initrd.img-{release}"],
        "suse": [f"/boot/initrd-{release}-kdump", "/var/lib/kdump/initrd"],
    }
    if family in paths:
        return paths[family]
    return [p for fam in ("rhel", "debian", "suse") for p in paths[fam]]


@dataclass
class SavedDump:
    """A crash saved by kdump (or any crash-text file) found on disk."""

    directory: str
    core: Optional[str] = None
    core_size: int = 0
    dmesg: Optional[str] = None
    incomplete: bool = False
    mtime: float = 0.0


def find_dumps(ctx: Context, dump_path: str) -> list[SavedDump]:
    """Dumps under ``dump_path``: one per sub-directory with a core file and/or its kernel log, newest last."""
    host = ctx.host
    dumps: list[SavedDump] = []
    try:
        entries = host.listdir(dump_path)
    except HostError:
        return dumps
    for entry in entries:
        directory = os.path.join(dump_path, entry)
        if not host.is_dir(directory):
            continue
        try:
            names = host.listdir(directory)
        except HostError:
            continue
        dump = SavedDump(directory)
        for name in names:
            path = os.path.join(directory, name)
            try:
                st = host.stat(path)
            except HostError:
                continue
            if CORE_NAMES.match(name):
                dump.core, dump.core_size = path, st.size
                dump.incomplete = dump.incomplete or "incomplete" in name
                dump.mtime = max(dump.mtime, st.mtime)
            elif DMESG_NAMES.match(name) and (dump.dmesg is None or "vmcore-dmesg" in name):
                dump.dmesg = path
                dump.incomplete = dump.incomplete or "incomplete" in name
                dump.mtime = max(dump.mtime, st.mtime)
        if dump.core or dump.dmesg:
            dumps.append(dump)
    return sorted(dumps, key=lambda d: d.mtime)

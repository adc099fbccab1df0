"""Dump target: does the configured kdump destination exist and have room for a dump?"""

from __future__ import annotations

import posixpath

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import CommandUnavailable, HostError, NotFound
from kerncheck.kdumpconfig import kdump_setup
from kerncheck.parsers.makedumpfile import parse_mem_usage
from kerncheck.parsers.units import GiB, MiB, human
from kerncheck.registry import check, collects, collects_from

MEM_USAGE = ["makedumpfile", "--mem-usage", "/proc/kcore"]
collects("/etc/kdump.conf", "/etc/sysconfig/kdump", "/etc/default/kdump-tools", "/proc/self/mountinfo",
         commands=[MEM_USAGE])


@collects_from("stat")
def _dump_path(ctx: Context) -> list[str]:
    return [kdump_setup(ctx).dump_path]


def estimated_dump_size(ctx: Context, dump_level: int) -> tuple[int, str]:
    """Bytes a dump will take, from ``makedumpfile --mem-usage`` when captured, else estimated from RAM.

    The live command is not run here: it reads all of ``/proc/kcore`` and takes seconds to minutes.
    """
    if not ctx.host.is_live:
        try:
            usage = parse_mem_usage(ctx.host.run(MEM_USAGE).stdout)
            return usage.dump_bytes(dump_level), f"makedumpfile --mem-usage at dump level {dump_level}"
        except (CommandUnavailable, HostError, ValueError):
            pass
    ram = ctx.mem_total or 0
    if dump_level & 8 and dump_level & 16:  # user and free pages excluded: mostly kernel data
        return max(ram // 10, 512 * MiB), (f"estimate: dump level {dump_level} keeps kernel data, typically "
                                          "under 10% of RAM (measure: makedumpfile --mem-usage /proc/kcore)")
    return ram, f"estimate: dump level {dump_level} keeps user/free pages, up to all of RAM"


@check(id="KC103", title="Dump target has room", severity=Severity.CRITICAL)
def dump_target(ctx: Context) -> Result:
    """Does the kdump dump path exist, and does its filesystem have room for one dump?

    What it checks:
        The dump path from the family's configuration (``path`` in ``/etc/kdump.conf``, ``KDUMP_COREDIR`` in
        ``/etc/default/kdump-tools``, ``KDUMP_SAVEDIR`` in ``/etc/sysconfig/kdump``; default ``/var/crash``),
        that it exists, and the free space of the filesystem that holds it against the expected dump size:
        measured by ``makedumpfile --mem-usage`` when a snapshot captured it, otherwise estimated from RAM
        and the collector's dump level (``-d 31`` keeps kernel data only). Remote targets (nfs, ssh) are
        reported as not checkable from here.
    Why it matters:
        A capture kernel that boots but cannot write the dump loses the evidence anyway; RHEL's kdumpctl
        refuses to start when the path is missing, and a dump that fills the root filesystem can take the
        host down after the reboot.
    Fix:
        Create the dump path, or point it at a filesystem with room for at least one dump (ideally a
        dedicated one, not ``/``); on RHEL set ``path`` (and a target such as ``xfs UUID=…``) in
        ``/etc/kdump.conf`` and restart kdump; on Debian/Ubuntu set ``KDUMP_COREDIR``. Move old dumps to an
        archive once analysed.
    References:
        kdump.conf(5); kdump-utils kdumpctl (check_save_path_fs); Debian kdump-tools README;
        makedumpfile(8) --mem-usage and -d.
    """
    if ctx.in_container:
        return skipped(f"running in a container ({ctx.in_container}): dumps are written by the host")
    setup = kdump_setup(ctx)
    evidence: dict[str, str] = {"dump path": f"{setup.dump_path} ({setup.dump_path_source})"}
    if setup.remote_target:
        return skipped(f"dumps go to a remote target ({setup.remote_target}); its space cannot be checked "
                       "from this host", evidence)
    path = setup.dump_path
    if setup.fs_target:
        return skipped(f"dumps go to {setup.fs_target[0]} {setup.fs_target[1]}, {path} relative to that "
                       "filesystem; check its free space where it is mounted", evidence)
    level = setup.dump_level if setup.dump_level is not None else 31
    evidence["collector"] = setup.collector or "makedumpfile -d 31 (default)"
    needed, basis = estimated_dump_size(ctx, level)
    evidence["expected dump size"] = f"{human(needed)} ({basis})"
    exists = ctx.host.is_dir(path)
    probe = path
    while True:
        try:
            usage = ctx.host.fs_usage(probe)
            break
        except NotFound:
            if probe == "/":
                return skipped("free space unknown: no filesystem found for the dump path", evidence)
            probe = posixpath.dirname(probe)
        except CommandUnavailable as exc:
            return skipped(f"free space unknown: {exc.reason}", evidence)
    evidence["filesystem"] = f"{usage.mountpoint}: {human(usage.available)} free of {human(usage.total)}"
    if not exists and ctx.host.kind == "sosreport":
        evidence["note"] = f"a sosreport does not record whether an empty {path} exists"
    elif not exists:
        if setup.family == "rhel" and setup.configured:
            return failed(f"dump path {path} does not exist: kdumpctl refuses to start without it", evidence,
                          fix=f"mkdir -p {path} (on a filesystem with at least {human(needed)} free), "
                              "then systemctl restart kdump")
        evidence["note"] = f"{path} does not exist yet; kdump creates it when saving"
    if usage.available < needed:
        return failed(f"only {human(usage.available)} free on {usage.mountpoint} for a dump of about "
                      f"{human(needed)}: the capture would fail or fill the filesystem", evidence,
                      fix=f"free space on {usage.mountpoint} or point the dump path at a filesystem with at least "
                          f"{human(needed)} free (archive old dumps off the host)")
    on_root = usage.mountpoint == "/"
    message = f"{human(usage.available)} free on {usage.mountpoint} for a dump of about {human(needed)}"
    if on_root and usage.total < 64 * GiB:
        message += "; dumps land on the root filesystem — a dedicated filesystem is safer"
    if not setup.configured:
        message += f" (kdump is not configured: checked its default path {path})"
    return passed(message, evidence)

"""Unread crash evidence: dumps, pstore records and saved panic logs that someone should read first."""

from __future__ import annotations

import posixpath
import time

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import AccessDenied, HostError, NotFound
from kerncheck.kdumpconfig import find_dumps, kdump_setup
from kerncheck.parsers.units import human
from kerncheck.registry import check, collects

RECENT_DAYS = 30
PSTORE_DIRS = ("/sys/fs/pstore", "/var/lib/systemd/pstore")
collects("/sys/fs/pstore/*", "/var/lib/systemd/pstore/*", "/var/lib/systemd/pstore/*/*",
         "/var/crash/*/vmcore-dmesg*.txt", "/var/crash/*/dmesg*", "/var/crash/*/kexec-dmesg.log",
         stat_only=["/var/crash/*.crash"])


def crash_summary(ctx: Context, path: str) -> str:
    """What the saved kernel log says: kind, culprit, module and taint of its main incident."""
    try:
        data = ctx.host.read_bytes(path, limit=8 << 20)
    except HostError as exc:
        return f"text not readable ({exc.reason})"
    from kerncheck.logs.scan import scan_bytes  # the log engine is only loaded when there is crash text

    incidents = scan_bytes(data, path).incidents
    if not incidents:
        return "no crash report recognised in the text"
    main = next((i for i in incidents if i.severity == "critical"), incidents[0])
    parts = [main.kind, f"in {main.function}" if main.function else "", f"[{main.module}]" if main.module else "",
             f"tainted {','.join(main.taint)}" if main.taint else ""]
    return " ".join(p for p in parts if p) + f": {main.title}"


def _walk_files(ctx: Context, top: str, depth: int = 2) -> list[str]:
    out: list[str] = []
    try:
        names = ctx.host.listdir(top)
    except NotFound:
        return out
    for name in names:
        path = posixpath.join(top, name)
        if ctx.host.is_dir(path):
            if depth > 1:
                out.extend(_walk_files(ctx, path, depth - 1))
        else:
            out.append(path)
    return out


@check(id="KC203", title="Unread crash evidence", severity=Severity.WARNING)
def unread_crash_evidence(ctx: Context) -> Result:
    """Are there crash dumps, pstore records or saved panic logs on this host that nobody has read yet?

    What it checks:
        Lists, with time and size, the saved crashes in the kdump dump path (``vmcore`` / ``dump.*`` with
        ``vmcore-dmesg.txt`` / ``dmesg.*``), pstore records (``/sys/fs/pstore/dmesg-ramoops-N``,
        ``dmesg-efi-…``, and what systemd-pstore archived under ``/var/lib/systemd/pstore``) and Ubuntu's
        ``/var/crash/*.crash`` kernel reports. Evidence from the last 30 days fails the check so it is read
        before anyone reboots past it or cleans it up; older evidence is listed.
    Why it matters:
        A saved panic is useless until someone reads it; pstore space is tiny and new panics overwrite
        old records, and dump directories get "cleaned up" during the next outage (footgun 3).
    Fix:
        Read the panic text (``kerncheck scan /var/crash/<dir>/vmcore-dmesg.txt`` names the kind, culprit
        function, module and taint), open the dump with ``crash`` or ``drgn`` if needed, then archive it off
        the host and delete it (for pstore: copy the files, then remove them to free the backend).
    References:
        Documentation/admin-guide/ramoops.rst; systemd-pstore.service(8); kdump-utils kdump.sh dump layout;
        Debian kdump-tools dump layout.
    """
    setup = kdump_setup(ctx)
    now = ctx.host.now()
    items: list[tuple[float, str]] = []
    try:
        ctx.host.listdir(setup.dump_path)
    except AccessDenied:
        return skipped(f"{setup.dump_path} is not readable with these privileges; run as root")
    except NotFound:
        pass
    for dump in find_dumps(ctx, setup.dump_path):
        parts = []
        if dump.core:
            parts.append(f"{posixpath.basename(dump.core)} {human(dump.core_size)}")
        if dump.dmesg:
            parts.append(posixpath.basename(dump.dmesg))
        state = " (incomplete)" if dump.incomplete else ""
        summary = f" — {crash_summary(ctx, dump.dmesg)}" if dump.dmesg else ""
        items.append((dump.mtime, f"kdump {dump.directory}: {', '.join(parts)}{state}{summary}"))
    for top in PSTORE_DIRS:
        for path in _walk_files(ctx, top):
            try:
                st = ctx.host.stat(path)
            except HostError:
                continue
            summary = f" — {crash_summary(ctx, path)}" if posixpath.basename(path).startswith("dmesg") else ""
            items.append((st.mtime, f"pstore {path} ({human(st.size)}){summary}"))
    try:
        for path in ctx.host.glob("/var/crash/*.crash"):
            if posixpath.basename(path).startswith("linux-image-"):
                st = ctx.host.stat(path)
                items.append((st.mtime, f"kernel crash report {path} ({human(st.size)})"))
    except HostError:
        pass
    if not items and not ctx.host.absence_is_known:
        return skipped(f"this {ctx.host.kind} does not record whether dumps or pstore records exist")
    if not items:
        return passed(f"no saved dumps, pstore records or kernel crash reports ({setup.dump_path}, "
                      f"{', '.join(PSTORE_DIRS)})", {"dump path": setup.dump_path})
    items.sort()
    evidence = {what: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts)) for ts, what in items}
    recent = [what for ts, what in items if now - ts < RECENT_DAYS * 86400]
    if recent:
        listed = "; ".join(recent[-3:]) + (f"; and {len(recent) - 3} more" if len(recent) > 3 else "")
        return failed(f"{len(recent)} crash record(s) from the last {RECENT_DAYS} days — read them before "
                      f"rebooting or cleaning up: {listed}", evidence,
                      fix="kerncheck scan <file> shows kind, culprit, module and taint; archive the records off "
                          "the host once analysed")
    return passed(f"{len(items)} older crash record(s) kept (none in the last {RECENT_DAYS} days); archive "
                  "them off the host once analysed", evidence)

"""kdump tested: is there evidence that a test crash on this host was actually captured?"""

from __future__ import annotations

import time
from typing import Optional

from kerncheck.checks.upgrade import installed_kernels
from kerncheck.config import DEFAULT_PATH, ConfigError, parse_config
from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.guard.record import STATE_FILE, RecordError, load_record, state_file_of
from kerncheck.host import HostError
from kerncheck.kdumpconfig import find_dumps, kdump_setup
from kerncheck.parsers.units import human
from kerncheck.registry import check, collects

VMCORE_STATUS = "/var/lib/kdump/vmcore-creation.status"
collects(VMCORE_STATUS, STATE_FILE, DEFAULT_PATH,
         stat_only=["/var/crash/*/*", "/var/crash/*"])


def configured_state_file(ctx: Context) -> str:
    """The crash-test record's path: ``[crash_test] state_file`` of the host's kerncheck.toml, or the default."""
    text = ctx.read_optional(DEFAULT_PATH)
    return state_file_of(parse_config(text)) if text else STATE_FILE


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) + " UTC"


def vmcore_creation_status(ctx: Context) -> Optional[tuple[str, float]]:
    """RHEL's record of the last ``kdumpctl test``: ``(status, epoch)``, status success/fail/manual/clear."""
    text = ctx.read_optional(VMCORE_STATUS)
    if not text:
        return None
    parts = text.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return parts[0], float(parts[1])
    return None


@check(id="KC105", title="kdump tested", severity=Severity.WARNING)
def kdump_tested(ctx: Context) -> Result:
    """Has a test crash on this host been captured, since the running kernel and kdump config were installed?

    What it checks:
        Evidence of a successful capture: RHEL's ``/var/lib/kdump/vmcore-creation.status`` (written by
        ``kdumpctl test``), a complete dump with its kernel log in the dump path (``vmcore`` +
        ``vmcore-dmesg.txt``, Debian ``dump.*`` + ``dmesg.*``, SUSE ``vmcore`` + ``dmesg``), or a verified
        ``kerncheck crash-test`` record. The newest success must be newer than the running kernel's image
        and the kdump configuration; otherwise the test no longer proves the current setup.
    Why it matters:
        kdump fails in ways no static check sees: a capture initrd missing a driver for the dump disk, a
        collector crash, a target that is not mounted in the capture kernel. Only a crash test proves the
        chain works, and every kernel upgrade or config change can break it again (footguns 2 and 9).
    Fix:
        In a maintenance window, with the host drained, run ``kerncheck crash-test`` (guarded: it checks
        kdump, the window and the drain first) or ``kdumpctl test`` on RHEL; after the reboot run
        ``kerncheck crash-test --verify``. Repeat after kernel upgrades and kdump configuration changes.
    References:
        kdump-utils kdumpctl (test, vmcore-creation.status); Red Hat "Testing the kdump configuration";
        Ubuntu Server docs, kernel crash dump ("Testing the crash dump mechanism").
    """
    if ctx.in_container:
        return skipped(f"running in a container ({ctx.in_container}): kdump belongs to the host")
    setup = kdump_setup(ctx)
    evidence: dict[str, str] = {}
    successes: list[tuple[float, str]] = []
    failures: list[str] = []
    status = vmcore_creation_status(ctx)
    if status is not None:
        evidence[VMCORE_STATUS] = f"{status[0]} at {_when(status[1])}"
        if status[0] == "success":
            successes.append((status[1], f"kdumpctl test succeeded at {_when(status[1])}"))
        elif status[0] == "fail":
            failures.append(f"the last kdumpctl test failed ({_when(status[1])})")
    for dump in find_dumps(ctx, setup.dump_path):
        if dump.core and dump.dmesg and not dump.incomplete:
            successes.append((dump.mtime, f"dump {dump.directory} ({human(dump.core_size)}) "
                                          f"from {_when(dump.mtime)}"))
        elif dump.incomplete:
            failures.append(f"incomplete dump in {dump.directory} ({_when(dump.mtime)})")
    try:
        record = load_record(ctx.host, configured_state_file(ctx))
    except (RecordError, ConfigError) as exc:
        record = None
        failures.append(f"kerncheck crash-test record unreadable: {exc}")
    if record is not None:
        evidence["kerncheck crash-test"] = record.summary()
        if record.verified_ok and record.verified_at:
            successes.append((record.verified_at, f"kerncheck crash-test verified at {_when(record.verified_at)}"))
        elif record.verified_at and record.verified_ok is False:
            failures.append(f"the kerncheck crash-test of {_when(record.started_at)} left no usable dump")
    if not successes:
        detail = "; ".join(failures) if failures else "no test record and no saved dump"
        if not setup.configured and not failures:
            return skipped("kdump is not configured on this host (see KC101); nothing has been tested",
                           evidence)
        return failed(f"no evidence that a crash on this host was ever captured ({detail})", evidence,
                      fix="in a maintenance window, drained: kerncheck crash-test, then kerncheck crash-test --verify "
                          "after the reboot")
    newest_time, newest = max(successes)
    evidence["newest success"] = newest
    baseline: list[tuple[float, str]] = []
    running = ctx.kernel_release
    kernel_path = installed_kernels(ctx).get(running or "")
    for path, what in ((kernel_path, f"the running kernel {running}"),
                       *((p, p) for p in setup.config_files)):
        if path:
            try:
                baseline.append((ctx.host.stat(path).mtime, what))
            except HostError:
                continue
    stale = [what for mtime, what in baseline if mtime > newest_time]
    if failures:
        evidence["failures"] = "; ".join(failures)
    if stale:
        return failed(f"last successful capture predates {', '.join(stale)}: the current setup is untested",
                      evidence, fix="repeat the crash test (kerncheck crash-test) in the next maintenance window")
    return passed(newest, evidence)

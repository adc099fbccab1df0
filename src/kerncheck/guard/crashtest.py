"""The kdump drill, guarded: crash the kernel on purpose only when kdump will capture it, inside a
maintenance window, with the host drained and the operator sure which host this is; then verify the dump.

Flow of ``kerncheck crash-test``: :func:`preflight` (every condition, all failures listed) →
:func:`confirm` (the hostname typed on the TTY, molly-guard style, or ``--yes-really-crash HOSTNAME``) →
:func:`save_record` (atomically, fsynced) → :func:`trigger` (``c`` into ``/proc/sysrq-trigger`` *of the
Host*, so tests root it in a temp dir). After the reboot, :func:`verify` finds the dump for the record.
:func:`load_record` is what audit check KC105 reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Optional

from kerncheck.config import ConfigError, section
from kerncheck.facts import Context
from kerncheck.guard.drain import DrainConfig, DrainConfigError, check_drain, parse_drain_config
from kerncheck.guard.record import (
    STATE_FILE,
    CrashTestRecord,
    _iso,
    save_record,
    write_atomically,
)
from kerncheck.guard.window import Window, WindowError, next_opening, open_window, parse_windows
from kerncheck.host import Host, HostError, LiveHost

FIRST_USE_MARKER = "crash-test.first-use"  # beside the state file: the staging advice was shown
TRIGGER = "/proc/sysrq-trigger"
BOOT_ID = "/proc/sys/kernel/random/boot_id"
PREFLIGHT_CHECKS = ("KC101", "KC102", "KC103")
REFUSED = 64
STAGING_ADVICE = (
    "First use of kerncheck crash-test on this host: rehearse the drill on a staging or pre-production "
    "host of the same build first (same kernel, same kdump configuration, same dump target), and make "
    "sure someone can reach the console if the capture kernel hangs.")


@dataclass
class Settings:
    """The ``[crash_test]`` table of the configuration, validated."""

    windows: list[Window]
    drain: DrainConfig
    state_file: str = STATE_FILE


def parse_settings(config: dict[str, Any]) -> Settings:
    """Raise :class:`ConfigError` with every reason when the table is missing or invalid."""
    table = section(config, "crash_test")
    problems: list[str] = []
    windows: list[Window] = []
    drain = DrainConfig()
    if "windows" not in table:
        problems.append("no maintenance window is configured: add [crash_test] windows = "
                        "[\"Sat 02:00-04:00 Europe/Berlin\"]")
    else:
        try:
            windows = parse_windows(table["windows"])
        except WindowError as exc:
            problems.append(f"[crash_test] windows: {exc}")
    try:
        drain = parse_drain_config(table)
    except DrainConfigError as exc:
        problems.append(f"[crash_test] {exc}")
    state_file = table.get("state_file", STATE_FILE)
    if not isinstance(state_file, str) or not state_file.startswith("/"):
        problems.append(f"[crash_test] state_file must be an absolute path, not {state_file!r}")
        state_file = STATE_FILE
    unknown = sorted(set(table) - {"windows", "drain_command", "health_url", "drained_status", "drain_timeout",
                                   "state_file"})
    if unknown:
        problems.append(f"[crash_test] has unknown keys {', '.join(unknown)} (a typo would silently disable "
                        "a safety check)")
    if problems:
        raise ConfigError("; ".join(problems))
    return Settings(windows, drain, state_file)


# -- preflight --------------------------------------------------------------------------------------
@dataclass
class Preflight:
    """Every condition, evaluated; ``failures`` empty means the drill may go ahead (after confirmation)."""

    passed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    hostname: Optional[str] = None
    kernel: Optional[str] = None
    boot_id: Optional[str] = None
    dump_path: Optional[str] = None
    family: str = "unknown"
    remote_target: Optional[str] = None
    needs_typed_confirmation: bool = False
    settings: Optional[Settings] = None

    @property
    def ok(self) -> bool:
        return not self.failures


def _run_checks(ctx: Context, pre: Preflight) -> None:
    from kerncheck import registry
    from kerncheck.audit import run_check

    try:
        checks = registry.load_all()
    except Exception as exc:  # a broken check module must not let the drill through
        pre.failures.append(f"the readiness checks cannot be loaded ({type(exc).__name__}: {exc})")
        return
    for check_id in PREFLIGHT_CHECKS:
        spec = checks.get(check_id)
        if spec is None:
            pre.failures.append(f"{check_id} is not available in this kerncheck: readiness unknown")
            continue
        for finding in run_check(spec, ctx):
            line = f"{check_id} {spec.title}: {finding.status.value}: {finding.message}"
            (pre.passed if finding.status.value == "pass" else pre.failures).append(line)


def _identity(ctx: Context, pre: Preflight) -> None:
    pre.hostname = ctx.hostname
    pre.kernel = ctx.kernel_release
    try:
        pre.boot_id = ctx.host.read_text(BOOT_ID).strip() or None
    except HostError:
        pre.boot_id = None
    for what, value, why in (("hostname", pre.hostname, "the confirmation needs it"),
                             ("kernel release", pre.kernel, "the record needs it"),
                             (f"boot id ({BOOT_ID})", pre.boot_id, "--verify needs it to tell a reboot")):
        if not value:
            pre.failures.append(f"cannot read the {what}: {why}")
    try:
        from kerncheck.kdumpconfig import kdump_setup

        setup = kdump_setup(ctx)
        pre.dump_path, pre.family, pre.remote_target = setup.dump_path, setup.family, setup.remote_target
    except Exception as exc:
        pre.failures.append(f"cannot read the kdump configuration for the dump path ({exc})")
    if not ctx.host.exists(TRIGGER):
        pre.failures.append(f"{TRIGGER} does not exist: this kernel has no SysRq support (CONFIG_MAGIC_SYSRQ)")


def _window(settings: Settings, now: datetime, pre: Preflight) -> None:
    current = open_window(settings.windows, now)
    if current is not None:
        window, _start, end = current
        left = int((end - now).total_seconds() // 60)
        pre.passed.append(f"inside maintenance window {window.spec!r} (closes in {left} min)")
        return
    upcoming = next_opening(settings.windows, now)
    when = ""
    if upcoming is not None:
        window, opening = upcoming
        local = opening.astimezone(window.tz)
        when = f"; the next one, {window.spec!r}, opens {local:%a %Y-%m-%d %H:%M %Z}"
    specs = ", ".join(repr(w.spec) for w in settings.windows)
    pre.failures.append(f"outside every maintenance window ({specs}; now {now:%a %Y-%m-%d %H:%M} UTC){when}")


def _confirmation_route(pre: Preflight, answer: Optional[str], tty: bool) -> None:
    if answer is not None:
        if pre.hostname and matches_hostname(answer, pre.hostname):
            pre.passed.append(f"--yes-really-crash names this host ({pre.hostname})")
        else:
            pre.failures.append(f"--yes-really-crash {answer!r} does not name this host "
                                f"({pre.hostname or 'hostname unknown'})")
    elif tty:
        pre.needs_typed_confirmation = True
        pre.passed.append("the hostname will be asked for on the terminal")
    else:
        pre.failures.append("no terminal to confirm on: type-the-hostname confirmation needs a TTY; in "
                            "automation pass --yes-really-crash HOSTNAME")


def preflight(host: Host, config: Optional[dict[str, Any]], config_error: Optional[str], now: datetime,
              answer: Optional[str], tty: bool) -> Preflight:
    """Evaluate every condition; nothing is changed on the host."""
    pre = Preflight()
    ctx = Context(host)
    if config_error is not None:
        pre.failures.append(f"configuration: {config_error}")
    else:
        try:
            pre.settings = parse_settings(config or {})
        except ConfigError as exc:
            pre.failures.append(f"configuration: {exc}")
    _run_checks(ctx, pre)
    _identity(ctx, pre)
    if pre.settings is not None:
        _window(pre.settings, now, pre)
        drain = check_drain(host, pre.settings.drain)
        pre.passed.extend(drain.evidence)
        pre.failures.extend(drain.problems)
    else:
        pre.failures.append("maintenance window and drain state not checked: the configuration is unusable")
    _confirmation_route(pre, answer, tty)
    return pre


# -- confirmation, record, trigger --------------------------------------------------------------------
def matches_hostname(answer: str, hostname: str) -> bool:
    """The full hostname, or its short form (molly-guard asks for the short one)."""
    answer = answer.strip()
    return bool(answer) and answer in (hostname, hostname.split(".")[0])


def confirm(hostname: str, tty_in: IO[str], tty_out: IO[str]) -> Optional[str]:
    """Ask for the hostname on the terminal; the typed text when it matches, else ``None``."""
    tty_out.write(f"This will CRASH {hostname} now (kernel panic via SysRq; kdump should capture it).\n"
                  f"Type the hostname of this machine to continue: ")
    tty_out.flush()
    typed = tty_in.readline()
    if typed and matches_hostname(typed, hostname):
        return typed.strip()
    return None


def staging_advice_due(host: Host, state_file: str) -> bool:
    """True the first time crash-test runs on this host (the marker beside the state file is absent)."""
    return not host.exists(os.path.join(os.path.dirname(state_file), FIRST_USE_MARKER))


def mark_staging_advice_shown(host: Host, state_file: str) -> None:
    try:
        write_atomically(host, os.path.join(os.path.dirname(state_file), FIRST_USE_MARKER),
                         f"staging advice shown {_iso(host.now())}\n")
    except HostError:
        pass  # shown again next time: harmless


def new_record(host: Host, pre: Preflight) -> CrashTestRecord:
    return CrashTestRecord(
        started_at=host.now(), hostname=pre.hostname or "", kernel=pre.kernel or "", boot_id=pre.boot_id or "",
        dump_path=pre.dump_path or "/var/crash", family=pre.family, remote_target=pre.remote_target)


def trigger(host: LiveHost) -> None:
    """Panic the kernel of ``host``: write ``c`` to its ``/proc/sysrq-trigger``. On the real root this does
    not return; on a re-rooted (test) host it writes the file and returns."""
    os.sync()  # flush every filesystem: the crash must cost nothing but the reboot
    host.write_text(TRIGGER, "c")


# -- verification -------------------------------------------------------------------------------------
@dataclass
class Verification:
    ok: Optional[bool]  # None: cannot tell
    message: str
    details: list[str] = field(default_factory=list)
    dump: Optional[dict[str, Any]] = None

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else (3 if self.ok is None else 2)


def _culprit(text: str, source: str) -> tuple[Optional[str], str]:
    """``(culprit, note)`` of the panic in a dump's kernel log, via the log engine when it is built in."""
    try:
        from kerncheck.logs.scan import scan_text  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None, ("panic culprit not analysed: kerncheck's log scanner (kerncheck.logs.scan) is not in "
                      f"this build; read {source}")
    try:
        result = scan_text(text, source=source)
        incidents = list(getattr(result, "incidents", result) or [])
    except Exception as exc:  # the drill's verdict must not depend on the analysis working
        return None, f"the log scanner could not analyse {source} ({type(exc).__name__}: {exc}); read it directly"
    for incident in incidents:
        if getattr(incident, "kind", None) in ("panic", "oops", "bug", "warning", "soft_lockup", "hard_lockup"):
            function = getattr(incident, "function", None)
            module = getattr(incident, "module", None)
            title = getattr(incident, "title", "")
            culprit = f"{function}{f' [{module}]' if module else ''}" if function else None
            return culprit, f"{incident.kind}: {title}"
    return None, f"no panic report found in {source}"


def verify(host: Host, record: CrashTestRecord) -> Verification:
    """Find the dump for ``record`` and say whether the drill proved kdump works."""
    from kerncheck.kdumpconfig import find_dumps
    from kerncheck.parsers.units import human

    try:
        boot_id = host.read_text(BOOT_ID).strip()
    except HostError as exc:
        return Verification(None, f"cannot read the boot id ({exc}): cannot tell whether the host rebooted")
    if boot_id == record.boot_id:
        return Verification(False, "no crash happened: the boot id is unchanged since the test was recorded "
                                   f"({_iso(record.started_at)}), so this is the same boot — the SysRq crash "
                                   "did not take the kernel down (was the write to /proc/sysrq-trigger blocked?)")
    if record.remote_target:
        return Verification(None, f"dumps go to a remote target ({record.remote_target}); look for a dump "
                                  f"newer than {_iso(record.started_at)} there")
    ctx = Context(host)
    dumps = [d for d in find_dumps(ctx, record.dump_path) if d.mtime >= record.started_at]
    if not dumps:
        older = find_dumps(ctx, record.dump_path)
        hint = f" (only older dumps: {older[-1].directory})" if older else ""
        return Verification(False, f"the host rebooted but no dump newer than the test is in "
                                   f"{record.dump_path}{hint}", [
            "likely: the capture kernel did not boot (crashkernel= too small, a stale kdump initrd — see "
            "KC102/KC104), or it booted but could not write the dump (target missing from the capture "
            "initrd, no space — see KC103); the serial console or the previous boot's log shows which",
            "RHEL: journalctl -b -1 -u kdump; kdumpctl status. Debian: kdump-config show"])
    dump = dumps[-1]
    info: dict[str, Any] = {"directory": dump.directory, "core": dump.core, "size": dump.core_size,
                            "dmesg": dump.dmesg, "mtime": dump.mtime}
    if dump.incomplete:
        return Verification(False, f"the dump in {dump.directory} is incomplete (vmcore-incomplete): the "
                                   "capture started but did not finish", [
            "likely: the dump target filled up (KC103), or makedumpfile failed or ran out of memory in the "
            "capture kernel (crashkernel= too small, KC102); see vmcore-dmesg/kexec-dmesg.log beside it"],
            info)
    if not dump.core or dump.core_size == 0:
        return Verification(False, f"{dump.directory} holds the kernel log but no core"
                                   f"{' (empty core file)' if dump.core else ''}: the collector failed", [
            "read the saved kernel log and the capture kernel's messages (kexec-dmesg.log on RHEL)"], info)
    details = [f"core {dump.core} ({human(dump.core_size)})"]
    if dump.dmesg:
        details.append(f"kernel log {dump.dmesg}")
        try:
            text = host.read_text(dump.dmesg, limit=64 << 20)
        except HostError as exc:
            details.append(f"cannot read {dump.dmesg}: {exc.reason}")
        else:
            if "sysrq triggered crash" in text or "SysRq : Trigger a crash" in text or "sysrq: Trigger a crash" in text:
                details.append("its kernel log shows the SysRq test crash")
            culprit, note = _culprit(text, dump.dmesg)
            info["culprit"] = culprit
            details.append(f"panic culprit: {culprit} ({note})" if culprit else note)
    else:
        details.append("no kernel log (vmcore-dmesg) beside the core: the panic text must be read with crash/drgn")
    return Verification(True, f"kdump captured the test crash: {dump.directory} ({human(dump.core_size)})",
                        details, info)


def record_verification(host: Host, record: CrashTestRecord, outcome: Verification, path: str) -> None:
    """Store the outcome in the record so KC105 sees it (only definite outcomes)."""
    if outcome.ok is None:
        return
    record.verified_at = host.now()
    record.verified_ok = outcome.ok
    record.verify_message = outcome.message
    record.dump = outcome.dump
    save_record(host, record, path)

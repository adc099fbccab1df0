"""Panic text: will the panic message survive the reboot (or the halt) that follows it?"""

from __future__ import annotations

from kerncheck.checks.kdump import CRASH_LOADED, read_flag
from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import HostError
from kerncheck.registry import check, collects

PANIC_SYSCTLS = ("kernel.panic", "kernel.panic_on_oops", "kernel.panic_on_warn", "kernel.softlockup_panic",
                 "kernel.hung_task_panic", "kernel.panic_on_rcu_stall", "vm.panic_on_oom")
collects(*(f"/proc/sys/{name.replace('.', '/')}" for name in PANIC_SYSCTLS),
         "/sys/module/pstore/parameters/backend", "/sys/module/kernel/parameters/crash_kexec_post_notifiers",
         "/sys/module/printk/parameters/always_kmsg_dump", "/sys/module/ramoops/parameters/*",
         "/sys/module/netconsole/parameters/*", "/sys/kernel/config/netconsole/*/remote_ip",
         "/sys/kernel/config/netconsole/*/enabled", "/proc/modules")


def pstore_backend(ctx: Context) -> str | None:
    """The registered pstore backend (ramoops, efi, erst…), if any."""
    found = ctx.first_existing("/sys/module/pstore/parameters/backend")
    if found and found[1].strip() not in ("", "(null)"):
        return found[1].strip()
    modules = ctx.read_optional("/proc/modules") or ""
    for name in ("ramoops", "efi_pstore", "erst"):
        if any(line.split(" ", 1)[0] == name for line in modules.splitlines()):
            return name
    return None


def netconsole_target(ctx: Context) -> str | None:
    cmdline = ctx.cmdline
    if cmdline is not None and cmdline.last("netconsole"):
        return f"netconsole={cmdline.last('netconsole')}"
    try:
        targets = ctx.host.glob("/sys/kernel/config/netconsole/*/enabled")
    except HostError:
        return None
    for enabled in targets:
        if (ctx.read_optional(enabled) or "").strip() == "1":
            ip = ctx.read_optional(enabled.rsplit("/", 1)[0] + "/remote_ip") or "?"
            return f"dynamic netconsole target {ip.strip()}"
    return None


@check(id="KC202", title="Panic text survives", severity=Severity.WARNING)
def panic_text_survives(ctx: Context) -> Result:
    """After a panic, is there a channel that keeps the panic message (module, address, taint)?

    What it checks:
        ``kernel.panic`` (0 = the box halts with the text on its console; N = it reboots after N seconds,
        taking the text with it unless something kept it), and the channels that keep it: a loaded crash
        kernel (kdump writes ``vmcore-dmesg``), a pstore backend (ramoops, EFI, ERST → ``/sys/fs/pstore``),
        ``netconsole`` (a remote log host), or a serial console (``console=ttyS*``, kept only if a console
        server or BMC records it). Also reports ``panic_on_oops`` (0: an oops never reaches kdump) and the
        other panic triggers.
    Why it matters:
        Rebooting without reading or capturing the panic message loses the one line that names the module,
        the faulting address and the taint (footgun 3); a halted box keeps it only until someone
        power-cycles it.
    Fix:
        Arm kdump (KC101). Independently, keep a second channel: a pstore backend (``ramoops`` or
        ``efi_pstore``; systemd-pstore archives records to ``/var/lib/systemd/pstore``) or ``netconsole=``
        to a log host, and ``console=ttyS0,115200`` recorded by the BMC. With kdump, consider
        ``kernel.panic_on_oops=1`` so an oops is captured instead of leaving a damaged kernel running.
    References:
        Documentation/admin-guide/sysctl/kernel.rst (panic, panic_on_oops);
        Documentation/admin-guide/ramoops.rst; Documentation/networking/netconsole.rst;
        systemd-pstore.service(8).
    """
    if ctx.in_container:
        return skipped(f"running in a container ({ctx.in_container}): panics are handled by the host kernel")
    panic = ctx.sysctl_int("kernel.panic")
    evidence: dict[str, str] = {}
    for name in PANIC_SYSCTLS:
        value = ctx.sysctl(name)
        if value is not None:
            evidence[name] = value
    if panic is None:
        return skipped("kernel.panic is not readable (no /proc/sys/kernel/panic and no captured sysctl -a)",
                       evidence)
    strong: list[str] = []
    loaded = read_flag(ctx, CRASH_LOADED)
    if loaded and loaded[1] == "1":
        strong.append("kdump (crash kernel loaded)")
    backend = pstore_backend(ctx)
    if backend:
        strong.append(f"pstore ({backend})")
    netconsole = netconsole_target(ctx)
    if netconsole:
        strong.append(netconsole)
    consoles = ctx.cmdline.values("console") if ctx.cmdline else []
    serial = [c for c in consoles if c.startswith(("ttyS", "ttyAMA", "hvc"))]
    evidence["channels"] = ", ".join(strong + [f"serial console {s}" for s in serial]) or "none"
    behaviour = ("halts and keeps the text on its console until power-cycled" if panic == 0 else
                 f"reboots {'immediately' if panic < 0 else f'after {panic}s'}")
    oops_note = ""
    if strong and strong[0].startswith("kdump") and ctx.sysctl_int("kernel.panic_on_oops") == 0:
        oops_note = "; note: panic_on_oops=0, so an oops leaves the kernel running and is never dumped"
    if strong:
        return passed(f"on panic the box {behaviour}; the text is kept by {', '.join(strong)}{oops_note}",
                      evidence)
    if serial:
        return failed(f"on panic the box {behaviour}; only the serial console ({', '.join(serial)}) can keep "
                      "the text, and only if a console server or the BMC records it", evidence,
                      fix="arm kdump (KC101) or add a pstore backend (ramoops/efi_pstore) or netconsole, and "
                          "make sure the serial console is recorded")
    if panic == 0:
        return failed("on panic the box halts: the message survives only on the screen of its console, until "
                      "someone power-cycles it; nothing records it", evidence)
    return failed(f"on panic the box {behaviour} and nothing keeps the panic message: the module, address "
                  "and taint are lost", evidence, severity=Severity.CRITICAL)

"""crashkernel=: is enough memory reserved for the capture kernel to boot on a machine this size?"""

from __future__ import annotations

import re
from typing import Optional

from kerncheck.checks.kdump import CRASH_SIZE, read_flag
from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import CommandUnavailable, HostError
from kerncheck.parsers.cmdline import crashkernel_plan, parse_crashkernel
from kerncheck.parsers.meminfo import iomem_total
from kerncheck.parsers.units import GiB, MiB, human
from kerncheck.registry import check, collects

# Distribution defaults (crash-readiness.md §1), x86_64.
DISTRO_DEFAULTS = {
    "rhel": ("RHEL/Fedora kdumpctl", "2G-64G:256M,64G-:512M"),
    "debian": ("Debian kdump-tools", "512M-:192M"),
    "ubuntu": ("Ubuntu kdump-tools", "2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M"),
}

collects("/sys/kernel/fadump/mem_reserved",
         commands=[["kdumpctl", "estimate"], ["kdump-config", "show"]])


def recommended_size(ram: int) -> int:
    """Rule of thumb for x86_64: 192M below 4 GB, 256M up to 64 GB, 512M up to 1 TB, 1G above.

    >>> human(recommended_size(256 * GiB))
    '512M'
    """
    if ram < 4 * GiB:
        return 192 * MiB
    if ram < 64 * GiB:
        return 256 * MiB
    if ram < 1024 * GiB:
        return 512 * MiB
    return 1024 * MiB


def tool_estimate(ctx: Context) -> Optional[tuple[str, int]]:
    """The distribution tool's own recommendation, when it has been run or captured."""
    for argv, pattern in ((["kdumpctl", "estimate"], r"Recommended crashkernel:\s*(\d+[KMG])"),
                          (["kdump-config", "show"], r"crashkernel suggested size:\s*(\d+[KMG])")):
        try:
            out = ctx.host.run(argv, timeout=20).stdout
        except (CommandUnavailable, HostError):
            continue
        m = re.search(pattern, out)
        if m:
            return " ".join(argv), parse_crashkernel(m.group(1)).size or 0
    return None


def distro_default_note(ctx: Context, ram: int) -> Optional[str]:
    release = ctx.os_release
    key = "ubuntu" if release and release.id == "ubuntu" else ctx.family
    if key == "suse":
        return "SUSE calibrates the size itself (KDUMP_CRASHKERNEL=auto → kdumptool calibrate)"
    if key not in DISTRO_DEFAULTS:
        return None
    name, spec = DISTRO_DEFAULTS[key]
    size, _ = parse_crashkernel(spec).resolve(ram)
    return f"{name} default crashkernel={spec} gives {human(size) if size else 'nothing'} for this RAM"


@check(id="KC102", title="crashkernel size", severity=Severity.CRITICAL)
def crashkernel_size(ctx: Context) -> Result:
    """Is the memory reserved for the crash kernel large enough for this machine's RAM?

    What it checks:
        Parses every ``crashkernel=`` on ``/proc/cmdline`` (plain, ``@offset``, ranges ``start-[end]:size``,
        ``,high`` + ``,low``, ``,cma``, ``auto``) the way ``kernel/crash_reserve.c`` does, computes what it
        resolves to for this RAM, reads what is actually reserved (``/sys/kernel/kexec_crash_size``, the
        "Crash kernel" ranges of ``/proc/iomem``, fadump's ``mem_reserved``) and compares it with the
        size this RAM needs: 192M below 4 GB, 256M for 4–64 GB, 512M for 64 GB–1 TB, 1G above, or the
        distribution tool's estimate (``kdumpctl estimate``, ``kdump-config show``) when larger. Less than
        half of that is critical; less than all of it is a warning.
    Why it matters:
        A reservation that is too small lets the crash kernel load but not boot: it runs out of memory
        (seen in the QEMU lab with 96M on 1 GB: "System is deadlocked on memory") or cannot even be placed
        (64M: "locate_hole failed"), and the dump is lost exactly when it is needed (footgun 4).
        ``crashkernel=auto`` is silently ignored by upstream and RHEL 9+ kernels; a range that does not
        cover this RAM size reserves nothing.
    Fix:
        Set an explicit size on the kernel command line, e.g. ``grubby --update-kernel=ALL
        --args=crashkernel=512M`` (RHEL) or ``GRUB_CMDLINE_LINUX_DEFAULT="... crashkernel=512M"`` in
        ``/etc/default/grub.d/kdump-tools.cfg`` and ``update-grub`` (Debian/Ubuntu), reboot, then verify
        ``/sys/kernel/kexec_crash_size`` and run a crash test in a maintenance window.
    References:
        Documentation/admin-guide/kernel-parameters.txt (crashkernel); kernel/crash_reserve.c;
        kdump-utils kdump-lib.sh (kdump_get_arch_recommend_crashkernel); Debian kdump-tools.grub.default.
    """
    if ctx.in_container:
        return skipped(f"running in a container ({ctx.in_container}): the reservation belongs to the host")
    ram = ctx.ram_bytes
    if not ram:
        return skipped("RAM size unknown (/proc/meminfo unreadable or not captured)")
    cmdline = ctx.cmdline
    evidence: dict[str, str] = {"RAM": human(ram)}
    size_flag = read_flag(ctx, CRASH_SIZE)
    fadump = read_flag(ctx, ("/sys/kernel/fadump/mem_reserved",))
    iomem_crash = iomem_total(ctx.iomem, "Crash kernel")
    if size_flag is None and fadump is None and not iomem_crash and cmdline is None:
        return skipped("neither /proc/cmdline nor the kexec reservation files are readable")
    plan = crashkernel_plan(cmdline) if cmdline else None
    if cmdline is not None:
        specs = plan.specs if plan else []
        evidence["crashkernel="] = " ".join(f"crashkernel={s.raw}" for s in specs) or "(none)"
    expected, why_zero = plan.expected_bytes(ram) if plan else (0, "kernel command line not readable")
    if plan and plan.main is not None:
        evidence["resolves to"] = human(expected) if expected else f"0 ({why_zero})"
    reserved: Optional[int] = None
    if size_flag is not None:
        evidence[size_flag[0]] = size_flag[1]
        try:
            reserved = int(size_flag[1])
        except ValueError:
            reserved = None
    if fadump is not None:
        evidence[fadump[0]] = fadump[1]
        try:
            reserved = max(reserved or 0, int(fadump[1]))
        except ValueError:
            pass
    if iomem_crash:
        evidence["/proc/iomem Crash kernel"] = human(iomem_crash)
        reserved = max(reserved or 0, iomem_crash)  # includes the ,low part that kexec_crash_size omits
    if reserved is None:
        if size_flag is None and ctx.host.is_dir("/sys/kernel"):
            return skipped("the running kernel exposes no crash reservation (no kexec_crash_size); see KC101",
                           evidence)
        reserved = expected
        evidence["reserved"] = "unknown; judging the command line alone"
    needed = recommended_size(ram)
    basis = f"{human(needed)} recommended for {human(ram)} RAM"
    estimate = tool_estimate(ctx)
    if estimate and estimate[1] > needed:
        needed, basis = estimate[1], f"{human(estimate[1])} recommended by `{estimate[0]}`"
    note = distro_default_note(ctx, ram)
    if note:
        evidence["distribution default"] = note
    if plan and plan.cma is not None:
        evidence["crashkernel ,cma"] = "CMA pages are reused by the first kernel and left out of the vmcore"
    if plan and plan.ignored:
        evidence["ignored by the kernel"] = ", ".join(f"crashkernel={r}" for r in plan.ignored)
    fix = f"reserve at least {human(needed)}: crashkernel={human(needed)} on the kernel command line; reboot"
    if reserved == 0:
        if plan is None or plan.main is None:
            reason = "no crashkernel= parameter on the kernel command line"
        elif why_zero:
            reason = f"crashkernel={plan.main.raw} reserves nothing here: {why_zero}"
        else:
            reason = (f"crashkernel={plan.main.raw} asked for {human(expected)} but the reservation failed "
                      "at boot (look for 'crashkernel reservation failed' or 'cannot allocate crashkernel' "
                      "in the boot log; a fixed @offset may collide with other memory)")
        return failed(f"no memory is reserved for a crash kernel: {reason}", evidence, fix=fix)
    if plan and plan.main is not None and expected and reserved + 16 * MiB < expected:
        evidence["note"] = f"the command line asks for {human(expected)}, only {human(reserved)} is reserved"
    if reserved < needed:
        severity = Severity.CRITICAL if reserved < needed // 2 else Severity.WARNING
        outcome = ("the capture kernel will almost certainly fail to boot or run out of memory"
                   if severity is Severity.CRITICAL else "the capture kernel may run out of memory")
        return failed(f"{human(reserved)} reserved, but {basis}: {outcome}", evidence, severity=severity,
                      fix=fix)
    return passed(f"{human(reserved)} reserved; {basis}", evidence)

"""kdump: is a crash kernel armed right now, and will the next boot arm it again?"""

from __future__ import annotations

from typing import Optional

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import CommandUnavailable, HostError
from kerncheck.kdumpconfig import kdump_setup
from kerncheck.registry import check, collects

CRASH_LOADED = ("/sys/kernel/kexec/crash_loaded", "/sys/kernel/kexec_crash_loaded")
CRASH_SIZE = ("/sys/kernel/kexec/crash_size", "/sys/kernel/kexec_crash_size")
FADUMP = (("/sys/kernel/fadump/enabled", "/sys/kernel/fadump/registered"),
          ("/sys/kernel/fadump_enabled", "/sys/kernel/fadump_registered"))
SERVICES = {"rhel": "kdump.service", "debian": "kdump-tools.service", "suse": "kdump.service"}

collects(
    "/proc/cmdline", "/proc/meminfo", "/proc/iomem", "/proc/1/environ",
    "/sys/kernel/kexec_loaded", "/sys/kernel/kexec_crash_loaded", "/sys/kernel/kexec_crash_size",
    "/sys/kernel/kexec/*", "/sys/kernel/fadump_*", "/sys/kernel/fadump/*", "/sys/kernel/notes",
    "/proc/sys/kernel/kexec_load_disabled", "/proc/sys/kernel/kexec_load_limit_panic",
    "/etc/kdump.conf", "/etc/sysconfig/kdump", "/etc/default/kdump-tools",
    commands=[
        ["kdumpctl", "status"], ["kdump-config", "status"], ["kdump-config", "show"],
        *(["systemctl", verb, unit] for unit in ("kdump.service", "kdump-tools.service")
          for verb in ("is-active", "is-enabled")),
    ],
)


def read_flag(ctx: Context, paths: tuple[str, ...]) -> Optional[tuple[str, str]]:
    """``(path, value)`` of the first of these sysfs files that exists."""
    found = ctx.first_existing(*paths)
    return (found[0], found[1].strip()) if found else None


def _run(ctx: Context, argv: list[str]) -> Optional[tuple[Optional[int], str]]:
    try:
        res = ctx.host.run(argv, timeout=20)
    except CommandUnavailable:
        return None
    except HostError as exc:  # timed out, or not permitted
        return None, str(exc)
    return res.returncode, (res.stdout + res.stderr).strip()


def service_state(ctx: Context) -> tuple[dict[str, str], list[str]]:
    """Evidence about the kdump service, and problems it reveals (per family; all when unknown)."""
    evidence: dict[str, str] = {}
    problems: list[str] = []
    family = ctx.family
    if family in ("rhel", "unknown"):
        out = _run(ctx, ["kdumpctl", "status"])
        if out is not None:
            rc, text = out
            evidence["kdumpctl status"] = f"exit {rc}: {text}" if rc is not None else text
            if rc == 3 or "not operational" in text:
                problems.append("kdumpctl status: Kdump is not operational")
    if family in ("debian", "unknown"):
        out = _run(ctx, ["kdump-config", "status"])  # always exits 0: the text is the verdict
        if out is not None:
            evidence["kdump-config status"] = out[1]
            if "ready to kdump" not in out[1] or "Not ready" in out[1]:
                problems.append("kdump-config status: not ready to kdump")
        setup = kdump_setup(ctx)
        if setup.use_kdump is not None and setup.use_kdump.strip() != "1":
            evidence["/etc/default/kdump-tools USE_KDUMP"] = setup.use_kdump
            problems.append("USE_KDUMP is not 1 in /etc/default/kdump-tools, so kdump-tools never loads")
    units = [SERVICES[family]] if family in SERVICES else sorted(set(SERVICES.values()))
    for unit in units:
        enabled = _run(ctx, ["systemctl", "is-enabled", unit])
        if enabled is None or not enabled[1]:
            continue
        state = enabled[1].splitlines()[0]
        evidence[f"systemctl is-enabled {unit}"] = state
        if state in ("disabled", "masked", "masked-runtime"):
            problems.append(f"{unit} is {state}: the next boot will not load the crash kernel")
    return evidence, problems


@check(id="KC101", title="kdump armed", severity=Severity.CRITICAL)
def kdump_armed(ctx: Context) -> Result:
    """Is a crash (capture) kernel loaded now, and will the kdump service load it again after a reboot?

    What it checks:
        The kernel's own answer: ``/sys/kernel/kexec_crash_loaded`` (or the newer
        ``/sys/kernel/kexec/crash_loaded``) is 1, or firmware-assisted dump is registered on POWER
        (``/sys/kernel/fadump/registered``). It then reads the service state of the distribution family:
        ``kdumpctl status`` (RHEL/Fedora; exit 0 operational, 3 not), ``kdump-config status`` (Debian/Ubuntu;
        it always exits 0, so its text is read) with ``USE_KDUMP`` in ``/etc/default/kdump-tools``, and
        ``systemctl is-enabled`` of ``kdump.service``/``kdump-tools.service`` (SUSE has no status command).
        ``kernel.kexec_load_disabled=1`` is reported because it is a one-way latch.
    Why it matters:
        Without a loaded crash kernel a panic leaves nothing to analyse: the machine reboots or hangs and
        the evidence is gone (footgun 2). A service that is configured but not enabled leaves the next
        boot unarmed; ``kexec_load_disabled=1`` makes every later load fail until reboot.
    Fix:
        Install the kdump tooling (RHEL: ``dnf install kdump-utils`` or ``kexec-tools``; Debian/Ubuntu:
        ``apt install kdump-tools`` and set ``USE_KDUMP=1``; SUSE: ``zypper install kdump``), reserve memory
        with ``crashkernel=`` (see KC102), enable the service (``systemctl enable --now kdump`` or
        ``kdump-tools``), reboot, and confirm ``cat /sys/kernel/kexec_crash_loaded`` prints 1.
    References:
        Documentation/admin-guide/kdump/kdump.rst; kdump-utils ``kdumpctl`` (status exit codes);
        Debian kdump-tools ``kdump-config``; ``Documentation/ABI/testing/sysfs-kernel-kexec-kdump``.
    """
    if ctx.in_container:
        return skipped(f"running in a container ({ctx.in_container}): kdump belongs to the host kernel; "
                       "audit the host")
    evidence: dict[str, str] = {}
    loaded = read_flag(ctx, CRASH_LOADED)
    fadump_registered = False
    for enabled_path, registered_path in FADUMP:
        enabled = read_flag(ctx, (enabled_path,))
        registered = read_flag(ctx, (registered_path,))
        if enabled:
            evidence[enabled_path] = enabled[1]
        if registered:
            evidence[registered_path] = registered[1]
            if registered[1] == "1" and enabled is not None and enabled[1] == "1":
                fadump_registered = True
    disabled = ctx.sysctl("kernel.kexec_load_disabled")
    if disabled is not None:
        evidence["kernel.kexec_load_disabled"] = disabled
    if loaded is None and not fadump_registered:
        if not ctx.host.is_dir("/sys/kernel"):
            return skipped("no /sys/kernel on this host (sysfs not mounted or not captured)")
        return failed(
            "the running kernel has no crash-kexec support (no /sys/kernel/kexec_crash_loaded): "
            "kdump cannot work with this kernel", evidence,
            fix="boot a kernel built with CONFIG_KEXEC and CONFIG_CRASH_DUMP (every major distribution "
                "kernel has them), then set up kdump (see `kerncheck explain KC101`)")
    if loaded is not None:
        evidence[loaded[0]] = loaded[1]
    size = read_flag(ctx, CRASH_SIZE)
    if size is not None:
        evidence[size[0]] = size[1]
    svc_evidence, problems = service_state(ctx)
    evidence.update(svc_evidence)
    kexec_loaded = loaded is not None and loaded[1] == "1"
    armed = fadump_registered or kexec_loaded
    how = "firmware-assisted dump (fadump) is registered" if fadump_registered and not kexec_loaded \
        else "a crash kernel is loaded"
    if armed:
        later = [p for p in problems if "next boot" in p or "USE_KDUMP" in p]
        if disabled == "1":
            later.append("kernel.kexec_load_disabled=1: the crash kernel cannot be reloaded (e.g. after a "
                         "kdump config change) until reboot")
        if later:
            return failed(f"{how} now, but: " + "; ".join(later), evidence, severity=Severity.WARNING,
                          fix="enable the kdump service so the next boot arms it again "
                              "(systemctl enable kdump / kdump-tools), and set USE_KDUMP=1 on Debian/Ubuntu")
        return passed(f"{how}; a panic will boot the capture kernel", evidence)
    reasons = list(problems)
    if size is not None and size[1] in ("0", ""):
        reasons.insert(0, "no memory is reserved for a crash kernel (kexec_crash_size is 0; see KC102)")
    if disabled == "1":
        reasons.append("kernel.kexec_load_disabled=1: no crash kernel can be loaded until reboot")
    if not svc_evidence and not kdump_setup(ctx).configured:
        reasons.append("no kdump tooling or configuration found")
    detail = "; ".join(reasons) if reasons else "the kdump service did not load it"
    return failed(f"no crash kernel is loaded: a panic now would leave no dump ({detail})", evidence)

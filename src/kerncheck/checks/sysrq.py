"""SysRq: can an operator still get dumps, a sync and a clean reboot out of a hung box?"""

from __future__ import annotations

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.registry import check, collects

collects("/proc/sys/kernel/sysrq", "/sys/module/sysrq/parameters/*")

# enable_mask bit of each key (drivers/tty/sysrq.c), grouped as sysrq.rst documents them.
KEY_BITS = {
    0x2: ("0-9", "console log level"),
    0x4: ("k r", "keyboard control (SAK, unraw)"),
    0x8: ("w t m c l p z", "debugging dumps (blocked tasks, all tasks, memory, crash)"),
    0x10: ("s", "emergency sync"),
    0x20: ("u", "remount read-only"),
    0x40: ("e i f j", "signalling (term, kill, OOM kill)"),
    0x80: ("b o", "reboot/power off"),
    0x100: ("n", "nicing of real-time tasks"),
}
# What a hung box needs: w/t/m dumps, s sync, u remount ro, b reboot.
NEEDED = 0x8 | 0x10 | 0x20 | 0x80


def decode_sysrq(value: int) -> list[str]:
    """Key groups a ``kernel.sysrq`` value enables.

    >>> decode_sysrq(176)
    ['s (emergency sync)', 'u (remount read-only)', 'b o (reboot/power off)']
    >>> decode_sysrq(1)
    ['all keys']
    """
    if value == 1:
        return ["all keys"]
    return [f"{keys} ({what})" for bit, (keys, what) in KEY_BITS.items() if value & bit]


@check(id="KC201", title="SysRq allows emergency keys", severity=Severity.WARNING)
def sysrq_keys(ctx: Context) -> Result:
    """Does ``kernel.sysrq`` allow the keys needed on a hung box: dumps (w/t/m), sync, remount, reboot?

    What it checks:
        Decodes ``kernel.sysrq`` (0 = off, 1 = all keys, otherwise a bitmask: 0x8 dumps w/t/m/c, 0x10 sync,
        0x20 remount read-only, 0x80 reboot) and names the keys that are missing among w/t/m, s, u and b.
        Distribution defaults lack the dump keys: RHEL and systemd set 16 (sync only), Ubuntu 176, Debian
        438. ``sysrq_always_enabled`` on the kernel command line overrides the mask.
    Why it matters:
        On a hung machine the SysRq keys, from a keyboard, a serial console BREAK or a BMC, are the last way
        to see what is blocked (``w``), to get the tasks' stacks (``t``), to sync and remount filesystems and
        reboot cleanly (``s u b``) instead of power-cycling and losing the evidence (footgun 5). The mask
        only affects the keyboard/serial path: root's ``/proc/sysrq-trigger`` always works, so the mask is
        not a protection against root.
    Fix:
        Allow at least dumps, sync, remount and reboot: ``sysctl -w kernel.sysrq=184`` and persist it with
        ``echo kernel.sysrq=184 > /etc/sysctl.d/90-sysrq.conf`` (184 = 0x8|0x10|0x20|0x80; use 1 to allow
        every key). Make sure your console path (BMC serial-over-LAN, hypervisor console) can send SysRq.
    References:
        Documentation/admin-guide/sysrq.rst; drivers/tty/sysrq.c (enable_mask, write_sysrq_trigger);
        systemd sysctl.d/50-default.conf.
    """
    cmdline = ctx.cmdline
    if cmdline is not None and cmdline.has("sysrq_always_enabled"):
        return passed("sysrq_always_enabled is on the kernel command line: every key works",
                      {"/proc/cmdline": "sysrq_always_enabled"})
    raw = ctx.sysctl("kernel.sysrq")
    if raw is None:
        if ctx.in_container:
            return skipped(f"running in a container ({ctx.in_container}): SysRq belongs to the host")
        if ctx.host.is_dir("/proc/sys/kernel"):
            return failed("this kernel has no SysRq support (no /proc/sys/kernel/sysrq): a hung box can only "
                          "be power-cycled", {"/proc/sys/kernel/sysrq": "absent"},
                          fix="use a kernel built with CONFIG_MAGIC_SYSRQ (all distribution kernels are)")
        return skipped("/proc/sys is not readable or not captured")
    try:
        value = int(raw.split()[0], 0)
    except (ValueError, IndexError):
        return failed(f"kernel.sysrq has an unreadable value {raw!r}", {"kernel.sysrq": raw})
    evidence = {"kernel.sysrq": str(value), "allows": ", ".join(decode_sysrq(value)) or "nothing"}
    if value == 1:
        return passed("kernel.sysrq=1: every SysRq key is allowed", evidence)
    missing = [KEY_BITS[bit][0].split()[0] if bit != 0x8 else "w t m" for bit in (0x8, 0x10, 0x20, 0x80)
               if not value & bit]
    if value == 0:
        return failed("SysRq is disabled (kernel.sysrq=0): a hung box can only be power-cycled, losing "
                      "every clue to the hang", evidence, fix="sysctl -w kernel.sysrq=184 and persist it in "
                      "/etc/sysctl.d/90-sysrq.conf (184 = dumps, sync, remount, reboot)")
    if missing:
        suggested = value | NEEDED
        return failed(f"kernel.sysrq={value} is missing keys needed on a hung box: {' '.join(missing)}",
                      evidence, fix=f"sysctl -w kernel.sysrq={suggested} and persist it in "
                      f"/etc/sysctl.d/90-sysrq.conf ({suggested} keeps your current keys and adds "
                      f"{' '.join(missing)})")
    return passed(f"kernel.sysrq={value} allows dumps (w t m), sync (s), remount (u) and reboot (b)",
                  evidence)

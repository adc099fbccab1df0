"""Kernel upgrades: does every installed kernel have a kdump initrd, and can a dump of it be analysed?"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from kerncheck.facts import Context, version_key
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import CommandUnavailable, HostError
from kerncheck.kdumpconfig import kdump_initrd_paths, kdump_setup
from kerncheck.parsers.elf import build_id_from_notes
from kerncheck.registry import check, collects

KERNEL_GLOBS = ("/boot/vmlinuz-*", "/lib/modules/*/vmlinuz", "/usr/lib/modules/*/vmlinuz")
DEBUG_PATHS = (
    "/usr/lib/debug/lib/modules/{v}/vmlinux",  # RHEL/Fedora kernel-debuginfo (crash's default)
    "/usr/lib/debug/boot/vmlinux-{v}",  # Debian -dbg, Ubuntu -dbgsym
    "/usr/lib/debug/lib/modules/{v}/vmlinux.debug",  # SUSE -debuginfo
    "/boot/vmlinux-{v}",
    "/lib/modules/{v}/build/vmlinux",
    "/lib/modules/{v}/vmlinux",
)

collects(
    "/sys/kernel/notes", "/boot/grub/grubenv", "/boot/grub2/grubenv",
    stat_only=[*KERNEL_GLOBS, "/boot/initramfs-*kdump.img", "/var/lib/kdump/*", "/boot/initrd-*-kdump",
               "/usr/lib/debug/lib/modules/*/vmlinux", "/usr/lib/debug/boot/vmlinux-*",
               "/usr/lib/debug/lib/modules/*/vmlinux.debug", "/boot/vmlinux-*",
               "/lib/modules/*/build/vmlinux", "/lib/modules/*/vmlinux"],
    commands=[["grubby", "--default-kernel"]],
)


def installed_kernels(ctx: Context) -> dict[str, str]:
    """Kernel release → path of its image, rescue images excluded (globbed once per Context)."""
    return ctx.cached("kerncheck.installed-kernels", lambda: _find_kernels(ctx))


def _find_kernels(ctx: Context) -> dict[str, str]:
    kernels: dict[str, str] = {}
    for pattern in KERNEL_GLOBS:
        for path in ctx.host.glob(pattern):
            if pattern.startswith("/boot/"):
                release = posixpath.basename(path)[len("vmlinuz-"):]
            else:
                release = posixpath.basename(posixpath.dirname(path))
            if release and "rescue" not in release and not release.endswith((".hmac", ".sig")):
                kernels.setdefault(release, path)
    return kernels


def default_boot_kernel(ctx: Context, kernels: dict[str, str]) -> tuple[Optional[str], str]:
    """The kernel the next boot runs, and how that was determined."""
    try:
        out = ctx.host.run(["grubby", "--default-kernel"]).stdout.strip()
        m = re.search(r"vmlinuz-(\S+)", out)
        if m and m.group(1) in kernels:
            return m.group(1), "grubby --default-kernel"
    except (CommandUnavailable, HostError):
        pass
    for env in ("/boot/grub/grubenv", "/boot/grub2/grubenv"):
        text = ctx.read_optional(env) or ""
        m = re.search(r"^saved_entry=.*?(\d+\.\d+\S*)$", text, re.MULTILINE)
        if m:
            for release in kernels:
                if m.group(1).endswith(release):
                    return release, env
    if kernels:
        return max(kernels, key=version_key), "newest installed kernel (GRUB's default order)"
    return None, "no kernel image found"


def running_build_id(ctx: Context) -> Optional[str]:
    try:
        return build_id_from_notes(ctx.host.read_bytes("/sys/kernel/notes"))
    except HostError:
        return None


def debug_symbols(ctx: Context, release: str) -> Optional[str]:
    for template in DEBUG_PATHS:
        path = template.format(v=release)
        if ctx.host.exists(path):
            return path
    return None


@check(id="KC104", title="kdump survives kernel upgrades", severity=Severity.WARNING)
def kdump_upgrades(ctx: Context) -> list[Result]:
    """Does every installed kernel have a current kdump initrd, and debug symbols to analyse its dumps?

    What it checks:
        For every installed kernel (``/boot/vmlinuz-*``, ``/lib/modules/*/vmlinuz``): that its kdump initrd
        exists at the family's path (RHEL ``/boot/initramfs-<ver>kdump.img`` or
        ``/var/lib/kdump/initramfs-<ver>kdump.img``; Debian/Ubuntu ``/var/lib/kdump/initrd.img-<ver>``;
        SUSE ``/var/lib/kdump/initrd`` or ``/boot/initrd-<ver>-kdump``) and is not older than the kernel or
        the kdump configuration. For the running and the default-boot kernel: that debug symbols for
        ``crash``/``drgn`` exist (``/usr/lib/debug/lib/modules/<ver>/vmlinux``,
        ``/usr/lib/debug/boot/vmlinux-<ver>``, …) and, for the running kernel, that their GNU build-id
        matches ``/sys/kernel/notes``. A newer kernel that is installed but not yet booted is reported.
    Why it matters:
        A kernel upgrade silently breaks kdump when no capture initrd is built for the new kernel (the
        capture "just hangs on the panic"), when the initrd predates a config change, or when the debug
        symbols for the exact build are gone from the mirrors by the time a dump needs analysing
        (footgun 9).
    Fix:
        Rebuild the kdump initrd: RHEL ``kdumpctl rebuild`` (or ``systemctl restart kdump``), Debian/Ubuntu
        ``kdump-config load`` after ``/etc/kernel/postinst.d/kdump-tools <ver>``, SUSE ``systemctl restart
        kdump``. Install matching debug symbols with every kernel: ``dnf debuginfo-install kernel-<ver>``,
        ``apt install linux-image-<ver>-dbg`` (Debian) or ``linux-image-<ver>-dbgsym`` (Ubuntu ddebs),
        ``zypper install kernel-default-debuginfo``. Reboot into pending kernels in a window and re-test.
    References:
        kdump-utils kdumpctl (prepare_kdump_bootinfo, rebuild); Debian kdump-tools postinst.d hook;
        openSUSE kdump; crash(8) and drgn documentation on debug symbols.
    """
    if ctx.in_container:
        return [skipped(f"running in a container ({ctx.in_container}): kernels belong to the host")]
    setup = kdump_setup(ctx)
    if not setup.configured:
        return [skipped("kdump is not configured on this host (see KC101): nothing to keep in step with "
                        "kernel upgrades")]
    kernels = installed_kernels(ctx)
    running = ctx.kernel_release
    if not kernels:
        return [skipped("no installed kernel images found under /boot or /lib/modules")]
    default, how = default_boot_kernel(ctx, kernels)
    config_mtime = 0.0
    for path in setup.config_files:
        try:
            config_mtime = max(config_mtime, ctx.host.stat(path).mtime)
        except HostError:
            continue
    build_id = running_build_id(ctx)
    results: list[Result] = []
    for release in sorted(kernels, key=version_key):
        role = [r for r, k in (("running", running), ("default boot", default)) if k == release]
        prefix = f"{' and '.join(role)} kernel: " if role else ""
        evidence: dict[str, str] = {"kernel": kernels[release]}
        problems: list[str] = []
        notes: list[str] = []
        if running and release != running and version_key(release) > version_key(running):
            notes.append("installed but not booted yet: the next reboot changes the kernel kdump captures")
        initrd = next((p for p in kdump_initrd_paths(setup.family, release) if ctx.host.exists(p)), None)
        if initrd is None:
            if setup.family == "rhel" and release != running:
                notes.append("no kdump initrd yet; kdumpctl builds it on the first boot of this kernel — "
                             "verify kdump after that reboot")
            else:
                problems.append("no kdump initrd: kdump cannot load a capture kernel")
        else:
            evidence["kdump initrd"] = initrd
            try:
                initrd_mtime = ctx.host.stat(initrd).mtime
                kernel_mtime = ctx.host.stat(kernels[release]).mtime
            except HostError as exc:
                problems.append(f"cannot read initrd/kernel times: {exc}")
            else:
                if initrd_mtime < kernel_mtime:
                    problems.append("the kdump initrd is older than the kernel image: rebuild it")
                if config_mtime and initrd_mtime < config_mtime:
                    problems.append("the kdump configuration changed after the kdump initrd was built: "
                                    "rebuild it")
        symbols_state = ""
        if role:
            symbols = debug_symbols(ctx, release)
            if symbols is None:
                problems.append("no debug symbols (vmlinux with debuginfo): a dump of this kernel cannot be "
                                "analysed with crash/drgn")
            else:
                evidence["debug symbols"] = symbols
                if release == running and build_id:
                    try:
                        sym_id = ctx.host.build_id(symbols)
                    except HostError as exc:
                        sym_id = None
                        notes.append(f"build-id of the debug symbols unreadable: {exc.reason}")
                    evidence["build-id (running)"] = build_id
                    if sym_id:
                        evidence["build-id (symbols)"] = sym_id
                        if sym_id != build_id:
                            problems.append("the debug symbols belong to a different build of this kernel "
                                            "(build-id mismatch)")
                        else:
                            symbols_state = "; debug symbols match the running build"
                if not symbols_state:
                    symbols_state = "; debug symbols present (build-id not compared: " + (
                        "not the running kernel)" if release != running else "no readable build-id)")
        if release == default:
            evidence["default boot"] = how
        if notes:
            evidence["notes"] = "; ".join(notes)
        fixes = []
        if any("initrd" in p for p in problems):
            fixes.append({"rhel": "kdumpctl rebuild", "debian": f"/etc/kernel/postinst.d/kdump-tools {release} "
                          "&& kdump-config load"}.get(setup.family, "systemctl restart kdump"))
        if any("debug symbols" in p for p in problems):
            fixes.append({"rhel": f"dnf debuginfo-install kernel-{release}",
                          "debian": f"apt install linux-image-{release}-dbg (Ubuntu: -dbgsym from ddebs)",
                          "suse": "zypper install kernel-default-debuginfo"}.get(
                              setup.family, "install the debug symbols of this exact kernel build"))
        if problems:
            results.append(failed(prefix + "; ".join(problems), evidence, fix="; ".join(fixes) or None,
                                  subject=release))
        else:
            results.append(passed(prefix + ("kdump initrd current" + symbols_state if initrd
                                             else "; ".join(notes)), evidence, subject=release))
    return results

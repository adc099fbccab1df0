"""Documentation and advice for every incident kind (``kerncheck explain soft_lockup``).

Each kind is registered with :func:`kerncheck.registry.document` and the four fixed sections; the
``advice`` of an incident is the kind's first piece of advice, sharpened with what the incident itself says
(the cause of a soft lockup, the module of the culprit, the memory cgroup of an OOM kill).
"""

from __future__ import annotations

from typing import Optional

from kerncheck import registry
from kerncheck.logs.model import KINDS, Incident

_DOCS: dict[str, tuple[str, str]] = {
    "panic": ("Kernel panic", """
        What it checks:
            "Kernel panic - not syncing: <reason>" with no oops, BUG, WARNING or lockup before it (those are
            escalated instead): a deliberate panic (sysrq-c, init died, VFS cannot mount root, hung task /
            softlockup panic sysctls, "stack-protector: Kernel stack is corrupted").
        Why it matters:
            The machine stopped. The reason line and the call trace after it are the only evidence unless
            kdump captured a vmcore; rebooting without saving them loses the cause.
        Fix:
            Save the panic text (serial console, pstore, vmcore-dmesg) before rebooting; with kdump analyse
            the vmcore with crash(8). "Attempted to kill init" means PID 1 died: check the init system and its
            logs. "VFS: Unable to mount root fs" means the initramfs lacks the root device driver.
        References:
            Documentation/admin-guide/kdump/kdump.rst; Documentation/admin-guide/sysctl/kernel.rst (panic_on_*)
        """),
    "oops": ("Kernel oops (bad memory access, GPF)", """
        What it checks:
            An x86 "BUG: kernel NULL pointer dereference" / "unable to handle page fault", a general
            protection fault, divide error, double fault, or an arm/powerpc "Internal error" / "Unhandled fault",
            with its registers, module list and call trace.
        Why it matters:
            Kernel code dereferenced a bad pointer. The task was killed with locks possibly held; the kernel is
            tainted (D) and often hangs or panics later. The culprit frame names the buggy code.
        Fix:
            Look at the culprit and its module: an out-of-tree or vendor module is the first suspect (update or
            remove it); otherwise search the function name in the distribution's bug tracker and update the
            kernel. Reboot soon: after an oops the kernel state is not trustworthy.
        References:
            Documentation/admin-guide/bug-hunting.rst; Documentation/admin-guide/tainted-kernels.rst
        """),
    "bug": ("Kernel BUG", """
        What it checks:
            "kernel BUG at file:line!" (BUG()/BUG_ON()), and "BUG: <what>" reports: scheduling while atomic,
            sleeping function called from invalid context, bad page state, list corruption, spinlock bad magic,
            bad usercopy, stack guard page hit.
        Why it matters:
            A kernel invariant broke: memory corruption, a locking bug or a use-after-free. The kernel killed
            the task (or panics with panic_on_oops) and may corrupt data if it keeps running.
        Fix:
            Identify the culprit function and module; update the kernel or the module. Bad page state and list
            corruption repeatedly on one machine can also mean bad RAM: run a memory test.
        References:
            Documentation/admin-guide/bug-hunting.rst
        """),
    "warning": ("Kernel WARNING", """
        What it checks:
            "WARNING: CPU: N PID: N at file:line func" blocks (WARN_ON), and lockdep warnings such as
            "suspicious RCU usage" or "bad unlock balance".
        Why it matters:
            The kernel detected an unexpected condition and continued. Repeated warnings often precede real
            failures; with panic_on_warn the machine panics.
        Fix:
            Check the culprit function/module and search it in the kernel's or the vendor's bug tracker; update
            the kernel or the module. A one-off warning during driver probe is often harmless, a recurring one
            is not.
        References:
            Documentation/admin-guide/tainted-kernels.rst (W flag)
        """),
    "kasan": ("KASAN memory-safety report", """
        What it checks:
            "BUG: KASAN: <type> in <func>" reports (use-after-free, out-of-bounds, double-free) from kernels
            built with the Kernel Address Sanitizer.
        Why it matters:
            A confirmed memory-safety bug in the named function: memory corruption and potentially exploitable.
        Fix:
            Report it upstream with the full report (access, allocation and free stacks); update the kernel or
            the module that contains the culprit.
        References:
            Documentation/dev-tools/kasan.rst
        """),
    "kmsan": ("KMSAN uninitialised-memory report", """
        What it checks:
            "BUG: KMSAN: uninit-value / kernel-infoleak in <func>" from kernels with the Kernel Memory Sanitizer.
        Why it matters:
            Uninitialised memory was used or copied to user space (an information leak).
        Fix:
            Report upstream with the report; update the kernel.
        References:
            Documentation/dev-tools/kmsan.rst
        """),
    "kcsan": ("KCSAN data-race report", """
        What it checks:
            "BUG: KCSAN: data-race in <func> / <func>" from kernels with the Kernel Concurrency Sanitizer.
        Why it matters:
            Two CPUs accessed the same memory concurrently without synchronisation; many races are benign,
            some corrupt state.
        Fix:
            Report upstream; judge impact from the two access stacks.
        References:
            Documentation/dev-tools/kcsan.rst
        """),
    "ubsan": ("UBSAN undefined-behaviour report", """
        What it checks:
            "UBSAN: <type> in <file>" reports (array index out of bounds, shift out of bounds, overflow).
        Why it matters:
            The compiled code relies on undefined behaviour; results may be wrong or exploitable.
        Fix:
            Report upstream with the call trace; update the kernel or module.
        References:
            Documentation/dev-tools/ubsan.rst
        """),
    "kfence": ("KFENCE memory-safety report", """
        What it checks:
            "BUG: KFENCE: <type> in <func>" from the low-overhead sampling memory-error detector (enabled in
            many production kernels).
        Why it matters:
            A real use-after-free or out-of-bounds access in production code.
        Fix:
            Report it with the full report to the kernel or module vendor; update.
        References:
            Documentation/dev-tools/kfence.rst
        """),
    "soft_lockup": ("Soft lockup (CPU stuck in kernel code)", """
        What it checks:
            "watchdog: BUG: soft lockup - CPU#N stuck for Ns! [comm:pid]" with its backtrace; the cause is
            classified from the frames: nic_driver (ixgbe_*, mlx5_*, i40e_*, bnxt_*, e1000*, a NIC driver
            module), filesystem (ext4/xfs/btrfs/jbd2/nfs frames), spinlock_contention
            (native_queued_spin_lock_slowpath and friends), hypervisor_steal (a VM with high steal time), else
            unknown.
        Why it matters:
            A CPU ran kernel code without scheduling for 20+ seconds: latency spikes, stuck network queues,
            hung I/O; with softlockup_panic the machine panics. Ignoring it until the box hangs is footgun 8.
        Fix:
            nic_driver: update the NIC driver/firmware, check interrupt affinity and ring sizes, look for link
            flaps. filesystem: check the disk behind it (smartctl, I/O errors in the log) and the filesystem.
            spinlock_contention: find the lock holder (other CPUs' backtraces), update the kernel. On a VM with
            steal time: the hypervisor did not run this vCPU — move the VM or reduce overcommit.
        References:
            Documentation/admin-guide/lockup-watchdogs.rst
        """),
    "hard_lockup": ("Hard lockup (CPU stuck with interrupts off)", """
        What it checks:
            "NMI watchdog: Watchdog detected hard LOCKUP on cpu N" with the NMI backtrace.
        Why it matters:
            A CPU did not take interrupts for about 10 s; the machine usually panics ("Hard LOCKUP") or hangs.
        Fix:
            Identify the culprit frame (often a driver spinning with interrupts disabled or firmware/SMI
            trouble); update the driver, kernel and BIOS; configure kdump to capture the next one.
        References:
            Documentation/admin-guide/lockup-watchdogs.rst
        """),
    "hung_task": ("Hung task (blocked in D state)", """
        What it checks:
            "INFO: task comm:pid blocked for more than N seconds." with the task's stack.
        Why it matters:
            A task waited uninterruptibly for 120 s+ — usually on storage (I/O that never completes, NFS
            server gone) or on a lock held by a stuck task. Processes pile up and the box becomes unusable.
        Fix:
            Read the stack: I/O waits (io_schedule, jbd2, xfs_log) → check the disk/array/NFS server and the
            I/O errors; mutex/rwsem waits → find the holder (sysrq-w shows all blocked tasks). Do not just
            raise hung_task_timeout_secs.
        References:
            Documentation/admin-guide/sysctl/kernel.rst (hung_task_*)
        """),
    "rcu_stall": ("RCU CPU stall", """
        What it checks:
            "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks" / "self-detected stall on CPU" with the
            stalled CPUs and their backtraces.
        Why it matters:
            A CPU did not pass through a quiescent state for 21+ seconds: a kernel loop with preemption or
            interrupts off, a livelock, or (on VMs) a vCPU that was not scheduled. Memory is not freed and the
            machine degrades.
        Fix:
            Look at the culprit frame of the stalled CPU; update the kernel/driver. On VMs check steal time and
            host overcommit. "kthread starved" messages point to CPU starvation of the RCU kthread (RT tasks).
        References:
            Documentation/RCU/stallwarn.rst
        """),
    "oom_kill": ("Out-of-memory kill", """
        What it checks:
            The OOM killer's report: the invoking task, the memory cgroup and its limit, the task table, the
            constraint and the killed victim with its RSS (all eras, including RHEL 7's ", UID N," variant).
        Why it matters:
            A process was SIGKILLed. Restarting it without finding the leak, the too-small cgroup limit or the
            oversized heap (a JVM at 80 % of RAM) just schedules the next kill (footgun 6).
        Fix:
            Memory-cgroup kills: compare the victim's RSS with memory.max / limit_in_bytes and raise the limit
            or fix the leak; global kills: find the largest tasks in the table and size heaps/caches to fit
            RAM. Run "kerncheck oom" for the history of kills per victim.
        References:
            Documentation/admin-guide/cgroup-v2.rst (memory); mm/oom_kill.c
        """),
    "deadlock": ("Lockdep: possible deadlock", """
        What it checks:
            Lockdep reports: "possible circular locking dependency", "possible recursive locking",
            "inconsistent lock state", irq lock inversion.
        Why it matters:
            Two code paths take locks in an order that can deadlock; on a debug kernel this is a real bug
            even if the hang has not happened yet.
        Fix:
            Report upstream with the full lock chain; update the kernel or module named in the chain.
        References:
            Documentation/locking/lockdep-design.rst
        """),
    "memory_leak": ("kmemleak: memory leak", """
        What it checks:
            "unreferenced object 0x… (size N)" reports and "kmemleak: N new suspected memory leaks".
        Why it matters:
            Kernel memory is allocated and never freed; the slab grows until the machine runs out of memory.
        Fix:
            Read /sys/kernel/debug/kmemleak for the allocation backtraces; update the leaking module/kernel.
        References:
            Documentation/dev-tools/kmemleak.rst
        """),
    "fs_error": ("Filesystem error", """
        What it checks:
            "EXT4-fs error (device …)", jbd2 "Aborting journal", XFS metadata I/O errors, corruption and
            shutdowns, "BTRFS: error (device …)" / checksum failures, and other filesystems' error lines.
        Why it matters:
            The filesystem found corruption or could not write its metadata. Ignoring it while "the server is
            running fine" (footgun 1) ends with a read-only or unmountable filesystem and lost data.
        Fix:
            Check the disk first (smartctl -a, I/O errors in this log). Take a backup. Repair only unmounted:
            schedule downtime and run "kerncheck fsck DEVICE" (it refuses mounted filesystems) — never fsck a
            mounted filesystem.
        References:
            e2fsck(8); xfs_repair(8); btrfs-check(8)
        """),
    "fs_readonly": ("Filesystem remounted read-only", """
        What it checks:
            "EXT4-fs (dev): Remounting filesystem read-only", btrfs "forced readonly" and equivalents.
        Why it matters:
            Writes fail from now on: databases, logs and applications on that filesystem break.
        Fix:
            Find the error before it (fs_error / io_error incidents for the same device), check the disk, then
            unmount and repair with "kerncheck fsck DEVICE" during downtime. Do not just remount rw.
        References:
            ext4(5) errors=remount-ro
        """),
    "io_error": ("Block I/O error", """
        What it checks:
            Block-layer "I/O error, dev sdX, sector N", "Buffer I/O error on dev", SCSI FAILED results and ATA
            exceptions, grouped per burst and device.
        Why it matters:
            Reads or writes failed: the disk, cable, controller or path is failing. I/O errors weeks before a
            disk dies are the warning nobody reads (footgun 1).
        Fix:
            Run smartctl -a on the device (kerncheck audit checks SMART), check cabling/multipath, replace the
            disk while the data is still readable; make sure backups are not on the same disk.
        References:
            smartctl(8)
        """),
    "medium_error": ("Disk medium error (unreadable sector)", """
        What it checks:
            SCSI "Sense Key : Medium Error", "Unrecovered read error", ATA "UNC" / "media error", block-layer
            "critical medium error", NVMe "Unrecovered Read Error".
        Why it matters:
            Sectors on the platter/flash are unreadable: data in them is lost and the disk is degrading.
        Fix:
            Replace the disk; check SMART reallocated/pending sector counts; restore affected files from
            backup (the sector tells which file); rebuild RAID onto a new disk.
        References:
            smartctl(8); badblocks(8)
        """),
    "nvme_error": ("NVMe controller error", """
        What it checks:
            "nvme nvmeN: I/O … QID … timeout, aborting/reset controller", "controller is down; will reset",
            NVMe status errors.
        Why it matters:
            The SSD or its PCIe link stops responding; I/O stalls for seconds and the device may disappear.
        Fix:
            Update the SSD firmware and kernel, check "smartctl -a /dev/nvmeN" and PCIe AER errors; consider
            nvme_core.default_ps_max_latency_us=0 for APST problems; replace the drive if it repeats.
        References:
            nvme(1); smartctl(8)
        """),
    "mce": ("Machine check (hardware error)", """
        What it checks:
            "mce: [Hardware Error]: Machine Check Exception", "Machine check events logged", APEI/GHES
            "[Hardware Error]" reports.
        Why it matters:
            The CPU, memory or bus reported a hardware error. Corrected errors are a trend to watch; an
            uncorrected one kills processes or the machine.
        Fix:
            Decode with rasdaemon/mcelog, check the BMC/IPMI SEL, replace the failing DIMM/CPU; update BIOS.
        References:
            rasdaemon(8); mcelog(8)
        """),
    "edac": ("EDAC memory error", """
        What it checks:
            "EDAC MCn: N CE|UE memory read error on …" from the memory controller drivers.
        Why it matters:
            CE: a DIMM produced a corrected error (rising counts predict failure); UE: an uncorrectable error.
        Fix:
            Identify the DIMM from the location in the message (edac-util, rasdaemon's ras-mc-ctl), schedule
            its replacement; UE errors need immediate replacement.
        References:
            Documentation/admin-guide/ras.rst
        """),
    "other": ("Other kernel error", """
        What it checks:
            Kernel messages at level err or above (0–3) that match no known kind, and a few named events
            (unregister_netdevice waiting for a device, busy inodes after unmount).
        Why it matters:
            Drivers report failures at KERN_ERR; the seed rule "alert on any message at level err or above"
            catches what no pattern knows yet.
        Fix:
            Read the message and the subsystem that printed it; search it in the vendor's knowledge base.
        References:
            Documentation/core-api/printk-basics.rst
        """),
}

_ADVICE: dict[str, str] = {
    "panic": "Save the panic text and any vmcore before rebooting; analyse the reason line and call trace "
             "(crash(8) on the vmcore).",
    "oops": "Reboot soon (kernel state is untrustworthy after an oops); update or remove the module of the "
            "culprit, else search the culprit in the distribution's bug tracker and update the kernel.",
    "bug": "A kernel invariant broke: update the kernel or the culprit's module; repeated memory-corruption "
           "BUGs on one machine warrant a RAM test.",
    "warning": "Check the culprit in the vendor/kernel bug tracker; update the kernel or module if it recurs.",
    "kasan": "Memory-safety bug: report it with the full report and update the kernel/module.",
    "kmsan": "Uninitialised-memory bug: report it upstream and update the kernel.",
    "kcsan": "Data race: report it upstream with both stacks.",
    "ubsan": "Undefined behaviour: report it upstream with the call trace.",
    "kfence": "Memory-safety bug caught in production: report it to the kernel/module vendor and update.",
    "hard_lockup": "Update the driver of the culprit frame, the kernel and the BIOS; keep kdump ready for the "
                   "next one.",
    "hung_task": "Read the stack: I/O waits point to the disk/array/NFS server, lock waits to the holder "
                 "(sysrq-w). Do not just raise hung_task_timeout_secs.",
    "rcu_stall": "Update the kernel/driver of the culprit; on a VM check steal time and host overcommit.",
    "deadlock": "Lock-order bug: report upstream with the lock chain; update the kernel or module.",
    "memory_leak": "Read /sys/kernel/debug/kmemleak for the allocation stacks and update the leaking code.",
    "fs_error": "Check the disk (smartctl -a, I/O errors), take a backup, then repair unmounted during "
                "downtime with `kerncheck fsck DEVICE` — never fsck a mounted filesystem.",
    "fs_readonly": "Writes now fail. Find the error before it, check the disk, then unmount and repair with "
                   "`kerncheck fsck DEVICE`; do not simply remount read-write.",
    "io_error": "Run smartctl -a on the disk, check cabling/controller/multipath, and replace the disk while the "
                "data is still readable; keep backups off this disk.",
    "medium_error": "Unreadable sectors: replace the disk, check SMART pending/reallocated sectors, restore the "
                    "affected data from backup.",
    "nvme_error": "Update SSD firmware and kernel, check smartctl -a /dev/nvmeN and PCIe AER errors; replace the "
                  "drive if it repeats.",
    "mce": "Decode with rasdaemon/mcelog, check the BMC SEL and replace the failing CPU/DIMM.",
    "edac": "Identify the DIMM from the location (ras-mc-ctl/edac-util) and schedule its replacement.",
    "other": "Read the message and its subsystem; search it in the vendor knowledge base.",
}
_SOFT_LOCKUP_ADVICE = {
    "nic_driver": "The CPU was stuck in a network driver{mod}: update the NIC driver and firmware, check IRQ "
                  "affinity, ring sizes and link flaps.",
    "filesystem": "The CPU was stuck in filesystem code{mod}: check the disk behind it (smartctl, I/O errors in "
                  "the log) and the filesystem's health.",
    "spinlock_contention": "The CPU was spinning on a lock: find the holder in the other CPUs' backtraces and "
                           "update the kernel/driver that holds it.",
    "hypervisor_steal": "This VM shows high steal time: the hypervisor did not run the vCPU. Reduce host "
                        "overcommit or move the VM; the guest kernel is not at fault.",
    "unknown": "The CPU was stuck in {func}{mod}: update the kernel or the driver it belongs to.",
}


def advice_for(kind: str, cause: Optional[str], incident: Optional[Incident] = None) -> str:
    """Concrete advice for one incident."""
    inc = incident
    mod = f" (module {inc.module})" if inc is not None and inc.module else ""
    if kind in ("soft_lockup", "hard_lockup", "rcu_stall") and cause in _SOFT_LOCKUP_ADVICE and (
            kind == "soft_lockup" or cause != "unknown"):
        func = inc.function if inc is not None and inc.function else "the culprit frame"
        text = _SOFT_LOCKUP_ADVICE[cause].format(mod=mod, func=func)
        if cause == "unknown" and inc is not None and inc.details.get("virtual_machine"):
            text += " On this VM also check steal time (top's 'st', /proc/stat)."
        return text
    text = _ADVICE.get(kind, _ADVICE["other"])
    if inc is None:
        return text
    if kind == "oom_kill":
        d = inc.details
        victim = d.get("victim") or {}
        if d.get("oom_memcg") and not d.get("global_oom"):
            limit = d.get("memcg_limit_kb")
            lim = f" ({limit // 1024} MiB)" if isinstance(limit, int) and limit < 2**40 else ""
            text = (f"Memory cgroup {d['oom_memcg']} hit its limit{lim}: raise memory.max/limit for it or fix "
                    f"the leak in {victim.get('comm', 'the victim')}; restarting it alone will repeat the kill.")
        else:
            text = ("The whole machine ran out of memory: size heaps and caches to fit RAM (check the largest "
                    "tasks in the report), add memory or swap; restarting the victim alone will repeat the kill.")
    if inc.taint and any(t in ("OOT_MODULE", "PROPRIETARY_MODULE", "UNSIGNED_MODULE") for t in inc.taint) \
            and kind in ("oops", "bug", "warning", "panic", "hard_lockup", "hung_task"):
        text += " The kernel is tainted by an out-of-tree/proprietary module: reproduce without it before " \
                "reporting upstream."
    if inc.module and inc.function and kind in ("oops", "bug", "warning", "panic", "hung_task", "hard_lockup",
                                                "rcu_stall", "kasan", "kfence", "ubsan"):
        text = f"The culprit {inc.function} is in module {inc.module}. " + text
    return text


def _register() -> None:
    for kind in KINDS:
        title, text = _DOCS[kind]
        if kind not in registry.DOCS:
            registry.document(kind, title, text)


_register()

"""The ranked table of incident openers, the structural lines of kernel reports, and the prefilter.

Every pattern here is matched against one line of a record's message (timestamp, level and caller prefix
already stripped). Formats per kernel era are in ``shared/research/kernel-log-formats.md``.

:data:`PREFILTER` is for the fast scanner (``logs/scan.py``): unanchored regexes in the syntax common to
Python ``re``, RE2 and hyperscan (no lookarounds, no backreferences). Every line that opens an incident, or
changes one after a gap (a panic escalating an earlier oops, an OOM kill line, an end marker), matches at
least one of them; the scanner then feeds records to the incident builder until it is idle, so the
continuation lines of a report (registers, frames, task tables) need not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Opener:
    """A line that starts (or, with ``role``, joins) an incident.

    ``role``: ``"open"`` starts an incident of ``kind``; ``"cut"`` is the ``cut here`` line that precedes
    a WARNING or kernel BUG; ``"panic"`` escalates the incident it follows; ``"sysrq"`` starts a SysRq
    dump that is swallowed (not a crash); ``"chain"`` is a storage/hardware error that groups with the
    lines around it.
    """

    name: str
    kind: Optional[str]
    regex: re.Pattern[str]
    role: str = "open"


def _o(name: str, kind: Optional[str], pattern: str, role: str = "open") -> Opener:
    return Opener(name, kind, re.compile(pattern), role)


_BLK_ERRORS = (r"I/O|critical medium|critical target|critical nexus|critical space allocation|timeout|"
               r"recoverable transport|protection|device offline|reservation conflict|operation not supported|"
               r"target|nexus|space allocation|medium|resource|duration limit exceeded|invalid")

# Ranked: the first match wins, so specific formats come before generic ones.
OPENERS: tuple[Opener, ...] = (
    _o("panic", "panic", r"^Kernel panic - not syncing: ?(?P<reason>.*)", role="panic"),
    _o("soft_lockup", "soft_lockup",
       r"BUG: soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<secs>\d+)s! \[(?P<comm>.*):(?P<pid>\d+)\]"),
    _o("hard_lockup", "hard_lockup", r"Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)"),
    _o("rcu_stall", "rcu_stall",
       r"INFO: (?P<flavor>rcu\w*) (?P<self>self-)?detected (?:expedited )?stalls? on CPU"),
    _o("hung_task", "hung_task",
       r"INFO: task (?P<comm>.*):(?P<pid>\d+) (?:blocked (?:in I/O wait )?for more than (?P<secs>\d+) seconds|"
       r"can't die for more than (?P<secs2>\d+) seconds)"),
    _o("oom_header", "oom_kill",
       r"(?P<comm>.*) invoked oom-killer: gfp_mask=(?P<gfp>0x[0-9a-f]+)(?:\((?P<gfpflags>[^)]*)\))?,"
       r"(?: nodemask=\S+,)? order=(?P<order>-?\d+), oom_score_adj=(?P<adj>-?\d+)"),
    _o("oom_summary", "oom_kill", r"^oom-kill:constraint=(?P<constraint>\w+)"),
    _o("oom_kill", "oom_kill",
       r"(?:(?P<why>Out of memory|Memory cgroup out of memory|Out of memory \(oom_kill_allocating_task\)): )?"
       r"(?:Killed|Kill) process (?P<pid>\d+) \((?P<comm>[^)]*)\)(?P<rest>.*)"),
    _o("kasan", "kasan", r"BUG: KASAN: (?P<type>.+?) (?:in|on address) (?P<where>\S+)(?P<rest>.*)"),
    _o("kmsan", "kmsan", r"BUG: KMSAN: (?P<type>.+?) in (?P<where>\S+)"),
    _o("kcsan", "kcsan", r"BUG: KCSAN: (?P<type>.+?) in (?P<where>.+)"),
    _o("kfence", "kfence", r"BUG: KFENCE: (?P<type>.+?) in (?P<where>\S+)"),
    _o("ubsan", "ubsan", r"^UBSAN: (?P<type>.+?) in (?P<where>\S+)"),
    _o("kmemleak_bug", "memory_leak", r"^BUG: memory leak"),
    _o("kmemleak_object", "memory_leak", r"^unreferenced object 0x[0-9a-f]+ \(size (?P<size>\d+)\):"),
    _o("kmemleak_summary", "memory_leak", r"kmemleak: (?P<n>\d+) new suspected memory leaks"),
    _o("lockdep_deadlock", "deadlock",
       r"^\[? ?(?:WARNING|INFO|BUG): (?P<what>possible circular locking dependency detected|"
       r"possible recursive locking detected|inconsistent lock state|possible irq lock inversion dependency detected|"
       r"\S+-safe -> \S+-unsafe lock order detected|possible deadlock)"),
    _o("lockdep_other", None,
       r"^\[? ?(?P<pfx>WARNING|BUG|INFO): (?P<what>bad unlock balance detected|held lock freed|"
       r"lock held when returning to user space|still has locks held|suspicious RCU usage|[Nn]ested lock was not taken|"
       r"lock held at task exit time|bad contention detected|trying to register non-static key|"
       r"MAX_LOCKDEP_\w+ too low|MAX_STACK_TRACE_ENTRIES too low|chain_key collision|lock_acquire\(\) .*)"),
    _o("null_deref", "oops", r"^BUG: kernel NULL pointer dereference, address: (?P<addr>\S+)"),
    _o("page_fault", "oops",
       r"^BUG: unable to handle (?:kernel|page fault)(?: (?P<what>NULL pointer dereference|paging request))?"
       r"(?: (?:at|for address:?) (?P<addr>\S+))?"),
    _o("ppc_fault", "oops", r"^BUG: Unable to handle kernel (?:data|instruction) access"),
    _o("arm_fault", "oops",
       r"^Unable to handle kernel (?:NULL pointer dereference|paging request|access to user memory|"
       r"execute from non-executable memory|write to read-only memory)\b"),
    _o("gpf", "oops",
       r"(?:^|[a-z])(?:Oops: )?(?:segment-related )?general protection fault"
       r"(?P<rest>(?:,? [^:]*)?: [0-9a-f]{4} \[#\d+\].*)"),
    _o("divide_error", "oops", r"^(?:Oops: )?divide error: [0-9a-f]{4} \[#\d+\]"),
    _o("stack_segment", "oops", r"^(?:Oops: )?stack segment: [0-9a-f]{4} \[#\d+\]"),
    _o("double_fault", "oops", r"^(?:traps: )?PANIC: double fault"),
    _o("stack_overflow", "bug", r"^(?:Oops: )?kernel stack overflow \(double-fault\)"),
    _o("invalid_opcode", "bug", r"^(?:Oops: )?invalid opcode: [0-9a-f]{4} \[#\d+\]"),
    _o("kernel_bug", "bug", r"^kernel BUG at (?P<file>[^:\s]+):(?P<line>\d+)!"),
    _o("arm_internal", "oops", r"^Internal error: (?P<what>.*?): ?[0-9a-f]+ \[#\d+\]"),
    _o("arm_unhandled", "oops", r"^Unhandled fault: (?P<what>.*?) \(0x[0-9a-f]+\) at 0x"),
    _o("oops", "oops", r"^Oops(?::| -) (?P<what>.*)"),
    _o("cut_here", None, r"-+\[ cut here \]-+|^8<-+ cut here -+", role="cut"),
    _o("warning", "warning",
       r"^WARNING: (?:CPU: (?P<cpu>\d+) PID: (?P<pid>\d+) at |at )(?P<file>[^:\s]+):(?P<line>\d+) "
       r"(?P<sym>\S+?)(?:\(\))?(?:\s+\[(?P<mod>[\w-]+)\])?(?:\s+[\w./-]+:\d+)?$"),
    _o("warning_v2", "warning",
       r"^WARNING: (?:(?P<file>[^:\s]+):(?P<line>\d+) )?at (?P<sym>\S+?)(?:\s+\[(?P<mod>[\w-]+)\])?, "
       r"CPU#(?P<cpu>\d+): (?P<comm>.*)/(?P<pid>\d+)$"),
    _o("warning_unwind", "warning",
       r"^WARNING: (?P<what>kernel stack (?:regs|frame pointer) .*|stack (?:going in the wrong direction|recursion)"
       r".*|can't access registers.*|can't dereference registers.*)"),
    _o("list_corruption", "bug", r"^(?P<what>list_(?:add|del)) corruption\b"),
    _o("usercopy", "bug", r"^usercopy: Kernel memory (?:exposure|overwrite) attempt detected"),
    _o("netdev_refcount", "other",
       r"^unregister_netdevice: waiting for (?P<dev>\S+) to become free\. Usage count = (?P<n>-?\d+)"),
    _o("busy_inodes", "other", r"^VFS: Busy inodes after unmount of (?P<dev>[^.\s]+)"),
    _o("bug_generic", "bug", r"^BUG: (?P<what>.+)"),
    _o("sysrq", None, r"^(?:sysrq: (?:SysRq : )?|SysRq : )(?P<what>.+)", role="sysrq"),
    # Storage and hardware errors (grouped with adjacent lines about the same device).
    _o("ext_error", "fs_error",
       r"^(?P<fs>EXT[234])-fs (?P<lvl>error|warning) \(device (?P<dev>[^)]+)\)(?::| in) (?P<fn>\w+)(?::\d+)?"
       r"(?P<rest>.*)",
       role="chain"),
    _o("ext_readonly", "fs_readonly",
       r"^(?P<fs>EXT[234])-fs \((?P<dev>[^)]+)\): (?:error: )?[Rr]emounting filesystem read-only", role="chain"),
    _o("ext_error_count", "fs_error",
       r"^(?P<fs>EXT[234])-fs \((?P<dev>[^)]+)\): (?:error count since last fsck: (?P<n>\d+)|"
       r"(?:initial|last) error at time \d+: (?P<fn>\w+))", role="chain"),
    _o("ext_panic", "fs_error", r"^(?P<fs>EXT[234])-fs \(device (?P<dev>[^)]+)\): panic forced after error",
       role="chain"),
    _o("jbd2_abort", "fs_error", r"^Aborting journal on device (?P<dev>\S+?)(?:-\d+)?\.$", role="chain"),
    _o("jbd2_io", "fs_error",
       r"^JBD2: (?P<what>.*(?:I/?O error|IO errors|Error -?\d+).*?)(?: on (?P<dev>\S+?)(?:-\d+)?)?\.?$", role="chain"),
    _o("xfs", "fs_error",
       r"^(?P<fs>XFS) \((?P<dev>[^)]+)\): (?P<what>.*(?:metadata I/O error|[Cc]orruption|Internal error|"
       r"[Ss]hutting down filesystem|Log I/O [Ee]rror|I/O Error Detected|xfs_do_force_shutdown|writeback error|"
       r"Filesystem has been shut down|CRC error|xfs_repair).*)", role="chain"),
    _o("btrfs_readonly", "fs_readonly",
       r"^(?P<fs>BTRFS)(?: \w+)? \(device (?P<dev>[^)\s]+)(?: state \w+)?\):? (?:.*)?forced readonly", role="chain"),
    _o("btrfs_error", "fs_error",
       r"^(?P<fs>BTRFS)(?::? (?P<lvl>error|critical|emergency|alert|warning))? \(device (?P<dev>[^)\s]+)"
       r"(?: state \w+)?\):? (?:in (?P<fn>\w+):\d+: )?(?P<what>.*)", role="chain"),
    _o("fs_readonly_generic", "fs_readonly",
       r"^(?P<fs>[A-Za-z0-9]+)(?:-fs)? ?\((?P<dev>[^)]+)\):? .*[Rr]emounting (?:filesystem )?read-only", role="chain"),
    _o("fs_error_generic", "fs_error",
       r"^(?P<fs>FAT|F2FS|NILFS|UDF|ISOFS|SQUASHFS|ocfs2|GFS2|NTFS|ntfs3|exFAT|hfsplus|reiserfs|REISERFS)(?:-fs)? "
       r"?(?:error|\((?P<dev>[^)]+)\):? (?:error|.*corrupt))", role="chain"),
    _o("blk_error", None,
       r"^(?:(?:blk_update_request|print_req_error|end_request|blk_mq_end_request|I/O error): )?"
       r"(?P<err>" + _BLK_ERRORS + r") error, dev (?P<dev>[^,\s]+),? sector (?P<sector>\d+)", role="chain"),
    _o("buffer_io", "io_error",
       r"^Buffer I/O error on (?:dev|device) (?P<dev>[^,\s]+),? logical block (?P<block>\d+)", role="chain"),
    _o("lost_page_write", "io_error", r"lost page write due to I/O error on (?P<dev>\S+)", role="chain"),
    _o("scsi_error", "io_error",
       r"^(?:sd|sr|st) \d+:\d+:\d+:\d+: \[(?P<dev>\w+)\] (?:tag#\d+ )?(?P<what>FAILED Result|Sense Key : |"
       r"Unhandled (?:sense|error) code|Add\. Sense: |.*timing out command|.*rejecting I/O|.*killing request|"
       r"Medium access timeout failure|Offlined)", role="chain"),
    _o("ata_error", "io_error",
       r"^(?P<dev>ata\d+(?:\.\d+)?): (?P<what>exception Emask|failed command|COMRESET failed|revalidation failed|"
       r"failed to IDENTIFY|link is slow to respond|disabled$|error: \{)", role="chain"),
    _o("nvme_status", None,
       r"^(?P<dev>nvme\d+n\d+(?:p\d+)?): (?P<op>[\w ]+)\(0x[0-9a-f]+\) @ LBA (?P<sector>\d+), (?P<blocks>\d+) "
       r"blocks?, (?P<status>.+?) \(sct", role="chain"),
    _o("nvme_ctrl", "nvme_error",
       r"^nvme (?P<dev>nvme\d+): (?P<what>I/O (?:tag )?\d+ .*timeout|controller is down|Removing after probe failure|"
       r"Device not ready|Abort status|resetting controller|Cancelling I/O|Disabling device after reset failure|"
       r"frozen state error detected|failed (?:to|while)|Identify .* failed|I/O error)", role="chain"),
    _o("mce", "mce",
       r"(?:^|\] |: )(?:\[Hardware Error\]: )?(?:CPU \d+: )?Machine Check(?: Exception)?: ?(?P<what>.*)", role="chain"),
    _o("mce_logged", "mce", r"(?:^|: )Machine check events logged", role="chain"),
    _o("ghes", "mce", r"\[Hardware Error\]: Hardware error from APEI Generic Hardware Error Source", role="chain"),
    _o("edac", "edac",
       r"^EDAC (?:[\w-]+ )?MC(?P<mc>\d+): (?P<count>\d+) (?P<type>CE|UE) (?P<what>.*)", role="chain"),
)

_BY_NAME = {o.name: o for o in OPENERS}
# Cheap literal guards per opener: a line that contains none of an opener's guard strings cannot match it.
_GUARDS: dict[str, tuple[str, ...]] = {
    "panic": ("Kernel panic",), "soft_lockup": ("soft lockup",), "hard_lockup": ("hard LOCKUP",),
    "rcu_stall": ("INFO: rcu",), "hung_task": ("INFO: task",), "oom_header": ("invoked oom-killer",),
    "oom_summary": ("oom-kill:",), "oom_kill": ("Kill process", "Killed process"), "kasan": ("KASAN",),
    "kmsan": ("KMSAN",),
    "kcsan": ("KCSAN",), "kfence": ("KFENCE",), "ubsan": ("UBSAN",), "kmemleak_bug": ("memory leak",),
    "kmemleak_object": ("unreferenced object",), "kmemleak_summary": ("kmemleak",),
    "cut_here": ("cut here",), "sysrq": ("sysrq", "SysRq"), "gpf": ("general protection",),
    "netdev_refcount": ("unregister_netdevice",), "busy_inodes": ("Busy inodes",),
    "mce": ("Machine Check", "Machine check"), "mce_logged": ("Machine check",), "ghes": ("Hardware Error",),
    "edac": ("EDAC",),
}


def match_opener(line: str) -> Optional[tuple[Opener, re.Match[str]]]:
    """The highest-ranked opener matching ``line``."""
    if not _GATE.search(line):  # every opener matches the prefilter (tested on real logs): one search first
        return None
    for opener in OPENERS:
        guards = _GUARDS.get(opener.name)
        if guards and not any(g in line for g in guards):
            continue
        m = opener.regex.search(line)
        if m:
            return opener, m
    return None


def opener(name: str) -> Opener:
    return _BY_NAME[name]


# Structural lines of a report.
END_TRACE_RE = re.compile(r"---\[ end trace [0-9a-f]+ \]---")
END_PANIC_RE = re.compile(r"---\[ end (?:Kernel panic - not syncing|kernel panic)")
CPU_LINE_RE = re.compile(
    r"^CPU: (?P<cpu>\d+) (?:UID: (?P<uid>\d+) )?PID: (?P<pid>\d+) Comm: (?P<comm>.{1,20}?)(?: Kdump: loaded)?"
    r"(?: (?:Not tainted|Tainted:)| \d+\.\d+|$)"
)
TASK_LINE_RE = re.compile(
    r"^(?:task:(?P<comm>.{1,15}?)\s+state:(?P<state>\w)|(?P<comm_old>\S.{0,14}?)\s+(?P<state_old>[RSDTtXZPIWK])"
    r"\s*(?:[0-9a-f]{16}\s+|running task\s+)?\d+\s+(?P<pid_old>\d+)\s+\d+\s+0x[0-9a-f]+$)"
)
TASK_PID_RE = re.compile(r"\bpid:\s*(?P<pid>\d+)")
CALL_TRACE_RE = re.compile(r"^(?:Call [Tt]race:|Backtrace:|(?:stack )?backtrace:|Call trace:)\s*(?:\S.*)?$")
MODULES_RE = re.compile(r"^Modules linked in:(?P<mods>.*)")
HARDWARE_RE = re.compile(r"^Hardware name: (?P<hw>.*)")
NMI_BACKTRACE_RE = re.compile(r"^(?:NMI backtrace for cpu|Task dump for CPU) (?P<cpu>\d+)(?P<skipped> skipped)?")
DELIMITER_RE = re.compile(r"^(?:={20,}|-{20,})$")
REGISTER_RE = re.compile(
    r"^(?:R[A-Z0-9]{2}: |E[A-Z]{2}: |[re]?[sbi]p\s?: |FS: |CS: |DS: |CR2: |DR[0-7]: |[xr]\d+\s*: |GPR\d+: |"
    r"NIP|LR|CTR|MSR|REGS|CFAR|XER|Code: |Stack: |pstate: |sp : |lr : |pc : |PKRU: |ORIG_RAX|"
    r"Instruction dump|Exception stack|Process .* \(pid: |Flags: |Control: |psr: |PGD |#PF: |"
    r"IP: |Faulting instruction|Mem abort info|Data abort info|  ESR = |  EC = |  SET = |  FSC = |  ISV = |"
    r"  CM = |  GCS = |  EA = |  S1PTW = |  Access size|  SRT = |user pgtable|swapper pgtable|\[[0-9a-f]+\] pgd=|"
    r"[0-9a-f]{4}: [0-9a-f]{8} )"
)
# Headers of stacks that are not the culprit's: allocation/free stacks, lockdep's registration and chain
# stacks, the RCU grace-period kthread, where preemption was disabled.
AUX_STACK_RE = re.compile(
    r"^(?:Allocated by task|Freed by task|Last potentially related work creation:|Second to last potentially|"
    r"Last call_rcu\(\)|Second to last call_rcu|allocated by task|freed by task|Uninit was (?:created|stored)|"
    r"page last (?:allocated|free)|page_owner tracks|RCU grace-period kthread stack dump|"
    r"\{[A-Z0-9_ -]+\} state was registered at:|Preemption disabled at:|-> #\d+ |irq event stamp:|Allocated:|"
    r"Freed:|INFO: (?:Allocated|Freed) in|INFO: Slab 0x|INFO: Object 0x)"
)
# Headers of lists (locks held, shadow memory, lock scenarios): a following Call Trace is a real stack.
LIST_SECTION_RE = re.compile(
    r"^(?:The buggy address belongs to|The buggy address is located|Memory state around the buggy address|"
    r"Local variable|Bytes \d+-\d+ of \d+ are uninitialized|Memory access of size|kfence-#\d+|"
    r"Showing all locks held|Sending NMI from CPU|the existing dependency chain|other info that might help|"
    r".*lock\(s\) held by|\d+ locks? held by|Showing busy workqueues|Possible unsafe locking scenario|"
    r"Chain exists of:|no locks held by)"
)
STACK_BACKTRACE_RE = re.compile(r"^stack backtrace:")
# -- OOM report body (mm/oom_kill.c, mm/memcontrol.c) ----------------------------------------------------------
OOM_CPUSET_RE = re.compile(r"^(?P<comm>.*) cpuset=(?P<cpuset>\S+) mems_allowed=(?P<mems>\S*)")
OOM_MEMCG_USAGE_RE = re.compile(r"^memory: usage (?P<usage>\d+)kB, limit (?P<limit>\d+)kB, failcnt (?P<failcnt>\d+)")
OOM_TASK_IN_RE = re.compile(r"^Task in (?P<task>\S+) killed as a result of limit of (?P<memcg>\S+)")
OOM_LIMIT_OF_RE = re.compile(r"^Memory limit reached of cgroup (?P<memcg>\S+)")
OOM_TABLE_HEADER_RE = re.compile(r"^\[\s*pid\s*\]\s+uid\s+tgid\s+(?P<cols>.*)\bname\s*$")
OOM_TABLE_ROW_RE = re.compile(r"^\[\s*(?P<pid>\d+)\]\s+(?P<values>(?:-?\d+\s+)+)(?P<name>\S.*)$")
OOM_BODY_RE = re.compile(
    r"^(?:Mem-Info:|Node \d+|active_anon:|\s*active_file:|\s*unevictable:|\s*slab_reclaimable:|\s*mapped:|\s*free:|"
    r"\s*sec_pagetables|\s*kernel_misc|lowmem_reserve|(?:DMA|DMA32|Normal|HighMem|Movable)\S*:? |\d+ total pagecache|"
    r"\d+ pages |Free swap|Total swap|Swap cache stats|Tasks state|memory\+swap:|kmem:|swap: usage|"
    r"Memory cgroup stats for|Memory cgroup out of memory|\w+ \d+$|oom_reaper:|\S+ cpuset=|Task in |"
    r"Memory limit reached|Unreclaimable slab info|Name\s+Used\s+Total|\S+\s+\d+KB\s+\d+KB|\s*\d+ pages|"
    r"\[\s*pid\s*\]|\[\s*\d+\]|Killed process|Out of memory|oom-kill:|Kill process|anon |file |kernel |"
    r"Hardware name|Call Trace|Call trace)"
)
OOM_SUMMARY_FIELD_RE = re.compile(r"(\w+)=([^,]*)")
OOM_KILLED_RE = re.compile(
    r"Killed process (?P<pid>\d+) \((?P<comm>[^)]*)\)(?:, UID (?P<uid_el7>\d+),)? total-vm:(?P<total_vm>\d+)kB, "
    r"anon-rss:(?P<anon>\d+)kB, file-rss:(?P<file>\d+)kB(?:, shmem-rss:(?P<shmem>\d+)kB)?"
    r"(?:,? UID:(?P<uid>\d+) pgtables:(?P<pgtables>\d+)kB oom_score_adj:(?P<adj>-?\d+))?"
)
OOM_SACRIFICE_RE = re.compile(r"Kill process (?P<pid>\d+) \((?P<comm>[^)]*)\) score (?P<score>\d+) or sacrifice child")
OOM_PANIC_RE = re.compile(r"Out of memory(?: and no killable processes| .*panic_on_oom)|System is deadlocked on memory")

# -- RCU stall body --------------------------------------------------------------------------------------------
RCU_CPU_RE = re.compile(r"^\s*(?:rcu: )?\s*(?P<cpu>\d+)-?[.\w!]*: \(")
RCU_OLD_CPUS_RE = re.compile(r"\{\s*(?P<cpus>[\d\s]+?)\s*\}")
RCU_BODY_RE = re.compile(
    r"^(?:\s*(?:rcu: )?\s*\d+-?[.\w!]*: \(|\s*\(detected by|\s*\(t=\d+ jiffies|\s*(?:rcu: )?\s*Tasks blocked|"
    r"(?:rcu: )?\s*\S+ kthread starved|(?:rcu: )?\s*Unless \S+ kthread|(?:rcu: )?RCU grace-period kthread|"
    r"(?:rcu: )?All QSes seen|(?:rcu: )?\s*blocking rcu_node|(?:rcu: )?Stack dump where|(?:rcu: )?\s*hardirqs\s|"
    r"(?:rcu: )?\s*number:|(?:rcu: )?\s*cputime:|(?:rcu: )?\s*\d+: \(|INFO: Stall ended|rcu: \s*\S|"
    r"\s*\{|\s*P\d+|\s*\}|Sending NMI|NMI backtrace|\s*\S+ R\s+running task|"
    r"\(t=\d+|\s*(?:\d+-\S+ )?\(\d+ (?:ticks this GP|GPs behind)\))"
)

# -- hung task / lockdep / sanitizer bodies ----------------------------------------------------------------------
HUNG_BODY_RE = re.compile(
    r"^(?:\s+(?:Not tainted|Tainted:)|\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"|\s+Blocked by coredump|"
    r"INFO: task .* is blocked on|Future hung task reports are suppressed|Showing all locks held|"
    r"\d+ locks? held by|\s+#\d+:|={20,}|\s*$|Workqueue:|NMI backtrace|Sending NMI|task:|Kernel Offset|"
    r"INFO: lockdep is turned off|\s+\S.* \(\S+\)\{[^}]*\}|\S+ \d+ \d+ \d+)"
)
LOCKDEP_BODY_RE = re.compile(
    r"^(?:\d+\.\d+\S* #\d+ (?:Not tainted|Tainted)|\S+ #\d+ (?:Not tainted|Tainted)|-{10,}|={10,}|"
    r"\S.*/\d+ is trying to |"
    r"\S.*/\d+ \[HC\d|\S.*/\d+ is (?:freeing|leaving|exiting)|but task is already holding|which lock already depends|"
    r"the existing dependency chain|-> #\d+ |\s+\S+_\w*\+0x|other info that might help|Possible unsafe locking|"
    r"\s+CPU\d|\s+-{4}|\s+lock\(|\s+\*\*\* DEADLOCK|\s*\d+ locks? held by|\s+#\d+:|stack backtrace:|"
    r"Chain exists of:|\s*\(|inconsistent \{|\{[A-Z-]+\} state was registered at|irq event stamp|hardirqs last|"
    r"softirqs last|\s*\S+/\d+ just changed|but this lock|to a \S+-(?:safe|unsafe)|the dependencies between|"
    r"the first lock's dependencies|the second lock's dependencies|May be due to missing lock nesting|"
    r"\s+\[<|\s+\S.*\+0x|\S.*: suspicious rcu_dereference|\S.*:\d+ [Ss]uspicious|rcu_scheduler_active|"
    r"no locks held by|\s*$|is trying to release lock|but there are no more locks|the code is fine but|"
    r"turning off the locking|last function:|caller is|\s+lock: |\S+ is acquiring|and this task is already|"
    r"\s+\.magic|\S.*: Nested lock was not taken|\s+at: |  lock\()"
)
SANITIZER_BODY_RE = re.compile(
    r"^(?:(?:Read|Write) of size \d+|(?:read|write)(?:-write)?(?: \(marked\))? to 0x|Uninit was|Local variable|"
    r"Bytes \d+-\d+|Memory access|The buggy address|Allocated by|Freed by|Last potentially|Second to last|"
    r"\s*[>\s]?[0-9a-f]{16}: |\s+\^|Memory state|Reported by Kernel|Disabling lock debugging|"
    r"(?:index|shift|signed|load of|member access|variable|division|pointer|negation|\S+ addition|\S+ subtraction|"
    r"\S+ multiplication).*|Out-of-bounds|Use-after-free|Invalid free|Corrupted memory|invalid-access|"
    r"\s*kfence-#|\s*allocated by|\s*freed by|value changed:|=+|CPU: |Hardware name|Call Trace|Call trace|"
    r"page:|flags:|raw:|page dumped|page_owner|head:|\S+ is located|addr \S+ is located|  ffff|"
    r"The buggy|This frame|\s+\[\d+, \d+\)|\s+\[|Task:|Freed in|Allocated in|INFO:|Object |Redzone|Padding|"
    r"FIX |Disabling|Slab |cache |object |Read at addr|\s*$|hex dump|backtrace:|comm \"|\s+[0-9a-f]{2} [0-9a-f]{2} )"
)


def _prefilter() -> tuple[str, ...]:
    return (
        r"Kernel panic - not syncing",
        r"---\[ end (trace|Kernel panic|kernel panic)",
        r"(-\[|8<-+) cut here",
        r"BUG: ",
        r"WARNING: (CPU: |at |kernel stack|stack |can't |possible |inconsistent |suspicious |bad unlock|held lock|"
        r"lock held|still has|[Nn]ested lock|[A-Z]+-safe|\S+:[0-9]+ at |bad contention)",
        r"INFO: (task |rcu|possible |inconsistent |suspicious |trying to register|lockdep|Stall ended)",
        r"\[ (INFO|BUG|WARNING): ",
        r"rcu_(sched|preempt|bh) (self-)?detected",
        r"Watchdog detected hard LOCKUP",
        r"NMI backtrace for cpu",
        r"invoked oom-killer",
        r"oom-kill:constraint=",
        r"Kill(ed)? process [0-9]+ \(",
        r"Out of memory",
        r"System is deadlocked on memory",
        r"(KASAN|KMSAN|KCSAN|KFENCE|UBSAN): ",
        r"unreferenced object 0x",
        r"kmemleak: [0-9]+ new suspected",
        r"(Unable|unable) to handle ",
        r"general protection fault",
        r"(divide error|stack segment|invalid opcode): [0-9a-f]{4} \[#",
        r"double fault",
        r"kernel stack overflow",
        r"kernel BUG at ",
        r"Oops",
        r"Internal error: ",
        r"Unhandled fault: ",
        r"list_(add|del) corruption",
        r"usercopy: Kernel memory",
        r"unregister_netdevice: waiting for",
        r"Busy inodes after unmount",
        r"([Ss]ys[Rr]q|SysRq) ?: ",
        r"EXT[234]-fs (error|warning|\()",
        r"[Rr]emounting (filesystem )?read-only",
        r"Aborting journal on device",
        r"JBD2: .*([Ee]rror|IO)",
        r"XFS \(",
        r"BTRFS",
        r"(FAT|F2FS|NILFS|UDF|ISOFS|SQUASHFS|ocfs2|GFS2|NTFS|ntfs3|exFAT|hfsplus|reiserfs|REISERFS)(-fs)? ?(error|\()",
        r" error, dev [^ ,]+,? sector",
        r"Buffer I/O error on dev",
        r"lost page write due to I/O error",
        r"(sd|sr|st) [0-9]+:[0-9]+:[0-9]+:[0-9]+: \[",
        r"ata[0-9]+(\.[0-9]+)?: (exception|failed|COMRESET|revalidation|link is slow|disabled|error: )",
        r"nvme[0-9]+n[0-9]+(p[0-9]+)?: .*@ LBA",
        r"nvme nvme[0-9]+: ",
        r"Machine [Cc]heck",
        r"Hardware Error",
        r"EDAC ",
    )


PREFILTER: tuple[str, ...] = _prefilter()
_GATE = re.compile("|".join(f"(?:{p})" for p in PREFILTER))

"""Group kernel log records into classified incidents.

:class:`IncidentBuilder` is a streaming state machine: ``feed(record)`` returns the incidents that the
record completed, ``idle`` says whether it still wants context, ``finish()`` flushes what is open. One
incident is one event: an oops with its ``CPU:`` line, registers, module list, call trace and end marker; an
OOM report from ``invoked oom-killer`` to ``Killed process``; a lockup or stall with its backtraces; a chain
of storage errors about one disk. A panic that follows an oops/BUG/WARNING/lockup escalates that incident.
Lines from other CPUs may interleave: with ``caller=`` ids each caller is its own stream, without them
foreign lines are tolerated up to a budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.logs import culprit as cp
from kerncheck.logs import patterns as pt
from kerncheck.logs.kinds import advice_for
from kerncheck.logs.model import Incident, Record
from kerncheck.logs.taint import taint_from_line

# Kinds a following panic escalates instead of opening a panic incident.
ESCALATABLE = frozenset({
    "oops", "bug", "warning", "kasan", "kmsan", "kcsan", "ubsan", "kfence", "soft_lockup", "hard_lockup",
    "hung_task", "rcu_stall", "oom_kill", "deadlock", "memory_leak", "fs_error", "mce", "other",
})
# Crash-class kinds: the kernel (not a disk, filesystem or DIMM) misbehaved.
CRASH_KINDS = frozenset({
    "panic", "oops", "bug", "warning", "kasan", "kmsan", "kcsan", "ubsan", "kfence", "soft_lockup",
    "hard_lockup", "hung_task", "rcu_stall", "oom_kill", "deadlock", "memory_leak", "other",
})
_STALL_KINDS = frozenset({"soft_lockup", "hard_lockup", "rcu_stall"})
_SEVERITY = {
    "panic": "critical", "oops": "critical", "bug": "critical", "kasan": "critical", "kmsan": "critical",
    "kcsan": "warning", "ubsan": "warning", "kfence": "critical", "soft_lockup": "critical",
    "hard_lockup": "critical", "hung_task": "warning", "rcu_stall": "critical", "oom_kill": "warning",
    "deadlock": "warning", "memory_leak": "warning", "fs_error": "critical", "fs_readonly": "critical",
    "io_error": "warning", "medium_error": "critical", "nvme_error": "warning", "mce": "critical",
    "edac": "warning", "warning": "warning", "other": "warning",
}
# Absorptions: an opener that continues the open incident instead of starting a new one.
_ABSORB = {
    "null_deref": {"oops", "arm_internal"},
    "page_fault": {"oops", "arm_internal"},
    "ppc_fault": {"oops"},
    "arm_fault": {"oops", "arm_internal"},
    "arm_unhandled": {"arm_internal", "oops"},
    "kernel_bug": {"invalid_opcode", "arm_internal", "oops"},
    "list_corruption": {"cut_here", "kernel_bug", "invalid_opcode", "warning", "warning_v2", "arm_internal", "oops"},
    "usercopy": {"cut_here", "kernel_bug", "invalid_opcode", "warning", "warning_v2", "arm_internal", "oops"},
    "bug_generic": {"stack_overflow", "cut_here", "kernel_bug", "invalid_opcode", "oops", "arm_internal"},
    "kmemleak_bug": {"kmemleak_object"},
    "oom_header": {"oom_summary", "oom_kill"},
    "oom_summary": {"oom_kill"},
    "double_fault": {"oops"},
    "divide_error": {"oops"},
    "hard_lockup": {"warning", "warning_v2", "cut_here"},
}
_CUT_TAKES = {"warning", "warning_v2", "kernel_bug", "list_corruption", "usercopy", "invalid_opcode",
              "bug_generic", "ubsan", "kasan"}
_TRAILER_RE = re.compile(
    r"^(?:RIP|RSP|R[A-Z0-9]{2}|FS|CS|CR2|DR[0-7]|Code|PKRU|Kernel Offset|Rebooting in|Dumping ftrace|"
    r"\s*\(ftrace buffer empty\)|note: |Fixing recursive fault|Shutting down cpus|---\[ end|Disabling lock debugging|"
    r"Modules linked in|pc :|lr :|sp :|x\d+|Call [Tt]race|\s*<|.*\+0x[0-9a-f]+/0x|Starting crashdump|"
    r"Loading crashdump|Bye!|ACPI MEMORY or I/O RESET_REG|kvm: exiting hardware virtualization|\s*$|"
    r"---\[|Kernel panic|CPU: |Hardware name|Hardware Error|mce: )"
)
_STORAGE_LINE_RE = re.compile(r"^(?:ata\d+|sd \d+:|sr \d+:|st \d+:|scsi|blk_update_request|print_req_error|"
                              r"I/O error|critical medium|Buffer I/O|nvme|end_request|\s+res |\s+cmd )")
_MEDIUM_RE = re.compile(r"Medium Error|[Uu]nrecovered read error|\bUNC\b|media error|critical medium|"
                        r"Unrecovered Read Error|Write Fault|Auto reallocate failed|Unrecovered Write")
_VM_RE = re.compile(r"QEMU|KVM|VMware|VirtualBox|Google Compute Engine|Amazon EC2|HVM domU|Hyper-V|"
                    r"Virtual Machine|OpenStack|Xen|BHYVE|Parallels|linux,dummy-virt")
_NIC_FUNC_RE = re.compile(
    r"^_*(?:ixgbevf|ixgbe|i40e|iavf|ice|igb|igc|e1000e?|mlx[45]|mlx5e|bnxt|bnx2x?|tg3|be_|qede|qed|nfp|ena_|"
    r"virtnet|vmxnet3|netvsc|xennet|rtl8169|rtl_|r8169|efx_|cxgb4|enic|gve|ionic|aq_|hns3|fm10k|mana_|"
    r"sky2|atl1|alx|cnic|qlge|qlcnic|netxen|myri10ge|vxge|sfc|tulip|8139|mlxsw|octeon)"
)
_NIC_MODULES = frozenset({
    "ixgbe", "ixgbevf", "i40e", "iavf", "ice", "igb", "igc", "e1000", "e1000e", "mlx4_en", "mlx4_core", "mlx5_core",
    "bnxt_en", "bnx2", "bnx2x", "tg3", "be2net", "qede", "qed", "nfp", "ena", "virtio_net", "vmxnet3", "hv_netvsc",
    "xen_netfront", "r8169", "sfc", "cxgb4", "enic", "gve", "ionic", "atlantic", "hns3", "fm10k", "mana", "sky2",
    "alx", "qlcnic", "mlxsw_core", "mlxsw_spectrum", "liquidio", "octeon_ep",
})
_NIC_CALLER_RE = re.compile(r"^(?:dev_hard_start_xmit|xmit_one|netdev_start_xmit|__netdev_start_xmit|__napi_poll|"
                            r"napi_poll|net_rx_action|napi_busy_loop|netpoll_poll_dev|napi_threaded_poll)$")
_GENERIC_NET_RE = re.compile(r"^(?:process_backlog|gro_cell_poll|napi_threaded_poll|__napi_poll|napi_poll|"
                             r"dev_hard_start_xmit|xmit_one|netdev_start_xmit|__netdev_start_xmit|"
                             r"sch_direct_xmit|__dev_queue_xmit|dev_queue_xmit|validate_xmit_skb\w*|"
                             r"netif_receive_skb\w*|__netif_receive_skb\w*|gro_normal_list\w*)$")
_FS_FUNC_RE = re.compile(r"^_*(?:ext[234]|jbd2?|xfs|btrfs|nfs\w*|rpc|svc|cifs|smb\d?|ceph|fuse|ocfs2|gfs2|f2fs|"
                         r"zfs|zio|dmu|zpl|spl|ovl|overlayfs|squashfs|fat|vfat|nilfs|reiserfs)_")
_FS_MODULES = frozenset({"ext4", "ext3", "ext2", "jbd2", "xfs", "btrfs", "nfs", "nfsv4", "nfsv3", "nfsd", "sunrpc",
                         "cifs", "ceph", "fuse", "ocfs2", "gfs2", "f2fs", "zfs", "spl", "overlay", "squashfs"})
_SPIN_RE = re.compile(r"^(?:native_queued_spin_lock_slowpath|queued_spin_lock_slowpath|__pv_queued_spin_lock_slowpath|"
                      r"pv_queued_spin_lock_slowpath|_raw_spin_lock|do_raw_spin_lock|__raw_spin_lock|arch_spin_lock|"
                      r"queued_(?:read|write)_lock_slowpath|_raw_(?:read|write)_lock|rt_spin_lock|osq_lock|"
                      r"__rwsem_down|rwsem_down|mutex_spin_on_owner|rwsem_spin_on_owner)")
_AT_SYMBOL_RE = re.compile(r"\bat:\s+(?:\[<[0-9a-f]+>\]\s+)?(?P<fn>[A-Za-z_][\w.$]*)(?:\+0x[0-9a-f]+|\s+\S+:\d+)")
# Lockdep lines after which the next "at: func" names the code that took (or freed, or leaked) the lock.
_LOCK_TRIGGER_RE = re.compile(r"is trying to (?:acquire|release)(?: lock)?|already holding lock|\btakes:$|"
                              r"with a lock still held|locks still held|leaving the kernel with|is exiting with locks|"
                              r"lock held by|is freeing memory")
_EMBEDDED_TS_RE = re.compile(r"\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?")
_KCSAN_ACCESS_RE = re.compile(r"^(?:race at unknown origin, with )?(?:read|write)(?:-write)?(?: \(marked\))? "
                              r"to 0x[0-9a-f]+ of \d+ bytes by")
_DEADLOCK_WHAT_RE = re.compile(r"circular|recursive|deadlock|lock order|inversion")
_LAST_FUNCTION_RE = re.compile(r"^\s*last function: (?P<fn>[A-Za-z_][\w.$]*)")
_CALLER_IS_RE = re.compile(r"^\s*caller is (?P<fn>[A-Za-z_][\w.$]*)")
_ACCESS_RE = re.compile(
    r"^(?P<rw>Read|Write) of size (?P<size>\d+) at addr (?P<addr>\S+) by task (?P<comm>.*)/(?P<pid>\d+)")
_KASAN_OLD_ACCESS_RE = re.compile(r"^(?P<rw>Read|Write) of size (?P<size>\d+) by task (?P<comm>.*)/(?P<pid>\d+)")
_RCU_DETECTED_RE = re.compile(r"\(detected by (?P<by>\d+), t=(?P<t>\d+) jiffies")
_RCU_SELF_T_RE = re.compile(r"\(t=(?P<t>\d+) jiffies")
_BUG_WHAT_CUT_RE = re.compile(r":\s| at | on CPU| in process|\s\[|\s\(| for | - |!$|\.$|,\s")

GAP_SECONDS = {"report": 10.0, "chain": 5.0, "sysrq": 2.0, "cut": 5.0}
FOREIGN_BUDGET = {"report": 25, "trailer": 4, "chain": 3, "cut": 12, "sysrq": 10**9}
NOISE_BUDGET = 400
MAX_FRAMES = 400  # per stack, top and bottom kept; real traces have < 100, a stack overflow many more
MAX_SECTIONS = 64
MAX_SYSRQ_LINES = 50_000  # a SysRq-t dump of a large box; without timestamps nothing else ends it
EVIDENCE_MAX = 30
EVIDENCE_FRAMES = 10


@dataclass
class _Section:
    # "main" (the report's stack), "panic" (after the escalating panic), "nmi:<cpu>" / "task" (a CPU's or
    # task's dump), "aux" (allocation/free/registration stacks: never the culprit), "list" (lock lists,
    # shadow memory: a following Call Trace starts a real stack), "chain" (lockdep dependency chain).
    label: str
    frames: list[cp.Frame] = field(default_factory=list)
    comm: Optional[str] = None
    pid: Optional[int] = None
    open: bool = False  # a stack header (Call Trace, RIP, "Allocated by task") was seen: frames belong here


@dataclass
class _Draft:
    role: str  # "report", "cut", "chain", "sysrq"
    kind: Optional[str]
    opener: str
    match: dict[str, Any]
    first: Record
    first_line: int
    last: Record
    key: Optional[str]
    callers: set[str] = field(default_factory=set)
    sections: list[_Section] = field(default_factory=lambda: [_Section("main")])
    evidence: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    openers: list[str] = field(default_factory=list)
    state: str = "body"  # "body" or "trailer"
    foreign: int = 0
    noise: int = 0
    panic: Optional[str] = None
    lines: int = 0
    pending: list[str] = field(default_factory=list)  # "cut here" text before the WARNING/BUG line
    wants: Optional[str] = None  # lockdep: "at" after "is trying to acquire lock:"

    @property
    def section(self) -> _Section:
        return self.sections[-1]

    def new_section(self, label: str, force: bool = False, open: bool = False) -> _Section:
        if len(self.sections) >= MAX_SECTIONS:  # runaway input: keep collecting into the last one
            self.section.label = label
        elif force or self.section.frames or self.section.label != label:
            self.sections.append(_Section(label))
        self.section.open = self.section.open or open
        return self.section

    def note(self, line: str) -> None:
        if len(self.evidence) < EVIDENCE_MAX and line.strip() and line not in self.evidence:
            self.evidence.append(line[:300])


def _iso(rec: Record) -> Optional[str]:
    if rec.wallclock is not None:
        return rec.wallclock.isoformat()
    if rec.ts_mono is not None:
        return f"+{rec.ts_mono:.6f}s"
    return None


def _int(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class IncidentBuilder:
    """Turn one source's records into incidents. ``steal_percent`` is the live steal time of this VM (from
    ``/proc/stat``), used only to attribute soft lockups to the hypervisor; the builder itself is pure."""

    def __init__(self, source: str, steal_percent: Optional[float] = None) -> None:
        self.source = source
        self.steal_percent = steal_percent
        self._open: list[_Draft] = []

    # -- public API -------------------------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        """No incident is open and no more context is wanted."""
        return not self._open

    def feed(self, record: Record) -> list[Incident]:
        """Consume one record; return the incidents it completed."""
        done: list[Incident] = []
        if record.userspace or not record.is_kernel:
            return done
        self._expire(record, done)
        text = record.text.replace("\r", "")
        for i, line in enumerate(text.split("\n")):
            if not line.strip() and i > 0:
                continue
            self._line(record, line.rstrip(), record.line, done)  # the line where the record starts
        return done

    def finish(self) -> list[Incident]:
        """Close everything still open (end of input)."""
        done: list[Incident] = []
        while self._open:
            self._close(self._open[-1], done)
        return done

    # -- routing ----------------------------------------------------------------------------------------------
    def _expire(self, rec: Record, done: list[Incident]) -> None:
        if rec.ts_mono is None:
            return
        for d in list(self._open):
            last = d.last.ts_mono
            if last is not None and rec.ts_mono - last > GAP_SECONDS[d.role]:
                self._close(d, done)

    def _routed(self, rec: Record) -> list[_Draft]:
        """Open drafts this record may belong to, newest first."""
        if rec.caller:
            mine = [d for d in self._open if rec.caller in d.callers or not d.callers]
            return list(reversed(mine))
        return list(reversed(self._open))

    def _line(self, rec: Record, line: str, lineno: int, done: list[Incident]) -> None:
        if "[" in line:  # console noise before an embedded kernel timestamp ("login: [   50.9] BUG: ...")
            m = _EMBEDDED_TS_RE.search(line)
            if m and m.start() > 0:
                line = line[m.end():]
        found = pt.match_opener(line)
        routed = self._routed(rec)
        if found is not None:
            op, m = found
            if self._opener(rec, line, lineno, op, m, routed, done):
                return
        for d in routed:
            if self._add(d, rec, line):
                d.last = rec
                d.foreign = 0
                d.noise = 0
                d.lines += 1
                return
        stack_line = None
        for d in routed:
            # Untimestamped lines inside a timestamped report are console noise from user space; another
            # CPU's stack (frames, registers) printed in the middle does not end the report either.
            noise = rec.ts_mono is None and d.last.ts_mono is not None and d.state == "body"
            if not noise and d.role == "report" and d.state == "body":
                if stack_line is None:
                    stack_line = cp.parse_frame(line) is not None or bool(pt.REGISTER_RE.match(line.strip()))
                noise = stack_line
            if noise:
                d.noise += 1
            else:
                d.foreign += 1
            budget = FOREIGN_BUDGET["trailer" if d.state == "trailer" else d.role]
            if d.foreign > budget or d.noise > NOISE_BUDGET:
                self._close(d, done)
        if found is None and rec.level is not None and rec.level <= 3 and line.strip() \
                and not any(d.role == "sysrq" for d in self._open):
            done.append(self._other(rec, line, lineno))

    def _opener(self, rec: Record, line: str, lineno: int, op: pt.Opener, m: re.Match[str],
                routed: list[_Draft], done: list[Incident]) -> bool:
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        if op.role == "panic":
            target = next((d for d in routed if d.role == "report" and d.kind in ESCALATABLE and d.panic is None), None)
            if target is None:
                target = next((d for d in reversed(self._open)
                               if d.role == "report" and d.kind in ESCALATABLE and d.panic is None), None)
            if target is not None:
                target.panic = groups.get("reason", "").strip()
                target.state = "body"
                target.new_section("panic", force=True)
                target.note(line)
                target.last = rec
                target.foreign = 0
                if rec.caller:
                    target.callers.add(rec.caller)
                return True
        for d in routed:
            if self._absorbs(d, op):
                self._absorb(d, rec, line, op, groups)
                return True
        if op.name == "oom_kill" and any(d.kind == "oom_kill" and d.role == "report" for d in routed):
            d = next(d for d in routed if d.kind == "oom_kill")
            self._absorb(d, rec, line, op, groups)
            return True
        # A new incident: close what this stream had open (chains and reports live side by side).
        role = op.role if op.role in ("cut", "chain", "sysrq") else "report"
        for d in routed:
            same_lane = (d.role == "chain") == (role == "chain")
            if same_lane or d.role == "sysrq" or role == "sysrq":
                self._close(d, done)
        draft = _Draft(role=role, kind=op.kind, opener=op.name, match=groups, first=rec, first_line=lineno,
                       last=rec, key=rec.caller)
        if rec.caller:
            draft.callers.add(rec.caller)
        draft.openers.append(op.name)
        if role == "cut":
            draft.note(line)
        else:
            self._start(draft, line, op, groups)
        self._open.append(draft)
        return True

    def _absorbs(self, d: _Draft, op: pt.Opener) -> bool:
        if d.role == "cut":
            return op.name in _CUT_TAKES
        if d.role == "chain" and op.role == "chain":
            return self._chain_absorbs(d, op)
        if d.role != "report" or op.role not in ("open", "cut"):
            return False
        if op.name == "kmemleak_object" and d.opener == "kmemleak_bug":
            return "object" not in d.info
        allowed = _ABSORB.get(d.opener, set())
        if any(_ABSORB.get(o, set()) for o in d.openers[1:]):
            allowed = allowed | set().union(*(_ABSORB.get(o, set()) for o in d.openers[1:]))
        if op.name == "cut_here":
            return "cut_here" in allowed and "cut_here" not in d.openers
        return op.name in allowed and op.name not in d.openers

    def _chain_absorbs(self, d: _Draft, op: pt.Opener) -> bool:
        family = _chain_family(op.name)
        if family != _chain_family(d.opener):
            return False
        kind = _chain_kind(op.name, d.info.get("last_groups", {}))
        if family == "fs":
            return kind == d.kind
        return True

    def _absorb(self, d: _Draft, rec: Record, line: str, op: pt.Opener, groups: dict[str, Any]) -> None:
        d.last = rec
        d.foreign = 0
        if rec.caller:
            d.callers.add(rec.caller)
        d.openers.append(op.name)
        if d.role == "cut":
            d.role = "report"
            d.kind = op.kind
            d.opener = op.name
            d.match = groups
            d.first_line = d.first_line or 0
            self._start(d, line, op, groups)
            return
        if d.role == "chain":
            self._chain_line(d, line, op, groups)
            return
        d.note(line)
        if op.name == "oom_summary":
            self._oom_summary(d, line)
        elif op.name == "oom_kill":
            self._oom_kill(d, line, groups)
        elif op.name == "kmemleak_object":
            d.info["object"] = groups.get("size")
        elif op.name in ("kernel_bug", "warning", "warning_v2"):
            d.info.setdefault("file", groups.get("file"))
            d.info.setdefault("line", _int(groups.get("line")))
            if groups.get("sym") and "sym" not in d.info:
                d.info["sym"] = _sym_frame(groups["sym"], groups.get("mod"))
        elif op.name in ("oops", "arm_internal", "invalid_opcode", "stack_overflow"):
            d.info.setdefault("oops_header", line)

    # -- starting and extending drafts ------------------------------------------------------------------------
    def _start(self, d: _Draft, line: str, op: pt.Opener, g: dict[str, Any]) -> None:
        d.note(line)
        d.info["opener_line"] = line
        if d.pending:
            d.info["message"] = " ".join(d.pending)[:300]
        if d.role == "chain":
            self._chain_line(d, line, op, g)
            return
        if d.role == "sysrq":
            d.info["what"] = g.get("what", "")
            return
        name = op.name
        if name in ("warning", "warning_v2"):
            d.info["file"], d.info["line"] = g.get("file"), _int(g.get("line"))
            if g.get("sym"):
                d.info["sym"] = _sym_frame(g["sym"], g.get("mod"))
            if g.get("pid"):
                d.info["pid"] = int(g["pid"])
            if g.get("comm"):
                d.info["comm"] = g["comm"]
        elif name == "kernel_bug":
            d.info["file"], d.info["line"] = g.get("file"), _int(g.get("line"))
        elif name in ("soft_lockup", "hung_task"):
            d.info["comm"], d.info["pid"] = g.get("comm"), _int(g.get("pid"))
            d.info["secs"] = _int(g.get("secs") or g.get("secs2"))
            d.info["cpu"] = _int(g.get("cpu"))
            if name == "hung_task":
                d.section.label = "task"
        elif name == "hard_lockup":
            d.info["cpu"] = _int(g.get("cpu"))
        elif name == "rcu_stall":
            d.info["flavor"] = g.get("flavor")
            d.info["self"] = bool(g.get("self"))
            d.info["cpus"] = []
            old = pt.RCU_OLD_CPUS_RE.search(line)
            if old:
                d.info["cpus"] = [int(c) for c in old.group("cpus").split()]
        elif name in ("kasan", "kmsan", "kcsan", "kfence", "ubsan"):
            d.section.open = name in ("kmsan", "kfence")  # their stack follows the header directly
            d.info["type"] = g.get("type")
            d.info["where"] = g.get("where")
            sym = cp.parse_symbol(g.get("where", "") + g.get("rest", ""))
            if name == "kcsan":
                d.info["where_fns"] = [f.strip().split("+")[0] for f in g.get("where", "").split(" / ")]
            elif sym:
                d.info["sym"] = sym
            elif name in ("kasan", "kmsan", "kfence") and re.match(r"[A-Za-z_][\w.$]*$", g.get("where", "")):
                d.info["sym"] = cp.Frame(g["where"])
        elif name.startswith("oom"):
            d.info["oom"] = {}
            if name == "oom_header":
                oom = d.info["oom"]
                oom["invoker"] = g.get("comm")
                oom["gfp_mask"] = g.get("gfp", "") + (f"({g['gfpflags']})" if g.get("gfpflags") else "")
                oom["order"] = _int(g.get("order"))
                oom["invoker_oom_score_adj"] = _int(g.get("adj"))
            elif name == "oom_summary":
                self._oom_summary(d, line)
            else:
                self._oom_kill(d, line, g)
        elif name in ("lockdep_deadlock", "lockdep_other"):
            d.info["what"] = g.get("what", "").rstrip("!. ")
            if name == "lockdep_other":
                pfx, what = g.get("pfx", "WARNING"), d.info["what"]
                if what.startswith("trying to register non-static key"):
                    d.kind = "other"
                elif pfx == "BUG":
                    d.kind = "bug"
                else:
                    d.kind = "warning"
        elif name == "bug_generic":
            what = g.get("what", "")
            cut = _BUG_WHAT_CUT_RE.search(what)
            d.info["what"] = (what[:cut.start()] if cut else what).strip()
            if "stack guard page" in d.info["what"]:
                d.info["stack_overflow"] = True
        elif name in ("panic",):
            d.panic = g.get("reason", "").strip()
        elif name in ("netdev_refcount", "busy_inodes"):
            d.info["dev"] = g.get("dev")
        elif name in ("kmemleak_object",):
            d.info["object"] = g.get("size")
        elif name == "kmemleak_summary":
            d.info["leaks"] = _int(g.get("n"))
        elif name in ("page_fault", "null_deref", "gpf", "arm_fault", "ppc_fault"):
            d.info["addr"] = g.get("addr")
            d.info["what"] = g.get("what")
        elif name in ("arm_internal", "oops", "arm_unhandled"):
            d.info["oops_header"] = line
            what = g.get("what", "")
            if re.search(r"\bBUG\b", what):
                d.kind = "bug"
        elif name in ("invalid_opcode", "stack_overflow", "divide_error", "stack_segment", "double_fault"):
            d.info["oops_header"] = line

    def _add(self, d: _Draft, rec: Record, line: str) -> bool:
        """Offer a non-opener line to a draft; ``True`` when it belongs there."""
        if d.role == "sysrq":
            return d.lines < MAX_SYSRQ_LINES
        if d.role == "cut":
            if line.strip() and cp.parse_frame(line) is None and not pt.REGISTER_RE.match(line.strip()):
                d.pending.append(line.strip())
                d.note(line)
            return True
        if d.role == "chain":
            return self._chain_continuation(d, line)
        recognized = self._report_line(d, line)
        if not recognized and d.state == "body" and rec.level is not None and rec.level <= 3 \
                and d.kind in ("kasan", "kmsan", "kcsan", "kfence", "ubsan", "rcu_stall", "hung_task", "deadlock",
                               "memory_leak", "bug", "warning", "other", "oom_kill"):
            recognized = True  # these reports print their free-form lines at KERN_ERR
        return recognized

    def _report_line(self, d: _Draft, line: str) -> bool:
        s = line.strip()
        if pt.END_TRACE_RE.search(line):
            d.note(line)
            d.state = "trailer"
            return True
        if pt.END_PANIC_RE.search(line):
            d.state = "trailer"
            d.info["ended"] = True
            return True
        if d.state == "trailer":
            rip = cp.parse_rip(s)
            if rip is not None:
                return True
            return bool(_TRAILER_RE.match(line))
        rip = cp.parse_rip(s)
        if rip is not None:
            if d.section.label in ("aux", "list", "chain"):
                d.new_section(self._stack_label(d), force=True)
            d.section.frames.append(rip)
            d.section.open = True
            d.info.setdefault("rip", rip)
            if d.kind != "oom_kill":
                d.note(s)
            return True
        frame = cp.parse_frame(line)
        if frame is not None:
            if not d.section.open:
                return False  # a frame outside any stack: another CPU's output interleaved
            d.section.frames.append(frame)
            if len(d.section.frames) > MAX_FRAMES:  # runaway recursion: keep the top and the bottom
                del d.section.frames[MAX_FRAMES // 2]
            if d.wants == "at":
                d.info.setdefault("lock_ats", []).append(frame)
                d.wants = None
            return True
        m = pt.CPU_LINE_RE.match(s)
        if m:
            if d.section.frames or d.section.label in ("aux", "list", "chain"):
                d.new_section(self._stack_label(d), force=True)
            d.section.open = True  # a stack follows (its "Call Trace:" header may be lost in console noise)
            if "cpu_line" not in d.info:
                d.info["cpu_line"] = s
                d.info.setdefault("pid", int(m.group("pid")))
                d.info.setdefault("comm", m.group("comm").strip())
                d.note(s)
            taint = taint_from_line(s)
            if taint is not None and "taint" not in d.info:
                d.info["taint"] = taint
            return True
        if s.startswith(("Tainted: ", "Not tainted")):
            taint = taint_from_line(s)
            if taint is not None and ("taint" not in d.info or s.startswith("Tainted: [")):
                d.info["taint"] = taint
            return True
        if pt.STACK_BACKTRACE_RE.match(s):
            d.new_section("aux" if d.kind == "hung_task" else "main", force=True, open=True)
            return True
        if pt.CALL_TRACE_RE.match(s):
            sec = d.section
            if sec.label == "list" and not sec.frames:
                sec.label = self._stack_label(d)
            elif sec.label == "list" or (sec.frames and not all(f.rip for f in sec.frames)):
                keep = sec.label.startswith(("nmi", "task")) or sec.label == "aux"
                sec = d.new_section(sec.label if keep else self._stack_label(d), force=True)
            sec.open = True
            return True
        m = pt.MODULES_RE.match(s)
        if m:
            mods = m.group("mods").split()
            d.info.setdefault("modules", [x for x in mods if not x.startswith("[")][:200])
            d.note(s[:300])
            return True
        m = pt.HARDWARE_RE.match(s)
        if m:
            d.info.setdefault("hardware", m.group("hw"))
            return True
        m = pt.NMI_BACKTRACE_RE.match(s)
        if m:
            d.new_section(f"nmi:{m.group('cpu')}", force=True)
            return True
        m = pt.TASK_LINE_RE.match(s)
        if m:
            comm = (m.group("comm") or m.group("comm_old") or "").strip()
            pid_m = pt.TASK_PID_RE.search(s)
            pid = int(pid_m.group("pid")) if pid_m else _int(m.group("pid_old"))
            sec = d.section
            if sec.label == "aux" and not sec.frames:
                pass  # the task of an auxiliary dump (RCU grace-period kthread)
            elif d.kind == "hung_task" and sec.label == "task" and not sec.frames:
                pass
            elif d.kind in _STALL_KINDS and sec.label == "main" and not sec.frames and sec is d.sections[0]:
                sec.label = "task"
            else:
                sec = d.new_section("aux" if d.kind == "hung_task" else "task", force=True)
            sec.comm, sec.pid = comm, pid
            d.note(s)
            return True
        m = pt.AUX_STACK_RE.match(s)
        if m:
            d.new_section("chain" if s.startswith("-> #") else "aux", force=True, open=True)
            self._body(d, s)
            return True
        if pt.LIST_SECTION_RE.match(s):
            d.new_section("list", force=True)
            self._body(d, s)
            return True
        if pt.REGISTER_RE.match(s) or pt.DELIMITER_RE.match(s):
            if pt.DELIMITER_RE.match(s) and s.startswith("=") and d.kind in ("kasan", "kmsan", "kcsan", "kfence",
                                                                            "ubsan") and d.lines > 2:
                d.state = "trailer"
            lr = cp.parse_lr(s)
            if lr is not None:
                d.info.setdefault("lr", lr)
            return True
        return self._body(d, s)

    @staticmethod
    def _stack_label(d: _Draft) -> str:
        return "panic" if d.panic is not None else "main"

    def _body(self, d: _Draft, s: str) -> bool:
        """Kind-specific lines: extract what they say; ``True`` when they belong to the report."""
        kind = d.kind
        if kind == "oom_kill":
            return self._oom_body(d, s)
        if kind == "rcu_stall":
            m = pt.RCU_CPU_RE.match(s)
            if m and "detected by" not in s:
                d.info.setdefault("cpus", []).append(int(m.group("cpu")))
                d.note(s)
                return True
            m = _RCU_DETECTED_RE.search(s) or _RCU_SELF_T_RE.search(s)
            if m:
                d.info["jiffies"] = int(m.group("t"))
                d.note(s)
                return True
            return bool(pt.RCU_BODY_RE.match(s))
        if kind == "hung_task":
            return bool(pt.HUNG_BODY_RE.match(s) or pt.LOCKDEP_BODY_RE.match(s))
        if kind in ("deadlock",) or d.opener == "lockdep_other" or d.opener == "bug_generic":
            m = _AT_SYMBOL_RE.search(s)
            if _LOCK_TRIGGER_RE.search(s):
                if m:
                    d.info.setdefault("lock_ats", []).append(cp.Frame(m.group("fn")))
                else:
                    d.wants = "at"
            elif d.wants == "at" and m:
                d.info.setdefault("lock_ats", []).append(cp.Frame(m.group("fn")))
                d.wants = None
            m = _LAST_FUNCTION_RE.match(s) or _CALLER_IS_RE.match(s)
            if m:
                d.info.setdefault("named", cp.Frame(m.group("fn")))
                d.note(s)
            if pt.LOCKDEP_BODY_RE.match(s) or m:
                return True
        if kind == "kcsan" and _KCSAN_ACCESS_RE.match(s):
            first = not any(sec.frames for sec in d.sections)
            d.new_section("main" if first else "aux", force=True, open=True)
            d.note(s)
            return True
        if kind in ("kasan", "kmsan", "kcsan", "kfence", "ubsan", "memory_leak", "bug", "warning", "oops", "other"):
            m = _ACCESS_RE.match(s) or _KASAN_OLD_ACCESS_RE.match(s)
            if m:
                d.info.setdefault("access", m.group("rw"))
                d.info.setdefault("comm", m.group("comm"))
                d.info.setdefault("pid", int(m.group("pid")))
                d.note(s)
                return True
            if s.startswith("comm \"") and kind == "memory_leak":
                cm = re.match(r'comm "(?P<comm>[^"]*)", pid (?P<pid>\d+)', s)
                if cm:
                    d.info.setdefault("comm", cm.group("comm"))
                    d.info.setdefault("pid", int(cm.group("pid")))
                return True
            if pt.SANITIZER_BODY_RE.match(s):
                return True
        if s.startswith(("#PF:", "PGD ", "IP: ", "Faulting instruction", "Mem abort info", "Data abort info",
                         "Workqueue:", "irq event stamp", "hardirqs last", "softirqs last", "task: ",
                         "Kernel Offset", "Rebooting in", "Dumping ftrace", "(ftrace buffer empty)", "note: ",
                         "Fixing recursive fault", "Shutting down cpus", "INFO: lockdep is turned off",
                         "Disabling lock debugging", "pgd = ", "LR is at", "CPU#", "KASAN: ", "ODEBUG: ",
                         "refcount_t: ", "sysrq: ", "Kernel BUG", "Process ", "Stack: ", "Sending NMI",
                         "[Hardware Error]", "The buggy address", "Object ", "Redzone", "Padding")):
            if s.startswith("KASAN: ") and kind == "oops":
                d.info["kasan_hint"] = s
                d.note(s)
            return True
        return bool(re.match(r"^\s*#\d+: |^\d+ locks? held by|^\s*\(.*\)\{", s))

    # -- OOM ----------------------------------------------------------------------------------------------------
    def _oom_body(self, d: _Draft, s: str) -> bool:
        oom = d.info.setdefault("oom", {})
        m = pt.OOM_MEMCG_USAGE_RE.match(s)
        if m:
            oom.setdefault("memcg_usage_kb", int(m.group("usage")))
            oom.setdefault("memcg_limit_kb", int(m.group("limit")))
            d.note(s)
            return True
        m = pt.OOM_TASK_IN_RE.match(s)
        if m:
            oom.setdefault("task_memcg", m.group("task"))
            oom.setdefault("oom_memcg", m.group("memcg"))
            d.note(s)
            return True
        m = pt.OOM_LIMIT_OF_RE.match(s)
        if m:
            oom.setdefault("oom_memcg", m.group("memcg"))
            return True
        m = pt.OOM_CPUSET_RE.match(s)
        if m:
            oom.setdefault("cpuset", m.group("cpuset"))
            return True
        m = pt.OOM_TABLE_HEADER_RE.match(s)
        if m:
            oom["columns"] = m.group("cols").split()
            oom.setdefault("tasks", [])
            return True
        m = pt.OOM_TABLE_ROW_RE.match(s)
        if m and "columns" in oom:
            values = m.group("values").split()
            row = dict(zip(["uid", "tgid", *oom["columns"]], values))
            task = {"pid": int(m.group("pid")), "uid": _int(row.get("uid")), "comm": m.group("name").strip(),
                    "rss_pages": _int(row.get("rss")), "total_vm_pages": _int(row.get("total_vm")),
                    "oom_score_adj": _int(row.get("oom_score_adj"))}
            oom["tasks"].append(task)
            return True
        m = pt.OOM_SACRIFICE_RE.search(s)
        if m:
            oom["sacrifice"] = {"pid": int(m.group("pid")), "comm": m.group("comm"), "score": int(m.group("score"))}
            d.note(s)
            return True
        if s.startswith("oom_reaper:"):
            d.note(s)
            return True
        if pt.OOM_PANIC_RE.search(s):
            d.note(s)
            return True
        if "Killed process" in s:
            self._oom_kill(d, s, {})
            return True
        return bool(pt.OOM_BODY_RE.match(s) or pt.REGISTER_RE.match(s))

    def _oom_summary(self, d: _Draft, line: str) -> None:
        oom = d.info.setdefault("oom", {})
        body = line.split("oom-kill:", 1)[1]
        fields = dict(pt.OOM_SUMMARY_FIELD_RE.findall(body))
        flags = [part for part in body.split(",") if "=" not in part]
        oom["constraint"] = fields.get("constraint")
        oom["global_oom"] = "global_oom" in flags
        if fields.get("oom_memcg"):
            oom["oom_memcg"] = fields["oom_memcg"]
        if fields.get("task_memcg"):
            oom["task_memcg"] = fields["task_memcg"]
        if fields.get("cpuset"):
            oom.setdefault("cpuset", fields["cpuset"])
        oom["summary_victim"] = {"pid": _int(fields.get("pid")), "comm": fields.get("task"),
                                 "uid": _int(fields.get("uid"))}
        d.note(line)

    def _oom_kill(self, d: _Draft, line: str, g: dict[str, Any]) -> None:
        oom = d.info.setdefault("oom", {})
        m = pt.OOM_SACRIFICE_RE.search(line)
        if m:
            oom["sacrifice"] = {"pid": int(m.group("pid")), "comm": m.group("comm"), "score": int(m.group("score"))}
            oom.setdefault("why", g.get("why"))
            d.note(line)
            return
        m = pt.OOM_KILLED_RE.search(line)
        if not m:
            d.note(line)
            return
        uid = m.group("uid") or m.group("uid_el7")
        oom["victim"] = {
            "pid": int(m.group("pid")), "comm": m.group("comm"), "uid": _int(uid),
            "total_vm_kb": _int(m.group("total_vm")), "anon_rss_kb": _int(m.group("anon")),
            "file_rss_kb": _int(m.group("file")), "shmem_rss_kb": _int(m.group("shmem")),
            "pgtables_kb": _int(m.group("pgtables")), "oom_score_adj": _int(m.group("adj")),
        }
        why = g.get("why") or (re.match(r"^(.*?): Killed process", line) or [None, None])[1]
        if why:
            oom["why"] = why
        d.note(line)
        d.state = "trailer"

    # -- storage / hardware chains ----------------------------------------------------------------------------
    def _chain_line(self, d: _Draft, line: str, op: pt.Opener, g: dict[str, Any]) -> None:
        d.note(line)
        d.info["last_groups"] = g
        kind = _chain_kind(op.name, g)
        if d.kind is None or _KIND_RANK.get(kind, 0) > _KIND_RANK.get(d.kind, 0):
            d.kind = kind
        dev = g.get("dev")
        if dev:
            dev = dev.strip()
            if op.name == "jbd2_abort" or op.name == "jbd2_io":
                dev = re.sub(r"-\d+$", "", dev)
            if "device" not in d.info or d.info["device"].startswith("ata"):
                d.info["device"] = dev
            d.info.setdefault("devices", [])
            if dev not in d.info["devices"]:
                d.info["devices"].append(dev)
        if g.get("sector") and "sector" not in d.info:
            d.info["sector"] = int(g["sector"])
        if g.get("fs") and "fs" not in d.info:
            d.info["fs"] = g["fs"].lower()
        if g.get("fn") and "fs_function" not in d.info:
            d.info["fs_function"] = g["fn"]
        for key in ("err", "what", "status", "type", "lvl", "count", "mc", "n"):
            if g.get(key) and key not in d.info:
                d.info[key] = g[key].strip() if isinstance(g[key], str) else g[key]
        if _MEDIUM_RE.search(line) and d.kind in ("io_error", "nvme_error"):
            d.kind = "medium_error"
        if op.name == "xfs" and re.search(r"[Ss]hut(?:ting)? down|shut down", line):
            d.info["shutdown"] = True
        if op.name in ("ext_panic",):
            d.info["panic_forced"] = True
        if op.name == "ghes" or op.name == "mce":
            d.info.setdefault("fatal", False)
        if op.name == "edac" and g.get("type") == "UE":
            d.info["uncorrected"] = True

    def _chain_continuation(self, d: _Draft, line: str) -> bool:
        s = line.strip()
        family = _chain_family(d.opener)
        if family == "storage":
            if not (_STORAGE_LINE_RE.match(s) or any(dev in s for dev in d.info.get("devices", []))):
                return False
            if _MEDIUM_RE.search(s):
                if d.kind in ("io_error", "nvme_error"):
                    d.kind = "medium_error"
                d.note(s)
            elif len(d.evidence) < 12:
                d.note(s)
            m = re.search(r"\[(sd\w+|sr\d+|st\d+)\]", s)
            if m and (d.info.get("device", "").startswith("ata") or "device" not in d.info):
                d.info["device"] = m.group(1)
            return True
        if family == "hw":
            if re.search(r"Hardware Error|mce: |EDAC|Machine [Cc]heck|MCE|CPU \d+: |TSC |ADDR |MISC |PROCESSOR |"
                         r"RIP |Bank \d+|event severity|section_type|error_status|physical_address|node:|card:|"
                         r"module:|rank:|bank:|row:|column:|fru_text|Run the above through", s):
                sev = re.search(r"event severity: (\w+)", s)
                if sev:
                    d.info["event_severity"] = sev.group(1)
                if "Machine check" in s and "events logged" not in s:
                    d.info["fatal"] = True
                d.note(s)
                return True
            return False
        # fs chains: follow-up lines about the same device
        return any(dev in s for dev in d.info.get("devices", [])) and bool(
            re.search(r"EXT[234]-fs|XFS|BTRFS|JBD2|Aborting journal", s))

    # -- closing --------------------------------------------------------------------------------------------------
    def _close(self, d: _Draft, done: list[Incident]) -> None:
        if d in self._open:
            self._open.remove(d)
        incident = self._finalize(d)
        if incident is not None:
            done.append(incident)

    def _other(self, rec: Record, line: str, lineno: int) -> Incident:
        text = line.strip()
        inc = Incident(kind="other", severity="critical" if (rec.level or 0) <= 2 else "warning",
                       title=text[:160], source=self.source, first_line=lineno, first_seen=_iso(rec),
                       last_seen=_iso(rec), evidence=[text[:300]])
        inc.details["level"] = rec.level
        if rec.fields.get("DEVICE"):
            inc.details["kmsg_device"] = rec.fields["DEVICE"]
        inc.advice = advice_for("other", None, inc)
        return inc

    def _finalize(self, d: _Draft) -> Optional[Incident]:
        if d.role in ("cut", "sysrq") or d.kind is None:
            return None
        kind = d.kind
        if kind == "oom_kill" and d.panic is not None and "victim" not in d.info.get("oom", {}):
            kind = "panic"
        inc = Incident(kind=kind, severity=_SEVERITY.get(kind, "warning"), title="", source=self.source,
                       first_line=d.first_line, first_seen=_iso(d.first), last_seen=_iso(d.last),
                       evidence=list(d.evidence))
        if d.role == "chain":
            self._finalize_chain(d, inc)
        else:
            self._finalize_report(d, inc)
        if d.panic is not None:
            inc.severity = "critical"
            inc.details["panic"] = d.panic
        inc.advice = advice_for(inc.kind, inc.cause, inc)
        return inc

    def _finalize_report(self, d: _Draft, inc: Incident) -> None:
        kind = inc.kind
        fn = self._culprit(d) if kind != "oom_kill" else None  # an OOM kill's culprit is its victim
        if fn is not None:
            inc.function = cp.canonical_name(fn.function)
            inc.module = fn.module or self._module_of(d, fn)
            if inc.function != fn.name:
                inc.details["frame"] = fn.name
        if "taint" in d.info:
            inc.taint = d.info["taint"]
        if d.info.get("hardware"):
            inc.details["hardware"] = d.info["hardware"]
        if d.info.get("modules"):
            inc.details["modules"] = d.info["modules"][:50]
        if d.info.get("file"):
            inc.details["file"] = d.info["file"]
            inc.details["line"] = d.info.get("line")
        rip = d.info.get("rip")
        if rip is not None and kind != "oom_kill":
            inc.details["rip"] = rip.name
        pid, comm = d.info.get("pid"), d.info.get("comm")
        if comm is not None or pid is not None:
            inc.process = {"pid": pid, "comm": comm}
        where = f" in {inc.function}" if inc.function else ""
        if kind == "oom_kill":
            self._finalize_oom(d, inc)
        elif kind == "panic":
            inc.title = f"kernel panic: {d.panic or '?'}" + where
            if d.opener.startswith("oom"):
                self._finalize_oom(d, inc)
                inc.title = f"kernel panic: {d.panic or 'Out of memory'}"
        elif kind in ("soft_lockup", "hard_lockup", "rcu_stall"):
            self._finalize_stall(d, inc, where)
        elif kind == "hung_task":
            inc.title = "INFO: task hung" + where
            inc.details["blocked_seconds"] = d.info.get("secs")
        elif kind in ("kasan", "kmsan", "kcsan", "kfence", "ubsan"):
            typ = (d.info.get("type") or "").strip()
            if kind == "ubsan" and typ.lower().startswith("undefined behaviour"):
                typ = "undefined-behaviour"
            access = f" {d.info['access']}" if kind == "kasan" and d.info.get("access") else ""
            label = kind.upper()
            if kind == "kcsan":
                names = " / ".join(cp.strip_suffixes(f) for f in d.info.get("where_fns", []) if f)
                inc.title = f"{label}: {typ} in {names}" if names else f"{label}: {typ}"
            else:
                inc.title = f"{label}: {typ}{access}" + where
            inc.details["report_type"] = typ
        elif kind == "memory_leak":
            inc.title = "memory leak" + where if d.opener != "kmemleak_summary" else (
                f"kmemleak: {d.info.get('leaks')} new suspected memory leaks")
        elif kind == "deadlock":
            what = d.info.get("what", "")
            inc.title = ("inconsistent lock state" if "inconsistent" in what else
                         "possible deadlock" if _DEADLOCK_WHAT_RE.search(what) else what) + where
            inc.details["lockdep"] = what
        elif kind == "warning":
            if d.opener == "lockdep_other":
                inc.title = f"WARNING: {d.info.get('what')}" + where
            elif d.opener == "warning_unwind":
                inc.title = f"WARNING: {d.info.get('what', '')}"[:160]
            else:
                inc.title = "WARNING" + where
            if d.info.get("message"):
                inc.details["message"] = d.info["message"]
        elif kind == "bug":
            inc.title = self._bug_title(d) + where
        elif kind == "oops":
            inc.title = self._oops_title(d) + where
        elif kind == "other":
            if d.opener == "netdev_refcount":
                inc.title = f"unregister_netdevice: waiting for {d.info.get('dev')} to become free"
                inc.device = d.info.get("dev")
            elif d.opener == "busy_inodes":
                inc.title = f"VFS: Busy inodes after unmount of {d.info.get('dev')}"
                inc.device = d.info.get("dev")
            elif d.opener == "lockdep_other":
                inc.title = f"INFO: {d.info.get('what')}" + where
            else:
                inc.title = d.info.get("opener_line", "")[:160]
        if not inc.title:
            inc.title = d.info.get("opener_line", kind)[:160]
        if inc.function:
            self._add_frames_evidence(d, inc)

    def _bug_title(self, d: _Draft) -> str:
        names = [d.opener, *d.openers]
        if "list_corruption" in names:
            return "BUG: corrupted list"
        if "usercopy" in names:
            return "BUG: bad usercopy"
        if d.opener == "bug_generic":
            return f"BUG: {d.info.get('what', '')}"
        if d.opener == "lockdep_other":
            return f"BUG: {d.info.get('what', '')}"
        if d.opener == "stack_overflow":
            return "BUG: kernel stack overflow"
        if d.opener == "invalid_opcode":
            return "invalid opcode"
        return "kernel BUG"

    def _oops_title(self, d: _Draft) -> str:
        name = d.opener
        if name == "null_deref":
            return "BUG: kernel NULL pointer dereference"
        if name == "page_fault":
            what = d.info.get("what")
            return f"BUG: unable to handle kernel {what}" if what else "BUG: unable to handle page fault"
        if name == "gpf":
            return "general protection fault"
        if name == "divide_error":
            return "divide error"
        if name == "stack_segment":
            return "stack segment fault"
        if name == "double_fault":
            return "PANIC: double fault"
        if name == "arm_internal":
            return "Internal error"
        if name == "arm_unhandled":
            return "Unhandled fault"
        if name in ("arm_fault", "ppc_fault"):
            return "Unable to handle kernel access"
        return "Oops"

    def _finalize_stall(self, d: _Draft, inc: Incident, where: str) -> None:
        kind = inc.kind
        frames = self._stall_frames(d)
        stuck = next((f for f in cp.reliable(cp.interrupted_context(frames))
                      if cp.infrastructure_family(f.function) != "sanitizer"), None)
        if kind == "soft_lockup":
            inc.title = "BUG: soft lockup" + where
            inc.details["stuck_in"] = stuck.name if stuck else None
            inc.details["cpu"] = d.info.get("cpu")
            inc.details["stuck_seconds"] = d.info.get("secs")
            inc.cause = self._lockup_cause(d, frames)
        elif kind == "hard_lockup":
            inc.title = "hard LOCKUP" + where
            inc.details["stuck_in"] = stuck.name if stuck else None
            inc.details["cpu"] = d.info.get("cpu")
            inc.cause = self._lockup_cause(d, frames)
        else:
            inc.title = "INFO: rcu detected stall" + where
            inc.details["flavor"] = d.info.get("flavor")
            inc.details["cpus"] = sorted(set(d.info.get("cpus", [])))
            inc.details["self_detected"] = d.info.get("self", False)
            if d.info.get("jiffies") is not None:
                inc.details["jiffies"] = d.info["jiffies"]
            inc.details["stuck_in"] = stuck.name if stuck else None
            inc.cause = self._lockup_cause(d, frames)
        if d.info.get("hardware") and _VM_RE.search(d.info["hardware"]):
            inc.details["virtual_machine"] = True
        if inc.process is None and d.info.get("comm"):
            inc.process = {"pid": d.info.get("pid"), "comm": d.info.get("comm")}

    def _lockup_cause(self, d: _Draft, frames: list[cp.Frame]) -> str:
        context = cp.reliable(cp.interrupted_context(frames))
        for f, caller in zip(context, [*context[1:], None]):
            if _NIC_FUNC_RE.match(f.name) or (f.module and f.module in _NIC_MODULES):
                return "nic_driver"
            # A driver's ndo_start_xmit or NAPI poll, whatever its name: called straight from the core.
            if caller is not None and _NIC_CALLER_RE.match(caller.name) and not _GENERIC_NET_RE.match(f.name) \
                    and not cp.is_infrastructure(f.name):
                return "nic_driver"
        for f in context:
            if _FS_FUNC_RE.match(f.name) or (f.module and f.module in _FS_MODULES):
                return "filesystem"
        if self.steal_percent is not None and self.steal_percent >= 10:
            return "hypervisor_steal"
        for f in context[:6]:
            if _SPIN_RE.match(f.name):
                return "spinlock_contention"
        return "unknown"

    def _finalize_oom(self, d: _Draft, inc: Incident) -> None:
        oom = d.info.get("oom", {})
        victim = oom.get("victim") or oom.get("summary_victim") or oom.get("sacrifice")
        details = inc.details
        if victim:
            full = {"pid": victim.get("pid"), "comm": victim.get("comm"), "uid": victim.get("uid"),
                    "total_vm_kb": None, "anon_rss_kb": None, "file_rss_kb": None, "shmem_rss_kb": None,
                    "pgtables_kb": None, "oom_score_adj": None}
            full.update({k: v for k, v in (oom.get("victim") or {}).items() if v is not None})
            summary = oom.get("summary_victim") or {}
            if full["uid"] is None and summary.get("uid") is not None and summary.get("pid") == full["pid"]:
                full["uid"] = summary["uid"]
            if full["oom_score_adj"] is None:
                row = next((t for t in oom.get("tasks", []) if t["pid"] == full["pid"]), None)
                if row is not None:
                    full["oom_score_adj"] = row.get("oom_score_adj")
                    if full["uid"] is None:
                        full["uid"] = row.get("uid")
            details["victim"] = full
            inc.process = {"pid": full["pid"], "comm": full["comm"]}
        details["constraint"] = oom.get("constraint")
        memcg = oom.get("oom_memcg")
        global_oom = oom.get("global_oom")
        if global_oom is None:
            why = oom.get("why") or ""
            global_oom = memcg is None and "memcg_limit_kb" not in oom and not why.startswith("Memory")
        details["global_oom"] = bool(global_oom)
        details["oom_memcg"] = memcg
        details["task_memcg"] = oom.get("task_memcg")
        details["memcg_limit_kb"] = oom.get("memcg_limit_kb")
        details["memcg_usage_kb"] = oom.get("memcg_usage_kb")
        details["invoker"] = oom.get("invoker")
        details["gfp_mask"] = oom.get("gfp_mask")
        details["order"] = oom.get("order")
        page_kb = _page_kb(oom)
        tasks = sorted(oom.get("tasks", []), key=lambda t: t.get("rss_pages") or 0, reverse=True)[:5]
        details["largest_tasks"] = [
            {"pid": t["pid"], "uid": t["uid"], "comm": t["comm"],
             "rss_kb": t["rss_pages"] * page_kb if t.get("rss_pages") is not None else None,
             "total_vm_kb": t["total_vm_pages"] * page_kb if t.get("total_vm_pages") is not None else None,
             "oom_score_adj": t["oom_score_adj"]}
            for t in tasks
        ]
        if details["constraint"] is None:
            details["constraint"] = "CONSTRAINT_MEMCG" if memcg or "memcg_limit_kb" in oom or (
                oom.get("why") or "").startswith("Memory cgroup") else None
        who = f"{victim.get('comm')} (pid {victim.get('pid')})" if victim else "no victim"
        scope = f" in memory cgroup {memcg}" if memcg else (" (system-wide)" if details["global_oom"] else "")
        inc.title = f"Out of memory: killed {who}{scope}"

    # -- culprit --------------------------------------------------------------------------------------------
    def _sections(self, d: _Draft, labels: tuple[str, ...]) -> list[cp.Frame]:
        out: list[cp.Frame] = []
        for sec in d.sections:
            if sec.label in labels:
                out.extend(sec.frames)
        return out

    def _stall_frames(self, d: _Draft) -> list[cp.Frame]:
        """The backtrace of the stuck CPU/task: for RCU stalls the NMI backtrace of a stalled CPU (or the
        dumped task), else the report's own trace."""
        if d.kind == "rcu_stall":
            cpus = set(d.info.get("cpus", []))
            for sec in d.sections:
                if sec.label.startswith("nmi:") and int(sec.label[4:]) in cpus and sec.frames:
                    return sec.frames
            for sec in d.sections:
                if sec.label == "task" and sec.frames:
                    return sec.frames
            for sec in d.sections:
                if sec.label in ("main",) and sec.frames:
                    return sec.frames
            for sec in d.sections:
                if sec.label.startswith("nmi:") and sec.frames and not _only_reporting(sec.frames):
                    return sec.frames
            return []
        for sec in d.sections:
            if sec.label in ("main", "task") and sec.frames:
                return sec.frames
        for sec in d.sections:
            if sec.label.startswith("nmi:") and sec.frames:
                return sec.frames
        return self._sections(d, ("panic",))

    def _culprit(self, d: _Draft) -> Optional[cp.Frame]:
        kind = d.kind
        if kind in _STALL_KINDS:
            return cp.stall_culprit(self._stall_frames(d))
        if d.info.get("stack_overflow") or (kind == "panic" and d.panic and re.search(r"stack", d.panic or "")):
            if kind == "panic":
                sym = cp.parse_symbol(d.panic or "")
                if sym and not cp.is_infrastructure(sym.function):
                    return sym
            return cp.stall_culprit(self._sections(d, ("main", "panic")))
        candidates: list[cp.Frame] = []
        if kind == "kcsan":
            candidates += [cp.Frame(f) for f in d.info.get("where_fns", []) if f]
        if d.info.get("named") is not None:
            candidates.append(d.info["named"])
        if kind == "deadlock" or d.opener == "lockdep_other":
            candidates += d.info.get("lock_ats", [])
            if _DEADLOCK_WHAT_RE.search(d.info.get("what", "")):
                candidates += self._sections(d, ("chain",))
        if d.info.get("sym") is not None:
            candidates.append(d.info["sym"])
        if kind == "hung_task":
            frames = self._sections(d, ("task",))
            if not frames:
                frames = self._sections(d, ("main",))
            return cp.first_culprit(candidates + frames)
        if kind == "panic":
            sym = cp.parse_symbol(d.panic or "")
            if sym:
                candidates.append(sym)
            return cp.first_culprit(candidates + self._sections(d, ("main", "panic")))
        main = self._sections(d, ("main",))
        found = cp.first_culprit(candidates + main)
        if found is None:
            found = cp.first_culprit(self._sections(d, ("panic",)))
        if found is None and d.info.get("lr") is not None and not cp.is_infrastructure(d.info["lr"].function):
            found = d.info["lr"]
        return found

    def _module_of(self, d: _Draft, fn: cp.Frame) -> Optional[str]:
        for sec in d.sections:
            for f in sec.frames:
                if f.function == fn.function and f.module:
                    return f.module
        return None

    def _add_frames_evidence(self, d: _Draft, inc: Incident) -> None:
        frames = cp.interrupted_context(self._stall_frames(d)) if inc.kind in _STALL_KINDS else next(
            (s.frames for s in d.sections if s.label in ("main", "task") and s.frames), [])
        shown = 0
        for f in cp.reliable(frames):
            if shown >= EVIDENCE_FRAMES or len(inc.evidence) >= EVIDENCE_MAX:
                break
            line = f"  {f.function}" + (f" [{f.module}]" if f.module else "")
            if line not in inc.evidence:
                inc.evidence.append(line)
                shown += 1

    def _finalize_chain(self, d: _Draft, inc: Incident) -> None:
        info = d.info
        kind = inc.kind
        inc.device = info.get("device")
        if info.get("sector") is not None:
            inc.details["sector"] = info["sector"]
        if kind in ("fs_error", "fs_readonly"):
            fs = info.get("fs")
            if fs is None and d.opener.startswith("jbd2"):
                fs = "ext4"
            inc.details["fs"] = fs
            if info.get("fs_function"):
                inc.function = info["fs_function"]
            label = (fs or "filesystem").upper() if fs in ("xfs", "btrfs") else (fs or "filesystem")
            if kind == "fs_readonly":
                inc.title = f"{label} on {inc.device} remounted read-only"
            else:
                inc.title = f"{label} error on {inc.device}" + (f" in {inc.function}" if inc.function else "")
                if info.get("shutdown"):
                    inc.title += " (filesystem shut down)"
                    inc.details["shutdown"] = True
            if info.get("lvl") == "warning" and kind == "fs_error":
                inc.severity = "warning"
            if info.get("n"):
                inc.details["error_count"] = _int(info["n"])
        elif kind == "medium_error":
            inc.title = f"medium error on {inc.device}" + (f" at sector {info['sector']}" if "sector" in info else "")
        elif kind == "io_error":
            err = info.get("err")
            inc.title = f"I/O error on {inc.device}" + (f" ({err} error)" if err not in (None, "I/O") else "")
            if info.get("err"):
                inc.details["error"] = info["err"]
        elif kind == "nvme_error":
            what = info.get("what") or info.get("status") or "error"
            inc.title = f"NVMe error on {inc.device}: {what}"[:160]
        elif kind == "mce":
            sev = info.get("event_severity")
            corrected = sev == "corrected" or (d.opener == "mce_logged" and not info.get("fatal"))
            inc.severity = "warning" if corrected else "critical"
            inc.details["corrected"] = corrected
            if sev:
                inc.details["event_severity"] = sev
            inc.title = ("machine check events logged (corrected)" if d.opener == "mce_logged"
                         else f"hardware error: {info.get('what') or sev or 'machine check'}")[:160]
        elif kind == "edac":
            ue = info.get("type") == "UE"
            inc.severity = "critical" if ue else "warning"
            inc.details["uncorrected"] = ue
            inc.details["memory_controller"] = _int(info.get("mc"))
            inc.details["error_count"] = _int(info.get("count"))
            inc.title = f"EDAC MC{info.get('mc')}: {info.get('count')} {info.get('type')} {info.get('what', '')}"[:160]
        if info.get("devices") and len(info["devices"]) > 1:
            inc.details["devices"] = info["devices"]
        if not inc.title:
            inc.title = info.get("opener_line", kind)[:160]


def _page_kb(oom: dict[str, Any]) -> int:
    """Page size in KiB for the task table (counted in pages): calibrated on the victim's own row when the
    kill line gives its RSS in kB, else 4."""
    victim = oom.get("victim") or {}
    row = next((t for t in oom.get("tasks", []) if t["pid"] == victim.get("pid")), None)
    if row and row.get("rss_pages"):
        kb = sum(victim.get(k) or 0 for k in ("anon_rss_kb", "file_rss_kb", "shmem_rss_kb"))
        for size in (4, 16, 64):
            if abs(kb - row["rss_pages"] * size) <= max(64, kb // 10):
                return size
    return 4


def _sym_frame(sym: str, module: Optional[str]) -> Optional[cp.Frame]:
    """``func+0x1/0x2`` (or ``func()``) as a frame; ``None`` for a bare address."""
    name = sym.split("+")[0].rstrip("()")
    return cp.Frame(name, module) if re.match(r"[A-Za-z_][\w.$]*$", name) else None


def _only_reporting(frames: list[cp.Frame]) -> bool:
    return all(cp.infrastructure_family(f.function) in ("reporting", "entry") for f in cp.reliable(frames))


_KIND_RANK = {"io_error": 1, "nvme_error": 1, "medium_error": 2, "fs_error": 1, "fs_readonly": 2, "mce": 1,
              "edac": 1}


def _chain_family(opener: str) -> str:
    if opener in ("mce", "mce_logged", "ghes", "edac"):
        return "hw"
    if opener in ("blk_error", "buffer_io", "lost_page_write", "scsi_error", "ata_error", "nvme_status", "nvme_ctrl"):
        return "storage"
    return "fs"


def _chain_kind(opener: str, g: dict[str, Any]) -> str:
    op = pt.opener(opener)
    if op.kind is not None:
        return op.kind
    if opener == "blk_error":
        return "medium_error" if "medium" in g.get("err", "") else "io_error"
    if opener == "nvme_status":
        return "medium_error" if _MEDIUM_RE.search(g.get("status", "")) else "nvme_error"
    return "io_error"


def build_incidents(records: Iterable[Record], steal_percent: Optional[float] = None) -> list[Incident]:
    """All incidents of a record stream (several sources allowed), ordered by source then first line."""
    builders: dict[str, IncidentBuilder] = {}
    out: list[Incident] = []
    for rec in records:
        builder = builders.get(rec.source)
        if builder is None:
            builder = builders[rec.source] = IncidentBuilder(rec.source, steal_percent=steal_percent)
        out.extend(builder.feed(rec))
    for builder in builders.values():
        out.extend(builder.finish())
    out.sort(key=lambda i: (i.source, i.first_line))
    return out


def iter_crash_incidents(incidents: Iterable[Incident]) -> Iterator[Incident]:
    """Only the crash-class incidents (the kernel misbehaved; not disks, filesystems or DIMMs)."""
    return (i for i in incidents if i.kind in CRASH_KINDS)

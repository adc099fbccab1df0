"""Crash reports of every kind and era, from real kernel text (see ``kernel_reports.py`` for provenance)."""

from __future__ import annotations

import pytest

from kerncheck.logs.incidents import IncidentBuilder, build_incidents
from kerncheck.logs.model import Record
from kerncheck.logs.records import iter_records
from tests.conftest import REPO
from tests.unit import kernel_reports as kr

GOLDEN = REPO / "tests" / "data" / "qemu"


@pytest.fixture
def golden():
    """The raw bytes of a QEMU lab golden console log."""
    return lambda case: (GOLDEN / f"{case}.log").read_bytes()


def scan(text: str, fmt: str = "console", **kwargs):
    return build_incidents(iter_records(text.encode(), "t", fmt=fmt), **kwargs)


def only(text: str, fmt: str = "console", **kwargs):
    found = scan(text, fmt, **kwargs)
    assert len(found) == 1, [(i.kind, i.title) for i in found]
    return found[0]


# -- oops / BUG / WARNING across eras and architectures ----------------------------------------------------------
def test_5_15_oops_escalated_by_panic_and_second_register_dump_is_not_a_new_incident():
    inc = only(kr.OOPS_5_15)
    assert (inc.kind, inc.severity, inc.function, inc.module) == ("oops", "critical", "foo_write", "foo")
    assert inc.title == "BUG: kernel NULL pointer dereference in foo_write"
    assert inc.process == {"pid": 4321, "comm": "bash"}
    assert inc.taint == ["OOT_MODULE", "UNSIGNED_MODULE"]
    assert inc.details["panic"] == "Fatal exception" and inc.first_line == 1
    assert inc.details["modules"][:2] == ["foo(OE)", "xfs"]
    assert "Kernel panic - not syncing: Fatal exception" in inc.evidence
    assert "module foo" in inc.advice and "out-of-tree" in inc.advice


def test_3_10_oops_with_ip_line_and_bracketed_frames():
    inc = only(kr.OOPS_3_10)
    assert (inc.kind, inc.function, inc.module, inc.details["panic"]) == ("oops", "foo_write", "foo", "Fatal exception")
    assert inc.title == "BUG: unable to handle kernel NULL pointer dereference in foo_write"


def test_4_4_gpf_skips_lockdep_frames_for_the_driver():
    inc = only(kr.GPF_4_4)
    assert inc.kind == "oops" and inc.title == "general protection fault in sg_remove_request"
    assert inc.details["rip"] == "__lock_acquire"


def test_arm64_internal_error_skips_mmio_accessors():
    inc = only(kr.ARM64_INTERNAL_ERROR_5_9)
    assert (inc.kind, inc.function, inc.process) == ("oops", "ns558_init", {"pid": 1, "comm": "swapper/0"})


def test_powerpc_oops_names_the_nip_function():
    inc = only(kr.PPC64_OOPS_5_4)
    assert (inc.kind, inc.function) == ("oops", "partition_sched_domains_locked")


def test_arm_unhandled_fault_uses_the_backtrace_when_pc_is_memset():
    inc = scan(kr.ARM_UNHANDLED_FAULT_4_17)[0]
    assert (inc.kind, inc.function) == ("oops", "n_tty_set_termios")


def test_warning_escalated_by_panic_on_warn_names_the_caller_of_the_debug_check():
    inc = only(kr.WARNING_PANIC_ON_WARN_4_15)
    assert (inc.kind, inc.function, inc.severity) == ("warning", "pppol2tp_release", "critical")
    assert inc.details["panic"] == "panic_on_warn set ..." and inc.details["file"] == "lib/debugobjects.c"
    assert inc.details["message"].startswith("ODEBUG: activate active")


@pytest.mark.parametrize("case, kind, title", [
    ("warning", "warning", "WARNING in crashtest_warning"),
    ("bug", "bug", "kernel BUG in crashtest_bug"),
    ("oops", "oops", "BUG: kernel NULL pointer dereference in crashtest_null_deref"),
    ("gpf", "oops", "general protection fault in crashtest_gpf"),
    ("panic", "panic", "kernel panic: crashtest: PANIC requested in crashtest_panic"),
    ("soft_lockup", "soft_lockup", "BUG: soft lockup in crashtest_soft_lockup"),
    ("rcu_stall", "rcu_stall", "INFO: rcu detected stall in crashtest_rcu_stall"),
    ("hung_task", "hung_task", "INFO: task hung in crashtest_hung_task"),
    ("atomic_sleep", "bug", "BUG: scheduling while atomic in crashtest_atomic_sleep"),
])
def test_qemu_lab_culprit_is_the_module_function(golden, case, kind, title):
    inc = build_incidents(iter_records(golden(case), case))[0]
    assert (inc.kind, inc.title, inc.module) == (kind, title, "crashtest")
    assert inc.taint == ["OOT_MODULE", "UNSIGNED_MODULE"]


def test_qemu_oops_then_panic_is_one_escalated_incident(golden):
    (inc,) = build_incidents(iter_records(golden("oops_panic"), "oops_panic"))
    assert inc.kind == "oops" and inc.details["panic"] == "Fatal exception"
    assert inc.function == "crashtest_null_deref"


def test_qemu_soft_lockup_details(golden):
    (inc,) = build_incidents(iter_records(golden("soft_lockup"), "soft_lockup"))
    d = inc.details
    assert (d["stuck_in"], d["cpu"], d["stuck_seconds"]) == ("delay_tsc", 0, 8)
    assert inc.process == {"pid": 96, "comm": "sh"} and inc.cause == "unknown" and d["virtual_machine"]
    assert "steal" in inc.advice


def test_soft_lockup_on_a_vm_with_high_steal_is_blamed_on_the_hypervisor(golden):
    records = iter_records(golden("soft_lockup"), "soft_lockup")
    (inc,) = build_incidents(records, steal_percent=35.0)
    assert inc.cause == "hypervisor_steal" and "hypervisor" in inc.advice


@pytest.mark.parametrize("case, function", [
    ("sysrq_c", "sysrq_handle_crash"), ("init_exit", "do_exit"), ("kdump", "sysrq_handle_crash"),
])
def test_qemu_panics(golden, case, function):
    incs = build_incidents(iter_records(golden(case), case))
    assert incs[0].kind == "panic" and incs[0].function == function


@pytest.mark.parametrize("case", ["sysrq_t", "sysrq_w", "hard_lockup", "kdump_state"])
def test_sysrq_task_dumps_and_quiet_boots_are_not_crashes(golden, case):
    assert build_incidents(iter_records(golden(case), case)) == []


# -- lockups, stalls, hung tasks -------------------------------------------------------------------------------
def test_soft_lockup_escalated_by_softlockup_panic():
    inc = only(kr.SOFT_LOCKUP_4_15)
    assert inc.kind == "soft_lockup" and inc.details["panic"] == "softlockup: hung tasks"
    assert inc.function == "smp_call_function" and inc.details["frame"] == "smp_call_function_single"
    assert inc.details["stuck_in"] == "smp_call_function_single"
    assert inc.process == {"pid": 1400, "comm": "kworker/0:2"} and inc.details["stuck_seconds"] == 134


def test_arm64_soft_lockup_in_a_network_driver_transmit_path():
    inc = scan(kr.SOFT_LOCKUP_ARM64_5_9)[0]
    assert inc.kind == "soft_lockup" and inc.cause == "nic_driver"
    assert inc.function == "ip_list_rcv" and inc.details["stuck_in"] == "_raw_spin_unlock_irqrestore"
    assert "NIC driver" in inc.advice


def test_rcu_stall_in_filesystem_code_reports_the_stalled_task_not_the_gp_kthread():
    inc = only(kr.RCU_STALL_FUSE_4_17)
    assert (inc.kind, inc.function, inc.cause) == ("rcu_stall", "fuse_dev_release", "filesystem")
    assert inc.details["flavor"] == "rcu_sched" and inc.details["stuck_in"] == "native_queued_spin_lock_slowpath"
    assert "rcu_gp_kthread" not in inc.evidence and "  fuse_dev_release" in inc.evidence


def test_hung_tasks_each_with_their_own_culprit():
    first, second = scan(kr.HUNG_TASK_JBD2_4_20)
    assert (first.kind, first.function, first.process) == (
        "hung_task", "jbd2_journal_commit_transaction", {"pid": 3563, "comm": "jbd2/sda-8"})
    assert first.details["blocked_seconds"] == 140
    assert (second.function, second.process["comm"], second.first_line) == ("rq_qos_wait", "kworker/u12:5", 17)


def test_arm64_hung_task_skips_the_rwsem_wait():
    inc = scan(kr.HUNG_TASK_ARM64_5_9)[0]
    assert (inc.kind, inc.function) == ("hung_task", "register_netdevice_notifier")


# -- sanitizers, lockdep, kmemleak ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, title", [
    (kr.KASAN_4_14, "kasan", "KASAN: use-after-free Read in aead_recvmsg"),
    (kr.KCSAN_5_3, "kcsan", "KCSAN: data-race in find_next_bit / rcu_report_exp_cpu_mult"),
    (kr.KMSAN_5_16, "kmsan", "KMSAN: kernel-infoleak in urandom_read_nowarn"),
    (kr.UBSAN_5_4, "ubsan", "UBSAN: undefined-behaviour in lkdtm_ARRAY_BOUNDS"),
    (kr.KFENCE_5_11, "kfence", "KFENCE: out-of-bounds read in test_out_of_bounds_read"),
    (kr.KMEMLEAK_4_15, "memory_leak", "memory leak in ext4_mb_init"),
    (kr.LOCKDEP_CIRCULAR_4_15, "deadlock", "possible deadlock in rtnl_lock"),
    (kr.LOCKDEP_INCONSISTENT_5_10, "deadlock", "inconsistent lock state in bad_mode"),
])
def test_sanitizer_and_lockdep_reports(text, kind, title):
    inc = scan(text)[0]
    assert (inc.kind, inc.title) == (kind, title)


def test_kasan_access_and_task():
    inc = scan(kr.KASAN_4_14)[0]
    assert inc.process == {"pid": 3568, "comm": "syz-executor5"} and inc.severity == "critical"


def test_ubsan_culprit_keeps_its_module():
    inc = scan(kr.UBSAN_5_4)[0]
    assert (inc.function, inc.module) == ("lkdtm_ARRAY_BOUNDS", "lkdtm")


# -- panics -----------------------------------------------------------------------------------------------------
def test_sysrq_crash_panic_with_caller_ids():
    inc = only(kr.SYSRQ_PANIC_4_20)
    assert (inc.kind, inc.function, inc.details["panic"]) == ("panic", "sysrq_handle_crash", "sysrq triggered crash")


def test_corrupted_stack_panic_is_named_after_the_syscall():
    inc = only(kr.STACK_CORRUPTED_PANIC_4_20)
    assert inc.kind == "panic" and inc.function == "__arm64_sys_socket"


# -- streams, interleaving, user space --------------------------------------------------------------------------
def _kmsg(lines: list[tuple[str, str]]) -> bytes:
    return "".join(f"4,{n},{1000 + n},-,caller={caller};{text}\n" for n, (caller, text) in enumerate(lines)).encode()


def test_interleaved_callers_are_separate_streams():
    """Two CPUs printing at once: each caller= stream is assembled on its own."""
    warning = [ln for ln in kr.WARNING_PANIC_ON_WARN_4_15.splitlines() if "Kernel panic" not in ln]
    hung = kr.HUNG_TASK_ARM64_5_9.splitlines()

    def strip(ln: str) -> str:
        return ln.split("] ", 2)[-1] if ln.startswith("[") else ln

    merged: list[tuple[str, str]] = []
    for i in range(max(len(warning), len(hung))):
        if i < len(warning):
            merged.append(("T5989", strip(warning[i])))
        if i < len(hung):
            merged.append(("T1478", strip(hung[i])))
    found = build_incidents(iter_records(_kmsg(merged), "kmsg", fmt="kmsg"))
    kinds = sorted((i.kind, i.function) for i in found)
    assert kinds == [("hung_task", "register_netdevice_notifier"), ("warning", "pppol2tp_release")]


def test_foreign_lines_without_caller_ids_are_tolerated():
    noisy = []
    for ln in kr.OOPS_5_15.splitlines():
        noisy.append(ln)
        if ln.startswith((" vfs_write", "RSP:")):
            noisy.append("audit: type=1400 audit(1700000000.000:42): apparmor=\"DENIED\" operation=\"open\"")
    inc = only("\n".join(noisy) + "\n")
    assert (inc.kind, inc.function, inc.details["panic"]) == ("oops", "foo_write", "Fatal exception")


def test_user_space_records_are_never_kernel_evidence():
    builder = IncidentBuilder("t")
    fake = Record(text="BUG: kernel NULL pointer dereference, address: 0000000000000008", source="t", line=1,
                  level=3, facility=1, userspace=True)
    assert builder.feed(fake) == [] and builder.idle and builder.finish() == []


def test_error_level_records_without_a_known_kind_are_other_incidents():
    data = (b"6,1,100,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
            b"3,2,200,-;mpt3sas_cm0: failure at drivers/scsi/mpt3sas/mpt3sas_scsih.c:10995/_scsih_probe()!\n"
            b" SUBSYSTEM=pci\n DEVICE=+pci:0000:03:00.0\n")
    (inc,) = build_incidents(iter_records(data, "kmsg", fmt="kmsg"))
    assert inc.kind == "other" and inc.severity == "warning" and inc.first_line == 2
    assert inc.title.startswith("mpt3sas_cm0: failure at") and inc.details["kmsg_device"] == "+pci:0000:03:00.0"


def test_builder_is_idle_between_incidents_and_finish_flushes_a_truncated_report():
    builder = IncidentBuilder("t")
    records = list(iter_records(kr.OOPS_5_15.encode(), "t", fmt="console"))
    assert builder.idle
    out = []
    for rec in records[:12]:  # cut in the middle of the call trace
        out += builder.feed(rec)
    assert out == [] and not builder.idle
    (inc,) = builder.finish()
    assert inc.kind == "oops" and inc.function == "foo_write" and builder.idle


@pytest.mark.parametrize("opener, cpu", [
    ("NMI watchdog: Watchdog detected hard LOCKUP on cpu 5", 5),        # EL7 / 4.4 – 6.1
    ("watchdog: CPU2: Watchdog detected hard LOCKUP on cpu 5", 5),      # 6.18: reporter CPU2, stuck CPU 5
])
def test_hard_lockup_escalated_by_the_hard_lockup_panic(opener, cpu):
    inc = only(f"{opener}\nKernel panic - not syncing: Hard LOCKUP\n")
    assert (inc.kind, inc.details["cpu"], inc.details["panic"], inc.severity) == ("hard_lockup", cpu, "Hard LOCKUP",
                                                                                  "critical")

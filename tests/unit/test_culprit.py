"""Frame parsing for every era/architecture and the culprit rules (generic infrastructure, stalls)."""

from __future__ import annotations

import pytest

from kerncheck.logs import culprit as cp
from kerncheck.logs.culprit import Frame


@pytest.mark.parametrize("line, function, module, unreliable", [
    (" vfs_write+0xb9/0x260", "vfs_write", None, False),                                   # x86 4.19+
    (" ? __x64_sys_write+0x19/0x20", "__x64_sys_write", None, True),
    (" crashtest_soft_lockup+0x40/0x56 [crashtest]", "crashtest_soft_lockup", "crashtest", False),
    (" direct_write.cold+0x1b/0x25 [crashtest]", "direct_write.cold", "crashtest", False),
    (" [<ffffffff8108b0a0>] ? func+0x10/0x20 [ixgbe]", "func", "ixgbe", True),               # 3.10 / 4.4
    (" <IRQ>  [<ffffffff81d90889>] dump_stack+0xc1/0x128", "dump_stack", None, False),       # 3.10 inline stack switch
    ("  __switch_to+0x2b0/0x6e0 (T)", "__switch_to", None, False),                         # arm64 6.18 flags
    (" do_sys_open+0x1/0x2 [ext4 0123456789abcdef0123456789abcdef01234567]", "do_sys_open", "ext4", False),  # build id
    ("[c00000007a3efc40] [c0000000001d3da8] process_one_work+0x428/0xa80 kernel/workqueue.c:2269",
     "process_one_work", None, False),                                                      # powerpc, symbolized
    (" __dump_stack lib/dump_stack.c:77 [inline]", "__dump_stack", None, False),            # syzkaller symbolized
    ("    [<000000006d3d5bbb>] kmemleak_alloc+0x25/0x60", "kmemleak_alloc", None, False),  # kmemleak backtrace
    ("[<80b10c70>] (memset) from [<8062eec8>] (n_tty_set_termios+0x154/0x3c4)", "memset", None, False),  # arm
    (" unwind_backtrace from show_stack+0x10/0x14", "unwind_backtrace", None, False),       # arm 5.x+
])
def test_parse_frame(line, function, module, unreliable):
    frame = cp.parse_frame(line)
    assert frame is not None
    assert (frame.function, frame.module, frame.unreliable) == (function, module, unreliable)


@pytest.mark.parametrize("line", [
    "hardirqs last  enabled at (494027): [<ffffffff8516b14a>] restore_regs_and_return_to_kernel+0x0/0x26",
    " ffff8801d0ee0818 ffff8800b4b59d90 ffff8801d94cfa00 ffffffff8149e232",
    " (&(&r->consumer_lock)->rlock){+.+...}, at: [<ffffffff82df4347>] tun_device_event+0x897/0xc70",
    "Modules linked in: foo(OE) xfs",
    "RIP: 0033:0x47b7a0",
])
def test_non_frames(line):
    assert cp.parse_frame(line) is None


def test_stack_markers():
    assert cp.parse_frame(" <TASK>") == Frame("<TASK>", marker=True)
    assert cp.parse_frame(" </IRQ>") == Frame("</IRQ>", marker=True)


@pytest.mark.parametrize("line, function, module", [
    ("RIP: 0010:foo_write+0x24/0x90 [foo]", "foo_write", "foo"),
    ("RIP: 0010:[<ffffffffa03c1234>]  [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]", "foo_write", "foo"),
    ("IP: [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]", "foo_write", "foo"),
    ("RIP  [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]", "foo_write", "foo"),
    ("pc : __raw_readb+0x18/0x2c", "__raw_readb", None),
    ("PC is at memset+0x30/0xa8", "memset", None),
    ("NIP [c00000000022d79c] partition_sched_domains_locked+0x1ac/0x5f0 kernel/sched/topology.c:2216",
     "partition_sched_domains_locked", None),
])
def test_parse_rip(line, function, module):
    rip = cp.parse_rip(line)
    assert rip is not None and (rip.function, rip.module, rip.rip) == (function, module, True)


@pytest.mark.parametrize("line", ["RIP: 0033:0x452ac9", "ip_set_uadd+0x1/0x2", "NIP:  c00000000022d79c LR: c0000"])
def test_parse_rip_rejects_user_addresses_and_functions_named_ip(line):
    assert cp.parse_rip(line) is None


@pytest.mark.parametrize("name, family", [
    ("dump_stack_lvl", "reporting"), ("panic", "reporting"), ("__warn", "reporting"), ("report_bug", "reporting"),
    ("kasan_report", "sanitizer"), ("__asan_report_load4_noabort", "sanitizer"),
    ("refcount_warn_saturate", "sanitizer"), ("native_queued_spin_lock_slowpath", "locking"),
    ("_raw_spin_lock_irqsave", "locking"), ("down_write", "locking"),
    ("mutex_lock_nested", "locking"), ("___kmalloc_large_node", "allocation"), ("kmem_cache_alloc_trace", "allocation"),
    ("schedule", "scheduling"), ("schedule_timeout", "scheduling"), ("msleep", "scheduling"),
    ("delay_tsc", "scheduling"),
    ("memcpy_erms", "string/copy"), ("_copy_to_user", "string/copy"), ("strlen", "string/copy"),
    ("do_syscall_64", "entry"), ("entry_SYSCALL_64_after_hwframe", "entry"), ("full_proxy_write", "entry"),
    ("rb_erase", "library"), ("kobject_put", "library"), ("skb_put", "library"),
])
def test_infrastructure_families(name, family):
    assert cp.infrastructure_family(name) == family


@pytest.mark.parametrize("name", [
    "crashtest_panic", "ixgbe_xmit_frame", "ext4_readdir", "rtnl_lock", "pipe_lock", "read_cache_folio",
    "exit_to_user_mode_prepare", "__unwind_start", "kernfs_fop_open", "iov_iter_advance", "timerqueue_del",
    "register_netdevice_notifier", "wake_up_new_task", "get_user_pages", "synchronize_rcu", "__kernfs_remove",
])
def test_real_culprits_are_not_infrastructure(name):
    assert not cp.is_infrastructure(name)


def test_first_culprit_skips_unreliable_frames_markers_and_infrastructure():
    frames = [Frame("<TASK>", marker=True), Frame("dump_stack_lvl"), Frame("ext4_find_entry", unreliable=True),
              Frame("_raw_spin_lock"), Frame("ext4_readdir", "ext4"), Frame("iterate_dir")]
    assert cp.first_culprit(frames) == Frame("ext4_readdir", "ext4")
    assert cp.first_culprit([Frame("schedule"), Frame("do_syscall_64")]) is None


def test_suffixes_and_families():
    assert cp.strip_suffixes("__jump_label_transform.isra.0") == "__jump_label_transform"
    assert cp.strip_suffixes("check_cpu_stall.isra.60.cold.78") == "check_cpu_stall"
    assert cp.strip_suffixes("__call_rcu.constprop.67") == "__call_rcu"
    assert cp.strip_suffixes("foo.llvm.123456") == "foo"
    assert cp.canonical_name("smp_call_function_many_cond") == "smp_call_function"
    assert cp.canonical_name("synchronize_rcu_expedited") == "synchronize_rcu"
    assert cp.canonical_name("ext4_readdir.cold") == "ext4_readdir"


def frames(*names: str) -> list[Frame]:
    return [Frame(n, rip=(i == 0)) for i, n in enumerate(names)]


def test_stall_is_named_after_the_whole_syscall_when_it_does_not_multiplex():
    assert cp.stall_culprit(frames("d_walk", "shrink_dcache_parent", "vfs_rmdir", "do_rmdir",
                                   "__x64_sys_rmdir", "do_syscall_64")).function == "__x64_sys_rmdir"
    assert cp.stall_culprit(frames("sock_alloc", "__sock_create", "__sys_socket", "__arm64_sys_socket",
                                   "el0_svc_handler")).function == "__arm64_sys_socket"


def test_stall_in_a_multiplexed_syscall_is_named_after_the_operation():
    assert cp.stall_culprit(frames("_raw_spin_unlock_irqrestore", "snd_virmidi_output_trigger",
                                   "snd_rawmidi_kernel_write1", "snd_rawmidi_write", "__vfs_write", "vfs_write",
                                   "ksys_write", "SyS_write")).function == "snd_rawmidi_write"


def test_stall_in_softirq_is_named_after_the_handler_inside_the_dispatcher():
    assert cp.stall_culprit(frames("__xfrm_decode_session", "rawv6_rcv", "ip6_input", "ipv6_rcv",
                                   "__netif_receive_skb_core", "process_backlog", "net_rx_action",
                                   "__do_softirq")).function == "ipv6_rcv"


def test_stall_prefers_a_module_frame():
    stuck = [Frame("delay_tsc", rip=True), Frame("crashtest_soft_lockup", "crashtest"),
             Frame("direct_write.cold", "crashtest"), Frame("full_proxy_write"), Frame("vfs_write")]
    assert cp.stall_culprit(stuck) == Frame("crashtest_soft_lockup", "crashtest")


def test_interrupted_context_starts_after_the_reporting_interrupt():
    trace = [Frame("<IRQ>", marker=True), Frame("sched_show_task"), Frame("rcu_check_callbacks"),
             Frame("update_process_times"), Frame("__hrtimer_run_queues"), Frame("hrtimer_interrupt"),
             Frame("smp_apic_timer_interrupt"), Frame("apic_timer_interrupt"), Frame("free_percpu"),
             Frame("array_map_free"), Frame("bpf_map_free_deferred"), Frame("process_one_work")]
    assert cp.interrupted_context(trace)[0] == Frame("free_percpu")
    assert cp.stall_culprit(trace).function == "bpf_map_free_deferred"

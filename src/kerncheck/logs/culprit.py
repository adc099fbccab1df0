"""Stack frames of kernel reports (x86, arm64, arm, powerpc; 3.10 → 6.18) and the culprit rules.

The culprit of a report is the first frame — RIP/pc first, then the call trace — that is not generic
infrastructure: reporting and exception handling, sanitizers and debug checks, locking, allocation,
scheduling and sleeping, string/copy helpers, syscall entry and kthread plumbing. Lockups and RCU stalls
use :func:`stall_culprit` instead: the code that looped, named by the frame just inside the first generic
dispatcher (the syscall, the softirq handler, the work item, the timer callback).

>>> parse_frame(" ? ixgbe_xmit_frame+0x10/0x20 [ixgbe]")
Frame(function='ixgbe_xmit_frame', module='ixgbe', unreliable=True, rip=False, marker=False)
>>> parse_rip("RIP: 0010:[<ffffffffa03c1234>]  [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]").function
'foo_write'
>>> strip_suffixes("do_con_write.part.0")
'do_con_write'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Frame:
    """One stack frame. ``rip`` marks the faulting/interrupted instruction (RIP, pc, NIP, "PC is at");
    ``marker`` frames are stack-switch markers such as ``<IRQ>`` (``function`` holds the marker)."""

    function: str
    module: Optional[str] = None
    unreliable: bool = False  # "? func" on x86: a stale address found on the stack
    rip: bool = False
    marker: bool = False

    @property
    def name(self) -> str:
        return strip_suffixes(self.function)


_SUFFIX_RE = re.compile(r"(?:\.(?:part|isra|constprop|cold|llvm|lto_priv|localalias|clone|specialized)(?:\.\d+)*)+$")


def strip_suffixes(function: str) -> str:
    """Drop compiler clone suffixes: ``.part.0``, ``.isra.0``, ``.cold``, ``.constprop.0``, ``.llvm.123``."""
    return _SUFFIX_RE.sub("", function)


_SYM = r"[A-Za-z_][\w.$]*"
_MOD = r"(?:\s+\[(?P<mod>[\w-]+)(?:\s+[0-9a-f]{20,})?\])?"
# " func+0x10/0x20 [mod]", " ? func+0x…", " [<ffffffff8108b0a0>] ? func+0x… [mod]" (3.10/4.4, also after an
# inline " <IRQ> "), powerpc "[c0000000] [c0000000] func+0x…", symbolized "func file.c:12 [inline]".
_FRAME_RE = re.compile(
    r"^\s*(?:<(?P<inline_marker>[\w#]+)>\s+)?(?:\[<?[0-9a-f]+>?\]\s*){0,2}(?P<q>\?\s+)?"
    r"(?:(?P<fn>" + _SYM + r")\+0x[0-9a-f]+(?:/0x[0-9a-f]+)?" + _MOD
    + r"|(?P<inl>" + _SYM + r")\s+[\w./-]+:\d+(?::\d+)?\s+\[inline\])"
)
# arm (32-bit): "[<80b10c70>] (memset) from [<8062eec8>] (n_tty_set_termios+0x154/0x3c4)" and the newer
# " memset from n_tty_set_termios+0x154/0x3c4".
_ARM_FRAME_RE = re.compile(
    r"^\s*(?:\[<[0-9a-f]+>\]\s*\((?P<fn>" + _SYM + r")(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?\)\s+from\s+\[<"
    r"|(?P<fn2>" + _SYM + r")(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?\s+from\s+" + _SYM + r"\+0x)"
)
_MARKER_RE = re.compile(r"^\s*<(/?)(IRQ|EOI|NMI|TASK|SOFTIRQ|EOE|#DF|#DB\d?|#MC|#VC\d?|DB\d?|MCE|STACKFAULT|"
                        r"ENTRY_TRAMPOLINE|DEBUG)>\s*$")
_RIP_RE = re.compile(
    r"^(?:(?:RIP|EIP|IP|pc|epc|ip|PSW\.addr)\s*:|PC is at|(?:NIP|RIP)(?=\s+\[))\s*(?:[0-9a-f]{4}:)?\s*"
    r"(?:\[<?[0-9a-f]+>?\]\s*){0,2}"
    r"(?P<fn>" + _SYM + r")\+0x[0-9a-f]+(?:/0x[0-9a-f]+)?" + _MOD
)
_LR_RE = re.compile(r"^(?:LR is at|lr\s*:|LR\s*\[[0-9a-f]+\])\s*(?P<fn>" + _SYM + r")\+0x[0-9a-f]+" + _MOD)
# Not preceded by a symbol character, so a long word is tried once, not at each of its positions.
_SYMBOL_RE = re.compile(r"(?<![\w.$])(?P<fn>" + _SYM + r")\+0x[0-9a-f]+/0x[0-9a-f]+" + _MOD)


def parse_frame(text: str) -> Optional[Frame]:
    """A call-trace line as a :class:`Frame` (markers included), else ``None``."""
    m = _FRAME_RE.match(text)
    if m:
        fn = m.group("fn") or m.group("inl")
        return Frame(fn, m.group("mod"), unreliable=bool(m.group("q")))
    m = _MARKER_RE.match(text)
    if m:
        return Frame(f"<{m.group(1)}{m.group(2)}>", marker=True)
    m = _ARM_FRAME_RE.match(text)
    if m:
        return Frame(m.group("fn") or m.group("fn2"))
    return None


def parse_rip(text: str) -> Optional[Frame]:
    """The instruction pointer line (``RIP: 0010:func+0x…``, ``pc : func+0x…``, ``PC is at …``,
    ``NIP [c…] func+0x…``) as a ``rip`` frame; ``None`` for other lines and for user-space addresses."""
    m = _RIP_RE.match(text)
    if not m:
        return None
    return Frame(m.group("fn"), m.group("mod"), rip=True)


def parse_lr(text: str) -> Optional[Frame]:
    """The arm/arm64/powerpc link register line, used only when nothing better is known."""
    m = _LR_RE.match(text)
    return Frame(m.group("fn"), m.group("mod")) if m else None


def parse_symbol(text: str) -> Optional[Frame]:
    """The first ``func+0x…/0x…`` symbol anywhere in ``text`` (a KASAN header, a panic reason).

    >>> parse_symbol("Kernel stack is corrupted in: udp4_lib_lookup2+0x5d/0x60 [udp]")
    Frame(function='udp4_lib_lookup2', module='udp', unreliable=False, rip=False, marker=False)
    """
    m = _SYMBOL_RE.search(text)
    return Frame(m.group("fn"), m.group("mod")) if m else None


# Generic infrastructure, by family (prefix matches on the suffix-stripped name).
_INFRA = {
    "reporting": [
        r"dump_stack", r"__dump_stack", r"show_stack", r"show_trace", r"dump_backtrace", r"show_regs",
        r"__show_regs", r"sched_show_task", r"print_", r"printk", r"_printk", r"vprintk", r"console_",
        r"__dynamic_(?:pr|dev|netdev)_", r"dev_printk", r"dev_vprintk_emit", r"dev_printk_emit",
        r"__dev_printk", r"_dev_(?:err|warn|info|notice|crit|alert|emerg)",
        r"(?:v|nmi_|do_)?panic(?:_\w+)?$", r"check_panic_on_warn", r"skb_(?:over_|under_)?panic",
        r"\w+fs_panic$",
        r"\w*assert(?:ion)?_?fail", r"assfail", r"\w*_BUG$", r"BUG$", r"do_tag_check_fault",
        r"report_tag_fault", r"_?sched_show_task", r"dump_cpu_task", r"__x86_indirect_thunk",
        r"__x86_return_thunk", r"__warn", r"warn_slowpath", r"warn_alloc", r"warn_bogus", r"WARN",
        r"report_bug", r"fixup_bug", r"handle_bug", r"do_trap", r"do_error_trap", r"do_invalid_op",
        r"invalid_op",
        r"exc_", r"asm_exc_", r"asm_sysvec_", r"sysvec_", r"__sysvec_", r"do_int3", r"do_debug", r"die$",
        r"__die", r"die_body", r"oops_end", r"oops_begin", r"no_context", r"__bad_area", r"bad_area",
        r"do_page_fault", r"__do_page_fault", r"do_user_addr_fault", r"do_kern_addr_fault", r"page_fault",
        r"async_page_fault", r"handle_page_fault", r"kernelmode_fixup_or_oops", r"spurious_kernel_fault",
        r"general_protection", r"do_general_protection", r"error_entry", r"bad_page$", r"__schedule_bug",
        r"spin_bug", r"spin_dump", r"rwlock_bug", r"debug_print_object", r"do_mem_abort",
        r"__do_kernel_fault",
        r"die_kernel_fault", r"do_translation_fault", r"do_bad_area", r"el1_abort", r"el1h_64_sync",
        r"el1_sync",
        r"el1_da", r"el1_dbg", r"el1_undef", r"do_undefinstr", r"bug_handler", r"call_break_hook",
        r"brk_handler",
        r"do_debug_exception", r"arm64_serror_panic", r"__do_user_fault", r"do_DataAbort",
        r"do_PrefetchAbort",
        r"do_sect_fault", r"do_alignment", r"__dabt_svc_?$", r"program_check_exception", r"__do_page_fault",
        r"watchdog_timer_fn", r"watchdog_overflow_callback", r"__perf_event_overflow",
        r"perf_event_nmi_handler",
        r"nmi_handle", r"default_do_nmi", r"do_nmi", r"nmi_cpu_backtrace", r"nmi_trigger_cpumask_backtrace",
        r"arch_trigger_cpumask_backtrace", r"trigger_.*backtrace", r"rcu_dump_cpu_stacks", r"rcu_check_gp_",
        r"check_cpu_stall", r"rcu_pending", r"rcu_check_callbacks", r"rcu_sched_clock_irq", r"rcu_stall_",
        r"update_process_times", r"tick_sched_", r"tick_nohz_handler", r"tick_handle_periodic",
        r"tick_periodic",
        r"hrtimer_interrupt", r"local_apic_timer_interrupt", r"smp_apic_timer_interrupt",
        r"apic_timer_interrupt",
        r"irq_exit", r"__irq_exit", r"handle_irq", r"do_IRQ", r"common_interrupt", r"asm_common_interrupt",
        r"ret_from_intr", r"el1_irq", r"el1_interrupt", r"el1h_64_irq", r"gic_handle_irq",
        r"__handle_domain_irq",
        r"handle_domain_irq", r"generic_handle_", r"irq_enter", r"sysrq_handle_(?:showstate|showregs)",
        r"check_hung_", r"show_state_filter", r"debug_show_all_locks", r"dump_header", r"oom_kill_process",
        r"out_of_memory", r"mem_cgroup_out_of_memory", r"__pfx_", r"stack_trace_", r"arch_stack_walk",
        r"save_stack", r"save_trace", r"kunit_", r"__save_stack_trace", r"(?:__)?kernel_text_address",
        r"is_bpf_text_address", r"unwind_get_return_address",
    ],
    "sanitizer": [
        r"kasan", r"__kasan", r"check_memory_region", r"__asan", r"__hwasan", r"kmsan", r"__msan", r"kcsan",
        r"__kcsan", r"__tsan", r"ubsan", r"__ubsan", r"handle_overflow", r"__sanitizer", r"kfence",
        r"__kfence",
        r"instrument_", r"__instrument", r"kmemleak", r"__kmemleak", r"create_object", r"__create_object",
        r"debug_object", r"__debug_object", r"debug_check_no_obj_freed", r"__debug_check_no_obj_freed",
        r"___might_sleep", r"__might_sleep", r"might_sleep", r"__might_fault", r"might_fault",
        r"__might_resched",
        r"refcount_", r"__refcount_", r"kref_(?:put|get)", r"__list_(?:add|del)", r"list_(?:add|del)",
        r"__hlist_", r"hlist_", r"check_object_size", r"__check_object_size", r"check_heap_object",
        r"__check_heap_object", r"usercopy_", r"report_usercopy", r"check_copy_size",
        r"__this_cpu_preempt_check",
        r"debug_smp_processor_id", r"check_preemption_disabled", r"should_fail", r"__should_fail",
        r"fail_dump",
        r"alloc_debug_processing", r"free_debug_processing", r"check_bytes", r"check_object",
        r"__fortify", r"fortify_", r"__sanitizer_cov", r"msan_", r"ref_tracker", r"__phys_addr",
        r"__virt_to_phys",
        r"phys_to_virt", r"register_lock_class", r"look_up_lock_class", r"debug_lockdep_rcu_enabled",
        r"rcu_is_watching", r"rcu_lockdep_current_cpu_online", r"lock_is_held_type",
    ],
    "locking": [
        r"(?:_raw_|raw_|do_raw_|__raw_|arch_)?(?:spin|read|write)_(?:lock|unlock|trylock)",
        r"queued_(?:spin|read|write)_",
        r"native_queued_spin_lock_slowpath", r"(?:__)?task_rq_lock", r"raw_spin_rq_lock", r"rq_lock",
        r"__pv_queued_spin_", r"pv_queued_spin_", r"pv_wait", r"pv_kick",
        r"mutex_", r"__mutex_", r"ww_mutex_", r"__ww_mutex", r"rt_mutex_", r"__rt_mutex", r"rt_spin_",
        r"rwsem_", r"__rwsem_",
        r"(?:down|up)(?:_read|_write|_killable|_interruptible|_timeout|_trylock|_nested)*$",
        r"__down", r"__up", r"percpu_(?:down|up)_", r"__percpu_(?:down|up)_", r"percpu_rwsem_", r"osq_lock",
        r"rcu_read_(?:lock|unlock)", r"__rcu_read_(?:lock|unlock)", r"rcu_lock_", r"lock_acquire",
        r"lock_release",
        r"__lock_acquire", r"__lock_release", r"lock_acquired", r"lock_contended", r"lockdep_", r"__lockdep",
        r"mark_lock", r"mark_held_locks", r"mark_usage", r"validate_chain", r"check_prevs?_add",
        r"check_noncircular",
        r"check_deadlock", r"check_irq_usage", r"check_flags", r"check_chain_key", r"lock_downgrade",
        r"lock_is_held",
        r"__lock_is_held", r"find_held_lock", r"debug_(?:locks|check_no_locks|mutex)",
        r"(?:local_)?bh_(?:enable|disable)",
        r"__local_bh_(?:enable|disable)", r"_local_bh_enable", r"local_bh_", r"trace_hardirqs", r"trace_irq_",
        r"lockdep_hardirqs", r"arch_local_irq", r"bit_spin_lock", r"__bit_spin", r"seqcount_",
        r"(?:write|read)_seq",
        r"preempt_count_(?:add|sub)", r"__preempt_count", r"preempt_(?:enable|disable)",
        r"_atomic_dec_and_lock",
        r"atomic_dec_and_(?:raw_)?lock",
    ],
    "allocation": [
        r"(?:__)?k[mzc]alloc", r"kmalloc", r"__kmalloc", r"kv[mzc]alloc", r"__kvmalloc", r"kvrealloc",
        r"(?:__)?krealloc",
        r"kmem_cache_(?:alloc|free|zalloc)", r"__kmem_cache_", r"kfree", r"kvfree", r"kzfree",
        r"(?:__)?vmalloc",
        r"vzalloc", r"(?:__)?vfree", r"(?:__)?alloc_pages", r"alloc_page", r"(?:__)?alloc_frozen_pages",
        r"__get_free_pages", r"get_zeroed_page",
        r"(?:__)?free_pages", r"free_unref_", r"folio_alloc", r"__folio_alloc", r"get_page_from_freelist",
        r"post_alloc_hook", r"prep_new_page", r"(?:__)?slab_", r"___slab_alloc", r"new_slab",
        r"allocate_slab",
        r"setup_object", r"kmemdup", r"kstrdup", r"kstrndup", r"memdup_user", r"vmemdup_user",
        r"strndup_user",
        r"mempool_(?:alloc|free)", r"pcpu_(?:alloc|mem_zalloc|mem_alloc)", r"__alloc_percpu", r"alloc_inode$",
        r"page_frag_(?:free|alloc)", r"__page_frag_cache_drain", r"__free_one_page", r"free_one_page",
        r"free_pcppages_bulk", r"free_pcp_prepare", r"free_pages_prepare", r"__free_pages_ok",
        r"____cache_alloc",
        r"cache_alloc", r"__do_cache_alloc", r"slab_alloc", r"call_rcu", r"__call_rcu", r"kvfree_call_rcu",
        r"kfree_rcu", r"kvfree_rcu",
    ],
    "scheduling": [
        r"(?:__)?schedule", r"preempt_schedule", r"_cond_resched", r"__cond_resched", r"io_schedule",
        r"do_nanosleep", r"hrtimer_nanosleep", r"(?:__)?wait_for_(?:common|completion)",
        r"wait_for_completion",
        r"do_wait_for_common", r"__wait_rcu_gp", r"wait_rcu_gp", r"__wait_event", r"wait_event",
        r"prepare_to_wait",
        r"finish_wait", r"wait_woken", r"[mus]sleep", r"msleep_interruptible", r"usleep_range",
        r"(?:__)?[mun]?delay$",
        r"__const_udelay", r"delay_(?:tsc|loop|halt)", r"bit_wait", r"__wait_on_bit",
        r"out_of_line_wait_on_bit",
        r"wait_on_(?:page_bit|bit)", r"folio_wait", r"__folio_lock", r"folio_lock", r"__lock_page",
        r"lock_page",
        r"wait_on_page", r"__wait_on_buffer", r"__switch_to", r"context_switch", r"finish_task_switch",
        r"switch_to", r"try_to_wake_up", r"wake_up_process",
        r"__wake_up(?:_common|_locked|_sync)*(?:_lock)?$",
        r"freezable_schedule", r"__refrigerator", r"cpu_relax", r"__cpu_relax",
        r"(?:__)?flush_work(?:queue)?$",
        r"drain_workqueue", r"(?:__)?cancel_(?:delayed_)?work(?:_sync|_timer)", r"kthread_stop",
        r"kthread_park",
        r"rcu_barrier\w*", r"do_read_cache_(?:folio|page)", r"usb_start_wait_urb",
        r"usb_(?:bulk|control|interrupt)_msg$",
    ],
    "string/copy": [
        r"(?:__)?mem(?:cpy|set|move|cmp|chr|scan)", r"memcpy_(?:orig|erms)", r"memset_(?:orig|erms)",
        r"(?:__)?(?:strlen|strnlen|strcpy|strncpy|strlcpy|strscpy|sized_strscpy|strcat|strncat|strlcat|strcmp|strncmp|"
        r"strcasecmp|strncasecmp|strchr|strnchr|strrchr|strstr|strnstr|strsep|strspn|strcspn|strpbrk)$",
        r"_?copy_(?:from|to)_user", r"__copy_(?:from|to)_user", r"raw_copy_", r"copy_user_", r"__copy_user",
        r"copyin$", r"copyout$", r"_copy_(?:to|from)_iter", r"copy_page_(?:to|from)_iter",
        r"copy_(?:to|from)_kernel_nofault",
        r"(?:__)?(?:get|put)_user(?:_\d+|_nocheck|_size|_asm)*$", r"strncpy_from_user", r"strnlen_user",
        r"csum_partial_copy", r"(?:__)?clear_user", r"__arch_copy_", r"copy_mc_", r"rep_movs",
        r"v?sn?printf$", r"v?scnprintf$", r"k?v?asprintf(?:_const)?$", r"vsprintf", r"format_decode",
        r"va_format$",
        r"kstrdup_const$",
        r"_?find_(?:next|first)_(?:zero_)?bit", r"(?:__|arch_)?(?:set|clear|test|change)_bit",
        r"(?:__|arch_)?test_and_(?:set|clear|change)_bit", r"string(?:_nocheck)?$", r"widen_string",
        r"(?:hex|mac_address|symbol|ip[46]?_addr|ip[46]|uuid|escaped|bitmap|bitmap_list|dentry_name|bdev_name|clock|"
        r"resource|flags|netdev_bits|address_val|date|time_and_date|fwnode|fourcc|file_dentry|va_format|restricted|"
        r"special_hex_number|ptr_to_id)_?string$", r"pointer$", r"number$", r"\w*copy_(?:to|from)_iter",
        r"crc\d*", r"__crc", r"crc_\w+", r"(?:__)?crc32\w*",
    ],
    "library": [
        r"__raw_(?:read|write)[bwlq]$", r"logic_(?:in|out)[bwl]$", r"(?:read|write)[bwlq](?:_relaxed)?$",
        r"io(?:read|write)(?:8|16|32|64)(?:be)?(?:_rep)?$",
        r"(?:__)?rb_(?:erase|insert|first|last|next|prev|replace)", r"rb_\w+_augmented", r"__rb_\w+",
        r"(?:__)?xas_", r"(?:__)?xa_(?:load|store|erase|insert|find|alloc)", r"idr_",
        r"ida_(?:free|alloc|remove)",
        r"ida_simple_", r"radix_tree_", r"(?:__)?rhashtable_", r"rht_", r"bitmap_", r"__bitmap_", r"llist_",
        r"klist_", r"(?:__)?kobject_", r"kobj_", r"add_uevent_var", r"kset_", r"devres_release_all",
        r"release_nodes",
        r"device_(?:del|add|unregister|register|release|release_driver)$", r"(?:get|put)_device$",
        r"rollback_registered(?:_many)?$", r"unregister_netdevice_(?:many|queue)$", r"unregister_netdev$",
        r"lock_timer_base", r"(?:__)?(?:del|mod|add)_timer", r"timer_delete", r"(?:__)?try_to_del_timer",
        r"folio_unlock", r"unlock_page", r"folio_wake_bit", r"wake_up_page", r"sort$", r"sort_r$", r"bsearch",
        r"iput$", r"dput$", r"fast_dput$", r"(?:__)?skb_(?:put|push|pull|over_panic|under_panic)$",
        r"skb_put_data$",
        r"device_destroy$", r"(?:__)?queue_work(?:_on)?$", r"insert_work$",
        r"(?:__)?queue_delayed_work(?:_on)?$",
        r"folios_put_refs", r"(?:__)?folio_put$", r"put_page$", r"release_pages$", r"get_device_parent$",
        r"proc_register$", r"proc_create\w*", r"proc_mkdir\w*", r"(?:__)?vunmap$", r"walk_stackframe$",
    ],
    "entry": [
        r"do_syscall_", r"x64_sys_call", r"__do_syscall", r"do_int80_syscall", r"(?:__)?do_fast_syscall_32",
        r"do_SYSENTER_32", r"entry_SYSCALL", r"entry_SYSENTER", r"entry_INT80", r"system_call", r"tracesys",
        r"ret_from_fork", r"ret_from_kernel_thread", r"kthread$", r"worker_thread", r"process_one_work",
        r"process_scheduled_works", r"smpboot_thread_fn", r"el0_svc", r"el0t_", r"el0_sync", r"el0_da",
        r"do_el0_svc",
        r"invoke_syscall", r"el0_svc_common", r"__invoke_syscall", r"ret_fast_syscall", r"vector_swi",
        r"system_call_exception", r"full_proxy_", r"proc_reg_", r"start_thread",
    ],
}
# Leading underscores vary between versions (``__kmalloc``, ``___kmalloc_large_node``): accept any number.
_INFRA_RE = {family: re.compile("^_*(?:" + "|".join(pats) + ")") for family, pats in _INFRA.items()}
_ANY_INFRA_RE = re.compile("^_*(?:" + "|".join(p for pats in _INFRA.values() for p in pats) + ")")


def infrastructure_family(function: str) -> Optional[str]:
    """The generic-infrastructure family a function belongs to (``"locking"``, …), else ``None``.

    >>> infrastructure_family("native_queued_spin_lock_slowpath"), infrastructure_family("ext4_readdir")
    ('locking', None)
    """
    name = strip_suffixes(function)
    if not _ANY_INFRA_RE.match(name):
        return None
    for family, regex in _INFRA_RE.items():
        if regex.match(name):
            return family
    return None


def is_infrastructure(function: str) -> bool:
    return bool(_ANY_INFRA_RE.match(strip_suffixes(function)))


def reliable(frames: Iterable[Frame]) -> list[Frame]:
    """Frames that name real callers: no ``?`` guesses, no stack-switch markers."""
    return [f for f in frames if not f.unreliable and not f.marker]


def first_culprit(frames: Iterable[Frame]) -> Optional[Frame]:
    """The first reliable frame that is not generic infrastructure."""
    for frame in reliable(frames):
        if not is_infrastructure(frame.function):
            return frame
    return None


# Generic dispatchers: a stall is named by the frame just inside the first of these (walking outwards).
_SYSCALL_RE = re.compile(
    r"^(?:__(?:x64|ia32|x32|arm64|riscv|s390x?)_(?:compat_)?sys_|__se_(?:compat_)?sys_|__do_(?:compat_)?sys_|"
    r"(?:compat_)?SyS_|(?:compat_)?sys_|__sys_|ksys_|__ia32_compat_sys_)(?P<call>\w+)$"
)
# Syscalls that multiplex many unrelated operations: the stall is named after the operation (the frame
# inside the syscall), not after the syscall.
_MULTIPLEXED = {
    "ioctl", "compat_ioctl", "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "sendmsg", "sendmmsg", "sendto", "send", "recvmsg", "recvfrom", "recv", "setsockopt",
    "getsockopt", "connect", "bind", "accept", "accept4", "listen", "socketcall", "splice", "sendfile", "sendfile64",
    "fcntl", "close", "exit", "exit_group", "mmap", "mmap_pgoff", "io_uring_enter", "bpf", "ptrace",
    "write_iter", "read_iter", "shutdown",
}
_DISPATCH_RE = re.compile(
    "^(?:"
    + "|".join([
        r"__do_softirq", r"handle_softirqs", r"run_ksoftirqd", r"do_softirq", r"__local_bh_enable_ip",
        r"irq_exit", r"net_rx_action", r"__napi_poll", r"napi_poll", r"process_backlog",
        r"__netif_receive_skb",
        r"netif_receive_skb", r"__netif_receive_skb_(?:core|one_core|list_core)",
        r"netif_receive_skb_list_internal",
        r"call_timer_fn", r"expire_timers", r"__run_timers?", r"run_timer_softirq", r"__hrtimer_run_queues",
        r"tasklet_action", r"tasklet_hi_action", r"process_one_work", r"worker_thread", r"kthread$",
        r"ret_from_fork", r"flush_smp_call_function_queue", r"generic_smp_call_function_single_interrupt",
        r"__flush_smp_call_function_queue", r"rcu_do_batch", r"rcu_core", r"rcu_process_callbacks",
        r"__vfs_(?:read|write)", r"vfs_(?:read|write|readv|writev|iter_read|iter_write|ioctl)$",
        r"do_vfs_ioctl",
        r"\w+_compat_ioctl$", r"compat_\w+_ioctl$",
        r"new_sync_(?:read|write)", r"do_iter_(?:read|write|readv_writev)", r"do_loop_readv_writev",
        r"call_(?:read|write)_iter", r"do_readv", r"do_writev", r"__fput", r"____fput", r"task_work_run",
        r"do_dentry_open", r"vfs_open", r"mmap_region", r"do_mmap", r"vm_mmap_pgoff", r"blkdev_ioctl",
        r"sock_(?:sendmsg|recvmsg|write_iter|read_iter|ioctl|do_ioctl)", r"__sock_(?:sendmsg|recvmsg)",
        r"sock_sendmsg_nosec", r"sock_recvmsg_nosec", r"___sys_(?:sendmsg|recvmsg)",
        r"sock_common_(?:setsockopt|getsockopt|recvmsg)",
        r"netlink_rcv_skb", r"rtnetlink_rcv_msg", r"genl_rcv_msg", r"genl_family_rcv_msg",
        r"nfnetlink_rcv_msg",
        r"nfnetlink_rcv_batch", r"netlink_dump", r"genl_lock_dumpit", r"genl_dumpit",
        r"netlink_unicast_kernel",
        r"scheduler_ipi", r"smp_call_function_(?:single|many)_interrupt", r"el0_svc_common", r"do_syscall_",
    ])
    + ")"
)
_SMP_CALL_RE = re.compile(r"^(?:__)?smp_call_function")
# The reporting path of a lockup or stall (watchdog timer, RCU tick), printed before the interrupted context.
_REPORT_PATH_RE = re.compile(
    r"^(?:watchdog_timer_fn|rcu_(?:check_callbacks|sched_clock_irq|pending|dump_cpu_stacks)|print_(?:other_)?cpu_stall|"
    r"check_cpu_stall|_?sched_show_task|dump_cpu_task|nmi_cpu_backtrace|update_process_times|dump_stack)"
)
# Where the timer/IPI interrupt that carried the report entered (the interrupted code is below it).
_IRQ_ENTRY_RE = re.compile(
    r"^(?:(?:smp_)?(?:trace_)?apic_timer_interrupt\w*|asm_sysvec_\w+|sysvec_\w+|__sysvec_\w+|"
    r"el1_irq|el1h_64_irq\w*|el1_interrupt|gic_handle_irq|(?:smp_)?call_function(?:_single)?_interrupt|"
    r"smp_reschedule_interrupt|reschedule_interrupt|irq_exit|ret_from_intr|common_interrupt|__irq_svc)$"
)


# Variants of one wait that name the same cause; the variant a kernel happened to use is incidental.
_FAMILIES = (
    (re.compile(r"^(?:__)?smp_call_function(?:_single|_many|_many_cond|_any|_single_async)?$"), "smp_call_function"),
    (re.compile(r"^(?:__)?synchronize_(?:rcu|sched|srcu|rcu_bh)(?:_expedited|_normal|_mult)?$"), "synchronize_rcu"),
)


def canonical_name(function: str) -> str:
    """The name a culprit is reported under: suffixes stripped, wait variants folded into their family.

    >>> canonical_name("smp_call_function_single"), canonical_name("synchronize_sched.part.64")
    ('smp_call_function', 'synchronize_rcu')
    """
    name = strip_suffixes(function)
    for regex, family in _FAMILIES:
        if regex.match(name):
            return family
    return name


def syscall_name(function: str) -> Optional[str]:
    """The system call a syscall-entry frame implements (``__x64_sys_rmdir`` → ``rmdir``), else ``None``."""
    m = _SYSCALL_RE.match(strip_suffixes(function))
    return m.group("call") if m else None


def interrupted_context(frames: Sequence[Frame]) -> list[Frame]:
    """The frames of the code a lockup/stall interrupted, without the watchdog's own reporting path.

    4.19+ print the interrupted registers (RIP) inline, after the report's interrupt frames; 3.10/4.4 close
    the interrupt stack with ``<EOI>`` or ``</IRQ>``.
    """
    first_report = next((i for i, f in enumerate(frames)
                         if not f.marker and not f.unreliable and _REPORT_PATH_RE.match(f.name)), None)
    rips = [i for i, f in enumerate(frames) if f.rip and (first_report is None or i > first_report)]
    if rips:
        return list(frames[rips[0]:])
    if first_report is None:
        return list(frames)
    for i in range(len(frames) - 1, first_report, -1):
        if frames[i].marker and frames[i].function in ("</IRQ>", "<EOI>"):
            return list(frames[i + 1:])
    entries = [i for i in range(first_report, len(frames))
               if not frames[i].marker and not frames[i].unreliable and _IRQ_ENTRY_RE.match(frames[i].name)]
    if entries:
        return list(frames[entries[-1] + 1:])
    return list(frames)


def stall_culprit(frames: Sequence[Frame]) -> Optional[Frame]:
    """Name a lockup, RCU stall or stack overflow after the code that looped.

    A module frame of the stuck code wins (out-of-tree and driver code first); otherwise walk outwards to
    the first generic dispatcher and take the frame just inside it — a whole syscall is its own name unless
    it multiplexes operations (ioctl, write, sendmsg, …); a CPU spinning in ``smp_call_function*`` is
    named after that call.
    """
    context = reliable(interrupted_context(frames))
    prev: Optional[Frame] = None
    stuck: list[Frame] = []
    anchor: Optional[Frame] = None
    for i, frame in enumerate(context):
        name = frame.name
        if _SMP_CALL_RE.match(name):
            anchor = frame
            break
        call = syscall_name(name)
        if call is not None:
            if call in _MULTIPLEXED and prev is not None:
                anchor = prev
            else:  # the outermost wrapper of the same call: __sys_socket → __arm64_sys_socket
                anchor = frame
                for outer in context[i + 1:]:
                    if syscall_name(outer.name) != call:
                        break
                    anchor = outer
            break
        if _DISPATCH_RE.match(name):
            anchor = prev if prev is not None else frame
            break
        if not is_infrastructure(name):
            prev = frame
            stuck.append(frame)
    for frame in stuck:
        if frame.module:
            return frame
    if anchor is not None:
        return anchor
    return stuck[0] if stuck else None

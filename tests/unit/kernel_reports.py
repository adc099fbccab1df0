"""Literal kernel reports for the incident-engine tests.

Excerpts of real console logs from syzkaller's public report corpus (google/syzkaller
``pkg/report/testdata/linux/report``, Apache-2.0; register dumps trimmed where noted by omission), and the
printk formats quoted in ``shared/research/kernel-log-formats.md``. The QEMU lab's complete golden logs are
in ``tests/data/qemu`` and this machine's real OOM kill in ``tests/data/kmsg``.
"""

# ruff: noqa: E501

# arm64 5.9, synchronous external abort (syzkaller report 524).
ARM64_INTERNAL_ERROR_5_9 = """\
[  211.592905][    T1] Internal error: synchronous external abort: 96000010 [#1] PREEMPT SMP
[  211.594621][    T1] Dumping ftrace buffer:
[  211.596062][    T1]    (ftrace buffer empty)
[  211.596883][    T1] Modules linked in:
[  211.598101][    T1] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 5.9.0-12994-gf9893351acae #11
[  211.598861][    T1] Hardware name: linux,dummy-virt (DT)
[  211.599762][    T1] pstate: 40000005 (nZcv daif -PAN -UAO -TCO BTYPE=--)
[  211.600602][    T1] pc : __raw_readb+0x18/0x2c
[  211.601220][    T1] lr : __raw_readb+0x18/0x2c
[  211.601722][    T1] sp : ffff0000401f7c40
[  211.615210][    T1] Call trace:
[  211.616071][    T1]  __raw_readb+0x18/0x2c
[  211.616694][    T1]  logic_inb+0x50/0x13c
[  211.617265][    T1]  ns558_init+0x17c/0x63c
[  211.617822][    T1]  do_one_initcall+0x294/0x61c
[  211.618467][    T1]  kernel_init_freeable+0x790/0x798
[  211.619101][    T1]  kernel_init+0x18/0x1d4
[  211.619667][    T1]  ret_from_fork+0x10/0x30
[  211.622487][    T1] ---[ end trace ec5638d8e916ae8b ]---

"""

# powerpc 5.4, bad kernel data access (syzkaller report 431).
PPC64_OOPS_5_4 = """\
BUG: Unable to handle kernel data access at 0x8000000041a25f20
Faulting instruction address: 0xc00000000022d79c
Oops: Kernel access of bad area, sig: 11 [#1]
LE PAGE_SIZE=64K MMU=Hash SMP NR_CPUS=2048 NUMA pSeries
Modules linked in:
CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 5.4.0-rc2-00104-g9e208aa06c21 #0
Workqueue: cgroup_destroy css_killed_work_fn
NIP:  c00000000022d79c LR: c00000000022d784 CTR: 0000000000000000
REGS: c00000007a3ef6e0 TRAP: 0380   Not tainted  (5.4.0-rc2-00104-g9e208aa06c21)
MSR:  800000010280b033 <SF,VEC,VSX,EE,FP,ME,IR,DR,RI,LE,TM[E]>  CR: 22824428  XER: 20000000
CFAR: c000000000aaf11c IRQMASK: 0
NIP [c00000000022d79c] partition_sched_domains_locked+0x1ac/0x5f0 kernel/sched/topology.c:2216
LR [c00000000022d784] cpumask_first include/linux/cpumask.h:214 [inline]
LR [c00000000022d784] partition_sched_domains_locked+0x194/0x5f0 kernel/sched/topology.c:2216
Call Trace:
[c00000007a3efa20] [c00000000030a060] partition_and_rebuild_sched_domains kernel/cgroup/cpuset.c:965 [inline]
[c00000007a3efa20] [c00000000030a060] rebuild_sched_domains_locked+0x7b0/0x13a0 kernel/cgroup/cpuset.c:1007
[c00000007a3efb30] [c00000000030b06c] update_flag+0x26c/0x280 kernel/cgroup/cpuset.c:1903
[c00000007a3efb90] [c00000000030e6fc] cpuset_css_offline+0x15c/0x160 kernel/cgroup/cpuset.c:2813
[c00000007a3efbd0] [c0000000002e70c4] offline_css kernel/cgroup/cgroup.c:5129 [inline]
[c00000007a3efbd0] [c0000000002e70c4] css_killed_work_fn+0xd4/0x460 kernel/cgroup/cgroup.c:5433
[c00000007a3efc40] [c0000000001d3da8] process_one_work+0x428/0xa80 kernel/workqueue.c:2269
[c00000007a3efd10] [c0000000001d4494] worker_thread+0x94/0x770 kernel/workqueue.c:2415
[c00000007a3efda0] [c0000000001e3f00] kthread+0x1f0/0x200 kernel/kthread.c:255
[c00000007a3efe20] [c00000000000bfbc] ret_from_kernel_thread+0x5c/0x80
Instruction dump:
7fa3eb78 38a00000 38800800 3fe2ffb0 3bff4e00 488818d9 60000000 3d220005
39291df8 78631f48 7d29182a 7fe9fa14 <e87f0b20> 4bff81e9 60000000 60000000
---[ end trace ecc3a767a3dac4b3 ]---

"""

# arm 4.17, unhandled fault (syzkaller report 241).
ARM_UNHANDLED_FAULT_4_17 = """\
Unhandled fault: page domain fault (0x81b) at 0x00001044
pgd = 74561366
[00001044] *pgd=8f35a835, *pte=00000000, *ppte=00000000
Internal error: : 81b [#1] SMP ARM
Modules linked in:
CPU: 0 PID: 22499 Comm: syz-executor1 Not tainted 4.17.0-rc1+ #11
Hardware name: ARM-Versatile Express
PC is at memset+0x30/0xa8
LR is at   (null)
pc : [<80b10c70>]    lr : [<00000000>]    psr: 200d0013
sp : 977bdd48  ip : 00001044  fp : 00000000
r10: 9684b874  r9 : 000001ff  r8 : 00000000
r7 : 977bdd7c  r6 : 00001044  r5 : 00000000  r4 : 9684b800
r3 : 00000000  r2 : 000001c0  r1 : 00000000  r0 : 00001044
Flags: nzCv  IRQs on  FIQs on  Mode SVC_32  ISA ARM  Segment none
Control: 10c5387d  Table: 8f17406a  DAC: 00000051
Process syz-executor1 (pid: 22499, stack limit = 0xa891e723)
Stack: (0x977bdd48 to 0x977be000)
Backtrace:
[<80b10c70>] (memset) from [<8062eec8>] (n_tty_set_termios+0x154/0x3c4)
[<8062eec8>] (n_tty_set_termios) from [<80632588>] (tty_set_termios+0x1bc/0x230)
[<80632588>] (tty_set_termios) from [<80632c94>] (set_termios+0x198/0x3f8)
[<80632c94>] (set_termios) from [<80633598>] (tty_mode_ioctl+0x640/0x698)
[<80633598>] (tty_mode_ioctl) from [<80633638>] (n_tty_ioctl_helper+0x48/0x184)
[<80633638>] (n_tty_ioctl_helper) from [<8062e6b4>] (n_tty_ioctl+0xd8/0x1b8)
[<8062e6b4>] (n_tty_ioctl) from [<8062be58>] (tty_ioctl+0x154/0xc80)
[<8062be58>] (tty_ioctl) from [<8027dfb4>] (do_vfs_ioctl+0xb0/0xa10)
[<8027dfb4>] (do_vfs_ioctl) from [<8027e954>] (ksys_ioctl+0x40/0x6c)
[<8027e954>] (ksys_ioctl) from [<80101000>] (ret_fast_syscall+0x0/0x54)
Exception stack(0x977bdfa8 to 0x977bdff0)
---[ end trace df926199e0a105ac ]---
Kernel panic - not syncing: Fatal exception
Rebooting in 86400 seconds..

"""

# x86 4.15, WARNING escalated by panic_on_warn (syzkaller report 168).
WARNING_PANIC_ON_WARN_4_15 = """\
[   34.186906] ------------[ cut here ]------------
[   34.192768] ODEBUG: activate active (active state 1) object type: rcu_head hint:           (null)
[   34.201856] WARNING: CPU: 0 PID: 5989 at lib/debugobjects.c:291 debug_print_object+0x166/0x220
[   34.210575] Kernel panic - not syncing: panic_on_warn set ...
[   34.210575]
[   34.217913] CPU: 0 PID: 5989 Comm: syzkaller148927 Not tainted 4.15.0+ #290
[   34.224982] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[   34.234310] Call Trace:
[   34.236879]  dump_stack+0x194/0x257
[   34.240482]  ? arch_local_irq_restore+0x53/0x53
[   34.245129]  ? vsnprintf+0x1ed/0x1900
[   34.248914]  panic+0x1e4/0x41c
[   34.252081]  ? refcount_error_report+0x214/0x214
[   34.256815]  ? show_regs_print_info+0x18/0x18
[   34.261291]  ? __warn+0x1c1/0x200
[   34.264724]  ? debug_print_object+0x166/0x220
[   34.269192]  __warn+0x1dc/0x200
[   34.272449]  ? debug_print_object+0x166/0x220
[   34.276925]  report_bug+0x211/0x2d0
[   34.280532]  fixup_bug.part.11+0x37/0x80
[   34.284569]  do_error_trap+0x2d7/0x3e0
[   34.288436]  ? math_error+0x400/0x400
[   34.292215]  ? vprintk_emit+0x3ea/0x590
[   34.296174]  ? trace_hardirqs_off_thunk+0x1a/0x1c
[   34.300995]  do_invalid_op+0x1b/0x20
[   34.304684]  invalid_op+0x22/0x40
[   34.308111] RIP: 0010:debug_print_object+0x166/0x220
[   34.354770]  ? vprintk_func+0x5e/0xc0
[   34.359843]  debug_object_activate+0x49b/0x730
[   34.364408]  ? mutex_lock_io_nested+0x1900/0x1900
[   34.369228]  ? debug_object_assert_init+0x570/0x570
[   34.374219]  ? __is_insn_slot_addr+0x1fc/0x330
[   34.378786]  ? find_held_lock+0x35/0x1d0
[   34.382830]  ? pppol2tp_session_destruct+0x110/0x110
[   34.387909]  __call_rcu.constprop.67+0xf2/0xef0
[   34.392556]  ? __call_rcu.constprop.67+0xf2/0xef0
[   34.397374]  ? lock_downgrade+0x980/0x980
[   34.401499]  ? check_noncircular+0x20/0x20
[   34.405711]  ? rcu_process_callbacks+0x17f0/0x17f0
[   34.410615]  ? lock_downgrade+0x980/0x980
[   34.414749]  ? __mutex_unlock_slowpath+0xe9/0xac0
[   34.419572]  ? wait_for_completion+0x770/0x770
[   34.424128]  ? pppol2tp_release+0x1ae/0x560
[   34.428426]  ? lock_downgrade+0x980/0x980
[   34.432573]  call_rcu_sched+0x12/0x20
[   34.436351]  pppol2tp_release+0x34d/0x560
[   34.440475]  ? pppol2tp_sendmsg+0x670/0x670
[   34.444776]  ? fsnotify_first_mark+0x2b0/0x2b0
[   34.449339]  sock_release+0x8d/0x1e0
[   34.453028]  ? sock_alloc_file+0x560/0x560
[   34.457235]  sock_close+0x16/0x20
[   34.460664]  __fput+0x327/0x7e0
[   34.463923]  ? fput+0x140/0x140
[   34.467178]  ? _raw_spin_unlock_irq+0x27/0x70
[   34.471655]  ____fput+0x15/0x20
[   34.474912]  task_work_run+0x199/0x270
[   34.478774]  ? task_work_cancel+0x210/0x210
[   34.483083]  ? _raw_spin_unlock+0x22/0x30
[   34.487205]  ? switch_task_namespaces+0x87/0xc0
[   34.491856]  do_exit+0x9bb/0x1ad0
[   34.495289]  ? mm_update_next_owner+0x930/0x930
[   34.499935]  ? pppol2tp_connect+0x91a/0x1dd0
[   34.504328]  ? pppol2tp_recv_payload_hook+0x1b0/0x1b0
[   34.509499]  ? selinux_netlbl_socket_connect+0x76/0x1b0
[   34.514842]  ? selinux_socket_connect+0x311/0x730
[   34.519659]  ? lock_downgrade+0x980/0x980
[   34.523787]  ? selinux_socket_setsockopt+0x80/0x80
[   34.528689]  ? lock_release+0xa40/0xa40
[   34.532640]  ? trace_event_raw_event_sched_switch+0x800/0x800
"""

# x86 4.15, soft lockup escalated by softlockup_panic (syzkaller report 65).
SOFT_LOCKUP_4_15 = """\
[  247.938942] watchdog: BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]
[  247.946595] Modules linked in:
[  247.949764] irq event stamp: 494028
[  247.953370] hardirqs last  enabled at (494027): [<ffffffff8516b14a>] restore_regs_and_return_to_kernel+0x0/0x26
[  247.963568] hardirqs last disabled at (494028): [<ffffffff8516c088>] apic_timer_interrupt+0x98/0xb0
[  247.972723] softirqs last  enabled at (484570): [<ffffffff85171d23>] __do_softirq+0x733/0xbb2
[  247.981361] softirqs last disabled at (484563): [<ffffffff81426983>] irq_exit+0x1d3/0x210
[  247.990083] CPU: 0 PID: 1400 Comm: kworker/0:2 Not tainted 4.15.0-rc1+ #198
[  247.997151] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[  248.006484] Workqueue: events jump_label_update_timeout
[  248.011822] task: ffff8801d2abe540 task.stack: ffff8801d2ac0000
[  248.019334] RIP: 0010:smp_call_function_single+0x364/0x560
[  248.091506] Call Trace:
[  248.126547]  smp_call_function_many+0x773/0x930
[  248.174760]  on_each_cpu+0x3d/0x1b0
[  248.183088]  text_poke_bp+0xe4/0x170
[  248.205094]  __jump_label_transform.isra.0+0x6a5/0x8a0
[  248.226421]  arch_jump_label_transform+0x2f/0x40
[  248.231152]  __jump_label_update+0x207/0x2d0
[  248.249480]  jump_label_update+0x22c/0x2b0
[  248.253695]  static_key_slow_dec_cpuslocked+0x176/0x1d0
[  248.268594]  jump_label_update_timeout+0x1f/0x30
[  248.273326]  process_one_work+0xbfd/0x1be0
[  248.338580]  worker_thread+0x223/0x1990
[  248.429263]  kthread+0x37a/0x440
[  248.441018]  ret_from_fork+0x24/0x30
[  248.463942] Kernel panic - not syncing: softlockup: hung tasks
[  248.469888] CPU: 0 PID: 1400 Comm: kworker/0:2 Tainted: G             L   4.15.0-rc1+ #198
[  248.478256] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[  248.487585] Workqueue: events jump_label_update_timeout
[  248.492919] Call Trace:
[  248.495472]  <IRQ>
[  248.497597]  dump_stack+0x194/0x257
[  248.517432]  panic+0x1e4/0x41c
[  248.529731]  watchdog_timer_fn+0x314/0x320
[  248.533947]  __hrtimer_run_queues+0x349/0xe10
[  248.585978]  hrtimer_interrupt+0x1d4/0x5f0
[  248.590213]  smp_apic_timer_interrupt+0x14a/0x700
[  248.617409]  apic_timer_interrupt+0x9d/0xb0
[  248.621700]  </IRQ>
[  248.623909] RIP: 0010:smp_call_function_single+0x364/0x560
[  248.710884]  smp_call_function_many+0x773/0x930
[  248.759110]  on_each_cpu+0x3d/0x1b0
[  248.767443]  text_poke_bp+0xe4/0x170
[  248.789452]  __jump_label_transform.isra.0+0x6a5/0x8a0
[  248.810776]  arch_jump_label_transform+0x2f/0x40
[  248.815507]  __jump_label_update+0x207/0x2d0
[  248.833832]  jump_label_update+0x22c/0x2b0
[  248.838048]  static_key_slow_dec_cpuslocked+0x176/0x1d0
[  248.853695]  jump_label_update_timeout+0x1f/0x30
[  248.858424]  process_one_work+0xbfd/0x1be0
[  248.923671]  worker_thread+0x223/0x1990
[  249.014357]  kthread+0x37a/0x440
[  249.026113]  ret_from_fork+0x24/0x30
[  249.030488] Dumping ftrace buffer:
[  249.034111]    (ftrace buffer empty)
[  249.037809] Kernel Offset: disabled
[  249.041413] Rebooting in 86400 seconds..

"""

# arm64 5.9, soft lockup in the virtio_net transmit path (syzkaller report 535).
SOFT_LOCKUP_ARM64_5_9 = """\
[  637.311457][    C0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [ksoftirqd/0:9]
[  637.387608][    C0] Modules linked in:
[  637.445248][    C0] irq event stamp: 83253
[  637.461076][    C0] hardirqs last  enabled at (83252): [<ffffa0001768a558>] _raw_spin_unlock_irqrestore+0xd8/0x110
[  637.462474][    C0] hardirqs last disabled at (83253): [<ffffa00010004ac0>] el1_irq+0x80/0x180
[  637.463788][    C0] softirqs last  enabled at (79846): [<ffffa000100029f4>] _stext+0x9f4/0x1098
[  637.465040][    C0] softirqs last disabled at (79849): [<ffffa0001018d560>] irq_exit+0x470/0x540
[  637.466599][    C0] CPU: 0 PID: 9 Comm: ksoftirqd/0 Not tainted 5.9.0-12994-gf9893351acae #15
[  637.467605][    C0] Hardware name: linux,dummy-virt (DT)
[  637.469106][    C0] pstate: 10000005 (nzcV daif -PAN -UAO -TCO BTYPE=--)
[  637.470521][    C0] pc : _raw_spin_unlock_irqrestore+0x74/0x110
[  637.471589][    C0] lr : _raw_spin_unlock_irqrestore+0xd8/0x110
[  637.472533][    C0] sp : ffff00006a238e50
[  637.494411][    C0] Call trace:
[  637.495455][    C0]  _raw_spin_unlock_irqrestore+0x74/0x110
[  637.496383][    C0]  debug_check_no_obj_freed+0x234/0x438
[  637.497375][    C0]  slab_free_freelist_hook+0x174/0x1f8
[  637.498341][    C0]  kmem_cache_free+0xac/0x4f8
[  637.499331][    C0]  kfree_skbmem+0x1b8/0x1f8
[  637.500330][    C0]  consume_skb+0x13c/0x680
[  637.501265][    C0]  __dev_kfree_skb_any+0xb0/0xd0
[  637.502164][    C0]  napi_consume_skb+0x5f0/0x850
[  637.503150][    C0]  free_old_xmit_skbs+0xf8/0x258
[  637.504026][    C0]  start_xmit+0x138/0x1530
[  637.504857][    C0]  dev_hard_start_xmit+0x204/0xde0
[  637.505756][    C0]  sch_direct_xmit+0x278/0x488
[  637.506639][    C0]  __qdisc_run+0x44c/0x1da0
[  637.507482][    C0]  __dev_queue_xmit+0x2164/0x30d0
[  637.508333][    C0]  dev_queue_xmit+0x24/0x38
[  637.509259][    C0]  ip_finish_output2+0x1010/0x2578
[  637.510224][    C0]  __ip_finish_output+0x58c/0xb20
[  637.511121][    C0]  ip_finish_output+0x40/0x1f8
[  637.512009][    C0]  ip_output+0x3a0/0x858
[  637.512863][    C0]  ip_local_out+0xbc/0x1a8
[  637.513693][    C0]  __ip_queue_xmit+0x654/0x1698
[  637.514552][    C0]  ip_queue_xmit+0x5c/0x78
[  637.515395][    C0]  __tcp_transmit_skb+0x1614/0x3688
[  637.516280][    C0]  __tcp_send_ack.part.0+0x36c/0x678
[  637.517094][    C0]  tcp_send_ack+0x8c/0xb0
[  637.517957][    C0]  __tcp_ack_snd_check+0x13c/0x8d0
[  637.518847][    C0]  tcp_rcv_established+0x1ae4/0x21a0
[  637.519789][    C0]  tcp_v4_do_rcv+0x724/0xa78
[  637.520701][    C0]  tcp_v4_rcv+0x2a68/0x33a0
[  637.521607][    C0]  ip_protocol_deliver_rcu+0x6c/0x868
[  637.522484][    C0]  ip_local_deliver_finish+0x1e0/0x350
[  637.523374][    C0]  ip_local_deliver+0x370/0x4b8
[  637.524224][    C0]  ip_sublist_rcv_finish+0x12c/0x278
[  637.525057][    C0]  ip_sublist_rcv+0x48c/0x868
[  637.525948][    C0]  ip_list_rcv+0x2c4/0x418
[  637.526879][    C0]  __netif_receive_skb_list_core+0x450/0x740
[  637.527837][    C0]  netif_receive_skb_list_internal+0x558/0xb20
[  637.528779][    C0]  gro_normal_list.part.0+0x24/0xb0
[  637.529675][    C0]  net_rx_action+0xcbc/0x1268
[  637.530599][    C0]  _stext+0x29c/0x1098
[  637.531506][    C0]  irq_exit+0x470/0x540
"""

# arm64 5.9, hung task (syzkaller report 534).
HUNG_TASK_ARM64_5_9 = """\
[  610.334229][ T1478] INFO: task syz-fuzzer:4433 blocked for more than 143 seconds.
[  610.337281][ T1478]       Not tainted 5.9.0-12994-gf9893351acae #15
[  610.338689][ T1478] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[  610.361669][ T1478] task:syz-fuzzer      state:D stack:    0 pid: 4433 ppid:  4402 flags:0x00000001
[  610.364848][ T1478] Call trace:
[  610.366182][ T1478]  __switch_to+0x210/0x450
[  610.367628][ T1478]  __schedule+0x894/0x1eb8
[  610.368937][ T1478]  schedule+0xac/0x228
[  610.371513][ T1478]  rwsem_down_write_slowpath+0x604/0xc98
[  610.373033][ T1478]  down_write+0x134/0x1f0
[  610.374427][ T1478]  register_netdevice_notifier+0x38/0x238
[  610.375901][ T1478]  bcm_init+0x144/0x1b8
[  610.377193][ T1478]  can_create+0x244/0x498
[  610.378892][ T1478]  __sock_create+0x3ec/0x740
[  610.401364][ T1478]  __sys_socket+0xf0/0x208
[  610.403935][ T1478]  __arm64_sys_socket+0x70/0xa8
[  610.405432][ T1478]  el0_svc_common.constprop.0+0x158/0x530
[  610.406871][ T1478]  do_el0_svc+0x58/0x148
[  610.408121][ T1478]  el0_sync_handler+0x1f4/0x200
[  610.409317][ T1478]  el0_sync+0x174/0x180
[  610.412964][ T1478]
[  610.412964][ T1478] Showing all locks held in the system:
"""

# x86 4.14, KASAN use-after-free (syzkaller report 130).
KASAN_4_14 = """\
[   53.722692] ==================================================================
[   53.730124] BUG: KASAN: use-after-free in aead_recvmsg+0x1758/0x1bc0
[   53.736605] Read of size 4 at addr ffff8801c1afdb5c by task syz-executor5/3568
[   53.743949]
[   53.745574] CPU: 1 PID: 3568 Comm: syz-executor5 Not tainted 4.14.0-next-20171127+ #52
[   53.753624] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[   53.762966] Call Trace:
[   53.765717]  dump_stack+0x194/0x257
[   53.765733]  ? arch_local_irq_restore+0x53/0x53
[   53.765747]  ? show_regs_print_info+0x65/0x65
[   53.765765]  ? af_alg_make_sg+0x510/0x510
[   53.765775]  ? aead_recvmsg+0x1758/0x1bc0
[   53.765791]  print_address_description+0x73/0x250
[   53.765801]  ? aead_recvmsg+0x1758/0x1bc0
[   53.765813]  kasan_report+0x25b/0x340
[   53.765831]  __asan_report_load4_noabort+0x14/0x20
[   53.765839]  aead_recvmsg+0x1758/0x1bc0
[   53.765886]  ? aead_release+0x50/0x50
[   53.765906]  ? selinux_socket_recvmsg+0x36/0x40
[   53.765917]  ? security_socket_recvmsg+0x91/0xc0
[   53.765931]  ? aead_release+0x50/0x50
[   53.765942]  sock_recvmsg+0xc9/0x110
[   53.765950]  ? __sock_recv_wifi_status+0x210/0x210
[   53.765965]  ___sys_recvmsg+0x29b/0x630
[   53.765990]  ? ___sys_sendmsg+0x8a0/0x8a0
[   53.765999]  ? lock_downgrade+0x980/0x980
[   53.766055]  ? _raw_spin_unlock_irq+0x27/0x70
[   53.766069]  ? trace_hardirqs_on_caller+0x421/0x5c0
[   53.766080]  ? trace_hardirqs_on+0xd/0x10
[   53.766089]  ? _raw_spin_unlock_irq+0x27/0x70
[   53.766100]  ? task_work_run+0x1f4/0x270
[   53.766126]  ? __fdget+0x18/0x20
[   53.766146]  __sys_recvmsg+0xe2/0x210
[   53.766153]  ? __sys_recvmsg+0xe2/0x210
[   53.766166]  ? SyS_sendmmsg+0x60/0x60
[   53.766191]  ? SyS_futex+0x269/0x390
[   53.766225]  ? trace_hardirqs_on_caller+0x421/0x5c0
[   53.766246]  SyS_recvmsg+0x2d/0x50
[   53.766260]  entry_SYSCALL_64_fastpath+0x1f/0x96
[   53.766267] RIP: 0033:0x452879
"""

# x86 5.3, KCSAN data race (syzkaller report 427).
KCSAN_5_3 = """\
[   44.377931][    C4] ==================================================================
[   44.379001][    C4] BUG: KCSAN: data-race in find_next_bit / rcu_report_exp_cpu_mult
[   44.379966][    C4]
[   44.380268][    C4] read to 0xffffffff85a7f140 of 8 bytes by task 1082 on cpu 7:
[   44.381409][    C4]  find_next_bit+0x57/0xe0
[   44.381969][    C4]  sync_rcu_exp_select_node_cpus+0x28e/0x510
[   44.382748][    C4]  sync_rcu_exp_select_cpus+0x30c/0x590
[   44.383468][    C4]  wait_rcu_exp_gp+0x25/0x40
[   44.384066][    C4]  process_one_work+0x3d4/0x890
[   44.384704][    C4]  worker_thread+0xa0/0x800
[   44.385296][    C4]  kthread+0x1d4/0x200
[   44.385831][    C4]  ret_from_fork+0x1f/0x30
[   44.386391][    C4]
[   44.386691][    C4] write to 0xffffffff85a7f140 of 8 bytes by interrupt on cpu 4:
[   44.387656][    C4]  rcu_report_exp_cpu_mult+0x4f/0xa0
[   44.388333][    C4]  rcu_report_exp_rdp+0x6c/0x90
[   44.388954][    C4]  rcu_exp_handler+0xe5/0x190
[   44.389545][    C4]  flush_smp_call_function_queue+0x190/0x2a0
[   44.390327][    C4]  generic_smp_call_function_single_interrupt+0x1c/0x49
[   44.391267][    C4]  smp_call_function_single_interrupt+0x71/0x1c0
[   44.392120][    C4]  call_function_single_interrupt+0xf/0x20
[   44.392902][    C4]  __kcsan_check_watchpoint+0x2e/0x180
[   44.393638][    C4]  __tsan_write4+0x18/0x40
[   44.394244][    C4]  vsnprintf+0x23a/0xb40
[   44.394819][    C4]  seq_vprintf+0xaa/0xf0
[   44.395392][    C4]  seq_printf+0x6c/0x90
[   44.395951][    C4]  s_show+0x189/0x1b0
[   44.396484][    C4]
[   44.396800][    C4] Reported by Kernel Concurrency Sanitizer on:
[   44.397634][    C4] CPU: 4 PID: 6252 Comm: syz-fuzzer Not tainted 5.3.0+ #3
[   44.398597][    C4] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.12.0-1 04/01/2014
[   44.399836][    C4] ==================================================================

"""

# x86 5.16, KMSAN kernel-infoleak (syzkaller report 634).
KMSAN_5_16 = """\
[  600.161674][ T9046] =====================================================
[  600.168788][ T9046] BUG: KMSAN: kernel-infoleak in _copy_to_user+0x1c9/0x270
[  600.176027][ T9046]  _copy_to_user+0x1c9/0x270
[  600.180651][ T9046]  urandom_read_nowarn+0x57b/0xb10
[  600.185814][ T9046]  __x64_sys_getrandom+0x34a/0x460
[  600.191004][ T9046]  do_syscall_64+0x54/0xd0
[  600.195447][ T9046]  entry_SYSCALL_64_after_hwframe+0x44/0xae
[  600.201384][ T9046]
[  600.203707][ T9046] Uninit was stored to memory at:
[  600.208784][ T9046]  chacha_permute+0x12db/0x1400
[  600.213671][ T9046]  chacha_block_generic+0xe7/0xb20
[  600.218823][ T9046]  _extract_crng+0x34d/0x4e0
"""

# x86 5.4, UBSAN (syzkaller report 453).
UBSAN_5_4 = """\
[  180.184126][ T6213] ================================================================================
[  180.187725][ T6213] UBSAN: Undefined behaviour in drivers/misc/lkdtm/bugs.c:243:16
[  180.189145][ T6213] index 8 is out of range for type 'char [8]'
[  180.190251][ T6213] CPU: 1 PID: 6213 Comm: bash Tainted: G            E     5.4.0-next-20191128+ #3
[  180.191926][ T6213] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.12.0-1 04/01/2014
[  180.193608][ T6213] Call Trace:
[  180.194228][ T6213]  dump_stack+0x1b1/0x22a
[  180.195024][ T6213]  ubsan_epilogue+0xe/0x2b
[  180.195837][ T6213]  __ubsan_handle_out_of_bounds.cold.13+0x39/0x44
[  180.197018][ T6213]  lkdtm_ARRAY_BOUNDS.cold.2+0x3c1/0x52e [lkdtm]
[  180.199193][ T6213]  lkdtm_do_action+0x42/0x60 [lkdtm]
[  180.200163][ T6213]  direct_entry+0x15a/0x190 [lkdtm]
[  180.201131][ T6213]  full_proxy_write+0x11f/0x190
[  180.202010][ T6213]  __vfs_write+0x8a/0x110
[  180.203694][ T6213]  vfs_write+0x24b/0x5d0
[  180.204463][ T6213]  ksys_write+0x13a/0x270
[  180.209764][ T6213]  __x64_sys_write+0x73/0xb0
[  180.210596][ T6213]  do_syscall_64+0xfa/0x7d0
[  180.211432][ T6213]  entry_SYSCALL_64_after_hwframe+0x49/0xbe
[  180.212492][ T6213] RIP: 0033:0x7fdd4d945370
[  180.213292][ T6213] Code: 73 01 c3 48 8b 0d c8 4a 2b 00 31 d2 48 29 c2 64 89 11 48 83 c8 ff eb ea 90 90 83 3d 854
[  180.216804][ T6213] RSP: 002b:00007ffdf3bb6a38 EFLAGS: 00000246 ORIG_RAX: 0000000000000001
[  180.218314][ T6213] RAX: ffffffffffffffda RBX: 000000000000000d RCX: 00007fdd4d945370
[  180.219753][ T6213] RDX: 000000000000000d RSI: 0000000001bca808 RDI: 0000000000000001
[  180.221207][ T6213] RBP: 0000000001bca808 R08: 000000000000000a R09: 00007fdd4e244700
[  180.222634][ T6213] R10: 0000000000000000 R11: 0000000000000246 R12: 00007fdd4dbfa7a0
[  180.224065][ T6213] R13: 000000000000000d R14: 0000000000000001 R15: 0000000000000000
[  180.225797][ T6213] ================================================================================

"""

# x86 5.11, KFENCE (syzkaller report 591).
KFENCE_5_11 = """\
[    3.317089] ==================================================================
[    3.317855] BUG: KFENCE: out-of-bounds read in test_out_of_bounds_read+0xa6/0x234
[    3.317855]
[    3.318783] Out-of-bounds read at 0xffff8c2aae231fff (1B left of kfence-#24):
[    3.319521]  test_out_of_bounds_read+0xa6/0x234
[    3.320001]  kunit_try_run_case+0x51/0x90
[    3.320425]  kunit_generic_run_threadfn_adapter+0x16/0x30
[    3.320989]  kthread+0x166/0x1a0
[    3.321340]  ret_from_fork+0x22/0x30
[    3.321719]
[    3.321886] kfence-#24 [0xffff8c2aae232000-0xffff8c2aae23201f, size=32, cache=kmalloc-32] allocated by task 110:
[    3.322934]  test_alloc+0xf0/0x6ff
[    3.323294]  test_out_of_bounds_read+0x9b/0x234
[    3.323768]  kunit_try_run_case+0x51/0x90
[    3.324189]  kunit_generic_run_threadfn_adapter+0x16/0x30
[    3.324751]  kthread+0x166/0x1a0
[    3.325092]  ret_from_fork+0x22/0x30
[    3.325475]
[    3.325640] CPU: 3 PID: 110 Comm: kunit_try_catch Not tainted 5.11.0-rc2+ #1
[    3.326368] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.14.0-2 04/01/2014
[    3.327229] RIP: 0010:test_out_of_bounds_read+0xa6/0x234
"""

# kmemleak report (syzkaller report 53).
KMEMLEAK_4_15 = """\
2018/01/09 14:28:48 BUG: memory leak
unreferenced object 0xffff880133c63800 (size 1024):
  comm "exe", pid 1521, jiffies 4294894652
  backtrace:
    [<ffffffff810f8f36>] create_object+0x126/0x2b0
    [<ffffffff810f91d5>] kmemleak_alloc+0x25/0x60
    [<ffffffff810f32a3>] __kmalloc+0x113/0x200
    [<ffffffff811aa061>] ext4_mb_init+0x1b1/0x570
    [<ffffffff8119b3d2>] ext4_fill_super+0x1de2/0x26d0

"""

# x86 4.15, lockdep circular dependency (head) (syzkaller report 188).
LOCKDEP_CIRCULAR_4_15 = """\
[   82.159264] ======================================================
[   82.165575] WARNING: possible circular locking dependency detected
[   82.171877] 4.15.0+ #221 Not tainted
[   82.175574] ------------------------------------------------------
[   82.181875] syz-executor0/4217 is trying to acquire lock:
[   82.187393]  (rtnl_mutex){+.+.}, at: [<00000000ac220e5b>] rtnl_lock+0x17/0x20
[   82.194670]
[   82.194670] but task is already holding lock:
[   82.200628]  (&xt[i].mutex){+.+.}, at: [<000000008835a5fc>] xt_find_table_lock+0x3e/0x3e0
[   82.208949]
[   82.208949] which lock already depends on the new lock.
[   82.208949]
"""

# arm64 5.10, lockdep inconsistent lock state (syzkaller report 543).
LOCKDEP_INCONSISTENT_5_10 = """\
[    0.000000][    C0] ================================
[    0.000000][    C0] WARNING: inconsistent lock state
[    0.000000][    C0] 5.10.2 #24 Not tainted
[    0.000000][    C0] --------------------------------
[    0.000000][    C0] inconsistent {INITIAL USE} -> {IN-NMI} usage.
[    0.000000][    C0] swapper/0 [HC1[1]:SC0[0]:HE0:SE1] takes:
[    0.000000][    C0] ffffa00019b517b8 (logbuf_lock){....}-{2:2}, at: vprintk_emit+0xec/0x510
[    0.000000][    C0] {INITIAL USE} state was registered at:
[    0.000000][    C0]   __lock_acquire+0x5ac/0x58f0
[    0.000000][    C0]   lock_acquire.part.0+0x330/0x820
[    0.000000][    C0]   lock_acquire+0x94/0xc0
[    0.000000][    C0]   _raw_spin_lock+0x90/0x120
[    0.000000][    C0]   vprintk_emit+0xec/0x510
[    0.000000][    C0]   vprintk_default+0x48/0x60
[    0.000000][    C0]   vprintk_func+0x394/0x730
[    0.000000][    C0]   printk+0xbc/0xf4
[    0.000000][    C0]   smp_setup_processor_id+0x44/0x50
[    0.000000][    C0]   start_kernel+0x40/0x4f4
[    0.000000][    C0] irq event stamp: 0
[    0.000000][    C0] hardirqs last  enabled at (0): [<0000000000000000>] 0x0
[    0.000000][    C0] hardirqs last disabled at (0): [<0000000000000000>] 0x0
[    0.000000][    C0] softirqs last  enabled at (0): [<0000000000000000>] 0x0
[    0.000000][    C0] softirqs last disabled at (0): [<0000000000000000>] 0x0
[    0.000000][    C0]
[    0.000000][    C0] other info that might help us debug this:
[    0.000000][    C0]  Possible unsafe locking scenario:
[    0.000000][    C0]
[    0.000000][    C0]        CPU0
[    0.000000][    C0]        ----
[    0.000000][    C0]   lock(logbuf_lock);
[    0.000000][    C0]   <Interrupt>
[    0.000000][    C0]     lock(logbuf_lock);
[    0.000000][    C0]
[    0.000000][    C0]  *** DEADLOCK ***
[    0.000000][    C0]
[    0.000000][    C0] no locks held by swapper/0.
[    0.000000][    C0]
[    0.000000][    C0] stack backtrace:
[    0.000000][    C0] CPU: 0 PID: 0 Comm: swapper Not tainted 5.10.2 #24
[    0.000000][    C0] Hardware name: linux,dummy-virt (DT)
[    0.000000][    C0] Call trace:
[    0.000000][    C0]  dump_backtrace+0x0/0x4f4
[    0.000000][    C0]  show_stack+0x30/0x80
[    0.000000][    C0]  dump_stack+0x1f0/0x294
[    0.000000][    C0]  print_usage_bug.part.0+0x52c/0x550
[    0.000000][    C0]  lock_acquire.part.0+0x610/0x820
[    0.000000][    C0]  lock_acquire+0x94/0xc0
[    0.000000][    C0]  _raw_spin_lock+0x90/0x120
[    0.000000][    C0]  vprintk_emit+0xec/0x510
[    0.000000][    C0]  vprintk_deferred+0x48/0x6c
[    0.000000][    C0]  printk_deferred+0xbc/0xf4
[    0.000000][    C0]  __printk_safe_flush+0x4ac/0x4e0
[    0.000000][    C0]  printk_safe_flush+0xb4/0x1f0
[    0.000000][    C0]  printk_safe_flush_on_panic+0x104/0x130
[    0.000000][    C0]  panic+0x4a4/0x8b8
[    0.000000][    C0]  bad_mode+0x14c/0x1b4
[    0.000000][    C0]  el1_inv+0x3c/0x5c
[    0.000000][    C0]  el1_sync_handler+0x80/0x170
[    0.000000][    C0]  el1_sync+0x80/0x100
[    0.000000][    C0]  update_cpu_capabilities+0x0/0x3c0
[    0.000000][    C0]  cpuinfo_store_boot_cpu+0xc4/0xd4
[    0.000000][    C0]  smp_prepare_boot_cpu+0x98/0xac
"""

# x86 4.20, sysrq-c with printk caller ids (syzkaller report 337).
SYSRQ_PANIC_4_20 = """\
[ 3416.916116][ T5831] Kernel panic - not syncing: sysrq triggered crash
[ 3416.917520][ T5831] CPU: 0 PID: 5831 Comm: bash Not tainted 4.20.0-next-20190102 #3
[ 3416.919096][ T5831] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.10.2-1 04/01/2014
[ 3416.920905][ T5831] Call Trace:
[ 3416.921462][ T5831]  dump_stack+0x1db/0x2d0
[ 3416.923475][ T5831]  panic+0x2cb/0x65c
[ 3416.927213][ T5831]  sysrq_handle_crash+0x1f/0x20
[ 3416.928148][ T5831]  __handle_sysrq.cold+0x153/0x3c9
[ 3416.929105][ T5831]  write_sysrq_trigger+0x7c/0x90
[ 3416.930987][ T5831]  proc_reg_write+0x29a/0x3c0
[ 3416.933032][ T5831]  __vfs_write+0x116/0xb40
[ 3416.942259][ T5831]  vfs_write+0x20c/0x580
[ 3416.943099][ T5831]  ksys_write+0x105/0x260
[ 3416.948118][ T5831]  __x64_sys_write+0x73/0xb0
[ 3416.948903][ T5831]  do_syscall_64+0x1a3/0x800
[ 3416.952970][ T5831]  entry_SYSCALL_64_after_hwframe+0x49/0xbe
[ 3416.954061][ T5831] RIP: 0033:0x7fad92c3c370
[ 3416.967400][ T5831] Kernel Offset: disabled
[ 3416.968221][ T5831] Rebooting in 86400 seconds..

"""

# arm64 4.20, corrupted stack end (syzkaller report 316).
STACK_CORRUPTED_PANIC_4_20 = """\
[ 2231.649459] Kernel panic - not syncing: corrupted stack end detected inside scheduler
[ 2231.657307] CPU: 185 PID: 11718 Comm: dbus-daemon Kdump: loaded Tainted: G        W         4.20.0-rc2+ #4
[ 2231.676788] Call trace:
[ 2231.679273]  dump_backtrace+0x0/0x2c8
[ 2231.682950]  show_stack+0x24/0x30
[ 2231.686273]  dump_stack+0x118/0x19c
[ 2231.689765]  panic+0x1b8/0x31c
[ 2231.692822]  schedule+0x0/0x240
[ 2231.695963]  preempt_schedule_common+0x3c/0x78
[ 2231.700406]  _cond_resched+0xfc/0x108
[ 2231.704077]  kmem_cache_alloc+0x2e0/0x3f8
[ 2231.708102]  selinux_inode_alloc_security+0xc4/0x1b0
[ 2231.713080]  security_inode_alloc+0x44/0x70
[ 2231.717267]  inode_init_always+0x270/0x4b8
[ 2231.721364]  alloc_inode+0x50/0xd0
[ 2231.724768]  new_inode_pseudo+0x84/0x120
[ 2231.728691]  sock_alloc+0x30/0x108
[ 2231.732093]  __sock_create+0x154/0x560
[ 2231.735843]  __sys_socket+0xc8/0x178
[ 2231.739429]  __arm64_sys_socket+0x4c/0x60
[ 2231.743460]  el0_svc_handler+0xd4/0x198
[ 2231.747295]  el0_svc+0x8/0xc

"""

# x86 4.17, RCU stall in a FUSE release path (syzkaller report 271).
RCU_STALL_FUSE_4_17 = """\
[  629.392020] INFO: rcu_sched detected stalls on CPUs/tasks:
[  629.397716] 	(detected by 0, t=105007 jiffies, g=118924, c=118923, q=65)
[  629.404568] All QSes seen, last rcu_sched kthread activity 105014 (4295296700-4295191686), jiffies_till_next_fqs=3, root ->qsmask 0x0
[  629.416688] syz-executor7   R  running task    23352 14084   4424 0x00000008
[  629.423888] Call Trace:
[  629.426460]  <IRQ>
[  629.428611]  sched_show_task.cold.84+0x27a/0x301
[  629.459938]  print_other_cpu_stall.cold.77+0x92f/0x9d2
[  629.498729]  check_cpu_stall.isra.60+0x721/0xf70
[  629.570316]  rcu_check_callbacks+0x23f/0xcd0
[  629.647174]  update_process_times+0x2d/0x70
[  629.651489]  tick_sched_handle+0x9f/0x180
[  629.655627]  tick_sched_timer+0x45/0x130
[  629.659679]  __hrtimer_run_queues+0x3eb/0x10c0
[  629.708023]  hrtimer_interrupt+0x2f3/0x750
[  629.712277]  smp_apic_timer_interrupt+0x165/0x730
[  629.739746]  apic_timer_interrupt+0xf/0x20
[  629.743963]  </IRQ>
[  629.746192] RIP: 0010:check_memory_region+0x121/0x1b0
[  629.820455]  kasan_check_read+0x11/0x20
[  629.824417]  native_queued_spin_lock_slowpath+0x189/0x1200
[  629.924285]  do_raw_spin_lock+0x1a7/0x200
[  629.928436]  _raw_spin_lock+0x32/0x40
[  629.936113]  request_end+0x400/0xb20
[  629.948990]  end_requests+0x296/0x460
[  629.983347]  fuse_dev_release+0x18c/0x2e0
[  630.004675]  __fput+0x355/0x8b0
[  630.015712]  ____fput+0x15/0x20
[  630.018984]  task_work_run+0x1ec/0x2a0
[  630.031840]  exit_to_usermode_loop+0x313/0x370
[  630.044964]  do_syscall_64+0x6be/0x820
[  630.073391]  entry_SYSCALL_64_after_hwframe+0x49/0xbe
[  630.078571] RIP: 0033:0x456b29
[  630.145073] rcu_sched kthread starved for 105755 jiffies! g118924 c118923 f0x2 RCU_GP_WAIT_FQS(3) ->state=0x0 ->cpu=1
[  630.155808] RCU grace-period kthread stack dump:
[  630.160554] rcu_sched       R  running task    23688    10      2 0x80000000
[  630.167746] Call Trace:
[  630.170332]  __schedule+0x87c/0x1ec0
[  630.195223]  schedule+0xfb/0x450
[  630.229166]  schedule_timeout+0x140/0x260
[  630.242118]  rcu_gp_kthread+0x717/0x1c90
[  630.389446]  kthread+0x345/0x410
[  630.401684]  ret_from_fork+0x3a/0x50

"""

# x86 5.15 oops as printed, including the second register dump after the end marker and the panic
# (kernel-log-formats.md §8).
OOPS_5_15 = """\
BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
Oops: 0000 [#1] SMP PTI
CPU: 2 PID: 4321 Comm: bash Tainted: G           OE     5.15.0-91-generic #101-Ubuntu
Hardware name: Dell Inc. PowerEdge R640/0W23H8, BIOS 2.17.1 11/15/2022
RIP: 0010:foo_write+0x24/0x90 [foo]
Code: 0f 1f 44 00 00 55 48 89 e5 ... <48> 8b 47 08 ...
RSP: 0018:ffffb1c0c1d3fd40 EFLAGS: 00010246
Call Trace:
 <TASK>
 ? __x64_sys_write+0x19/0x20
 vfs_write+0xb9/0x260
 ksys_write+0x67/0xf0
 do_syscall_64+0x59/0xc0
 entry_SYSCALL_64_after_hwframe+0x61/0xcb
 </TASK>
Modules linked in: foo(OE) xfs libcrc32c nvme ixgbe
---[ end trace 5c2f3b8b1a9d0e11 ]---
RIP: 0010:foo_write+0x24/0x90 [foo]
Kernel panic - not syncing: Fatal exception
---[ end Kernel panic - not syncing: Fatal exception ]---
"""

# The same event on 3.10 / RHEL 7, from the lines kernel-log-formats.md §8/§9 quote for that era ("IP:"
# line, module list before the registers, "[<address>] func" frames, the closing "RIP  [<…>]" line).
OOPS_3_10 = """\
BUG: unable to handle kernel NULL pointer dereference at 0000000000000008
IP: [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]
Oops: 0000 [#1] SMP 
Modules linked in: foo(OE) xfs libcrc32c nvme ixgbe
CPU: 2 PID: 4321 Comm: bash Tainted: G           OE  ------------   3.10.0-1160.el7.x86_64 #1
RIP: 0010:[<ffffffffa03c1234>]  [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]
Call Trace:
 [<ffffffff811e1d2c>] vfs_write+0xbc/0x1e0
RIP  [<ffffffffa03c1234>] foo_write+0x24/0x90 [foo]
---[ end trace 5c2f3b8b1a9d0e11 ]---
Kernel panic - not syncing: Fatal exception
"""

# x86 4.20, two hung tasks waiting for I/O (syzkaller report 349).
HUNG_TASK_JBD2_4_20 = """\
[ 1431.920513][ T1054] INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds.
[ 1431.921721][ T1054]       Not tainted 4.20.0-next-20190102+ #5
[ 1431.922712][ T1054] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[ 1431.924004][ T1054] jbd2/sda-8      D22600  3563      2 0x80000000
[ 1431.924959][ T1054] Call Trace:
[ 1431.925466][ T1054]  __schedule+0x897/0x1e60
[ 1431.932653][ T1054]  schedule+0xfe/0x350
[ 1431.936851][ T1054]  io_schedule+0x1c/0x70
[ 1431.937444][ T1054]  bit_wait_io+0x17/0x90
[ 1431.938033][ T1054]  __wait_on_bit+0xb3/0x130
[ 1431.939357][ T1054]  out_of_line_wait_on_bit+0x1f4/0x3b0
[ 1431.942911][ T1054]  __wait_on_buffer+0x6f/0x90
[ 1431.943574][ T1054]  jbd2_journal_commit_transaction+0x658a/0x8ee4
[ 1431.973827][ T1054]  kjournald2+0x20f/0xb90
[ 1431.981833][ T1054]  kthread+0x357/0x430
[ 1431.983851][ T1054]  ret_from_fork+0x3a/0x50
[ 1431.984508][ T1054] INFO: task kworker/u12:5:1980 blocked for more than 140 seconds.
[ 1431.985609][ T1054]       Not tainted 4.20.0-next-20190102+ #5
[ 1431.986435][ T1054] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[ 1431.987627][ T1054] kworker/u12:5   D21864  1980      2 0x80000000
[ 1431.988513][ T1054] Workqueue: writeback wb_workfn (flush-8:0)
[ 1431.989343][ T1054] Call Trace:
[ 1431.989806][ T1054]  __schedule+0x897/0x1e60
[ 1431.996445][ T1054]  schedule+0xfe/0x350
[ 1431.999467][ T1054]  io_schedule+0x1c/0x70
[ 1432.000049][ T1054]  rq_qos_wait+0x2f2/0x600
[ 1432.004727][ T1054]  wbt_wait+0x266/0x430
"""

# x86 4.4, KASAN-build general protection fault with 3.10/4.4-style frames (syzkaller report 196).
GPF_4_4 = """\
[   27.258999] ==================================================================
[   27.260623] kasan: CONFIG_KASAN_INLINE enabled
[   27.260630] kasan: GPF could be caused by NULL-ptr deref or user memory access
[   27.260634] general protection fault: 0000 [#1] PREEMPT SMP KASAN
[   27.260638] Dumping ftrace buffer:
[   27.260641]    (ftrace buffer empty)
[   27.260644] Modules linked in:
[   27.260651] CPU: 1 PID: 3377 Comm: syzkaller685434 Not tainted 4.4.107-g610c835 #4
[   27.260654] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[   27.260658] task: ffff8800b823c740 task.stack: ffff8801d94c8000
[   27.260671] RIP: 0010:[<ffffffff8123487f>]  [<ffffffff8123487f>] __lock_acquire+0x61f/0x4b50
[   27.260718] Stack:
[   27.260725]  ffff8801d0ee0818 ffff8800b4b59d90 ffff8801d94cfa00 ffffffff8149e232
[   27.260733]  ffff8801d94cf8b0 ffffffff00000000 ffff8800b823c740 ffff8800b823cfb0
[   27.260739]  0000000000000288 ffff8800b823c740 0000000000000002 0000000000000002
[   27.260741] Call Trace:
[   27.260751]  [<ffffffff8149e232>] ? handle_mm_fault+0x3f2/0x3190
[   27.260758]  [<ffffffff81234260>] ? debug_check_no_locks_freed+0x2c0/0x2c0
[   27.260764]  [<ffffffff8148979e>] ? vmacache_update+0xfe/0x130
[   27.260772]  [<ffffffff810db470>] ? __do_page_fault+0x380/0xa00
[   27.260778]  [<ffffffff8123a61e>] lock_acquire+0x15e/0x460
[   27.260787]  [<ffffffff825b8a89>] ? sg_remove_request+0x69/0x110
[   27.260794]  [<ffffffff83773a1e>] _raw_write_lock_irqsave+0x4e/0x70
[   27.260800]  [<ffffffff825b8a89>] ? sg_remove_request+0x69/0x110
[   27.260806]  [<ffffffff825b8a89>] sg_remove_request+0x69/0x110
[   27.260813]  [<ffffffff825b9095>] sg_finish_rem_req+0x295/0x340
[   27.260819]  [<ffffffff825baed1>] sg_read+0xa21/0x1490
"""


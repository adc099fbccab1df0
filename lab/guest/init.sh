#!/bin/busybox sh
# /init of the kerncheck QEMU lab: provoke the incident named by qcase=<case> on the kernel command line,
# then power off (or let the kernel panic, which ends QEMU through panic=-1 and -no-reboot).
# Markers go to /dev/kmsg, so they are timestamped in the console log and in the vmcore's dmesg.
# The readiness state is printed as "QSTATE <path>: <line>" lines, closed by "QSTATE-END <path> <count>",
# which the harness turns into a snapshot directory.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

CASE=boot
for word in $(cat /proc/cmdline); do
    case "$word" in qcase=*) CASE=${word#qcase=} ;; esac
done

log() { echo "<5>QLAB: $*" > /dev/kmsg; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# trigger MODE [module parameters]: the write runs in a child shell, so an oops kills the child, not init.
trigger() {
    mode=$1; shift
    insmod /lib/crashtest.ko "$@" || log "insmod crashtest.ko failed"
    sh -c "echo $mode > /sys/kernel/debug/crashtest/DIRECT"
    log "trigger $mode returned exit=$?"
}

trigger_bg() {
    mode=$1; shift
    insmod /lib/crashtest.ko "$@" || log "insmod crashtest.ko failed"
    sh -c "echo $mode > /sys/kernel/debug/crashtest/DIRECT" &
}

qstate_file() {
    if [ ! -e "$1" ]; then echo "QSTATE-ABSENT $1"; return; fi
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        echo "QSTATE $1: $line"
        n=$((n + 1))
    done < "$1"
    echo "QSTATE-END $1 $n"
}

qstate_command() {
    name=$1; shift
    n=0
    "$@" > /tmp/qcmd.out 2>/dev/null
    rc=$?
    while IFS= read -r line || [ -n "$line" ]; do
        echo "QCMD $name: $line"
        n=$((n + 1))
    done < /tmp/qcmd.out
    echo "QCMD-END $name $n $rc"
}

# The readiness state an audit reads, as QSTATE lines (console loglevel lowered so printk cannot
# interleave with them).
print_state() {
    mkdir -p /sys/fs/pstore && mount -t pstore pstore /sys/fs/pstore 2>/dev/null
    dmesg -n 1
    echo "QSTATE-BEGIN"
    for f in /proc/cmdline /proc/version /proc/meminfo /proc/iomem \
             /sys/kernel/kexec_loaded /sys/kernel/kexec_crash_loaded /sys/kernel/kexec_crash_size \
             /sys/kernel/kexec/crash_loaded /sys/kernel/kexec/crash_size /sys/kernel/vmcoreinfo \
             /proc/sys/kernel/osrelease /proc/sys/kernel/hostname /proc/sys/kernel/tainted \
             /proc/sys/kernel/sysrq /proc/sys/kernel/panic /proc/sys/kernel/panic_on_oops \
             /proc/sys/kernel/panic_on_warn /proc/sys/kernel/softlockup_panic \
             /proc/sys/kernel/hung_task_panic /proc/sys/kernel/hung_task_timeout_secs \
             /proc/sys/vm/panic_on_oom; do
        qstate_file "$f"
    done
    echo "QSTATE-DIR /sys/fs/pstore $(ls /sys/fs/pstore | wc -l)"
    qstate_command dmesg dmesg
    echo "QSTATE-DONE"
    dmesg -n 7
}

# load_capture_kernel: kexec -p the capture kernel when a crashkernel region is reserved.
load_capture_kernel() {
    size=$(cat /sys/kernel/kexec_crash_size)
    log "kexec_crash_size=$size iomem: $(grep -i 'crash kernel' /proc/iomem)"
    if [ "$size" = 0 ]; then
        log "no crashkernel reservation; capture kernel not loaded"
        return
    fi
    kexec -p /boot/vmlinuz --initrd=/boot/capture.gz \
        --append="console=ttyS0,115200 irqpoll nr_cpus=1 reset_devices panic=-1 printk.time=1 qcase=capture"
    log "kexec -p exit=$? kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
}

# capture (in the crash kernel): save vmcore-dmesg and a flattened makedumpfile dump to /dev/vda:
# offset 0 "QLABDUMP <dmesg bytes> <dump bytes> <makedumpfile exit>", 1 MiB the text, 8 MiB the dump.
capture() {
    log "capture kernel up; vmcore: $(ls -l /proc/vmcore)"
    for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
        insmod "/lib/modules/$m.ko" || log "insmod $m failed"
    done
    i=0
    while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    vmcore-dmesg /proc/vmcore > /tmp/vmcore-dmesg.txt
    log "vmcore-dmesg exit=$? lines=$(wc -l < /tmp/vmcore-dmesg.txt)"
    makedumpfile -l -d 31 -F /proc/vmcore > /tmp/dump.flat 2> /tmp/makedumpfile.err
    rc=$?
    log "makedumpfile exit=$rc bytes=$(wc -c < /tmp/dump.flat)"
    echo "QLABDUMP $(wc -c < /tmp/vmcore-dmesg.txt) $(wc -c < /tmp/dump.flat) $rc" \
        | dd of=/dev/vda conv=notrunc 2>/dev/null
    dd if=/tmp/vmcore-dmesg.txt of=/dev/vda bs=1M seek=1 conv=notrunc 2>/dev/null
    dd if=/tmp/dump.flat of=/dev/vda bs=1M seek=8 conv=notrunc 2>/dev/null
    sync
    log "wrote dump to /dev/vda"
}

log "init up at $(uptime_s)s, case=$CASE"

case "$CASE" in
    boot) ;;
    panic) trigger PANIC ;;
    bug) trigger BUG ;;
    warning) trigger WARNING ;;
    oops) trigger EXCEPTION ;;
    gpf) trigger GPF ;;
    atomic_sleep) trigger ATOMIC_SLEEP ;;
    soft_lockup)
        sysctl -w kernel.softlockup_panic=0 kernel.watchdog_thresh=3 > /dev/null
        trigger SOFTLOCKUP spin_secs=14 ;;
    rcu_stall)
        sysctl -w kernel.softlockup_panic=0 > /dev/null
        trigger RCU_STALL spin_secs=7 ;;
    hard_lockup)
        sysctl -w kernel.hardlockup_panic=0 kernel.watchdog_thresh=3 kernel.nmi_watchdog=1 > /dev/null
        trigger HARDLOCKUP spin_secs=12 ;;
    hung_task)
        sysctl -w kernel.hung_task_timeout_secs=4 kernel.hung_task_check_interval_secs=1 \
            kernel.hung_task_panic=0 kernel.hung_task_warnings=1 > /dev/null
        trigger_bg HUNG_TASK block_secs=30
        sleep 8 ;;
    oom)
        sysctl -w vm.panic_on_oom=0 vm.overcommit_memory=0 > /dev/null
        tail /dev/zero
        log "tail exit=$?" ;;
    memcg_oom)
        mount -t cgroup2 cgroup2 /sys/fs/cgroup
        echo +memory > /sys/fs/cgroup/cgroup.subtree_control
        mkdir /sys/fs/cgroup/box
        echo 32M > /sys/fs/cgroup/box/memory.max
        echo 0 > /sys/fs/cgroup/box/memory.swap.max 2>/dev/null
        sh -c 'echo $$ > /sys/fs/cgroup/box/cgroup.procs; exec tail /dev/zero'
        log "tail exit=$?" ;;
    sysrq_c) echo c > /proc/sysrq-trigger ;;
    sysrq_t) echo t > /proc/sysrq-trigger ;;
    sysrq_w)
        trigger_bg HUNG_TASK block_secs=30
        sleep 2
        echo w > /proc/sysrq-trigger ;;
    init_exit)
        log "init exits with status 3"
        exit 3 ;;
    kdump_state)
        load_capture_kernel
        print_state ;;
    kdump)
        load_capture_kernel
        print_state
        log "crashing with sysrq c"
        echo c > /proc/sysrq-trigger ;;
    capture) capture ;;
    *) log "unknown case $CASE" ;;
esac

sleep 0.2
log "case $CASE done at $(uptime_s)s; powering off"
poweroff -f

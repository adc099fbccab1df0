// SPDX-License-Identifier: GPL-2.0
/*
 * crashtest: provoke one kernel incident on demand. For the kerncheck QEMU lab only: never load it on a
 * machine you care about.
 *
 * Writing a mode name to /sys/kernel/debug/crashtest/DIRECT logs "crashtest: performing <MODE>" and runs
 * the matching function below. Each mode has its own noinline function, so the culprit frame of every
 * report names what was provoked (crashtest_soft_lockup, not delay_tsc). spin_secs bounds the lockup and
 * stall modes, block_secs the uninterruptible sleep.
 */
#define pr_fmt(fmt) "crashtest: " fmt

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/irqflags.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static unsigned int spin_secs = 20;
module_param(spin_secs, uint, 0444);
MODULE_PARM_DESC(spin_secs, "seconds the lockup and stall modes spin");

static unsigned int block_secs = 60;
module_param(block_secs, uint, 0444);
MODULE_PARM_DESC(block_secs, "seconds HUNG_TASK sleeps uninterruptibly");

static struct dentry *crashtest_dir;

static noinline void crashtest_panic(void)
{
	panic("crashtest: PANIC requested");
}

static noinline void crashtest_bug(void)
{
	BUG();
}

static noinline void crashtest_warning(void)
{
	WARN(1, "crashtest: WARNING requested\n");
}

static noinline void crashtest_null_deref(void)
{
	*(volatile int *)NULL = 0;
}

static noinline void crashtest_gpf(void)
{
	*(volatile int *)0xdead000000000000UL = 0;
}

/*
 * Busy-wait spin_secs of guest time, as the kernel's own watchdogs measure it (jiffies), not TSC time: on
 * a loaded host an emulated guest's clock runs slow, and a TSC-timed spin would end before the detector
 * saw it. The iteration cap keeps the spin bounded should jiffies stop (interrupts off on the timekeeper).
 * Inlined, so the culprit frame stays the mode's own function.
 */
static __always_inline void spin_for(unsigned int secs)
{
	unsigned long deadline = jiffies + secs * HZ;
	unsigned long ms;

	for (ms = 0; ms < secs * 4000UL && time_before(jiffies, deadline); ms++)
		mdelay(1);
}

static noinline void crashtest_soft_lockup(void)
{
	pr_info("soft lockup: spinning %u s with preemption disabled\n", spin_secs);
	preempt_disable();
	spin_for(spin_secs);
	preempt_enable();
}

static noinline void crashtest_rcu_stall(void)
{
	pr_info("rcu stall: spinning %u s with preemption disabled, holding up RCU\n", spin_secs);
	preempt_disable();
	spin_for(spin_secs);
	preempt_enable();
}

static noinline void crashtest_hard_lockup(void)
{
	pr_info("hard lockup: spinning %u s with interrupts disabled\n", spin_secs);
	local_irq_disable();
	spin_for(spin_secs);
	local_irq_enable();
}

static noinline void crashtest_hung_task(void)
{
	unsigned long deadline = jiffies + block_secs * HZ;

	while (time_before(jiffies, deadline)) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_timeout(deadline - jiffies);
	}
}

static noinline void crashtest_atomic_sleep(void)
{
	preempt_disable();
	set_current_state(TASK_UNINTERRUPTIBLE);
	schedule_timeout(1);
	preempt_enable();
}

static const struct {
	const char *name;
	void (*fn)(void);
} modes[] = {
	{ "PANIC", crashtest_panic },
	{ "BUG", crashtest_bug },
	{ "WARNING", crashtest_warning },
	{ "EXCEPTION", crashtest_null_deref },
	{ "GPF", crashtest_gpf },
	{ "SOFTLOCKUP", crashtest_soft_lockup },
	{ "RCU_STALL", crashtest_rcu_stall },
	{ "HARDLOCKUP", crashtest_hard_lockup },
	{ "HUNG_TASK", crashtest_hung_task },
	{ "ATOMIC_SLEEP", crashtest_atomic_sleep },
};

static ssize_t direct_write(struct file *file, const char __user *ubuf, size_t count, loff_t *pos)
{
	char buf[32];
	size_t len = min(count, sizeof(buf) - 1);
	char *name;
	size_t i;

	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	name = strim(buf);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (strcmp(name, modes[i].name) == 0) {
			pr_info("performing %s\n", name);
			modes[i].fn();
			return count;
		}
	}
	return -EINVAL;
}

static const struct file_operations direct_fops = {
	.owner = THIS_MODULE,
	.write = direct_write,
	.llseek = no_llseek,
};

static int __init crashtest_init(void)
{
	crashtest_dir = debugfs_create_dir("crashtest", NULL);
	debugfs_create_file("DIRECT", 0200, crashtest_dir, NULL, &direct_fops);
	return 0;
}

static void __exit crashtest_exit(void)
{
	debugfs_remove_recursive(crashtest_dir);
}

module_init(crashtest_init);
module_exit(crashtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Provoke kernel incidents on demand (kerncheck QEMU lab)");

"""KC401 OOM-kill history with verdicts, KC402 Java heaps and cgroup limits against the memory they get."""

from __future__ import annotations

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.logs.boots import host_incidents, journal_argv
from kerncheck.oom.investigate import cgroup_fills, jvm_fits, live_state, oom_groups
from kerncheck.oom.jvmheap import ENV_COMMAND, is_java
from kerncheck.processes import processes
from kerncheck.registry import check, collects, collects_from

_CGROUP_DEPTHS = ["", "*/", "*/*/", "*/*/*/", "*/*/*/*/", "*/*/*/*/*/"]
collects(
    "/proc/meminfo", "/proc/[0-9]*/status", "/proc/[0-9]*/cgroup",
    *[f"/sys/fs/cgroup/memory/{d}memory.{f}" for d in _CGROUP_DEPTHS for f in ("limit_in_bytes", "usage_in_bytes")],
    *[f"/sys/fs/cgroup/{d}memory.{f}" for d in _CGROUP_DEPTHS for f in ("max", "current")],
    "/sys/fs/cgroup/cgroup.controllers",
    commands=[journal_argv(1), list(ENV_COMMAND)],
)


@collects_from("files")
def _java_command_lines(ctx: Context) -> list[str]:
    """Only Java processes' command lines: others may carry passwords and are not needed."""
    return [f"/proc/{proc.pid}/cmdline" for proc in processes(ctx.host) if is_java(proc)]


@check(id="KC401", title="OOM kills: recurring victims, leaks, limits", severity=Severity.WARNING)
def oom_history(ctx: Context) -> list[Result]:
    """Group the OOM kills in the kernel log by victim and cgroup, and say why they happen.

    What it checks:
        Every oom_kill incident of this boot and, where journald keeps them, of the three previous boots:
        victims grouped by process name and memory cgroup, how often and how far apart they were killed,
        their RSS at each kill, global vs memcg OOM, the memcg limit, the largest tasks. Verdicts:
        recurring victim (killed 2+ times), leak suspected (RSS at the kill grows from kill to kill),
        limit too low (memcg kills at a limit under half the host's RAM, without growth), host undersized
        (global OOM, no task holds half of the memory), dominant task (global OOM, one task holds most).
        Recurring victims, leaks and undersized hosts are critical; a single kill is a warning.
    Why it matters:
        Restarting an OOM-killed service (or a cron job that does it) hides the cause: a leak fills any
        limit you give it, a limit below the working set kills the service again under the same load,
        and a host without headroom kills whatever the heuristics pick next.
    Fix:
        Investigate before restarting: `kerncheck oom --live --watch-seconds 300` shows the kill history,
        the live RSS trend of the victims and the Java heaps against their limits. For a leak, profile the
        process; for a low limit, set it to the measured peak plus ~25 %; for an undersized host, add RAM
        or move workloads and give every service a memory limit.
    References:
        mm/oom_kill.c and Documentation/admin-guide/cgroup-v2.rst (memory.max, memory.events oom_kill);
        Documentation/admin-guide/cgroup-v1/memory.rst (memory.limit_in_bytes, memory.max_usage_in_bytes).
    """
    logs = host_incidents(ctx)
    groups = oom_groups(ctx, logs)
    if logs.error and not logs.sources:
        return [skipped(logs.error)]
    evidence: dict[str, object] = {"sources": logs.sources}
    if logs.notes:
        evidence["notes"] = logs.notes
    if not groups:
        return [passed(f"no OOM kills in {len(logs.sources)} kernel log source(s)", evidence)]
    results = []
    for group in groups:
        ev = dict(evidence)
        ev["kills"] = [f"{k.when or '?'} pid {k.pid} RSS {k.rss_kb} kB, {k.constraint or '?'}"
                       + (f", limit {k.limit_kb} kB" if k.limit_kb else "") for k in group.kills]
        largest = group.kills[-1].largest_tasks
        if largest:
            ev["largest tasks at the last kill"] = [f"{t.get('comm')} (pid {t.get('pid')}) {t.get('rss_kb')} kB"
                                                    for t in sorted(largest, key=lambda t: -(t.get("rss_kb") or 0))[:5]]
        verdicts = "; ".join(f"{v.name.replace('_', ' ')}: {v.reason}" for v in group.verdicts)
        message = f"{group.subject}: {group.summary()}" + (f". {verdicts}" if verdicts else "")
        results.append(failed(message, ev, severity=Severity(group.severity), fix=group.next_step(),
                              subject=group.subject))
    return results


@check(id="KC402", title="Java heap and cgroup limits leave headroom", severity=Severity.WARNING)
def memory_headroom(ctx: Context) -> list[Result]:
    """Compare every JVM's maximum heap (plus its overhead) with the memory it may use.

    What it checks:
        For each running `java` process: the maximum heap from -Xmx / -XX:MaxHeapSize, or HotSpot's
        ergonomics from -XX:MaxRAMPercentage, -XX:MaxRAMFraction, -XX:MaxRAM and -XX:-UseContainerSupport,
        taking the command line, @argfiles, JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and _JAVA_OPTIONS in the
        JVM's order (the last setting wins). Heap + an estimate of what the JVM needs beyond it (10 % of
        the heap for GC structures, 96 MiB for metaspace/code cache/VM, 1 thread stack per thread) is
        compared with the memory cgroup's effective limit (v1 memory.limit_in_bytes, v2 memory.max,
        smallest on the path) or the host's RAM: warning from 75 %, critical when the heap or heap +
        overhead reaches the limit. Several JVMs under one limit are added up. Also every memory cgroup
        whose processes' RSS already fills 90 % of its limit (warning).
        Snapshots: only the JVM option variables of process environments are collected, never the rest.
    Why it matters:
        A JVM whose heap is sized at 80 % of RAM or of its container limit leaves nothing for the page
        cache, thread stacks, metaspace and direct buffers: the kernel's OOM killer ends it before its
        garbage collector ever runs out of heap, and restarting it repeats the kill.
    Fix:
        Give the heap about 60 % of the limit (-XX:MaxRAMPercentage=60 or an explicit -Xmx), or raise the
        limit; keep cgroups below ~90 % of their limit at peak.
    References:
        HotSpot Arguments::set_heap_size (heap ergonomics); JDK-8146115 (container support);
        java(1) "Overview of Java Options" (JDK_JAVA_OPTIONS, @argfiles).
    """
    state = live_state(ctx)
    if state is None:
        return [skipped("no process information readable (/proc/PID/status) or no MemTotal: cannot see "
                        "the running JVMs and cgroups")]
    results: list[Result] = []
    for fit in jvm_fits(ctx):
        evidence: dict[str, object] = {"argv": " ".join(fit.proc.argv)[:500], "memcg": fit.proc.memcg,
                                       "heap": fit.heap_bytes, "beyond heap (estimate)": fit.native_bytes,
                                       "limit": fit.limit_bytes, "limit source": fit.limit_source}
        if fit.options.unreadable_argfiles:
            evidence["unreadable @argfiles"] = fit.options.unreadable_argfiles
        if fit.severity:
            results.append(failed(fit.message(), evidence, severity=Severity(fit.severity), fix=fit.fix(),
                                  subject=fit.subject))
        else:
            results.append(passed(fit.message(), evidence, subject=fit.subject))
    for fill in cgroup_fills(ctx):
        if fill.severity:
            results.append(failed(fill.message(), fill.to_json(), severity=Severity.WARNING, subject=fill.subject,
                                  fix="Raise the limit above the measured peak, or shrink the workload; the next "
                                      "spike is an OOM kill."))
    if not results:
        results.append(passed(f"no Java process among {len(state.procs)} processes, and no memory cgroup "
                              "filled to 90 % of its limit"))
    return results

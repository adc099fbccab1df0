"""JVM memory options: order of sources, last-wins, what belongs to the application, and HotSpot ergonomics.

The ergonomics are checked against a real JDK: the same options (command line and environment variables)
are given to ``java -XX:+PrintFlagsFinal -version`` and its MaxHeapSize is compared with ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kerncheck.parsers.jvm import expand_argfiles, java_size, parse_environ, parse_jvm_options

GiB, MiB = 1 << 30, 1 << 20


def test_last_setting_wins_across_sources_in_jvm_order() -> None:
    env = {"JAVA_TOOL_OPTIONS": "-Xmx1g -XX:MaxRAMPercentage=10", "JDK_JAVA_OPTIONS": "-Xmx2g"}
    opts = parse_jvm_options(["java", "-Xmx3g", "-XX:MaxHeapSize=4g", "App"], env)
    assert opts.get("MaxHeapSize") == 4 * GiB and opts.settings["MaxHeapSize"].source == "command line"
    opts = parse_jvm_options(["java", "-Xmx3g", "App"], {**env, "_JAVA_OPTIONS": "-Xmx512m"})
    assert opts.get("MaxHeapSize") == 512 * MiB and opts.settings["MaxHeapSize"].source == "_JAVA_OPTIONS"
    assert opts.get("MaxRAMPercentage") == 10.0


def test_application_arguments_are_not_jvm_options() -> None:
    for argv in (["java", "-Xmx1g", "-jar", "app.jar", "-Xmx64g"],
                 ["java", "-Xmx1g", "-cp", "-Xmx99g", "com.example.Main", "-Xmx64g"],
                 ["java", "-Xmx1g", "-m", "mod/com.example.Main", "-Xmx64g"]):
        opts = parse_jvm_options(argv)
        assert opts.get("MaxHeapSize") == GiB, argv
    assert parse_jvm_options(["java", "-jar", "/opt/app.jar"]).main == "/opt/app.jar"


def test_sizes_flags_and_invalid_values() -> None:
    opts = parse_jvm_options(["java", "-Xss512k", "-XX:ThreadStackSize=2048", "-XX:-UseContainerSupport",
                              "-XX:MaxRAM=8G", "-Xmxlots", "Main"])
    assert opts.thread_stack_bytes == 2 * MiB  # ThreadStackSize is in KiB, and came last
    assert not opts.container_support and opts.get("MaxRAM") == 8 * GiB
    assert opts.invalid == ["-Xmxlots (command line)"]
    assert java_size("1T") == 1 << 40
    with pytest.raises(ValueError):
        java_size("1.5g")


def test_argfiles_are_expanded_and_unreadable_ones_reported() -> None:
    files = {"jvm.opts": "# memory\n-Xmx6g  -XX:+UseG1GC\n"}
    argv, missing = expand_argfiles(["java", "@jvm.opts", "@missing", "-jar", "x.jar"], files.get)
    assert argv == ["java", "-Xmx6g", "-XX:+UseG1GC", "-jar", "x.jar"] and missing == ["missing"]


def test_environ_keeps_only_jvm_option_variables() -> None:
    env = parse_environ(b"PATH=/usr/bin\0DB_PASSWORD=hunter2\0JAVA_TOOL_OPTIONS=-Xmx2g\0_JAVA_OPTIONS=-Xss1m\0")
    assert env == {"JAVA_TOOL_OPTIONS": "-Xmx2g", "_JAVA_OPTIONS": "-Xss1m"}


def test_ergonomics_follow_the_container_limit_unless_disabled() -> None:
    opts = parse_jvm_options(["java", "-XX:MaxRAMPercentage=75", "Main"])
    assert opts.max_heap_bytes(64 * GiB, 4 * GiB) == 3 * GiB
    off = parse_jvm_options(["java", "-XX:MaxRAMPercentage=75", "-XX:-UseContainerSupport", "Main"])
    assert off.max_heap_bytes(64 * GiB, 4 * GiB) == 48 * GiB


CASES = [
    ([], {}),
    (["-XX:MaxRAM=200m"], {}),  # small memory: MinRAMPercentage (50 %) applies
    (["-XX:MaxRAM=4g"], {}),
    (["-XX:MaxRAMPercentage=80"], {}),
    (["-XX:MaxRAMFraction=2"], {}),
    (["-Xms3g", "-XX:MaxRAM=4g"], {}),
    (["-XX:MaxRAM=100m", "-XX:MinRAMPercentage=30"], {}),
    (["-Xmx1g", "-XX:MaxRAMPercentage=80"], {}),
    (["-XX:MaxRAM=300g"], {}),
    (["-Xmx1g"], {"JAVA_TOOL_OPTIONS": "-Xmx3g"}),  # the command line beats JAVA_TOOL_OPTIONS
    (["-Xmx1g"], {"_JAVA_OPTIONS": "-Xmx768m"}),  # _JAVA_OPTIONS beats the command line
    ([], {"JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=60", "JDK_JAVA_OPTIONS": "-XX:MaxRAMPercentage=40"}),
]


def _real_max_heap(args: list[str], env: dict[str, str]) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")}
    out = subprocess.run(["java", *args, "-XX:+PrintFlagsFinal", "-version"], capture_output=True, text=True,
                         env={**clean, **env}, timeout=60, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "MaxHeapSize":
            return int(fields[3])
    raise AssertionError("no MaxHeapSize in -XX:+PrintFlagsFinal output")


@pytest.mark.real
def test_heap_ergonomics_match_a_real_jdk() -> None:
    if shutil.which("java") is None:
        pytest.skip("no java on PATH (Debian openjdk-17-jre-headless)")
    from kerncheck.host import LiveHost
    from kerncheck.memcgroups import memory_hierarchy, memory_limit, process_cgroup

    with open("/proc/meminfo") as fh:
        mem_total = int(next(ln for ln in fh if ln.startswith("MemTotal:")).split()[1]) * 1024
    host = LiveHost()
    hierarchy = memory_hierarchy(host)
    cgroup = process_cgroup(host, os.getpid(), hierarchy) if hierarchy else None
    limit = memory_limit(host, hierarchy, cgroup) if hierarchy and cgroup else None
    cg_limit = limit.limit_bytes if limit else None  # the JVM sizes itself from our cgroup's limit too
    for args, env in CASES:
        ours = parse_jvm_options(["java", *args, "-version"], env).max_heap_bytes(mem_total, cg_limit)
        real = _real_max_heap(args, env)
        # HotSpot rounds the heap up to its alignment (2 MiB, up to 32 MiB for heaps of tens of GiB).
        assert real - 32 * MiB <= ours <= real, (args, env, ours, real)

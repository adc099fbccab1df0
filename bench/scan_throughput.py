#!/usr/bin/env python3
"""Throughput of ``kerncheck scan`` against ``grep`` with the same patterns, in the same run.

Writes a benign-heavy kernel log (default 200 MB; about one incident per 10 000 lines, realistic benign
lines with varied text), then times, best of ``--repeat`` runs each:

* ``LC_ALL=C grep -c -E -f <patterns>`` — the prefilter's patterns (incident openers + error levels);
* ``kerncheck scan --format json <log>`` — the whole command, Python start-up included;

and prints both times, the ratio (target ≤ 2×), MB/s, and the scan's peak RSS (target ≤ 150 MB on 1 GB:
``--size 1G``). ``--engines`` also times the re2 and ``re`` prefilter fallbacks.

    .venv/bin/python bench/scan_throughput.py [--size 200M] [--format dmesg|kmsg|syslog] [--engines]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from kerncheck.logs.patterns import PREFILTER  # noqa: E402
from kerncheck.logs.records import LEVEL_PATTERNS  # noqa: E402
from kerncheck.parsers.units import memparse  # noqa: E402

BENIGN = [
    "usb {a}-{b}: new high-speed USB device number {n} using xhci_hcd",
    "usb {a}-{b}: New USB device found, idVendor={h4}, idProduct={h4b}, bcdDevice= {a}.{b}0",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth{b}: link becomes ready",
    "{nic} 0000:{h2}:00.{b} eth{b}: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    "audit: type=1400 audit({t}.{ms}:{n}): apparmor=\"ALLOWED\" operation=\"open\" profile=\"snap.{w}\" pid={pid}",
    "audit: type=1130 audit({t}.{ms}:{n}): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit={w}.service'",
    "systemd[1]: Started {w}.service - {W} daemon.",
    "device veth{h4}{h4b} entered promiscuous mode",
    "br-{h4}{h4b}: port {b}(veth{h4b}) entered forwarding state",
    "docker0: port {b}(veth{h4}) entered blocking state",
    "TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.",
    "nf_conntrack: nf_conntrack: table full, dropping packet",
    "kauditd_printk_skb: {n} callbacks suppressed",
    "perf: interrupt took too long ({n} > {n2}), lowering kernel.perf_event_max_sample_rate to {port}",
    "loop{b}: detected capacity change from 0 to {sec}",
    "sd {a}:0:0:{b}: Attached scsi generic sg{b} type 0",
    "virtio_net virtio{b} eth{b}: renamed from eth{a}",
    "pci 0000:{h2}:{h2}.{b}: [{h4}:{h4b}] type 00 class 0x{h4}00 conventional PCI endpoint",
    "pci 0000:{h2}:{h2}.{b}: BAR {b} [mem 0x{h4}0000-0x{h4}ffff 64bit pref]",
    "ACPI: \\_SB_.PCI0.S{h2}_: Enabled {b} GPEs in block 00 to 0F",
    "random: crng reseeded due to virtual machine fork",
    "{w}[{pid}]: segfault at {h4}{h4b} ip 0000{h4}{h4b}{h4} sp 00007ffd{h4b}{h4} error 4 in lib{w}.so.{b}",
    "process '{w}' launched '/usr/bin/{w}' with NULL argv: empty string added",
    "overlayfs: upper fs does not support RENAME_WHITEOUT.",
    "cgroup: fork rejected by pids controller in /system.slice/{w}.service",
    "{w} ({pid}): drop_caches: {b}",
    "EXT4-fs (dm-{b}): mounted filesystem {h4}{h4b}-{h4} r/w with ordered data mode. Quota mode: none.",
    "XFS (nvme{b}n1p{a}): Ending clean mount",
    "NFS: state manager: check lease failed on NFSv4 server {w}-nfs with error {b}",
    "bond0: (slave eth{b}): link status definitely up, 10000 Mbps full duplex",
    "clocksource: timekeeping watchdog on CPU{b}: Marking clocksource 'tsc' as unstable because the skew is too large",
    "hrtimer: interrupt took {n} ns",
    "sched: RT throttling activated",
    "Bluetooth: hci{b}: unexpected event for opcode 0x{h4}",
    "md: data-check of RAID array md{b}",
    "md: md{b}: data-check done.",
    "wireguard: wg{b}: Handshake for peer {n} ({w}.example:{port}) did not complete after 5 seconds, retrying",
    "kvm: vcpu {b}: requested {n} ns lapic timer period limited to 200000 ns",
    "Memory cgroup stats for /system.slice/{w}.service: anon {n}",
    "{w}: module verification failed: signature and/or required key missing - tainting kernel",
]
WORDS = ("nginx", "postgres", "redis", "containerd", "kubelet", "sshd", "chronyd", "snapd", "rsyslogd", "java",
         "haproxy", "etcd", "node", "prometheus", "grafana", "memcached", "envoy", "coredns", "runc", "dockerd")
# Mount messages match the prefilter (EXT4-fs (, XFS () but are benign: as rare as boots are.
RARE = ("EXT4-fs (dm-", "XFS (nvme")
NICS = ("ixgbe", "i40e", "mlx5_core", "bnxt_en", "e1000e", "igb", "ice")

INCIDENTS = [
    ["{w} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
     "CPU: {b} UID: 0 PID: {pid} Comm: {w} Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
     "Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c", " dump_header+0x4a/0x211",
     " oom_kill_process.cold+0xb/0x10", " out_of_memory+0x1fd/0x4c0", " </TASK>",
     "memory: usage 524288kB, limit 524288kB, failcnt {n}",
     "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/{w}"
     ".service,task_memcg=/system.slice/{w}.service,task={w},pid={pid},uid=0",
     "Memory cgroup out of memory: Killed process {pid} ({w}) total-vm:{n}kB, anon-rss:{n2}kB, file-rss:0kB, "
     "shmem-rss:0kB, UID:0 pgtables:1024kB oom_score_adj:0"],
    ["watchdog: BUG: soft lockup - CPU#{b} stuck for 23s! [kworker/{b}:1:{pid}]",
     "Modules linked in: {nic} xfs libcrc32c nvme",
     "CPU: {b} PID: {pid} Comm: kworker/{b}:1 Tainted: G             L     5.15.0-91-generic #101-Ubuntu",
     "RIP: 0010:{nic}_xmit_frame_ring+0x3c1/0xf20 [{nic}]", "Call Trace:", " <IRQ>",
     " dev_hard_start_xmit+0xc5/0x1e0", " sch_direct_xmit+0x9f/0x360", " </IRQ>"],
    ["EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #{n}: comm {w}: reading directory lblock 0"],
    ["blk_update_request: I/O error, dev sdc, sector {sec} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
     "Buffer I/O error on dev sdc1, logical block {n}, async page read"],
    ["------------[ cut here ]------------",
     "WARNING: CPU: {b} PID: {pid} at net/core/dev.c:5178 __netif_receive_skb_core+0x4c4/0xc90",
     "Modules linked in: {nic} xfs", "CPU: {b} PID: {pid} Comm: ksoftirqd/{b} Not tainted 5.15.0-91-generic #101",
     "RIP: 0010:__netif_receive_skb_core+0x4c4/0xc90", "Call Trace:", " <TASK>", " netif_receive_skb+0x3f/0x120",
     " </TASK>", "---[ end trace 5c2f3b8b1a9d0e11 ]---"],
]


def _fill(template: str, rng: random.Random) -> str:
    w = rng.choice(WORDS)
    return template.format(
        a=rng.randint(1, 4), b=rng.randint(0, 7), n=rng.randint(1, 99999), n2=rng.randint(1, 99999),
        h2=f"{rng.randint(0, 255):02x}", h4=f"{rng.randint(0, 65535):04x}", h4b=f"{rng.randint(0, 65535):04x}",
        t=rng.randint(1_700_000_000, 1_800_000_000), ms=rng.randint(0, 999), w=w, W=w.capitalize(),
        pid=rng.randint(100, 4_000_000), port=rng.randint(1, 65535), sec=rng.randint(0, 2**31),
        nic=rng.choice(NICS))


def _prefix(fmt: str, seconds: float, level: int, seq: int) -> str:
    if fmt == "kmsg":
        return f"{level},{seq},{int(seconds * 1e6)},-;"
    if fmt == "syslog":
        s = int(seconds)
        return f"Nov 26 {s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d} web1 kernel: [{seconds:12.6f}] "
    return f"[{seconds:12.6f}] "


def write_log(path: Path, size: int, fmt: str, seed: int = 1) -> tuple[int, int]:
    """Write ``size`` bytes of log; returns ``(records, incidents)``. In kmsg format one record in eight
    carries a dictionary (`` SUBSYSTEM=…``/`` DEVICE=…`` continuation lines), as on real machines."""
    rng = random.Random(seed)
    weights = [0.005 if t.startswith(RARE) else 1.0 for t in BENIGN]
    pool = [_fill(t, rng) for t in rng.choices(BENIGN, weights, k=50_000)]
    records = incidents = written = 0
    seq = 0
    seconds = 5.0
    with open(path, "w", encoding="utf-8") as fh:
        while written < size:
            out = []
            for _ in range(10_000):
                seconds += rng.random() * 0.05
                text = _prefix(fmt, seconds, 6, seq) + pool[rng.randrange(len(pool))]
                if fmt == "kmsg" and seq % 8 == 0:
                    text += f"\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:{seq % 32:02x}.0"
                out.append(text)
                seq += 1
            for text in INCIDENTS[incidents % len(INCIDENTS)]:
                seconds += 0.000013
                level = 3 if "Killed process" in text or "error" in text else 4
                out.append(_prefix(fmt, seconds, level, seq) + _fill(text, rng))
                seq += 1
            incidents += 1
            chunk = "\n".join(out) + "\n"
            fh.write(chunk)
            written += len(chunk.encode())
            records += len(out)
    return records, incidents


def grep_patterns(fmt: str) -> list[str]:
    """The prefilter's patterns in POSIX ERE (grep -E) spelling."""
    out = []
    for p in list(PREFILTER) + list(LEVEL_PATTERNS[fmt]):
        out.append(p.replace("(?:", "(").replace(r"\d", "[0-9]"))
    return out


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, bytes]:
    """(wall seconds, peak RSS in bytes, stdout) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"{argv[0]} failed with exit status {proc.returncode}")
    return elapsed, usage.ru_maxrss * 1024, out


def best(argv: list[str], env: dict[str, str], repeat: int) -> tuple[float, int, bytes]:
    runs = [timed(argv, env) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="200M", help="log size, e.g. 200M or 1G (default 200M)")
    ap.add_argument("--format", choices=("dmesg", "kmsg", "syslog"), default="dmesg")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the best time counts")
    ap.add_argument("--engines", action="store_true", help="also time the re2 and re prefilter fallbacks")
    ap.add_argument("--keep", metavar="DIR", help="write the log into DIR and keep it")
    args = ap.parse_args()
    if shutil.which("grep") is None:
        raise SystemExit("grep is needed for the baseline")
    size = memparse(args.size)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kc-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        log = workdir / f"bench-{args.format}.log"
        t = time.perf_counter()
        records, incidents = write_log(log, size, args.format)
        actual = log.stat().st_size
        print(f"log: {log} {actual / 1e6:.0f} MB, {records} records, {incidents} incidents "
              f"(written in {time.perf_counter() - t:.1f}s)")
        patterns = workdir / "patterns.txt"
        patterns.write_text("\n".join(grep_patterns(args.format)) + "\n")
        subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        env = dict(os.environ, LC_ALL="C")
        g_time, g_rss, g_out = best(["grep", "-c", "-E", "-f", str(patterns), str(log)], env, args.repeat)
        print(f"grep -c -E -f patterns: {g_time:.3f}s  {actual / 1e6 / g_time:.0f} MB/s  "
              f"{int(g_out)} matching lines  peak RSS {g_rss / 1e6:.0f} MB")
        kerncheck = [sys.executable, "-m", "kerncheck", "scan", "--format", "json", str(log)]
        for engine in (["hyperscan", "re2", "re"] if args.engines else [""]):
            run_env = dict(env, KERNCHECK_PREFILTER=engine) if engine else env
            s_time, s_rss, s_out = best(kerncheck, run_env, args.repeat if engine in ("", "hyperscan") else 1)
            doc = json.loads(s_out)
            label = f"kerncheck scan ({engine or 'default engine'})"
            print(f"{label}: {s_time:.3f}s  {actual / 1e6 / s_time:.0f} MB/s  peak RSS {s_rss / 1e6:.0f} MB  "
                  f"{len(doc['incidents'])} incidents (folded), {doc['records']} records  "
                  f"ratio scan/grep {s_time / g_time:.2f}")
            if doc["records"] != records:
                print(f"  WARNING: {doc['records']} records counted, {records} written")
        print(f"targets: ratio ≤ 2.00; peak RSS ≤ 150 MB on a 1 GB input "
              f"(pattern count {len(grep_patterns(args.format))}, engine order hyperscan → re2 → re)")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

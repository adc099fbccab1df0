#!/usr/bin/env python3
"""Load benchmark of ``kerncheck watch`` on a followed file (issue 6).

Runs the real watcher as a subprocess (``--source FILE --format jsonl --metrics-addr``) and measures:

1. throughput: 1 M syslog kernel records (≈ 1 incident line per 10 000) appended to the followed file,
   timed until ``kerncheck_records_total`` reaches 1 M — against a baseline measured in the same run: a
   plain Python loop that reads the same file line by line and applies the same prefilter regex;
2. alert latency: OOM kills with distinct victims written among background traffic; time from the
   write of the ``Killed process`` line to the event read from the watcher's stdout (p50, p99);
3. idle CPU over 10 s of silence, peak RSS (VmHWM);
4. an OOM storm of 4 500 OOM reports/min for 20 s: watcher CPU and the number of events (folding).

Targets: ≥ 100 k records/s, p99 ≤ 100 ms, idle CPU ≈ 0, RSS ≤ 60 MB, bounded CPU under the storm.
Usage: .venv/bin/python bench/watch_load.py [--records 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HZ = os.sysconf("SC_CLK_TCK")

BENIGN = [
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "audit: type=1400 audit({ts}:123): apparmor=\"STATUS\" operation=\"profile_replace\" name=\"snap\"",
    "[UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC=192.0.2.{n} DST=192.0.2.1 LEN=40 PROTO=TCP",
    "loop{n}: detected capacity change from 0 to 81920",
    "device veth{n} entered promiscuous mode",
    "usb 1-1: new high-speed USB device number {n} using xhci_hcd",
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
]
INCIDENT = "blk_update_request: I/O error, dev sdb, sector {n} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"


def oom_report(comm: str, pid: int) -> list[str]:
    """The lines of a real memory-cgroup OOM kill (as this machine's kernel prints it), condensed."""
    return [
        f"{comm} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        f"CPU: 1 PID: {pid} Comm: {comm} Not tainted 6.1.0-18-amd64 #1 Debian 6.1.76-1",
        "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "Call Trace:",
        " <TASK>",
        " dump_stack_lvl+0x44/0x5c",
        " dump_header+0x4a/0x211",
        " oom_kill_process.cold+0xb/0x10",
        " out_of_memory+0x1fd/0x4c0",
        " mem_cgroup_out_of_memory+0x134/0x150",
        " try_charge_memcg+0x696/0x780",
        " </TASK>",
        "memory: usage 49152kB, limit 49152kB, failcnt 112",
        "Tasks state (memory values in pages):",
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        f"[ {pid:>6}]     0 {pid:>6}    14695    12224   155648        0             0 {comm}",
        f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/bench,"
        f"task_memcg=/bench,task={comm},pid={pid},uid=0",
        f"Memory cgroup out of memory: Killed process {pid} ({comm}) total-vm:58780kB, anon-rss:48896kB, "
        "file-rss:6156kB, shmem-rss:0kB, UID:0 pgtables:152kB oom_score_adj:0",
    ]


class Syslog:
    """kern.log lines: ``Nov 26 06:22:21 bench kernel: [ 1234.567890] message``."""

    def __init__(self) -> None:
        self.mono = 1000.0

    def line(self, message: str) -> str:
        self.mono += 0.0001
        return time.strftime("%b %d %H:%M:%S") + f" bench kernel: [{self.mono:12.6f}] {message}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metric(port: int, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(rf"^{name} ([0-9.e+]+)$", body, re.M)
    return float(m.group(1)) if m else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def baselines(path: Path, tmpdir: Path) -> tuple[float, float]:
    """Same-run baselines: a bare Python loop over the file's lines (the floor for any line-by-line Python
    reader), and ``LC_ALL=C grep -c -E -f`` with the engine's PREFILTER patterns (a C multi-pattern scan)."""
    from kerncheck.logs import patterns

    started = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        for _ in fh:
            n += 1
    loop = time.perf_counter() - started
    pats = tmpdir / "prefilter.txt"
    pats.write_text("\n".join(patterns.PREFILTER) + "\n")
    started = time.perf_counter()
    # stdout must be a pipe: GNU grep stops at the first match when it writes to /dev/null
    subprocess.run(["grep", "-c", "-E", "-f", str(pats), str(path)], env={"LC_ALL": "C"},
                   stdout=subprocess.PIPE, check=False)
    return loop, time.perf_counter() - started


def write_load(path: Path, n: int) -> int:
    log = Syslog()
    incidents = 0
    with open(path, "w") as fh:
        batch = []
        for i in range(n):
            if i % 10000 == 5000:
                batch.append(log.line(INCIDENT.format(n=i)))
                incidents += 1
            else:
                batch.append(log.line(BENIGN[i % len(BENIGN)].format(n=i % 250, ts=i)))
            if len(batch) >= 10000:
                fh.write("".join(batch))
                batch = []
        fh.write("".join(batch))
    return incidents


class Watcher:
    def __init__(self, log: Path, state: Path, port: int) -> None:
        self.events: list[tuple[float, dict]] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kerncheck", "watch", "--source", str(log), "--from-start",
             "--state", str(state), "--format", "jsonl", "--metrics-addr", f"127.0.0.1:{port}",
             "--audit-interval", "0", "--config", str(state.parent / "kerncheck.toml")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                metric(port, "kerncheck_records_total")
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the watcher did not start: " + (self.proc.stderr.read() if self.proc.stderr else ""))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.append((time.time(), json.loads(line)))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--storm-seconds", type=float, default=20.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="kc-watch-bench-") as tmp:
        tmpdir = Path(tmp)
        load, followed, state = tmpdir / "load.log", tmpdir / "kern.log", tmpdir / "state"
        (tmpdir / "kerncheck.toml").write_text("[watch]\nrepeat_interval = 3600\n")
        incidents = write_load(load, args.records)
        loop, grep = baselines(load, tmpdir)
        followed.write_text("")
        port = free_port()
        w = Watcher(followed, state, port)
        pid = w.proc.pid

        # 1. throughput
        started = time.perf_counter()
        with open(load, "rb") as src, open(followed, "ab") as dst:
            while chunk := src.read(4 << 20):
                dst.write(chunk)
        while metric(port, "kerncheck_records_total") < args.records:
            time.sleep(0.1)  # a scrape renders every metric in the watcher: do not slow it down
        elapsed = time.perf_counter() - started
        rate = args.records / elapsed
        print(f"throughput: {args.records} records ({incidents} I/O error lines) in {elapsed:.2f} s "
              f"= {rate / 1000:.0f} k records/s (target ≥ 100 k)")
        print(f"  baselines, same data: bare Python line loop {loop:.2f} s (watcher/loop = {elapsed / loop:.1f}x), "
              f"grep -E -f PREFILTER {grep:.2f} s (watcher/grep = {elapsed / grep:.1f}x)")

        # 2. latency: 200 OOM kills with distinct victims among 5 000 background lines/s
        log = Syslog()
        written: dict[str, float] = {}
        with open(followed, "a") as fh:
            for i in range(200):
                for j in range(25):
                    fh.write(log.line(BENIGN[j % len(BENIGN)].format(n=j, ts=i)))
                report = oom_report(f"lat{i}", 20000 + i)
                fh.write("".join(log.line(x) for x in report[:-1]))
                fh.flush()
                fh.write(log.line(report[-1]))
                fh.flush()
                written[f"lat{i}"] = time.time()
                for j in range(25):
                    fh.write(log.line(BENIGN[j % len(BENIGN)].format(n=j, ts=i)))
                fh.flush()
                time.sleep(0.01)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(
                1 for _, e in w.events if (e.get("process") or {}).get("comm", "").startswith("lat")) < 200:
            time.sleep(0.05)
        latencies = sorted(t - written[e["process"]["comm"]] for t, e in w.events
                           if e.get("kind") == "oom_kill" and (e.get("process") or {}).get("comm") in written
                           and e.get("state") == "open")
        if latencies:
            p50 = latencies[len(latencies) // 2] * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(f"alert latency (write → stdout event), {len(latencies)}/200 OOM kills: "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        else:
            print("alert latency: no OOM event arrived (is the log engine classifying the report?)")

        # 3. idle CPU, RSS
        time.sleep(1)
        cpu0 = cpu_seconds(pid)
        time.sleep(10)
        idle = (cpu_seconds(pid) - cpu0) / 10 * 100
        print(f"idle CPU over 10 s: {idle:.2f} %; RSS now {status_kb(pid, 'VmRSS') / 1024:.1f} MB, "
              f"peak {status_kb(pid, 'VmHWM') / 1024:.1f} MB")

        # 4. OOM storm: 4 500 reports/min = 75/s, same victim command (one folded condition)
        events_before = len(w.events)
        cpu0 = cpu_seconds(pid)
        started = time.monotonic()
        sent = 0
        with open(followed, "a") as fh:
            while time.monotonic() - started < args.storm_seconds:
                fh.write("".join(log.line(x) for x in oom_report("java", 30000 + sent % 30000)))
                fh.flush()
                sent += 1
                time.sleep(max(0.0, started + sent / 75 - time.monotonic()))
        time.sleep(1)
        storm = (cpu_seconds(pid) - cpu0) / (time.monotonic() - started) * 100
        oom_total = metric(port, 'kerncheck_incidents_total{kind="oom_kill",severity="[a-z]+"}')
        print(f"OOM storm: {sent} reports in {args.storm_seconds:.0f} s ({sent / args.storm_seconds * 60:.0f}/min): "
              f"watcher CPU {storm:.1f} %, {len(w.events) - events_before} events emitted (folded), "
              f"kerncheck_incidents_total{{kind=oom_kill}} = {oom_total:.0f}")
        print(f"peak RSS (VmHWM): {status_kb(pid, 'VmHWM') / 1024:.1f} MB")
        w.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

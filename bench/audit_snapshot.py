"""Wall time of `kerncheck audit --root SNAPSHOT` (interpreter start included) against bare interpreter start.

Target (issue 2): median ≤ 300 ms. Run from the repository root:

    .venv/bin/python bench/audit_snapshot.py [--runs 21] [--root tests/fixtures/hosts/rhel9-ready]

Measured as installed: the package's bytecode is compiled first and PYTHONDONTWRITEBYTECODE is dropped
(a pip install compiles it; without it every run recompiles ~100 modules, +100 ms). One case adds real
kernel records from this project's kernel (an OOM report in kmsg format) so the log engine runs too.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_ms(argv: list[str], runs: int) -> tuple[float, float]:
    times = []
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--root", default=str(REPO / "tests/fixtures/hosts/rhel9-ready"))
    args = parser.parse_args()
    compileall.compile_dir(str(REPO / "src" / "kerncheck"), quiet=1)
    py = sys.executable
    with_log = Path(tempfile.mkdtemp(prefix="kerncheck-bench-")) / "host"
    shutil.copytree(args.root, with_log)
    (with_log / "dev").mkdir(exist_ok=True)
    shutil.copy(REPO / "tests/data/kmsg/memcg-oom-v1-6.18.kmsg", with_log / "dev/kmsg")
    baseline, _ = median_ms([py, "-c", "pass"], args.runs)
    cases = {
        "audit --format json": [py, "-m", "kerncheck", "audit", "--root", args.root, "--format", "json"],
        "audit (text, rich)": [py, "-m", "kerncheck", "audit", "--root", args.root],
        "audit sosreport json": [py, "-m", "kerncheck", "audit", "--root",
                                 str(REPO / "tests/fixtures/hosts/sosreport-rhel8"), "--format", "json"],
        "audit + kernel log json": [py, "-m", "kerncheck", "audit", "--root", str(with_log), "--format", "json"],
    }
    print(f"python -c pass (baseline): median {baseline:6.1f} ms over {args.runs} runs")
    worst = 0.0
    for name, argv in cases.items():
        med, mx = median_ms(argv, args.runs)
        worst = max(worst, med)
        print(f"kerncheck {name:22}: median {med:6.1f} ms (max {mx:6.1f}), {med / baseline:4.1f}x interpreter "
              f"start, target 300 ms: {'OK' if med <= 300 else 'MISSED'}")
    shutil.rmtree(with_log.parent)
    return 0 if worst <= 300 else 1


if __name__ == "__main__":
    sys.exit(main())

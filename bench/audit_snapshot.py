"""Wall time of `kerncheck audit --root SNAPSHOT` (interpreter start included) against bare interpreter start.

Target (issue 2): median ≤ 300 ms. Run from the repository root:

    .venv/bin/python bench/audit_snapshot.py [--runs 21] [--root tests/fixtures/hosts/rhel9-ready]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_ms(argv: list[str], runs: int) -> tuple[float, float]:
    times = []
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
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
    py = sys.executable
    baseline, _ = median_ms([py, "-c", "pass"], args.runs)
    cases = {
        "audit --format json": [py, "-m", "kerncheck", "audit", "--root", args.root, "--format", "json"],
        "audit (text, rich)": [py, "-m", "kerncheck", "audit", "--root", args.root],
        "audit sosreport json": [py, "-m", "kerncheck", "audit", "--root",
                                 str(REPO / "tests/fixtures/hosts/sosreport-rhel8"), "--format", "json"],
    }
    print(f"python -c pass (baseline): median {baseline:6.1f} ms over {args.runs} runs")
    worst = 0.0
    for name, argv in cases.items():
        med, mx = median_ms(argv, args.runs)
        worst = max(worst, med)
        print(f"kerncheck {name:22}: median {med:6.1f} ms (max {mx:6.1f}), {med / baseline:4.1f}x interpreter "
              f"start, target 300 ms: {'OK' if med <= 300 else 'MISSED'}")
    return 0 if worst <= 300 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Live RSS trend of processes: sample ``VmRSS`` for a while and fit a least-squares line.

A steady climb (a good fit, and growth that is not just noise) is what a leak looks like from outside.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from kerncheck.host import Host
from kerncheck.parsers.units import human
from kerncheck.processes import Process, rss_kb

MIN_R2 = 0.8
MIN_GROWTH_KB = 1024  # at least 1 MiB over the window …
MIN_GROWTH_SHARE = 0.02  # … and 2 % of its average RSS
MIN_SAMPLES = 4


@dataclass
class Trend:
    proc: Process
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds from start, RSS kB)
    exited: bool = False

    def fit(self) -> Optional[tuple[float, float]]:
        """(slope in kB/s, R²) of the samples, or ``None`` with too few of them."""
        if len(self.samples) < MIN_SAMPLES:
            return None
        xs = [t for t, _ in self.samples]
        ys = [float(v) for _, v in self.samples]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        syy = sum((y - my) ** 2 for y in ys)
        if sxx == 0:
            return None
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        r2 = 1.0 if syy == 0 else (slope * slope * sxx) / syy
        return slope, r2

    @property
    def growing(self) -> bool:
        fitted = self.fit()
        if fitted is None:
            return False
        slope, r2 = fitted
        span = self.samples[-1][0] - self.samples[0][0]
        growth = slope * span
        mean = sum(v for _, v in self.samples) / len(self.samples)
        return slope > 0 and r2 >= MIN_R2 and growth >= MIN_GROWTH_KB and growth >= MIN_GROWTH_SHARE * mean

    def describe(self) -> str:
        fitted = self.fit()
        if fitted is None:
            return f"{self.proc.label}: too few samples ({len(self.samples)})"
        slope, r2 = fitted
        first, last = self.samples[0][1], self.samples[-1][1]
        span = self.samples[-1][0] - self.samples[0][0]
        return (f"{self.proc.label}: RSS {human(first * 1024)} → {human(last * 1024)} in {span:.0f} s, "
                f"{'+' if slope >= 0 else ''}{human(slope * 60 * 1024)}/min (R² {r2:.2f})"
                + (" — keeps growing" if self.growing else ""))

    def to_json(self) -> dict[str, Any]:
        fitted = self.fit()
        return {"pid": self.proc.pid, "comm": self.proc.comm, "memcg": self.proc.memcg,
                "samples": len(self.samples), "first_rss_kb": self.samples[0][1] if self.samples else None,
                "last_rss_kb": self.samples[-1][1] if self.samples else None,
                "slope_kb_per_s": round(fitted[0], 3) if fitted else None,
                "r2": round(fitted[1], 3) if fitted else None, "growing": self.growing, "exited": self.exited}


def sample(host: Host, procs: Sequence[Process], seconds: float, interval: float = 1.0,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> list[Trend]:
    """Sample each process's RSS every ``interval`` seconds for ``seconds`` seconds."""
    trends = [Trend(p) for p in procs]
    start = clock()
    while True:
        now = clock() - start
        for trend in trends:
            if trend.exited:
                continue
            value = rss_kb(host, trend.proc.pid)
            if value is None:
                trend.exited = True
            else:
                trend.samples.append((now, value))
        if now >= seconds or all(t.exited for t in trends):
            break
        sleep(min(interval, max(0.0, seconds - now)))
    return trends

"""The ``[watch]`` table of the configuration file: per-kind policy, sinks, intervals.

```toml
[watch]
state = "/var/lib/kerncheck/watch"      # state directory (cursor, open conditions, event queue)
repeat_interval = 300                   # re-announce a folded, still-open condition at most this often (s)
audit_interval = 3600                   # periodic audit for kerncheck_check_status (s, 0 = off)
queue_max = 10000                       # undelivered events kept per sink before the oldest are dropped
alertmanager = ["http://127.0.0.1:9093"]
webhook = ["http://127.0.0.1:8080/kerncheck"]
syslog = false

[watch.kinds.io_error]                  # any kind of DESIGN.md
severity = "critical"                   # overrides the engine's severity
threshold = 3                           # alert only from the 3rd incident with the same key …
window = 600                            # … within 600 s
clear_after = 3600                      # resolve after this long without a repeat (0 = never by time)
clear_when_remounted = false            # fs_readonly: resolve when the device is no longer mounted ro
ignore = false                          # count it in the metrics, never alert
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from kerncheck.config import ConfigError
from kerncheck.logs.model import KINDS, SEVERITIES

DEFAULT_STATE_DIR = "/var/lib/kerncheck/watch"


@dataclass(frozen=True)
class KindPolicy:
    severity: Optional[str] = None  # None: keep the engine's severity
    threshold: int = 1
    window: float = 600.0
    clear_after: float = 3600.0
    clear_when_remounted: bool = False
    ignore: bool = False


_LOCKUP = KindPolicy(clear_after=600.0)
DEFAULT_POLICIES: dict[str, KindPolicy] = {
    "soft_lockup": _LOCKUP,
    "hard_lockup": _LOCKUP,
    "hung_task": _LOCKUP,
    "rcu_stall": _LOCKUP,
    "oom_kill": KindPolicy(clear_after=600.0),
    "io_error": KindPolicy(threshold=3, window=600.0),
    "fs_readonly": KindPolicy(clear_after=0.0, clear_when_remounted=True),
}


@dataclass
class WatchSettings:
    state_dir: str = DEFAULT_STATE_DIR
    repeat_interval: float = 300.0
    audit_interval: float = 3600.0
    queue_max: int = 10000
    alertmanager: list[str] = field(default_factory=list)
    webhook: list[str] = field(default_factory=list)
    syslog: bool = False
    kinds: dict[str, KindPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    def policy(self, kind: str) -> KindPolicy:
        return self.kinds.get(kind) or KindPolicy()


def _number(table: dict[str, Any], key: str, where: str, default: float, minimum: float = 0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"{where}.{key} must be a number ≥ {minimum:g}, not {value!r}")
    return float(value)


def _flag(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be true or false, not {value!r}")
    return value


def _urls(table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith(("http://", "https://"))
                                              for v in value):
        raise ConfigError(f"[watch].{key} must be a list of http(s) URLs, not {value!r}")
    return list(value)


def _policy(kind: str, table: Any) -> KindPolicy:
    where = f"[watch.kinds.{kind}]"
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown incident kind (known: {', '.join(KINDS)})")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(table) - {"severity", "threshold", "window", "clear_after", "clear_when_remounted", "ignore"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    base = DEFAULT_POLICIES.get(kind, KindPolicy())
    severity = table.get("severity", base.severity)
    if severity is not None and severity not in SEVERITIES:
        raise ConfigError(f"{where}.severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    return replace(
        base,
        severity=severity,
        threshold=int(_number(table, "threshold", where, base.threshold, 1)),
        window=_number(table, "window", where, base.window),
        clear_after=_number(table, "clear_after", where, base.clear_after),
        clear_when_remounted=_flag(table, "clear_when_remounted", where, base.clear_when_remounted),
        ignore=_flag(table, "ignore", where, base.ignore),
    )


def from_config(table: dict[str, Any]) -> WatchSettings:
    """Validate the ``[watch]`` table; every mistake is a :class:`ConfigError` naming the key."""
    known = {"state", "repeat_interval", "audit_interval", "queue_max", "alertmanager", "webhook", "syslog",
             "kinds"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"[watch]: unknown key(s) {', '.join(sorted(unknown))}")
    state = table.get("state", DEFAULT_STATE_DIR)
    if not isinstance(state, str) or not state:
        raise ConfigError(f"[watch].state must be a directory path, not {state!r}")
    kinds_table = table.get("kinds", {})
    if not isinstance(kinds_table, dict):
        raise ConfigError("[watch.kinds] must be a table of incident kinds")
    kinds = dict(DEFAULT_POLICIES)
    kinds.update({kind: _policy(kind, sub) for kind, sub in kinds_table.items()})
    return WatchSettings(
        state_dir=state,
        repeat_interval=_number(table, "repeat_interval", "[watch]", 300.0, 1),
        audit_interval=_number(table, "audit_interval", "[watch]", 3600.0),
        queue_max=int(_number(table, "queue_max", "[watch]", 10000, 1)),
        alertmanager=_urls(table, "alertmanager"),
        webhook=_urls(table, "webhook"),
        syslog=_flag(table, "syslog", "[watch]", False),
        kinds=kinds,
    )

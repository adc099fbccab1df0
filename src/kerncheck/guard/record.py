"""The crash-test record: what ``kerncheck crash-test`` wrote before triggering, and what ``--verify`` found.

Kept apart from the guard itself so that audit check KC105 can read it without loading the guard.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from kerncheck import __version__
from kerncheck.atomicfile import atomic_write
from kerncheck.host import Host, HostError, NotFound

SCHEMA = "kerncheck.crash-test/1"
STATE_FILE = "/var/lib/kerncheck/crash-test.json"


class RecordError(HostError):
    """The crash-test state file exists but cannot be understood."""


def state_file_of(config: dict[str, Any]) -> str:
    """The configured state file, even when other settings are invalid (``--verify`` needs only this)."""
    table = config.get("crash_test")
    value = table.get("state_file") if isinstance(table, dict) else None
    return value if isinstance(value, str) and value.startswith("/") else STATE_FILE


@dataclass
class CrashTestRecord:
    started_at: float
    hostname: str
    kernel: str
    boot_id: str
    dump_path: str
    family: str = "unknown"
    remote_target: Optional[str] = None
    kerncheck_version: str = __version__
    verified_at: Optional[float] = None
    verified_ok: Optional[bool] = None
    verify_message: Optional[str] = None
    dump: Optional[dict[str, Any]] = None

    def to_json(self) -> dict[str, Any]:
        out = {"schema": SCHEMA, **asdict(self)}
        out["started_at_iso"] = _iso(self.started_at)
        return out

    @classmethod
    def from_json(cls, data: Any, path: str) -> CrashTestRecord:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise RecordError(path, f"not a {SCHEMA} record")
        try:
            return cls(
                started_at=float(data["started_at"]), hostname=str(data["hostname"]), kernel=str(data["kernel"]),
                boot_id=str(data["boot_id"]), dump_path=str(data["dump_path"]),
                family=str(data.get("family", "unknown")), remote_target=data.get("remote_target"),
                kerncheck_version=str(data.get("kerncheck_version", "")),
                verified_at=float(data["verified_at"]) if data.get("verified_at") is not None else None,
                verified_ok=data.get("verified_ok") if isinstance(data.get("verified_ok"), bool) else None,
                verify_message=data.get("verify_message"), dump=data.get("dump"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(path, f"incomplete crash-test record ({exc})") from None

    def summary(self) -> str:
        what = f"test crash of {self.hostname} ({self.kernel}) at {_iso(self.started_at)}"
        if self.verified_at is None:
            return f"{what}, not verified yet (run kerncheck crash-test --verify)"
        outcome = "dump captured" if self.verified_ok else "NO usable dump"
        return f"{what}: {outcome} (verified {_iso(self.verified_at)}: {self.verify_message})"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def load_record(host: Host, path: str = STATE_FILE) -> Optional[CrashTestRecord]:
    """The last recorded crash test, or ``None`` when there is none; a corrupt file raises :class:`RecordError`."""
    try:
        text = host.read_text(path)
    except NotFound:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError(path, f"not valid JSON ({exc})") from None
    return CrashTestRecord.from_json(data, path)


def write_atomically(host: Host, path: str, text: str) -> None:
    """Replace ``path`` on the host with ``text`` atomically and durably (creating its directory)."""
    local = host.local_path(path)
    try:
        os.makedirs(os.path.dirname(local), mode=0o755, exist_ok=True)
        atomic_write(local, text.encode())
    except OSError as exc:
        raise HostError(path, exc.strerror or str(exc)) from None


def save_record(host: Host, record: CrashTestRecord, path: str = STATE_FILE) -> None:
    write_atomically(host, path, json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n")

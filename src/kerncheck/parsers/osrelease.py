"""``/etc/os-release`` and the distribution family that decides kdump tooling."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

FAMILIES = ("rhel", "debian", "suse")


@dataclass(frozen=True)
class OsRelease:
    id: str
    id_like: tuple[str, ...]
    version_id: str
    pretty_name: str

    @property
    def family(self) -> str:
        """``rhel``, ``debian``, ``suse`` or ``unknown`` (Ubuntu is ``debian``, Fedora ``rhel``)."""
        ids = (self.id, *self.id_like)
        for ident in ids:
            if ident in ("rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "redhat"):
                return "rhel"
            if ident in ("debian", "ubuntu"):
                return "debian"
            if ident.startswith(("suse", "opensuse", "sles", "sle")):
                return "suse"
        return "unknown"


def parse_os_release(text: str) -> OsRelease:
    """Parse os-release (shell-quoted ``KEY=value`` lines).

    >>> parse_os_release('ID=rocky\\nID_LIKE="rhel centos fedora"\\nVERSION_ID="9.3"\\n').family
    'rhel'
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or not key.isidentifier():
            continue
        try:
            parts = shlex.split(raw, comments=True)
        except ValueError:
            parts = [raw.strip("\"'")]
        values[key] = " ".join(parts)
    return OsRelease(
        id=values.get("ID", "").lower(),
        id_like=tuple(values.get("ID_LIKE", "").lower().split()),
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", values.get("NAME", "")),
    )

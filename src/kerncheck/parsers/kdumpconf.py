"""RHEL/Fedora ``/etc/kdump.conf``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# Dump targets kdump.conf accepts besides the default local path.
FS_TARGETS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "minix", "virtiofs")
REMOTE_TARGETS = ("nfs", "ssh")


@dataclass
class KdumpConf:
    options: dict[str, str] = field(default_factory=dict)
    unknown_lines: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.options.get("path", "/var/crash")

    @property
    def target(self) -> Optional[tuple[str, str]]:
        """``("ext4", "UUID=…")``, ``("nfs", "host:/export")``, ``("raw", "/dev/sdb1")`` or ``None``."""
        for key in (*FS_TARGETS, *REMOTE_TARGETS, "raw"):
            if key in self.options:
                return key, self.options[key]
        return None

    @property
    def collector(self) -> str:
        return self.options.get("core_collector", "makedumpfile -l --message-level 7 -d 31")


def parse_kdump_conf(text: str) -> KdumpConf:
    """Directives are ``keyword value`` lines; ``#`` starts a comment.

    >>> conf = parse_kdump_conf("path /var/crash\\nxfs UUID=1234\\ncore_collector makedumpfile -l -d 31\\n")
    >>> conf.target, conf.path
    (('xfs', 'UUID=1234'), '/var/crash')
    """
    conf = KdumpConf()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        if not key.replace("_", "").isalnum():
            conf.unknown_lines.append(raw)
            continue
        conf.options[key] = value.strip()
    return conf

"""Shell-style ``KEY=value`` configuration files (``/etc/default/kdump-tools``, ``/etc/sysconfig/kdump``)."""

from __future__ import annotations

import re
import shlex

_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_shell_vars(text: str) -> dict[str, str]:
    """Values of simple assignments; the last one wins, unparsable lines are ignored.

    >>> parse_shell_vars('USE_KDUMP=1\\n# KDUMP_COREDIR="/x"\\nKDUMP_COREDIR="/var/crash" # dir\\n')
    {'USE_KDUMP': '1', 'KDUMP_COREDIR': '/var/crash'}
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _ASSIGN.match(line)
        if not m:
            continue
        try:
            parts = shlex.split(m.group(2), comments=True)
        except ValueError:
            continue
        out[m.group(1)] = " ".join(parts)
    return out

"""Record every guard verdict in the system log (journald and syslog daemons both listen on ``/dev/log``).

Logging never decides anything: if no log socket is there or the send fails, the guard goes on and
the verdict is still printed on stderr.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Optional

from kerncheck.host import Host

LOG_SOCKET = "/dev/log"
FACILITY_AUTH = 4  # security/authorization messages: who was allowed or refused a dangerous action
NOTICE, WARNING = 5, 4


def format_message(tag: str, message: str, priority: int, now: Optional[float] = None) -> bytes:
    """An RFC 3164 datagram as ``logger`` sends it: ``<PRI>Mmm dd hh:mm:ss tag[pid]: message``.

    >>> format_message("kerncheck-fsck", "refused /dev/sdb1", WARNING, now=0)[:35]
    b'<36>Jan  1 00:00:00 kerncheck-fsck['
    """
    stamp = time.strftime("%b %e %H:%M:%S", time.gmtime(now) if now is not None else time.localtime())
    text = " ".join(message.split())  # one line: syslog records are single lines
    return f"<{FACILITY_AUTH * 8 + priority}>{stamp} {tag}[{os.getpid()}]: {text}".encode()


def log_verdict(host: Host, tag: str, message: str, priority: int = NOTICE) -> bool:
    """Send one record to the host's ``/dev/log``; ``True`` when it was accepted."""
    path = host.local_path(LOG_SOCKET)
    data = format_message(tag, message, priority)
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):  # journald/rsyslog: datagram; some syslogs: stream
        try:
            with socket.socket(socket.AF_UNIX, kind) as sock:
                sock.settimeout(2)
                sock.connect(path)
                sock.sendall(data if kind == socket.SOCK_DGRAM else data + b"\n")
            return True
        except OSError:
            continue
    return False

"""Guard verdicts reach the system log socket; a missing socket never stops the guard."""

from __future__ import annotations

import socket
from pathlib import Path

from kerncheck.guard.log import WARNING, log_verdict
from kerncheck.host import LiveHost


def test_verdict_is_sent_as_one_syslog_datagram(tmp_path: Path):
    (tmp_path / "dev").mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(tmp_path / "dev/log"))
        server.settimeout(5)
        assert log_verdict(LiveHost(str(tmp_path)), "kerncheck-fsck", "fsck refused on /dev/loop3:\n mounted", WARNING)
        data = server.recv(65536).decode()
    assert data.startswith("<36>")  # facility auth (4) * 8 + warning (4)
    assert "kerncheck-fsck[" in data and data.endswith("]: fsck refused on /dev/loop3: mounted")


def test_stream_socket_syslog_daemons_are_supported(tmp_path: Path):
    (tmp_path / "dev").mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "dev/log"))
        server.listen(1)
        server.settimeout(5)
        assert log_verdict(LiveHost(str(tmp_path)), "kerncheck-crash-test", "refused")
        conn, _ = server.accept()
        with conn:
            assert conn.recv(65536).decode().endswith("]: refused\n")


def test_no_log_socket_is_not_an_error(tmp_path: Path):
    assert log_verdict(LiveHost(str(tmp_path)), "kerncheck-fsck", "allowed") is False

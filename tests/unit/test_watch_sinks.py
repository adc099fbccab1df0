"""Sinks against real loopback servers and sockets: retry until accepted, acknowledge only what was taken."""

from __future__ import annotations

import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kerncheck.watch import sinks
from kerncheck.watch.outbox import Outbox

EVENT = {"kind": "io_error", "severity": "critical", "title": "I/O error, dev sdb, sector 123", "device": "sdb",
         "function": None, "id": "abc123", "state": "open", "count": 3, "host": "db1",
         "opened_at": "2026-01-01T00:00:00.000Z", "last_at": "2026-01-01T00:01:00.000Z",
         "advice": "check the disk", "evidence": ["I/O error, dev sdb, sector 123"]}


class Receiver:
    """A loopback HTTP server recording JSON bodies; ``fail`` makes it answer 503."""

    def __init__(self) -> None:
        self.bodies: list = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.fail:
                    self.send_response(503)
                else:
                    outer.bodies.append((self.path, body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_stdout_jsonl_and_text():
    out = io.StringIO()
    sinks.StdoutSink(out).deliver([EVENT])
    assert json.loads(out.getvalue()) == EVENT
    text = io.StringIO()
    sinks.StdoutSink(text, text=True).deliver([EVENT])
    assert "open: critical io_error on sdb: I/O error, dev sdb, sector 123 (x3)" in text.getvalue()


def test_alertmanager_payload_has_labels_and_ends_when_resolved(receiver):
    am = sinks.AlertmanagerSink(receiver.url, ttl=900, now=lambda: 1767225600.0)
    resolved = dict(EVENT, state="resolved", resolved_at="2026-01-01T01:00:00.000Z")
    am.deliver([EVENT, resolved])
    path, body = receiver.bodies[0]
    assert path == "/api/v2/alerts"
    assert body[0]["labels"] == {"alertname": "KernelIoError", "host": "db1", "kind": "io_error",
                                 "severity": "critical", "id": "abc123", "device": "sdb"}
    assert body[0]["startsAt"] == "2026-01-01T00:00:00.000Z"
    assert body[0]["endsAt"] == "2026-01-01T00:15:00.000Z"  # a keep-alive must come before this
    assert body[0]["annotations"]["summary"] == EVENT["title"]
    assert body[1]["endsAt"] == "2026-01-01T01:00:00.000Z"


def test_worker_retries_through_an_outage_and_delivers_each_event_once(tmp_path, receiver, monkeypatch):
    monkeypatch.setattr(sinks, "BACKOFF_START", 0.05)
    hook = sinks.WebhookSink(receiver.url + "/hook")
    box = Outbox(str(tmp_path), {hook.name: hook.kind}, queue_max=100)
    stop = threading.Event()
    failures: list[str] = []
    delivered = threading.Event()
    worker = sinks.SinkWorker(hook, box, stop, lambda s, n: delivered.set(), lambda s, r: failures.append(r))
    receiver.fail = True
    worker.start()
    try:
        for i in range(5):
            box.stage(dict(EVENT, id=f"e{i}"))
        box.prepare()
        box.release()
        while len(failures) < 3:
            stop.wait(0.05)
        receiver.fail = False
        assert delivered.wait(10)
        while box.backlog(hook.name):
            stop.wait(0.05)
    finally:
        stop.set()
        box.wake()
        worker.join(5)
    ids = [e["id"] for _, body in receiver.bodies for e in body["events"]]
    assert ids == ["e0", "e1", "e2", "e3", "e4"]
    assert all("503" in f for f in failures)
    assert [e["seq"] for _, body in receiver.bodies for e in body["events"]] == [1, 2, 3, 4, 5]


def test_syslog_sink_writes_journal_native_fields_to_a_real_socket(tmp_path):
    path = str(tmp_path / "journal.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    try:
        sinks.SyslogSink(journal_socket=path, dev_log=str(tmp_path / "none")).deliver([EVENT])
        fields = dict(line.split("=", 1) for line in srv.recv(65536).decode().splitlines())
    finally:
        srv.close()
    assert fields["SYSLOG_IDENTIFIER"] == "kerncheck"
    assert fields["PRIORITY"] == "2"
    assert fields["KERNCHECK_ID"] == "abc123" and fields["KERNCHECK_DEVICE"] == "sdb"
    assert json.loads(fields["KERNCHECK_EVENT"]) == EVENT


def test_syslog_sink_falls_back_to_dev_log_and_reports_a_missing_socket(tmp_path):
    path = str(tmp_path / "log.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    try:
        sinks.SyslogSink(journal_socket=str(tmp_path / "absent"), dev_log=path).deliver([EVENT])
        line = srv.recv(65536).decode()
    finally:
        srv.close()
    assert line.startswith("<26>kerncheck[")  # daemon.crit
    with pytest.raises(sinks.DeliveryError):
        sinks.SyslogSink(journal_socket=str(tmp_path / "absent"), dev_log=str(tmp_path / "gone")).deliver([EVENT])


def test_a_failing_sink_is_retried_not_silently_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(sinks, "BACKOFF_START", 0.05)

    class Flaky(sinks.Sink):
        kind = "webhook"

        def __init__(self) -> None:
            super().__init__("flaky")
            self.calls = 0
            self.got: list = []

        def deliver(self, events):
            self.calls += 1
            if self.calls == 1:
                raise KeyError("a bug in the sink")
            self.got += events

    flaky = Flaky()
    box = Outbox(str(tmp_path), {flaky.name: flaky.kind}, queue_max=10)
    stop = threading.Event()
    failures: list[str] = []
    worker = sinks.SinkWorker(flaky, box, stop, lambda s, n: None, lambda s, r: failures.append(r))
    worker.start()
    try:
        box.stage(dict(EVENT))
        box.prepare()
        box.release()
        for _ in range(100):
            if flaky.got:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        box.wake()
        worker.join(5)
    assert [e["id"] for e in flaky.got] == ["abc123"]
    assert failures == ["KeyError: 'a bug in the sink'"]

"""Where alert events go: stdout JSON lines, syslog/journal, Alertmanager API v2, a generic JSON webhook.

Each sink runs in its own thread and pulls from the :class:`~kerncheck.watch.outbox.Outbox`: a batch is
acknowledged (its cursor persisted) only after the sink accepted it; a failure is retried with exponential
backoff (1 s doubling to 30 s), the events wait on disk meanwhile. Events carry ``seq`` (their number in
this watcher's queue) so a receiver can recognise a batch it was sent twice across a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import IO, Any, Callable, Optional

from kerncheck import __version__
from kerncheck.watch.outbox import Outbox, Queued

BATCH = 100
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0
HTTP_TIMEOUT = 10.0
JOURNAL_SOCKET = "/run/systemd/journal/socket"
DEV_LOG = "/dev/log"


class DeliveryError(Exception):
    """The sink did not accept the batch; it is retried."""


class Sink:
    kind = ""
    # Persist the cursor before writing: for a local stream that cannot refuse, so that whoever sees an event
    # knows it is acknowledged (a kill right after it is never followed by a second copy).
    ack_first = False

    def __init__(self, name: str) -> None:
        self.name = name

    def deliver(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError


def summary(event: dict[str, Any]) -> str:
    """One line for people: ``open: critical oom_kill on sda: <title> (x3)``."""
    where = f" on {event['device']}" if event.get("device") else ""
    return f"{event['state']}: {event['severity']} {event['kind']}{where}: {event['title']} (x{event['count']})"


class StdoutSink(Sink):
    """One JSON object per line (``--format jsonl``, the default when stdout is not a terminal), or text."""

    kind = "stdout"
    ack_first = True

    def __init__(self, stream: Optional[IO[str]] = None, text: bool = False) -> None:
        super().__init__("stdout")
        self.stream = stream or sys.stdout
        self.text = text

    def deliver(self, events: list[dict[str, Any]]) -> None:
        if self.text:
            out = "".join(f"{e.get('last_at', '')} {summary(e)}\n" for e in events)
        else:
            out = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        self.stream.write(out)
        self.stream.flush()


_SYSLOG_PRIORITY = {"critical": 2, "warning": 4, "info": 6}  # LOG_CRIT, LOG_WARNING, LOG_INFO
LOG_DAEMON = 3 << 3


class SyslogSink(Sink):
    """The journal's native socket (structured ``KERNCHECK_*`` fields) when present, else ``/dev/log``."""

    kind = "syslog"

    def __init__(self, journal_socket: str = JOURNAL_SOCKET, dev_log: str = DEV_LOG) -> None:
        super().__init__("syslog")
        self.journal_socket, self.dev_log = journal_socket, dev_log

    def _send(self, path: str, payload: bytes) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(path)
            sock.send(payload)

    def deliver(self, events: list[dict[str, Any]]) -> None:
        try:
            for e in events:
                prio = _SYSLOG_PRIORITY.get(e.get("severity", ""), 4)
                text = summary(e).replace("\n", " ")
                if os.path.exists(self.journal_socket):
                    fields = {"MESSAGE": text, "PRIORITY": str(prio), "SYSLOG_IDENTIFIER": "kerncheck",
                              "KERNCHECK_ID": e["id"], "KERNCHECK_STATE": e["state"], "KERNCHECK_KIND": e["kind"],
                              "KERNCHECK_DEVICE": e.get("device") or "",
                              "KERNCHECK_EVENT": json.dumps(e, separators=(",", ":"))}
                    self._send(self.journal_socket, "".join(f"{k}={v}\n" for k, v in fields.items()).encode())
                else:
                    self._send(self.dev_log, f"<{LOG_DAEMON | prio}>kerncheck[{os.getpid()}]: {text}".encode())
        except OSError as exc:
            raise DeliveryError(f"syslog: {exc.strerror or exc}") from None


def _post(url: str, body: Any) -> None:
    data = json.dumps(body, separators=(",", ":")).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": f"kerncheck/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip()
        raise DeliveryError(f"{url}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{url}: {reason}") from None


def _sink_name(prefix: str, url: str) -> str:
    return f"{prefix}-{hashlib.sha1(url.encode()).hexdigest()[:10]}"


class WebhookSink(Sink):
    """POST ``{"schema": "kerncheck.watch-events/1", "events": [...]}`` to a URL."""

    kind = "webhook"

    def __init__(self, url: str) -> None:
        super().__init__(_sink_name("webhook", url))
        self.url = url

    def deliver(self, events: list[dict[str, Any]]) -> None:
        _post(self.url, {"schema": "kerncheck.watch-events/1", "events": events})


def _alertname(kind: str) -> str:
    return "Kernel" + "".join(part.capitalize() for part in kind.split("_"))


class AlertmanagerSink(Sink):
    """Alertmanager API v2 (``POST /api/v2/alerts``). Open alerts are re-sent by the watcher (keep-alives)
    and expire ``ttl`` seconds after the last one if the watcher dies; resolved ones carry ``endsAt``."""

    kind = "alertmanager"

    def __init__(self, url: str, ttl: float, now: Callable[[], float] = time.time) -> None:
        super().__init__(_sink_name("alertmanager", url))
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.ttl = ttl
        self.now = now

    def alert(self, e: dict[str, Any]) -> dict[str, Any]:
        labels = {"alertname": _alertname(e["kind"]), "host": e.get("host") or "", "kind": e["kind"],
                  "severity": e["severity"], "id": e["id"]}
        if e.get("device"):
            labels["device"] = e["device"]
        if e.get("function"):
            labels["function"] = e["function"]
        annotations = {"summary": e.get("title", ""), "description": e.get("advice") or e.get("title", ""),
                       "count": str(e.get("count", 1)), "first_seen": str(e.get("first_seen") or ""),
                       "last_seen": str(e.get("last_seen") or ""),
                       "evidence": "\n".join(e.get("evidence") or [])[:2000]}
        if e["state"] == "resolved":
            ends = e["resolved_at"]
        else:
            ends = (datetime.fromtimestamp(self.now(), timezone.utc) + timedelta(seconds=self.ttl)) \
                .isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"labels": labels, "annotations": {k: v for k, v in annotations.items() if v},
                "startsAt": e["opened_at"], "endsAt": ends}

    def deliver(self, events: list[dict[str, Any]]) -> None:
        _post(self.url, [self.alert(e) for e in events])


class SinkWorker(threading.Thread):
    """Deliver one sink's queue in order, retrying with backoff; stops when ``stop`` is set and idle."""

    def __init__(self, sink: Sink, outbox: Outbox, stop: threading.Event,
                 on_delivered: Callable[[str, int], None], on_failure: Callable[[str, str], None]) -> None:
        super().__init__(name=f"sink-{sink.name}", daemon=True)
        self.sink, self.outbox, self.stop = sink, outbox, stop
        self.on_delivered, self.on_failure = on_delivered, on_failure

    def run(self) -> None:
        backoff = BACKOFF_START
        while True:
            items: list[Queued] = self.outbox.wait(self.sink.name, BATCH, timeout=0.5)
            if not items:
                if self.stop.is_set():
                    return
                continue
            if self.sink.ack_first:
                self.outbox.delivered(self.sink.name, items[-1].n)
            try:
                self.sink.deliver([dict(q.event, seq=q.n) for q in items])
            except DeliveryError as exc:
                self.on_failure(self.sink.name, str(exc))
                if self.stop.wait(backoff):
                    return  # shutting down: what is undelivered stays queued on disk
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            except (BrokenPipeError, ValueError):  # stdout closed: nothing more can be written there
                self.on_failure(self.sink.name, "output closed")
                return
            except Exception as exc:  # a bug in a sink must not silently end its deliveries: retry later
                self.on_failure(self.sink.name, f"{type(exc).__name__}: {exc}")
                if self.stop.wait(backoff):
                    return
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_START
            if not self.sink.ack_first:
                self.outbox.delivered(self.sink.name, items[-1].n)
            self.on_delivered(self.sink.name, len(items))

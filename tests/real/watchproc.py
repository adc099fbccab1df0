"""Run the real ``kerncheck watch`` as a process for tests, and loopback receivers for its sinks.

    with WatchProcess(tmp_path, "--source", "kmsg") as w:
        w.wait_for(lambda e: e["kind"] == "oom_kill", timeout=5)

The process is stopped on exit (SIGTERM, then SIGKILL), also when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return str(resp.read().decode())


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


class WatchProcess:
    """``kerncheck watch --format jsonl`` with a state dir under ``tmp``; stdout events are collected."""

    def __init__(self, tmp: Path, *args: str, config: str = "", metrics: bool = True) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        self.config = tmp / "kerncheck.toml"
        if config or not self.config.exists():
            self.config.write_text(config)
        self.port = free_port() if metrics else None
        argv = [sys.executable, "-m", "kerncheck", "watch", "--state", str(self.state), "--format", "jsonl",
                "--config", str(self.config), "--audit-interval", "0", *args]
        if self.port:
            argv += ["--metrics-addr", f"127.0.0.1:{self.port}"]
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.stderr_path = tmp / f"watch-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=REPO)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.port:
            wait_until(lambda: self.metrics(), 30, "the watcher's /metrics")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.append((time.monotonic(), json.loads(line)))

    def metrics(self) -> str:
        return http_get(f"http://127.0.0.1:{self.port}/metrics")

    def metric(self, sample: str) -> float:
        for line in self.metrics().splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float) -> tuple[float, dict[str, Any]]:
        def find() -> Optional[tuple[float, dict[str, Any]]]:
            return next(((t, e) for t, e in list(self.events) if match(e)), None)

        if self.proc.poll() is not None:
            raise AssertionError(f"watcher exited {self.proc.returncode}: {self.stderr_path.read_text()}")
        return wait_until(find, timeout, "a matching event") or (0.0, {})

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self._stderr.close()
        return self.proc.returncode

    def __enter__(self) -> WatchProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Receiver:
    """A loopback JSON webhook receiver that can be started and stopped on a fixed port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bodies: list[Any] = []
        self.server: Optional[ThreadingHTTPServer] = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict[str, Any]]:
        return [e for body in list(self.bodies) for e in body["events"]]


class Daemon:
    """A real server binary (prometheus, alertmanager) on loopback with temp storage; killed on close."""

    def __init__(self, argv: Sequence[str], ready_url: str, log: Path) -> None:
        self._log = open(log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(list(argv), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.log_path = log
        try:
            wait_until(lambda: self.proc.poll() is not None or http_get(ready_url), 60, ready_url, step=0.2)
        except AssertionError:
            self.close()
            raise
        if self.proc.poll() is not None:
            self.close()
            raise AssertionError(f"{argv[0]} exited: {log.read_text()[-2000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

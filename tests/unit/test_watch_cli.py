"""``kerncheck watch`` refuses bad input with a clear message and exit status 3, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.conftest import REPO


def watch(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kerncheck", "watch", "--audit-interval", "0", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "kern.log"
    path.write_text("Nov 26 06:42:05 db1 kernel: [ 1.000000] Linux version 6.1.0\n")
    (tmp_path / "empty.toml").write_text("")
    return path


@pytest.mark.parametrize("args, message", [
    (("--source", "/nonexistent/kern.log"), "/nonexistent/kern.log: not a file"),
    (("--source", "/"), "/: not a file"),
    (("--webhook", "ftp://example"), "ftp://example: not an http(s) URL"),
    (("--alertmanager", "localhost:9093"), "localhost:9093: not an http(s) URL"),
    (("--metrics-addr", "9777"), "expected HOST:PORT"),
    (("--config", "/nonexistent.toml"), "/nonexistent.toml: no such file"),
])
def test_bad_arguments(log, tmp_path, args, message):
    done = watch("--source", str(log), "--state", str(tmp_path / "state"), *args)
    assert done.returncode == 3
    assert message in done.stderr and "Traceback" not in done.stderr


def test_bad_configuration_is_named(log, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[watch.kinds.io_error]\nthreshold = 0\n")
    done = watch("--source", str(log), "--state", str(tmp_path / "s"), "--config", str(cfg))
    assert done.returncode == 3
    assert "[watch.kinds.io_error].threshold must be a number ≥ 1" in done.stderr


def test_corrupt_state_is_not_silently_reset(log, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text("{not json")
    done = watch("--source", str(log), "--state", str(state), "--config", str(tmp_path / "empty.toml"))
    assert done.returncode == 3
    assert "unreadable state" in done.stderr and "move it away" in done.stderr
    assert (state / "state.json").read_text() == "{not json"


def test_unusable_state_directory(log, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = watch("--source", str(log), "--state", str(blocker / "state"), "--config", str(tmp_path / "empty.toml"))
    assert done.returncode == 3
    assert "state directory" in done.stderr and "Traceback" not in done.stderr


def test_metrics_port_in_use(log, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = watch("--source", str(log), "--state", str(tmp_path / "s"), "--config", str(tmp_path / "empty.toml"),
                     "--metrics-addr", f"127.0.0.1:{port}")
    assert done.returncode == 3
    assert "metrics:" in done.stderr and "Address already in use" in done.stderr

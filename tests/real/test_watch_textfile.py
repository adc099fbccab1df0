"""``kerncheck audit --textfile`` on this machine: the gauges match the JSON findings of the same run and
pass the real ``promtool check metrics`` (the exposition format node_exporter's textfile collector reads)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kerncheck.watch.textfile import TEXTFILE_NAME
from tests.real.watchproc import REPO

pytestmark = pytest.mark.real
NAGIOS = {"critical": 2, "warning": 1, "info": 0}


def audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kerncheck", "audit", "--format", "json", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_textfile_gauges_match_the_findings_and_pass_promtool(tmp_path):
    done = audit("--textfile", str(tmp_path))
    assert done.returncode in (0, 1, 2, 3), done.stderr
    findings = json.loads(done.stdout)["findings"]
    text = (tmp_path / TEXTFILE_NAME).read_text()
    gauges = {s.labels["id"]: s.value for f in text_string_to_metric_families(text)
              for s in f.samples if s.name == "kerncheck_check_status"}
    assert set(gauges) == {f["id"] for f in findings}
    for check_id, value in gauges.items():
        mine = [f for f in findings if f["id"] == check_id]
        fails = [NAGIOS[f["severity"]] for f in mine if f["status"] == "fail"]
        expected = max(fails) if fails else (0 if any(f["status"] == "pass" for f in mine) else 3)
        assert value == expected, (check_id, mine)
    assert sorted(p.name for p in tmp_path.iterdir()) == [TEXTFILE_NAME]
    promtool = shutil.which("promtool")
    if promtool:
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr


def test_an_unwritable_textfile_directory_is_an_error_not_a_traceback(tmp_path):
    done = audit("--textfile", str(tmp_path / "absent"))
    assert done.returncode == 3
    assert "--textfile" in done.stderr and "Traceback" not in done.stderr

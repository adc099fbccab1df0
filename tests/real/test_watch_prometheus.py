"""The fleet path with the real Debian binaries, on loopback, with temporary config and storage.

promtool checks and unit-tests the shipped rules; a real Prometheus scrapes the watcher (and loads the
rules); a real Alertmanager receives an OOM alert through API v2 and sees it resolved when the condition
clears. Each test skips with the reason when its binary is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import uuid

import pytest

from tests.real.memcg import MemoryCgroup
from tests.real.watchproc import REPO, Daemon, WatchProcess, free_port, http_get, wait_until

pytestmark = pytest.mark.real
RULES = REPO / "contrib" / "prometheus" / "kerncheck.rules.yml"
RULE_TESTS = REPO / "contrib" / "prometheus" / "kerncheck.rules.test.yml"
DASHBOARD = REPO / "contrib" / "grafana" / "kerncheck-dashboard.json"


def binary(name: str, package: str = "prometheus") -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (Debian package {package})")
    return path


@pytest.fixture
def memcg():
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("/dev/kmsg is not readable here (needs root)")
    with MemoryCgroup.create(limit_mb=48) as cg:
        yield cg


def test_promtool_checks_and_unit_tests_the_shipped_rules():
    promtool = binary("promtool")
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 10 rules found" in check.stdout
    test = subprocess.run([promtool, "test", "rules", RULE_TESTS.name], capture_output=True, text=True,
                          timeout=120, cwd=RULE_TESTS.parent)
    assert test.returncode == 0, test.stdout + test.stderr


def prom_query(port: int, query: str) -> list:
    body = http_get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    return list(json.loads(body)["data"]["result"])


def prom_query_ok(port: int, query: str) -> bool:
    body = http_get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    return bool(json.loads(body)["status"] == "success")


def test_prometheus_scrapes_the_watcher_and_sees_incidents_rise(memcg, tmp_path):
    prometheus = binary("prometheus")
    with WatchProcess(tmp_path, "--source", "kmsg", "--audit-interval", "3600") as w:  # audit once, at start
        port = free_port()
        (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{RULES}]
scrape_configs:
  - job_name: kerncheck
    static_configs: [{{targets: ["127.0.0.1:{w.port}"]}}]
""")
        prom = Daemon([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                       f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                      f"http://127.0.0.1:{port}/-/ready", tmp_path / "prometheus.log")
        try:
            wait_until(lambda: prom_query(port, 'up{job="kerncheck"} == 1'), 30, "the first scrape")
            query = 'sum(kerncheck_incidents_total{kind="oom_kill"}) or vector(0)'
            before = float(prom_query(port, query)[0]["value"][1])
            memcg.oom_kill(comm=f"kcp{uuid.uuid4().hex[:8]}")
            wait_until(lambda: float(prom_query(port, query)[0]["value"][1]) > before, 20,
                       "kerncheck_incidents_total to rise in Prometheus")
            status = wait_until(lambda: prom_query(port, 'kerncheck_check_status{job="kerncheck",id="KC101"}'),
                                30, "the periodic audit's kerncheck_check_status in Prometheus")
            assert float(status[0]["value"][1]) in (0, 1, 2, 3)
            dashboard = json.loads(DASHBOARD.read_text())
            for panel in dashboard["panels"]:  # every Grafana query is valid PromQL over these metrics
                for target in panel["targets"]:
                    expr = target["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
                    assert prom_query_ok(port, expr), (panel["title"], expr)
            assert prom_query(port, "kerncheck_watch_info")  # what the dashboard's $instance lists
            groups = json.loads(http_get(f"http://127.0.0.1:{port}/api/v1/rules"))["data"]["groups"]
            assert [g["name"] for g in groups] == ["kerncheck"]
            assert all(r["health"] == "ok" for r in groups[0]["rules"] if r.get("lastEvaluation", "").startswith("2"))
        finally:
            prom.close()


def test_alertmanager_receives_the_alert_and_sees_it_resolved(memcg, tmp_path):
    alertmanager = binary("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    (tmp_path / "alertmanager.yml").write_text("route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n")
    am = Daemon([alertmanager, f"--config.file={tmp_path / 'alertmanager.yml'}",
                 f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
                 "--cluster.listen-address="],
                f"http://127.0.0.1:{port}/-/ready", tmp_path / "alertmanager.log")
    comm = f"kca{uuid.uuid4().hex[:8]}"

    def alerts() -> list:
        return [a for a in json.loads(http_get(f"http://127.0.0.1:{port}/api/v2/alerts"))
                if a["labels"].get("kind") == "oom_kill" and comm in a["annotations"].get("summary", "")
                + a["annotations"].get("evidence", "")]

    try:
        config = "[watch.kinds.oom_kill]\nclear_after = 4\n"
        with WatchProcess(tmp_path, "--source", "kmsg", "--alertmanager", f"http://127.0.0.1:{port}",
                          config=config) as w:
            memcg.oom_kill(comm=comm)
            _, opened = w.wait_for(lambda e: e["kind"] == "oom_kill" and e["process"]["comm"] == comm, 10)
            active = wait_until(alerts, 10, "the alert in Alertmanager")
            assert active[0]["status"]["state"] == "active"
            labels = active[0]["labels"]
            assert labels["alertname"] == "KernelOomKill" and labels["id"] == opened["id"]
            assert labels["severity"] == opened["severity"] and labels["host"]
            w.wait_for(lambda e: e["id"] == opened["id"] and e["state"] == "resolved", 15)
            started = time.monotonic()
            wait_until(lambda: not alerts(), 10, "the alert to be resolved in Alertmanager")
            assert time.monotonic() - started < 10  # well before its 15-minute keep-alive expiry
    finally:
        am.close()

"""Metric exposition as Prometheus reads it: counters restored across restarts, conditions drop to 0."""

from __future__ import annotations

import urllib.request

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kerncheck.finding import Finding, Severity, Status
from kerncheck.logs.model import Incident
from kerncheck.watch.metrics import WatchMetrics, parse_addr
from kerncheck.watch.settings import WatchSettings
from kerncheck.watch.textfile import TEXTFILE_NAME, check_statuses, write_textfile
from kerncheck.watch.tracker import Tracker


def samples(registry) -> dict:
    out = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def finding(check_id: str, status: Status, severity: Severity = Severity.CRITICAL) -> Finding:
    return Finding(check_id, status, severity, "t", "m", {}, "")


def test_counters_survive_a_restart_through_the_saved_state():
    m = WatchMetrics("kmsg")
    m.count_incident("oom_kill", "warning", 2)
    m.count_records(100, 3, 7)
    again = WatchMetrics("kmsg")
    again.restore(m.saved)
    got = samples(again.registry)
    assert got[("kerncheck_incidents_total", (("kind", "oom_kill"), ("severity", "warning")))] == 2
    assert got[("kerncheck_kmsg_lost_records_total", ())] == 7
    assert got[("kerncheck_userspace_records_total", ())] == 3
    assert got[("kerncheck_records_total", ())] == 100
    assert ("process_resident_memory_bytes", ()) in got


def test_condition_gauge_follows_the_tracker_and_drops_to_zero():
    m = WatchMetrics("kmsg")
    t = Tracker(WatchSettings(), "h")
    t.observe(Incident(kind="fs_readonly", severity="critical", title="ro", device="sda1"), 0)
    m.set_conditions(t.conditions())
    key = ("kerncheck_condition", (("device", "sda1"), ("kind", "fs_readonly")))
    assert samples(m.registry)[key] == 1
    m.set_conditions([])
    assert samples(m.registry)[key] == 0


def test_check_status_uses_the_nagios_scale():
    statuses = check_statuses([
        finding("KC101", Status.FAIL), finding("KC102", Status.FAIL, Severity.WARNING),
        finding("KC103", Status.PASS), finding("KC104", Status.SKIP), finding("KC105", Status.ERROR),
        finding("KC301", Status.PASS), finding("KC301", Status.FAIL, Severity.WARNING),
    ])
    assert statuses == {"KC101": 2, "KC102": 1, "KC103": 0, "KC104": 3, "KC105": 3, "KC301": 1}


def test_textfile_is_written_for_node_exporter(tmp_path):
    path = write_textfile(str(tmp_path), [finding("KC101", Status.FAIL)], 1700000000.0, 1.5)
    assert path == str(tmp_path / TEXTFILE_NAME)
    assert [p.name for p in tmp_path.iterdir()] == [TEXTFILE_NAME]  # no temporary file left behind
    text = (tmp_path / TEXTFILE_NAME).read_text()
    got = {(s.name, tuple(s.labels.items())): s.value
           for f in text_string_to_metric_families(text) for s in f.samples}
    assert got[("kerncheck_check_status", (("id", "KC101"),))] == 2
    assert got[("kerncheck_audit_last_run_timestamp_seconds", ())] == 1700000000.0


def test_metrics_are_served_over_http_on_loopback():
    m = WatchMetrics("file")
    m.count_incident("soft_lockup", "critical")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    m.serve(f"127.0.0.1:{port}")
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'kerncheck_incidents_total{kind="soft_lockup",severity="critical"} 1.0' in body


def test_parse_addr():
    assert parse_addr("127.0.0.1:9777") == ("127.0.0.1", 9777)
    assert parse_addr("[::1]:9777") == ("::1", 9777)
    assert parse_addr(":9777") == ("0.0.0.0", 9777)
    for bad in ("9777", "host:", "h:99999"):
        try:
            parse_addr(bad)
        except ValueError as exc:
            assert "HOST:PORT" in str(exc)
        else:
            raise AssertionError(bad)

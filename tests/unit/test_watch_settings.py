"""The [watch] table: defaults, overrides, and a clear error for every mistake."""

from __future__ import annotations

import pytest

from kerncheck.config import ConfigError, load_config, section
from kerncheck.watch.settings import from_config


def test_defaults_carry_the_issue_thresholds():
    s = from_config({})
    assert s.state_dir == "/var/lib/kerncheck/watch"
    assert (s.policy("io_error").threshold, s.policy("io_error").window) == (3, 600)
    assert s.policy("fs_readonly").clear_when_remounted and s.policy("fs_readonly").clear_after == 0
    assert s.policy("soft_lockup").clear_after == 600
    assert s.policy("oops").threshold == 1


def test_a_real_toml_file_overrides_per_kind(tmp_path):
    path = tmp_path / "kerncheck.toml"
    path.write_text("""
[watch]
state = "/srv/kc"
repeat_interval = 30
alertmanager = "http://127.0.0.1:9093"
webhook = ["http://127.0.0.1:8080/hook"]

[watch.kinds.io_error]
threshold = 5
window = 60

[watch.kinds.soft_lockup]
severity = "warning"
clear_after = 120
""")
    s = from_config(section(load_config(str(path)), "watch"))
    assert s.state_dir == "/srv/kc" and s.repeat_interval == 30
    assert s.alertmanager == ["http://127.0.0.1:9093"] and s.webhook == ["http://127.0.0.1:8080/hook"]
    assert (s.policy("io_error").threshold, s.policy("io_error").window) == (5, 60)
    assert s.policy("soft_lockup").severity == "warning" and s.policy("soft_lockup").clear_after == 120


@pytest.mark.parametrize("table, message", [
    ({"kinds": {"disk_on_fire": {}}}, "unknown incident kind"),
    ({"kinds": {"oom_kill": {"severity": "urgent"}}}, "severity must be one of"),
    ({"kinds": {"io_error": {"threshold": 0}}}, "threshold must be a number ≥ 1"),
    ({"kinds": {"io_error": {"windw": 10}}}, "unknown key(s) windw"),
    ({"repeat_interval": "often"}, "repeat_interval must be a number"),
    ({"webhook": ["ftp://x"]}, "list of http(s) URLs"),
    ({"sinks": []}, "unknown key(s) sinks"),
])
def test_mistakes_are_named(table, message):
    with pytest.raises(ConfigError, match=None) as exc:
        from_config(table)
    assert message in str(exc.value)

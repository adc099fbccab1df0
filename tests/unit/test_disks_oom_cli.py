"""``kerncheck disks`` and ``kerncheck oom`` on fixture hosts: text, JSON contract, exit statuses, bad input.

``disks-failing-lvm``: sdb carries two LVM volumes (/srv on dm-3, /backup on dm-4); the kernel log shows
medium errors on sdb and ext4 errors on dm-3; smartctl is not installed. ``oom-memcg-recurring``: the real
OOM reports of this VM's kernel (one victim killed three times while its memcg limit was raised), a JVM
whose -Xmx equals its cgroup limit, a batch cgroup at 93 % of its limit.
"""

from __future__ import annotations

import json

import pytest

from kerncheck.cli import main
from tests.conftest import FIXTURE_HOSTS

DISKS = str(FIXTURE_HOSTS / "disks-failing-lvm")
OOM = str(FIXTURE_HOSTS / "oom-memcg-recurring")


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNCHECK_STATE_DIR", str(tmp_path))


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    rc = main([*argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_disks_json_maps_lvm_errors_to_the_disk(capsys) -> None:
    rc, doc = run_json(capsys, "disks", "--root", DISKS)
    assert rc == 2 == doc["exit_status"] and doc["schema"] == "kerncheck.disks/1"
    disks = {d["device"]: d for d in doc["disks"]}
    assert set(disks) == {"/dev/sda", "/dev/sdb"}
    sdb = disks["/dev/sdb"]
    assert sdb["state"] == "failing" and sdb["severity"] == "critical"
    assert {(k["kind"], k["device"]) for k in sdb["kernel_log"]} == {("medium_error", "sdb"), ("fs_error", "dm-3")}
    (ext4,) = [f for f in sdb["filesystems"] if f["errors"]]
    assert ext4 == {"device": "dm-3", "fstype": "ext4", "mount_point": "/srv", "errors": 12,
                    "first_error": "2026-11-24 23:02:29 UTC in ext4_find_entry",
                    "last_error": "2026-11-25 22:42:29 UTC in ext4_lookup", "read_only": False}
    assert "replace it, don't wait" in sdb["advice"]
    assert disks["/dev/sda"]["state"] == "unknown" and "install smartmontools" in doc["smartctl_missing"]
    findings = {(f["id"], f.get("subject")): f for f in doc["findings"]}
    assert findings[("KC301", "/dev/sda")]["status"] == "skip"
    assert findings[("KC301", "/dev/sdb")]["status"] == "fail"
    backup = findings[("KC302", "/backup")]
    assert backup["status"] == "fail" and backup["severity"] == "critical"
    assert "same physical disk (/dev/sdb) as data /srv" in backup["message"]
    (placement,) = doc["backups"]
    assert placement["overlaps"] == [{"with": "/srv", "role": "data", "same_filesystem": False,
                                      "shared_disks": ["/dev/sdb"]}]


def test_disks_text_report(capsys) -> None:
    assert main(["disks", "--root", DISKS]) == 2
    out = capsys.readouterr().out
    assert "/dev/sdb  FAILING" in out and "/dev/sda  UNKNOWN" in out
    assert "critical kernel log: 2 × medium errors (unreadable sectors) on sdb" in out
    assert "ext4 on dm-3 mounted on /srv has recorded 12 error(s)" in out
    assert "⇒ next   The disk is actively failing: replace it, don't wait." in out
    assert "2 disk(s): 1 failing, 0 degraded, 1 without a SMART verdict — exit 2" in out
    assert not [line for line in out.splitlines() if line != line.rstrip()]


def test_disks_of_one_named_device(capsys) -> None:
    rc, doc = run_json(capsys, "disks", "--root", DISKS, "/srv")
    assert [d["device"] for d in doc["disks"]] == ["/dev/sdb"] and rc == 2
    assert doc["backups"] == [] and {f["id"] for f in doc["findings"]} == {"KC301"}


def test_disks_bad_device_and_config_are_clear_errors(capsys, tmp_path) -> None:
    assert main(["disks", "--root", DISKS, "/dev/nosuch"]) == 3
    assert "/dev/nosuch" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[disks]\nbackup_paths = 'relative/path'\n")
    rc = main(["disks", "--root", DISKS, "--config", str(bad), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    (kc302,) = [f for f in doc["findings"] if f["id"] == "KC302"]
    assert kc302["status"] == "error" and "must be a list of absolute paths" in kc302["message"]
    assert rc == 2
    assert main(["disks", "--config", str(tmp_path / "missing.toml")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_oom_json_report(capsys) -> None:
    rc, doc = run_json(capsys, "oom", "--root", OOM)
    assert rc == 2 == doc["exit_status"] and doc["schema"] == "kerncheck.oom/1" and doc["severity"] == "critical"
    (victim,) = doc["victims"]
    assert victim["victim"] == "kc-leaky-svc" and victim["memcg"] == "/kc7-capture" and victim["kill_count"] == 3
    assert [v["verdict"] for v in victim["verdicts"]] == ["recurring_victim", "leak_suspected"]
    assert victim["rss_at_kill_kb"] == [48896 + 5992, 65280 + 6016, 97920 + 5960]
    assert [k["memcg_limit_kb"] for k in victim["kills"]] == [49152, 65536, 98304]
    assert victim["kills"][0]["largest_tasks"][0]["comm"] == "kc-leaky-svc"
    (jvm,) = doc["jvms"]
    assert jvm["pid"] == 4242 and jvm["heap_bytes"] == 1 << 30 and jvm["severity"] == "critical"
    assert "overriding -Xmx512m in JAVA_TOOL_OPTIONS" in jvm["heap_source"]
    assert {c["cgroup"]: c["severity"] for c in doc["cgroups"]} == {"/batch": "warning", "/billing": None}
    assert doc["notes"] == ["no earlier boot in the journal (No journal files were found.)"]


def test_oom_text_report(capsys) -> None:
    assert main(["oom", "--root", OOM]) == 2
    out = capsys.readouterr().out
    assert "kc-leaky-svc in /kc7-capture  CRITICAL" in out
    assert ("killed 3 times, every 0.2 s (median), RSS at kill 53.6M → 69.6M → 101.4M, "
            "memcg limit 48M → 64M → 96M") in out
    assert "leak suspected: RSS at the kill grew 53.6M → 69.6M → 101.4M while its limit was raised" in out
    assert "next: Find the leak before the next restart" in out
    assert "java billing.jar (pid 4242)  CRITICAL" in out
    assert not [line for line in out.splitlines() if line != line.rstrip()]


def test_oom_on_log_files_only(capsys, tmp_path) -> None:
    log = FIXTURE_HOSTS / "oom-memcg-recurring" / "commands" / "dmesg_-r"
    rc, doc = run_json(capsys, "oom", str(log))
    assert rc == 2 and doc["host"] == {"root": None, "kind": "files"} and doc["jvms"] == []
    (victim,) = doc["victims"]
    assert victim["kill_count"] == 3
    # Without the host's RAM, a memcg kill without growth cannot be called "limit too low".
    rc, doc = run_json(capsys, "oom", str(tmp_path / "nothing.log"))
    assert rc == 3 and doc["log_error"] == "none of the given files could be read"
    assert "no such file" in doc["notes"][0]


def test_oom_usage_errors(capsys) -> None:
    assert main(["oom", "--root", OOM, "--watch-seconds", "5"]) == 3
    assert "needs the live host" in capsys.readouterr().err
    assert main(["oom", "--watch-seconds", "-1"]) == 3


def test_audit_runs_the_new_checks_on_a_fixture(capsys) -> None:
    rc = main(["audit", "--root", OOM, "--check", "KC4", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    by_id = {}
    for f in doc["findings"]:
        by_id.setdefault(f["id"], []).append(f)
    assert [f["severity"] for f in by_id["KC401"]] == ["critical"]
    assert "recurring victim" in by_id["KC401"][0]["message"]
    assert {f["subject"] for f in by_id["KC402"]} == {"java billing.jar (pid 4242)", "memory cgroup /batch"}
    assert rc == 2


def test_backups_sharing_the_kdump_filesystem(tmp_path, capsys) -> None:
    """The same host with kdump dumping into /backup/crash: the backups compete with a RAM-sized vmcore."""
    import shutil

    root = tmp_path / "host"
    shutil.copytree(DISKS, root, symlinks=True)
    (root / "etc" / "default").mkdir(parents=True)
    (root / "etc" / "default" / "kdump-tools").write_text('USE_KDUMP=1\nKDUMP_COREDIR="/backup/crash"\n')
    (root / "etc" / "kerncheck" / "kerncheck.toml").write_text('[disks]\nbackup_paths = ["/backup"]\ndata_paths = []\n')
    rc, doc = run_json(capsys, "disks", "--root", str(root))
    (placement,) = doc["backups"]
    assert placement["overlaps"] == [{"with": "/backup/crash", "role": "kdump target", "same_filesystem": True,
                                      "shared_disks": ["/dev/sdb"]}]
    (kc302,) = [f for f in doc["findings"] if f["id"] == "KC302"]
    assert "same filesystem as kdump target /backup/crash" in kc302["message"] and rc == 2

"""Thresholds, folding, conditions that clear (quiet period, remounted rw), and restore after restart."""

from __future__ import annotations

from kerncheck.logs.model import Incident
from kerncheck.watch.settings import KindPolicy, WatchSettings
from kerncheck.watch.tracker import Tracker, device_is_readonly


def io_error(device: str = "sdb") -> Incident:
    return Incident(kind="io_error", severity="warning", title=f"I/O error on {device}", device=device)


def oom(comm: str = "java", pid: int = 1) -> Incident:
    return Incident(kind="oom_kill", severity="warning", title=f"OOM kill of {comm}",
                    process={"pid": pid, "comm": comm})


def events(emitted):
    return [(e.event["state"], e.event["kind"], e.event["count"]) for e in emitted]


def test_io_errors_alert_from_the_third_on_one_device_within_the_window():
    t = Tracker(WatchSettings(), "h1")
    assert t.observe(io_error("sdb"), 0) == []
    assert t.observe(io_error("sdc"), 10) == []  # another device has its own count
    assert t.observe(io_error("sdb"), 20) == []
    out = t.observe(io_error("sdb"), 30)
    assert events(out) == [("open", "io_error", 3)]
    assert out[0].event["device"] == "sdb" and out[0].event["id"]


def test_threshold_window_expires_old_errors():
    t = Tracker(WatchSettings(), "h1")
    t.observe(io_error(), 0)
    t.observe(io_error(), 300)
    assert t.observe(io_error(), 700) == []  # the first is older than 600 s
    assert events(t.observe(io_error(), 710)) == [("open", "io_error", 3)]


def test_repeats_fold_and_are_reannounced_at_most_every_repeat_interval():
    t = Tracker(WatchSettings(repeat_interval=60), "h1")
    first = t.observe(oom(pid=1), 0)
    assert events(first) == [("open", "oom_kill", 1)]
    for pid in range(2, 100):  # an OOM storm: one condition, no event per kill
        assert t.observe(oom(pid=pid), pid * 0.1) == []
    again = t.observe(oom(pid=100), 61)
    assert events(again) == [("open", "oom_kill", 100)]
    assert again[0].event["id"] == first[0].event["id"]
    assert not again[0].refresh


def test_open_conditions_get_keepalives_and_clear_after_the_quiet_period():
    s = WatchSettings(repeat_interval=60)
    s.kinds["soft_lockup"] = KindPolicy(clear_after=100)
    t = Tracker(s, "h1")
    lock = Incident(kind="soft_lockup", severity="critical", title="soft lockup", function="ixgbe_xmit_frame")
    opened = t.observe(lock, 0)
    keepalive = t.tick(61)
    assert events(keepalive) == [("open", "soft_lockup", 1)] and keepalive[0].refresh
    assert t.tick(99) == []
    resolved = t.tick(100)
    assert events(resolved) == [("resolved", "soft_lockup", 1)]
    assert resolved[0].event["id"] == opened[0].event["id"]
    assert resolved[0].event["reason"] == "no repeat for 100s"
    assert list(t.conditions()) == []
    reopened = t.observe(lock, 200)
    assert reopened[0].event["id"] != opened[0].event["id"]


def test_ignored_kinds_never_alert_and_severity_is_overridden():
    s = WatchSettings()
    s.kinds["warning"] = KindPolicy(ignore=True)
    s.kinds["oom_kill"] = KindPolicy(severity="critical")
    t = Tracker(s, "h1")
    assert t.observe(Incident(kind="warning", severity="warning", title="WARNING"), 0) == []
    assert t.observe(oom(), 0)[0].event["severity"] == "critical"


def test_readonly_condition_clears_when_the_device_is_remounted_rw():
    state = {"loop3": True}
    t = Tracker(WatchSettings(), "h1", is_readonly=lambda dev: state[dev])
    ro = Incident(kind="fs_readonly", severity="critical", title="remounted read-only", device="loop3")
    assert events(t.observe(ro, 0)) == [("open", "fs_readonly", 1)]
    assert [e.event["state"] for e in t.tick(5000)] == ["open"]  # a keep-alive: no quiet-period clearing
    state["loop3"] = False
    out = t.tick(5001)
    assert events(out) == [("resolved", "fs_readonly", 1)]
    assert out[0].event["reason"] == "loop3 is no longer mounted read-only"


def test_unknown_device_stays_open_rather_than_clearing_on_a_guess():
    t = Tracker(WatchSettings(), "h1", is_readonly=lambda dev: None)
    t.observe(Incident(kind="fs_readonly", severity="critical", title="ro", device="sdz9"), 0)
    assert t.tick(10) == []


def test_state_round_trip_keeps_ids_counts_and_pending_thresholds():
    t = Tracker(WatchSettings(), "h1")
    opened = t.observe(oom(), 0)
    t.observe(io_error(), 1)
    t.observe(io_error(), 2)
    restored = Tracker(WatchSettings(), "h1")
    restored.restore(t.to_json())
    assert events(restored.observe(io_error(), 3)) == [("open", "io_error", 3)]
    assert next(c.id for c in restored.conditions()) == opened[0].event["id"]


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
40 22 7:3 / /mnt/data rw,relatime shared:20 - ext4 /dev/loop3 ro,errors=remount-ro
41 22 7:4 / /mnt/other rw,relatime shared:21 - xfs /dev/loop4 rw
42 27 7:0 / /tmp/kc-ro-v1UG/mnt rw,relatime - ext4 /dev/loop0 rw,errors=remount-ro,emergency_ro
"""


def test_device_is_readonly_reads_mountinfo_by_major_minor(tmp_path):
    (tmp_path / "mountinfo").write_text(MOUNTINFO)
    for name, majmin in (("sda1", "8:1"), ("loop3", "7:3"), ("loop4", "7:4"), ("loop5", "7:5"), ("loop0", "7:0")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "dev").write_text(majmin + "\n")
    mi, sysb = str(tmp_path / "mountinfo"), str(tmp_path)
    assert device_is_readonly("loop3", mi, sysb) is True  # superblock ro after an error
    assert device_is_readonly("loop0", mi, sysb) is True  # 6.x: mount still "rw", superblock emergency_ro
    assert device_is_readonly("/dev/sda1", mi, sysb) is False
    assert device_is_readonly("loop4", mi, sysb) is False
    assert device_is_readonly("loop5", mi, sysb) is False  # not mounted any more
    assert device_is_readonly("nvme9n1", mi, sysb) is None  # unknown here

"""kerncheck collect on a re-rooted host: sysfs symlinks survive, host-dependent items are captured."""

from __future__ import annotations

import os

from kerncheck import registry
from kerncheck.collect import collect_into
from kerncheck.host import LiveHost, SnapshotHost

registry.load_all()  # check modules register what they collect at import: import them before patching


def test_symlinked_sysfs_directories_are_kept(tmp_path, monkeypatch) -> None:
    root = tmp_path / "host"
    part = root / "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1"
    part.mkdir(parents=True)
    (part / "partition").write_text("1\n")
    (part.parent / "size").write_text("976773168\n")
    (root / "sys/class/block").mkdir(parents=True)
    os.symlink("../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1",
               root / "sys/class/block/sda1")
    monkeypatch.setattr(registry, "COLLECT_FILES", [*registry.COLLECT_FILES, "/sys/class/block/*/partition"])
    out = tmp_path / "snap"
    out.mkdir()
    collect_into(LiveHost(str(root)), str(out))
    assert (out / "sys/class/block/sda1").is_symlink()
    snap = SnapshotHost(str(out))
    assert snap.read_text("/sys/class/block/sda1/partition") == "1\n"
    assert snap.realpath("/sys/class/block/sda1").endswith("/block/sda/sda1")


def test_dynamic_collection(tmp_path, monkeypatch) -> None:
    root = tmp_path / "host"
    (root / "srv/crash").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/wanted").write_text("yes\n")
    dynamic = {"files": [lambda ctx: ["/etc/wanted"]], "stat": [lambda ctx: ["/srv/crash"]],
               "commands": [lambda ctx: [["echo", "dynamic", "command"]]]}
    monkeypatch.setattr(registry, "COLLECT_DYNAMIC", dynamic)
    out = tmp_path / "snap"
    out.mkdir()
    collect_into(LiveHost(str(root)), str(out))
    snap = SnapshotHost(str(out))
    assert snap.read_text("/etc/wanted") == "yes\n"
    assert snap.is_dir("/srv/crash")
    assert snap.run(["echo", "dynamic", "command"]).stdout == "dynamic command\n"

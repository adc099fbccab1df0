"""The Host seam: snapshot layout, sosreport mapping, symlinks re-rooted, df, stat manifest, live re-rooting."""

from __future__ import annotations

import json
import os

import pytest

from kerncheck.host import (
    AccessDenied,
    CommandUnavailable,
    HostError,
    LiveHost,
    NotFound,
    SnapshotHost,
    _parse_df,
    mangle_command,
)
from tests.conftest import FIXTURE_HOSTS


def make(root, files: dict[str, str]) -> None:
    for path, text in files.items():
        full = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as fh:
            fh.write(text)


def test_symlinks_resolve_inside_the_snapshot(tmp_path) -> None:
    make(tmp_path, {"/boot/vmlinuz-6.1.0-18-amd64": "kernel"})
    os.makedirs(tmp_path / "var/lib/kdump")
    os.symlink("/boot/vmlinuz-6.1.0-18-amd64", tmp_path / "var/lib/kdump/vmlinuz")
    os.symlink("../../../../etc/shadow", tmp_path / "var/lib/kdump/escape")
    host = SnapshotHost(str(tmp_path))
    assert host.read_text("/var/lib/kdump/vmlinuz") == "kernel"
    assert host.realpath("/var/lib/kdump/vmlinuz") == "/boot/vmlinuz-6.1.0-18-amd64"
    assert host.readlink("/var/lib/kdump/vmlinuz") == "/boot/vmlinuz-6.1.0-18-amd64"
    with pytest.raises(NotFound):  # ".." cannot climb out of the snapshot root
        host.read_text("/var/lib/kdump/escape")


def test_errors_are_typed(tmp_path) -> None:
    make(tmp_path, {"/etc/secret": "x"})
    os.chmod(tmp_path / "etc/secret", 0)
    host = LiveHost(str(tmp_path))
    with pytest.raises(NotFound):
        host.read_text("/etc/missing")
    with pytest.raises(HostError, match="is a directory"):
        host.read_text("/etc")
    if os.geteuid() != 0:
        with pytest.raises(AccessDenied):
            host.read_text("/etc/secret")


def test_snapshot_commands_with_exit_status(tmp_path) -> None:
    make(tmp_path, {"/commands/kdumpctl_status": "", "/commands/kdumpctl_status.rc": "3\n",
                    "/commands/kdumpctl_status.err": "kdump: Kdump is not operational\n",
                    "/commands/kdump-config_status": "", "/commands/kdump-config_status.rc": "127\n"})
    host = SnapshotHost(str(tmp_path))
    res = host.run(["kdumpctl", "status"])
    assert (res.returncode, res.stderr.strip()) == (3, "kdump: Kdump is not operational")
    with pytest.raises(CommandUnavailable, match="not installed"):
        host.run(["kdump-config", "status"])
    with pytest.raises(CommandUnavailable, match="not captured"):
        host.run(["uname", "-r"])


def test_sosreport_maps_commands_to_plugins() -> None:
    host = SnapshotHost(str(FIXTURE_HOSTS / "sosreport-rhel8"))
    assert host.kind == "sosreport" and host.absence_is_known
    res = host.run(["kdumpctl", "status"])
    assert res.returncode is None and "operational" in res.stdout
    assert host.run(["/usr/bin/uname", "-a"]).stdout.startswith("Linux db2")
    usage = host.fs_usage("/var/crash")  # from sos_commands/filesys/df_-al_-x_autofs, 1K blocks
    assert (usage.mountpoint, usage.available) == ("/", 31441920 * 1024)


def test_mangling_matches_sos() -> None:
    assert mangle_command(["sysctl", "-a"]) == "sysctl_-a"
    assert mangle_command(["/usr/sbin/kdump-config", "show"]) == "kdump-config_show"
    assert mangle_command(["ls", "-alhR", "/var/crash"]) == "ls_-alhR_.var.crash"


def test_df_parsing_handles_wrapped_devices_and_units() -> None:
    text = ("Filesystem     1K-blocks    Used Available Use% Mounted on\n"
            "/dev/mapper/very-long-volume-group-name-root\n"
            "                52403200 20961280  31441920  40% /\n"
            "tmpfs            1000000        0   1000000   0% /run/user/1000\n")
    rows = _parse_df(text)
    assert [(r.mountpoint, r.available) for r in rows] == [("/", 31441920 * 1024), ("/run/user/1000", 1024000000)]


def test_stat_manifest_describes_files_too_large_to_copy(tmp_path) -> None:
    (tmp_path / "kerncheck-snapshot.json").write_text(json.dumps({"collected_at": 1000.0}))
    (tmp_path / "kerncheck-stat.json").write_text(json.dumps({
        "/boot/vmlinuz-6.1.0-18-amd64": {"size": 7900000, "mtime": 500.0, "mode": 0o100644},
        "/var/crash": {"size": 4096, "mtime": 400.0, "mode": 0o040755},
        "/usr/lib/debug/boot/vmlinux-6.1.0-18-amd64": {"size": 1, "mtime": 1.0, "mode": 0o100644,
                                                       "build_id": "abcd"}}))
    host = SnapshotHost(str(tmp_path))
    assert host.glob("/boot/vmlinuz-*") == ["/boot/vmlinuz-6.1.0-18-amd64"]
    assert host.stat("/boot/vmlinuz-6.1.0-18-amd64").size == 7900000
    assert host.is_dir("/var/crash") and not host.is_file("/var/crash")
    assert host.build_id("/usr/lib/debug/boot/vmlinux-6.1.0-18-amd64") == "abcd"
    assert host.now() == 1000.0
    with pytest.raises(AccessDenied, match="only the metadata"):
        host.read_bytes("/boot/vmlinuz-6.1.0-18-amd64")


def test_live_host_runs_argv_without_a_shell(tmp_path) -> None:
    host = LiveHost("/")
    res = host.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (res.returncode, res.stdout, res.stderr) == (7, "out\n", "err\n")
    assert host.run(["echo", "$HOME;", "`id`"]).stdout == "$HOME; `id`\n"  # no shell expansion
    with pytest.raises(CommandUnavailable):
        host.run(["kerncheck-no-such-command"])
    from kerncheck.host import CommandTimeout

    with pytest.raises(CommandTimeout):
        host.run(["sleep", "5"], timeout=0.2)


def test_rerooted_live_host_writes_inside_its_root(tmp_path) -> None:
    host = LiveHost(str(tmp_path))
    os.makedirs(tmp_path / "proc")
    host.write_text("/proc/sysrq-trigger", "c")
    assert (tmp_path / "proc/sysrq-trigger").read_text() == "c"
    assert host.fs_usage("/proc").total > 0

"""crashkernel= parsing and resolution against RAM, following kernel/crash_reserve.c."""

from __future__ import annotations

import pytest

from kerncheck.checks.crashkernel import recommended_size
from kerncheck.parsers.cmdline import crashkernel_plan, parse_cmdline, parse_crashkernel
from kerncheck.parsers.units import GiB, MiB

RHEL = "1G-4G:192M,4G-64G:256M,64G-:512M"
UBUNTU = "2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M"


@pytest.mark.parametrize(("spec", "ram", "size"), [
    ("256M", 16 * GiB, 256 * MiB),
    ("256M@16M", 16 * GiB, 256 * MiB),
    ("0x10000000", 16 * GiB, 256 * MiB),
    ("512M-2G:64M,2G-:128M", 1 * GiB, 64 * MiB),
    ("512M-2G:64M,2G-:128M", 4 * GiB, 128 * MiB),
    ("512M-2G:64M,2G-:128M", 256 * MiB, 0),  # below every range
    (RHEL, 32 * GiB, 256 * MiB),
    (RHEL, 256 * GiB, 512 * MiB),
    (UBUNTU, 48 * GiB, 1024 * MiB),
    (UBUNTU, 1 * GiB, 0),  # Ubuntu's default reserves nothing below 2G
    ("512M-:192M", 16 * GiB, 192 * MiB),  # Debian
])
def test_resolve(spec: str, ram: int, size: int) -> None:
    assert parse_crashkernel(spec).resolve(ram)[0] == size


def test_ram_is_rounded_up_to_128m_before_matching() -> None:
    # 3.9G of MemTotal rounds up to 4G, which selects the 4G- range (start inclusive, end exclusive)
    assert parse_crashkernel("2G-4G:128M,4G-:256M").resolve(4 * GiB - 100 * MiB)[0] == 256 * MiB
    assert parse_crashkernel("2G-4G:128M,4G-:256M").resolve(4 * GiB - 200 * MiB)[0] == 128 * MiB


@pytest.mark.parametrize(("spec", "reason"), [
    ("auto", "rejected by upstream"),
    ("banana", "memory value expected"),
    ("1G-512M:64M", "ends before it starts"),
    ("256M@junk", "bad offset"),
    ("16G", "not smaller than RAM"),
])
def test_invalid_forms_reserve_nothing_with_a_reason(spec: str, reason: str) -> None:
    size, why = parse_crashkernel(spec).resolve(8 * GiB)
    assert size == 0
    assert reason in why


def test_suffixes_and_selection() -> None:
    plan = crashkernel_plan(parse_cmdline("ro crashkernel=72M,low crashkernel=300M,high quiet"))
    assert plan.main is not None and plan.main.suffix == "high"
    assert plan.low is not None and plan.low.size == 72 * MiB
    assert plan.expected_bytes(8 * GiB) == (372 * MiB, None)


def test_plain_form_wins_over_high_and_last_plain_wins() -> None:
    plan = crashkernel_plan(parse_cmdline("crashkernel=1G,high crashkernel=128M crashkernel=256M"))
    assert plan.main is not None and plan.main.raw == "256M"
    assert sorted(plan.ignored) == ["128M", "1G,high"]


def test_cma_is_additional_and_not_counted() -> None:
    plan = crashkernel_plan(parse_cmdline("crashkernel=256M crashkernel=1G,cma"))
    assert plan.cma is not None and plan.cma.size == GiB
    assert plan.expected_bytes(64 * GiB)[0] == 256 * MiB


def test_no_parameter() -> None:
    plan = crashkernel_plan(parse_cmdline("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro"))
    assert plan.main is None
    assert plan.expected_bytes(8 * GiB) == (0, "no crashkernel= parameter")


def test_cmdline_quotes_and_init_args() -> None:
    cmd = parse_cmdline('root=/dev/sda1 dyndbg="file foo.c +p" crashkernel=256M -- single crashkernel=1G')
    assert cmd.last("dyndbg") == "file foo.c +p"
    assert cmd.values("crashkernel") == ["256M"]
    assert cmd.has("root") and not cmd.has("single")


@pytest.mark.parametrize(("ram", "needed"), [
    (2 * GiB, 192 * MiB), (4 * GiB, 256 * MiB), (63 * GiB, 256 * MiB), (64 * GiB, 512 * MiB),
    (256 * GiB, 512 * MiB), (1024 * GiB, 1024 * MiB), (4096 * GiB, 1024 * MiB),
])
def test_rule_of_thumb(ram: int, needed: int) -> None:
    assert recommended_size(ram) == needed

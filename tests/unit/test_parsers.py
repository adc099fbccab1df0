"""Pure parsers, fed the literal text the kernel and the tools print."""

from __future__ import annotations

import struct

from kerncheck.checks.sysrq import decode_sysrq
from kerncheck.parsers.elf import build_id_from_elf, build_id_from_notes
from kerncheck.parsers.kdumpconf import parse_kdump_conf
from kerncheck.parsers.makedumpfile import parse_mem_usage
from kerncheck.parsers.meminfo import iomem_total, parse_iomem, parse_meminfo
from kerncheck.parsers.osrelease import parse_os_release
from kerncheck.parsers.shellvars import parse_shell_vars
from kerncheck.parsers.sysctl import parse_sysctl_a
from kerncheck.parsers.units import GiB, MiB, human, memparse

MEM_USAGE = """\
The kernel version is not supported.
The makedumpfile operation may be incomplete.

TYPE		PAGES			EXCLUDABLE	DESCRIPTION
----------------------------------------------------------------------
ZERO		21299    		yes		Pages filled with zero
NON_PRI_CACHE	91785    		yes		Cache pages without private flag
PRI_CACHE	1        		yes		Cache pages with private flag
USER		15091    		yes		User process pages
FREE		1180432  		yes		Free pages
KERN_DATA	29608    		no		Dumpable kernel data 

page size:		4096            
Total pages on system:	1338216         
Total size on system:	5481332736       Byte
"""


def test_mem_usage_dump_levels() -> None:
    usage = parse_mem_usage(MEM_USAGE)
    assert usage.dump_bytes(31) == 29608 * 4096
    assert usage.dump_bytes(0) == sum(usage.pages.values()) * 4096
    assert usage.dump_bytes(1) == (sum(usage.pages.values()) - 21299) * 4096


def test_iomem_crash_kernel_high_and_low() -> None:
    text = ("00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n00100000-7ffdffff : System RAM\n"
            "  6b800000-6fffffff : Crash kernel\n  01000000-01e03fff : Kernel code\n"
            "100000000-17fffffff : System RAM\n  15d000000-16fffffff : Crash kernel\n")
    ranges = parse_iomem(text)
    assert iomem_total(ranges, "Crash kernel") == 72 * MiB + 304 * MiB
    assert [r.depth for r in ranges if r.name == "Crash kernel"] == [1, 1]


def test_iomem_without_privileges_reads_as_unknown() -> None:
    text = "00000000-00000000 : System RAM\n  00000000-00000000 : Crash kernel\n"
    assert iomem_total(parse_iomem(text), "Crash kernel") == 0


def test_meminfo_units() -> None:
    info = parse_meminfo("MemTotal:       16316412 kB\nHugePages_Total:       4\nbogus line\n")
    assert info == {"MemTotal": 16316412 * 1024, "HugePages_Total": 4}


def test_sysctl_a() -> None:
    values = parse_sysctl_a("kernel.sysrq = 16\nkernel.core_pattern = |/usr/lib/systemd/systemd-coredump %P\n"
                            "sysctl: permission denied on key 'fs.protected_hardlinks'\n")
    assert values == {"kernel.sysrq": "16", "kernel.core_pattern": "|/usr/lib/systemd/systemd-coredump %P"}


def test_os_release_families() -> None:
    assert parse_os_release('ID="almalinux"\nID_LIKE="rhel centos fedora"\n').family == "rhel"
    assert parse_os_release("ID=ubuntu\nID_LIKE=debian\n").family == "debian"
    assert parse_os_release('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n').family == "suse"
    assert parse_os_release("ID=arch\n").family == "unknown"
    assert parse_os_release('PRETTY_NAME="unterminated\n').family == "unknown"


def test_shell_vars_from_kdump_tools() -> None:
    text = ('# USE_KDUMP - controls kdump will be configured\nUSE_KDUMP=1\n'
            '#KDUMP_COREDIR="/var/crash"\nKDUMP_COREDIR="/srv/crash" # local\nMAKEDUMP_ARGS="-c -d 31"\n'
            'SSH="kdump@backup"\nbroken="unterminated\n')
    assert parse_shell_vars(text) == {"USE_KDUMP": "1", "KDUMP_COREDIR": "/srv/crash",
                                      "MAKEDUMP_ARGS": "-c -d 31", "SSH": "kdump@backup"}


def test_kdump_conf_targets() -> None:
    conf = parse_kdump_conf("#raw /dev/vg/lv_kdump\nnfs my.server.com:/export/tmp\npath /var/crash\n"
                            "core_collector makedumpfile -F -l --message-level 7 -d 31\n")
    assert conf.target == ("nfs", "my.server.com:/export/tmp")
    assert conf.collector.endswith("-d 31")
    assert parse_kdump_conf("").path == "/var/crash"


def test_build_id_from_notes_skips_other_notes() -> None:
    xen = struct.pack("<III", 4, 8, 1) + b"Xen\0" + b"\1" * 8
    gnu = struct.pack("<III", 4, 20, 3) + b"GNU\0" + bytes(range(20))
    assert build_id_from_notes(xen + gnu) == bytes(range(20)).hex()
    assert build_id_from_notes(xen) is None


def test_build_id_of_a_real_elf_binary() -> None:
    with open("/bin/sh", "rb") as fh:
        data = fh.read()
    found = build_id_from_elf(lambda off, n: data[off:off + n])
    assert found is not None and len(found) == 40
    assert build_id_from_elf(lambda off, n: b"not an elf file"[off:off + n]) is None


def test_sizes() -> None:
    assert memparse("512M") == 512 * MiB and memparse("1g") == GiB
    assert human(192 * MiB) == "192M" and human(3 * GiB // 2) == "1.5G" and human(100) == "100B"


def test_sysrq_decoding_of_distribution_defaults() -> None:
    assert decode_sysrq(16) == ["s (emergency sync)"]
    assert [g.split(" (")[0] for g in decode_sysrq(438)] == ["0-9", "k r", "s", "u", "b o", "n"]
    assert decode_sysrq(0) == []

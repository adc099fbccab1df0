"""Command-line entry point: parse arguments, hand off to a command module, return its exit status.

Each sub-command lives in :mod:`kerncheck.commands` as a module with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Argument definitions stay import-light; heavy imports happen inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Optional

from kerncheck import __version__

# name → module under kerncheck.commands; the order is the order of ``kerncheck --help``.
COMMANDS = {
    "audit": "audit",
    "explain": "explain",
    "collect": "collect",
    "fsck": "fsck",
    "crash-test": "crash_test",
    "watch": "watch",
    "scan": "scan",
    "disks": "disks",
    "oom": "oom",
}

# Usage errors must not look like a verdict: 3 is Nagios' UNKNOWN; guards refuse with 64.
USAGE_ERROR = 3


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with a configurable status instead of 2 (critical)."""

    usage_status = USAGE_ERROR

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(self.usage_status, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="kerncheck", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.description = "Keep Linux hosts from losing kernel evidence, and guard the dangerous commands."
    parser.add_argument("--version", action="version", version=f"kerncheck {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"kerncheck.commands.{module_name}")
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        sp.usage_status = getattr(module, "USAGE_STATUS", USAGE_ERROR)
        module.add_arguments(sp)
        sp.set_defaults(_module=module, _parser=sp)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the sub-command's parser, so its usage status applies (guards refuse: 64)
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if not getattr(args, "_module", None):
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return int(args._module.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

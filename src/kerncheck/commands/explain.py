"""``kerncheck explain ID``: the documentation of a check or an incident kind."""

from __future__ import annotations

import argparse
import sys

HELP = "explain a check (KC101) or an incident kind (soft_lockup): what, why, fix, references"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", nargs="?", metavar="ID", help="check ID or incident kind; omit to list all")


def run(args: argparse.Namespace) -> int:
    from kerncheck import registry

    if not args.id:
        for doc in registry.all_docs():
            print(f"{doc.id:14} {doc.title}")
        return 0
    try:
        doc = registry.lookup(args.id)
    except KeyError:
        print(f"kerncheck explain: unknown ID {args.id!r}; `kerncheck explain` lists them", file=sys.stderr)
        return 3
    sys.stdout.write(doc.render())
    return 0

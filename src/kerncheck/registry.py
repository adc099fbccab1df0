"""One registry for every audit check and every incident kind, with user-facing documentation.

A check is a function taking a :class:`~kerncheck.facts.Context` and returning one
:class:`~kerncheck.finding.Result` or a list of them (one per device, kernel…)::

    @check(id="KC201", title="SysRq allows emergency keys", severity=Severity.WARNING)
    def sysrq(ctx):
        '''Decode kernel.sysrq ...

        What it checks:
            ...
        Why it matters:
            ...
        Fix:
            ...
        References:
            ...
        '''

The docstring sections are shown by ``kerncheck explain ID``; a conformance test requires all four.
Incident kinds register the same kind of documentation with :func:`document`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

from kerncheck.finding import Result, Severity

if TYPE_CHECKING:
    from kerncheck.facts import Context

SECTIONS = ("What it checks", "Why it matters", "Fix", "References")
_SECTION_RE = re.compile(r"^(" + "|".join(re.escape(s) for s in SECTIONS) + r"):\s*$", re.MULTILINE)

CheckFunc = Callable[["Context"], Union[Result, Iterable[Result]]]


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    summary: str
    sections: dict[str, str]

    def render(self) -> str:
        lines = [f"{self.id}: {self.title}", ""]
        if self.summary:
            lines += [self.summary, ""]
        for name in SECTIONS:
            if name in self.sections:
                lines.append(f"{name}:")
                lines += ["    " + ln if ln else "" for ln in self.sections[name].splitlines()]
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    func: CheckFunc
    doc: Doc

    @property
    def fix(self) -> str:
        return self.doc.sections.get("Fix", "").split("\n\n")[0].replace("\n", " ").strip()


CHECKS: dict[str, CheckSpec] = {}
DOCS: dict[str, Doc] = {}

# What ``kerncheck collect`` must capture for the checks to run offline; filled by :func:`collects`.
COLLECT_FILES: list[str] = []
COLLECT_STAT: list[str] = []
COLLECT_COMMANDS: list[tuple[str, ...]] = []


DynamicCollect = Callable[["Context"], Iterable[Any]]
COLLECT_DYNAMIC: dict[str, list[DynamicCollect]] = {"files": [], "stat": [], "commands": []}


def collects_from(kind: str) -> Callable[[DynamicCollect], DynamicCollect]:
    """Declare what ``kerncheck collect`` must capture when it depends on the host.

    The decorated function takes a :class:`~kerncheck.facts.Context` of the live host and returns host
    paths whose content to copy (``"files"``: e.g. only Java processes' command lines), paths to record by
    metadata (``"stat"``: e.g. the configured dump path), or argv lists to run (``"commands"``: e.g.
    ``smartctl -a`` per disk).
    """
    if kind not in COLLECT_DYNAMIC:
        raise ValueError(f"collects_from kind must be one of {', '.join(COLLECT_DYNAMIC)}")

    def wrap(func: DynamicCollect) -> DynamicCollect:
        COLLECT_DYNAMIC[kind].append(func)
        return func

    return wrap


def collects(*patterns: str, stat_only: Sequence[str] = (), commands: Iterable[Sequence[str]] = ()) -> None:
    """Declare the host files (shell patterns), metadata-only files and commands a check module reads.

    ``stat_only`` files (kernels, initrds, dumps) are recorded with size, times and ELF build-id but not
    copied.
    """
    COLLECT_FILES.extend(p for p in patterns if p not in COLLECT_FILES)
    COLLECT_STAT.extend(p for p in stat_only if p not in COLLECT_STAT)
    for argv in commands:
        if tuple(argv) not in COLLECT_COMMANDS:
            COLLECT_COMMANDS.append(tuple(argv))


def cleandoc(text: str) -> str:
    r"""``inspect.cleandoc`` without importing :mod:`inspect` (it costs audit start-up time).

    >>> cleandoc("Title.\n\n    Body\n      indented\n")
    'Title.\n\nBody\n  indented'
    """
    lines = text.expandtabs().split("\n")
    rest = [ln for ln in lines[1:] if ln.strip()]
    margin = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
    out = [lines[0].strip()] + [ln[margin:].rstrip() for ln in lines[1:]]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def parse_doc(id: str, title: str, text: str) -> Doc:
    """Split a docstring into its summary and the fixed sections."""
    text = cleandoc(text or "").replace("``", "`")  # docstrings use reST literals; show them plainly
    pieces = _SECTION_RE.split(text)
    summary = pieces[0].strip()
    sections: dict[str, str] = {}
    for name, body in zip(pieces[1::2], pieces[2::2]):
        sections[name] = cleandoc(body).strip()
    return Doc(id, title, summary, sections)


def document(id: str, title: str, text: str) -> Doc:
    """Register documentation for a non-check ID (an incident kind, for example)."""
    if id in DOCS:
        raise ValueError(f"duplicate registry ID {id}")
    doc = parse_doc(id, title, text)
    DOCS[id] = doc
    return doc


def check(id: str, title: str, severity: Severity) -> Callable[[CheckFunc], CheckFunc]:
    """Register an audit check under a stable ID (``KC`` + three digits)."""
    if not re.fullmatch(r"KC\d{3}", id):
        raise ValueError(f"check IDs look like KC101, not {id!r}")

    def wrap(func: CheckFunc) -> CheckFunc:
        if id in DOCS:
            raise ValueError(f"duplicate registry ID {id}")
        doc = parse_doc(id, title, func.__doc__ or "")
        DOCS[id] = doc
        CHECKS[id] = CheckSpec(id, title, severity, func, doc)
        return func

    return wrap


_loaded = False


def load_all() -> dict[str, CheckSpec]:
    """Import every module under :mod:`kerncheck.checks` so their checks register."""
    global _loaded
    if not _loaded:
        import kerncheck.checks as pkg

        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        _loaded = True
    return dict(sorted(CHECKS.items()))


def all_docs() -> list[Doc]:
    """Every documented ID: checks first (by ID), then incident kinds."""
    load_all()
    _load_kind_docs()
    return sorted(DOCS.values(), key=lambda d: (not d.id.startswith("KC"), d.id))


def lookup(id: str) -> Doc:
    load_all()
    _load_kind_docs()
    key = id if id in DOCS else id.upper()
    if key not in DOCS:
        raise KeyError(id)
    return DOCS[key]


def _load_kind_docs() -> None:
    """Incident-kind documentation lives with the log engine; import it when present."""
    try:
        importlib.import_module("kerncheck.logs.kinds")
    except ModuleNotFoundError as exc:
        if exc.name != "kerncheck.logs.kinds":
            raise

"""Why the lab could not do what it was asked, in words a CI log can show as is."""

from __future__ import annotations


class LabError(Exception):
    """The lab failed; ``str()`` is the reason."""


class LabUnavailable(LabError):
    """Something the lab needs is missing from this machine (QEMU, apt, a download): tests skip on it."""


class UnknownCase(LabError):
    """A case name the lab does not have."""

"""kerncheck: keep Linux operators from losing kernel evidence or breaking their own machines."""

__version__ = "0.1.0"

"""Sub-commands of the ``kerncheck`` CLI (see :mod:`kerncheck.cli`)."""

"""Audit checks, one module per area; every module here is imported by :func:`kerncheck.registry.load_all`.

Checks read the machine only through ``ctx.host`` (a conformance test enforces it).
"""

"""The examples in docstrings are tests too."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kerncheck

MODULES = sorted(m.name for m in pkgutil.walk_packages(kerncheck.__path__, "kerncheck.")
                 if m.name != "kerncheck.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0

"""The examples in the public docstrings run and print what they say."""
import doctest
import importlib

import pytest

MODULES = ["photolink.symbols.formats", "photolink.symbols.stream", "photolink.symbols.coherent", "photolink.fec", "photolink.fec.bursts"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

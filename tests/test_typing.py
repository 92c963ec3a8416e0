"""The public surface is typed (issue 15, item 8): every public function and method reachable
from ``photolink.__all__`` annotates each parameter and its return, and the hints resolve."""
import inspect
import typing

import photolink as pl


def public_callables():
    for name in pl.__all__:
        obj = getattr(pl, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for m, f in vars(obj).items():
                if inspect.isfunction(f) and (not m.startswith("_") or m == "__init__"):
                    yield f"{name}.{m}", f


def test_public_functions_are_annotated_and_hints_resolve():
    missing = []
    for name, f in public_callables():
        sig = inspect.signature(f)
        bare = [p.name for p in sig.parameters.values()
                if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
        if bare or (sig.return_annotation is inspect.Signature.empty and not name.endswith("__init__")):
            missing.append((name, bare))
        typing.get_type_hints(f)                      # every annotation names a real type
    assert not missing, missing
    assert len(list(public_callables())) > 20

"""``Plugins.hook`` and ``Runtime.hook`` are typed to the hookspecs, so mypy checks every hook call."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from dunning import hookspecs
from dunning.hook_types import Hooks
from tests.test_import_contracts import lay_out

SPECS = {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "dunning_spec")}


def test_every_hookspec_has_a_typed_method_with_its_arguments():
    methods = {name for name in vars(Hooks) if not name.startswith("_")}
    assert methods == set(SPECS)
    for name, spec in SPECS.items():
        wanted = inspect.signature(spec)
        typed = inspect.signature(getattr(Hooks, name))
        params = list(typed.parameters.values())[1:]  # after self
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name  # pluggy takes keywords only
        assert [(p.name, p.annotation) for p in params] == [
            (p.name, p.annotation) for p in wanted.parameters.values()], name
        first = spec.dunning_spec.get("firstresult", False)
        result = str(wanted.return_annotation).removesuffix(" | None")
        expected = wanted.return_annotation if first else f"list[{result}]"
        assert typed.return_annotation == expected, name


BAD_CALLS = '''
from dunning.models import Case
from dunning.runtime import Runtime


def score(rt: Runtime, case: Case) -> float:
    rt.hook.check_action(case=case)
    rt.plugins.hook.record_event(evnt=None)
    return rt.hook.case_priority(case=case, facts=None)
'''


def test_mypy_names_a_wrong_hook_call(tmp_path: Path):
    layout = lay_out(tmp_path / "layout")
    (layout / "bad_calls.py").write_text(BAD_CALLS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--follow-imports", "silent",
         "bad_calls.py"],
        cwd=layout, env={**os.environ, "MYPYPATH": str(layout)}, capture_output=True, text=True,
    )
    assert done.returncode == 1
    assert 'Missing named argument "action" for "check_action" of "Hooks"' in done.stdout
    assert 'Unexpected keyword argument "evnt" for "record_event" of "Hooks"; did you mean "event"?' in done.stdout
    assert 'Incompatible return value type (got "float | None", expected "float")' in done.stdout

"""``HookCalls.call_each`` calls a hook without wrappers directly: the same answers, in the same order, as pluggy.

Each case asks the same plugins twice, once through the direct calls and
once with pluggy's call tracing switched on (which sends every call back
through pluggy's own subset callers), and requires equal answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from dunning import Verdict, hookimpl
from dunning.hook_calls import Answer, HookCalls
from dunning.plugin_manager import new_plugin_manager

DAY1 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
ARGS = {"action": "the action", "case": "the case", "now": DAY1, "ctx": None}


class First:
    @hookimpl(tryfirst=True)
    def check_action(self, action: Any, now: dt.datetime) -> Verdict:
        return Verdict.allow(f"first saw {action} at {now:%H:%M}")


class Raises:
    @hookimpl
    def check_action(self, case: Any) -> Verdict:
        raise RuntimeError(f"boom on {case}")


class Abstains:
    @hookimpl
    def check_action(self) -> None:
        return None


class Twice:
    """Two implementations of the same hook in one plugin (``specname``): one answer with both results."""

    @hookimpl
    def check_action(self, action: Any) -> Verdict:
        return Verdict.allow("twice: one")

    @hookimpl(specname="check_action")
    def also(self, ctx: Any) -> Verdict:
        return Verdict.allow(f"twice: two, ctx {ctx}")


class Wraps:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl(wrapper=True)
    def check_action(self, action: Any) -> Iterator[None]:
        result = yield
        self.seen.append(result)
        return result


def _manager(*plugins: tuple[str, object]) -> Any:
    pm = new_plugin_manager()
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return pm


def _through_pluggy(pm: Any) -> list[Answer]:
    undo = pm.add_hookcall_monitoring(lambda *a: None, lambda *a: None)
    try:
        return list(HookCalls(pm).call_each("check_action", **ARGS))
    finally:
        undo()


def _same(a: list[Answer], b: list[Answer]) -> None:
    assert [(x.plugin, x.results, type(x.error), str(x.error)) for x in a] == \
           [(y.plugin, y.results, type(y.error), str(y.error)) for y in b]


def test_direct_calls_answer_as_pluggy_does():
    pm = _manager(("abstains", Abstains()), ("raises", Raises()), ("twice", Twice()), ("first", First()))
    calls = HookCalls(pm)
    assert calls._direct_calls("check_action") is not None  # the direct path is the one under test
    direct = list(calls.call_each("check_action", **ARGS))
    assert [a.plugin for a in direct] == ["first", "twice", "raises", "abstains"]
    assert direct[0].results == (Verdict.allow("first saw the action at 09:00"),)
    assert direct[1].results == (Verdict.allow("twice: one"), Verdict.allow("twice: two, ctx None"))
    assert isinstance(direct[2].error, RuntimeError) and str(direct[2].error) == "boom on the case"
    assert direct[3].results == () and direct[3].error is None
    _same(direct, _through_pluggy(pm))


@pytest.mark.filterwarnings("ignore:Argument")  # pluggy warns of the missing argument too
def test_a_missing_argument_is_the_plugins_error_as_in_pluggy():
    pm = _manager(("first", First()))
    direct = list(HookCalls(pm).call_each("check_action", action="a", case="c", ctx=None))
    assert "'now'" in str(direct[0].error)
    undo = pm.add_hookcall_monitoring(lambda *a: None, lambda *a: None)
    traced = list(HookCalls(pm).call_each("check_action", action="a", case="c", ctx=None))
    undo()
    assert type(direct[0].error) is type(traced[0].error) and str(direct[0].error) == str(traced[0].error)


def test_a_wrapper_sends_the_hook_through_pluggy_and_sees_each_plugins_call():
    wraps = Wraps()
    pm = _manager(("first", First()), ("abstains", Abstains()), ("wraps", wraps))
    calls = HookCalls(pm)
    assert calls._direct_calls("check_action") is None
    answers = list(calls.call_each("check_action", **ARGS))
    assert [a.plugin for a in answers] == ["first", "abstains"]
    assert wraps.seen == [[Verdict.allow("first saw the action at 09:00")], []]


@pytest.mark.parametrize("later", ["register", "unregister"])
def test_plugins_registered_or_unregistered_later_are_seen_without_forget(later: str):
    pm = _manager(("first", First()), ("abstains", Abstains()))
    calls = HookCalls(pm)
    assert [a.plugin for a in calls.call_each("check_action", **ARGS)] == ["first", "abstains"]
    if later == "register":
        pm.register(Raises(), name="raises")
        expected = ["first", "raises", "abstains"]
    else:
        pm.unregister(name="abstains")
        expected = ["first"]
    assert [a.plugin for a in calls.call_each("check_action", **ARGS)] == expected

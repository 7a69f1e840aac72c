"""What plugins hand over through a ``register`` hook, each plugin heard apart.

A plugin whose hook raises, that registers something of the wrong kind, or a
name another plugin already has, is named in a warning and left out whole;
the other plugins' registrations stay (``dunning.work_lists``,
``dunning.portal.providers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from dunning.log import get_logger

if TYPE_CHECKING:
    from dunning.hook_calls import HookCalls

Registered = TypeVar("Registered")


def registrations(calls: HookCalls, hook: str, *, kind: type, complete: Callable[[Registered], bool],
                  name_of: Callable[[Registered], str], wrong_kind: str, taken: Callable[[str], str],
                  left_out: str) -> dict[str, Registered]:
    """Every plugin's registrations of ``hook`` by name (``name_of``). ``wrong_kind`` says what a registration
    not of ``kind``, or not ``complete``, is not; ``taken`` words a name another plugin already has;
    ``left_out`` is the warning's event. ``kind`` is a class or a runtime-checkable protocol."""
    found: dict[str, Registered] = {}
    for plugin in calls.implementers(hook):
        registered: list[Any] = []
        answer = calls.call_one(hook, plugin, {"register": registered.append})
        problem = f"{hook} raised {type(answer.error).__name__}: {answer.error}" if answer.error else None
        for item in registered if problem is None else ():
            of_kind = isinstance(item, kind)  # kept apart: narrowing ``item`` to ``kind`` would lose its type
            if not of_kind or not complete(item):
                problem = f"registered {type(item).__name__}, {wrong_kind}"
            elif name_of(item) in found:
                problem = taken(name_of(item))
        if problem is not None:
            get_logger("dunning").warning(left_out, plugin=plugin, problem=problem)
            continue
        found.update({name_of(item): item for item in registered})
    return found

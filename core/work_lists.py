"""Work lists: what a channel plugin registers through ``register_work_lists`` for the browser console.

A channel whose work is done by people (calls, visits, an in-house team's
own queue) gives the console its list of the day, says which cases a
collector works through it, and may offer a script for a case and a form
to record what came of the work. The console knows nothing of the channel
beyond this: it asks each registered list whose channel is enabled.

A plugin subclasses ``WorkList`` and overrides what it offers; the defaults
offer nothing (no items, no cases, no script, no outcomes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import attrs


if TYPE_CHECKING:
    from dunning.models import Case
    from dunning.plugin_context import PluginContext
    from dunning.runtime import Runtime

HOOK = "register_work_lists"


@attrs.frozen
class WorkItem:
    """One line of a list as the console shows it; the words are the plugin's, the figures already formatted."""

    case_id: int
    debtor_name: str
    figure: str  # what the case owes, formatted (``money.display``)
    detail: str  # where or how to reach the debtor: a number and the part of the day, an address and its area
    why: str  # why the case is on the list today
    dpd: int | None = None
    collector: str | None = None  # whose line it is (shown to supervisors)
    urgent: bool = False  # marked on the page (a promise due today)


@attrs.frozen
class OutcomeForm:
    """What a collector filled in on the case page, checked for shape by the console."""

    outcome: str
    collector: str
    note: str | None = None
    promise_amount: str | None = None  # given exactly when the outcome is one of ``promise_outcomes``
    due_at: dt.datetime | None = None
    approved_by: str | None = None  # a supervisor who approves a promise beyond the allowed days


class WorkList:
    """A channel's work for the console. ``channel`` names the channel: the list is asked only while it is
    enabled. ``title`` and ``empty`` are the section's heading and what it says with nothing to do, by
    language (``en``, ``zh_CN``; English where a language is missing)."""

    channel: ClassVar[str] = ""
    title: ClassVar[Mapping[str, str]] = {}
    empty: ClassVar[Mapping[str, str]] = {}
    # Outcomes the case page offers (name -> meaning); none means no form.
    outcomes: ClassVar[Mapping[str, str]] = {}
    # The outcomes that carry a promise to pay (an amount and a date, checked by ``dunning.operations.promise``).
    promise_outcomes: ClassVar[frozenset[str]] = frozenset()

    def items(self, ctx: PluginContext, today: dt.date, collector: str | None) -> list[WorkItem]:
        """The day's list, most urgent first: ``collector``'s own part, or everyone's when None."""
        return []

    def works_case(self, ctx: PluginContext, case_id: int, collector: str) -> bool:
        """Whether this channel gives ``collector`` the case to work (it then opens to them in the console)."""
        return False

    def script(self, ctx: PluginContext, case: Case, today: dt.date) -> str | None:
        """What to say on this case today, rendered; None without one."""
        return None

    def record_outcome(self, ctx: PluginContext, case_id: int, form: OutcomeForm) -> Said:
        """Record what came of the work, through ``dunning.operations`` (``OperationError`` refuses it and
        nothing is written); the line the console shows after it, by language like ``title`` (or one text)."""
        raise NotImplementedError(f"the {self.channel} work list records no outcomes")


# The line shown after a change: by language (``en``, ``zh_CN``; English where one is missing), or one text.
Said = str | Mapping[str, str]


def language_of(words: Mapping[str, str], language: str) -> str:
    return words.get(language) or words.get("en") or ""


def said_in(said: Said, language: str) -> str:
    """The line after a change in ``language``: a single text is the same in every language."""
    return said if isinstance(said, str) else language_of(said, language)


def work_lists(rt: Runtime) -> list[WorkList]:
    """The registered lists whose channel is enabled, by channel name. A plugin whose hook raises, or that
    registers something else, is named in a warning and left out; the others' lists stay."""
    from dunning.registrations import registrations

    found: dict[str, WorkList] = registrations(
        rt.plugins.calls, HOOK, kind=WorkList, complete=lambda w: bool(w.channel), name_of=lambda w: w.channel,
        wrong_kind="not a dunning.work_lists.WorkList with a channel",
        taken=lambda name: f"registered a work list for {name!r}, which another plugin already has",
        left_out="work list left out")
    return [found[name] for name in sorted(found) if name in rt.plugins.enabled]

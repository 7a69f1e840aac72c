"""Cases' strategies (dunning.strategies): the open cases not yet assigned, writing an assignment, reading them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dunning.models import Event
from dunning.store.events import EventLog

# (case id, strategy, policy) of a case assigned a strategy
StrategyRow = tuple[int, str, str | None]


class CaseStrategies(EventLog):
    """The store's part that assigns cases their strategy and tells which strategy each case runs."""

    def unassigned_open_cases(self, after: int, limit: int) -> list[tuple[int, str]]:
        """(id, stage) of open cases with no strategy above ``after``, by id (index cases_unassigned: no scan)."""
        return self.conn.execute(
            "SELECT id, stage FROM cases WHERE strategy IS NULL AND status = 'open' AND id > ? ORDER BY id LIMIT ?",
            [after, limit]).fetchall()

    def assign_strategies(self, assignments: Sequence[tuple[int, str, str]], events: Sequence[Event]) -> int:
        """Set each (case, strategy, policy) on a case that has none, with its events, in one transaction.

        A case assigned meanwhile (another run) keeps what it has, and its
        event is not written. Returns how many cases were assigned.
        """
        done: set[int] = set()
        with self.transaction():
            for case_id, strategy, policy in assignments:
                changed = self.conn.execute(
                    "UPDATE cases SET strategy = ?, policy = ? WHERE id = ? AND strategy IS NULL",
                    [strategy, policy, case_id]).rowcount
                if changed:
                    done.add(case_id)
            self._append_events(e for e in events if e.case_id in done)
        return len(done)

    def strategy_names(self) -> list[str]:
        """The strategies cases are assigned to, by name (index cases_strategy)."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT strategy FROM cases WHERE strategy IS NOT NULL ORDER BY strategy")]

    def has_strategies(self) -> bool:
        """Whether any case has been assigned a strategy (index cases_strategy: one lookup)."""
        return self.conn.execute("SELECT 1 FROM cases WHERE strategy IS NOT NULL LIMIT 1").fetchone() is not None

    def has_cases_without_strategy(self) -> bool:
        return self.conn.execute("SELECT 1 FROM cases WHERE strategy IS NULL LIMIT 1").fetchone() is not None

    def runs_policy(self, policy: str) -> bool:
        """Whether a case was assigned a strategy running ``policy`` (a scan; asked only of an unknown name)."""
        return self.conn.execute("SELECT 1 FROM cases WHERE policy = ? LIMIT 1", [policy]).fetchone() is not None

    def report_case_strategies(self) -> Iterator[StrategyRow]:
        """(case, strategy, policy) of every case assigned a strategy, the others run the config's policy."""
        yield from self.conn.execute(
            "SELECT id, strategy, policy FROM cases WHERE strategy IS NOT NULL")

"""A named set of migrations that needs no sqlite-utils until one has to run.

``sqlite_utils.Migrations`` records each applied step in the
``_sqlite_migrations`` table. Importing sqlite-utils costs a command more than
everything else it does (it imports numpy when numpy is installed), yet on
almost every start every step is applied already. So the set keeps its steps
by name, ``Store`` checks the table with one query (``all_applied``), and
only a database with a step pending builds the real ``sqlite_utils.Migrations``
(same name, same steps, same order) to apply it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import sqlite_utils

Step = TypeVar("Step", bound=Callable[..., None])

# Where sqlite_utils.Migrations records what it applied (its ``migrations_table``).
MIGRATIONS_TABLE = "_sqlite_migrations"


class MigrationSet:
    """``sqlite_utils.Migrations`` registered the same way (``@migrations()``), applied through it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[str, Callable[..., None], bool]] = []

    def __call__(self, *, name: str | None = None, transactional: bool = True) -> Callable[[Step], Step]:
        def register(fn: Step) -> Step:
            step = name or fn.__name__
            if any(known == step for known, _, _ in self.steps):
                raise ValueError(f"Migration '{step}' is already registered in set '{self.name}'")
            self.steps.append((step, fn, transactional))
            return fn

        return register

    def names(self) -> list[str]:
        return [name for name, _, _ in self.steps]

    def real(self) -> sqlite_utils.Migrations:
        import sqlite_utils

        real = sqlite_utils.Migrations(self.name)
        for name, fn, transactional in self.steps:
            real(name=name, transactional=transactional)(fn)
        return real

    def apply(self, db: sqlite_utils.Database, **options: Any) -> None:
        self.real().apply(db, **options)

    def pending(self, db: sqlite_utils.Database) -> list[Any]:
        return self.real().pending(db)


def all_applied(conn: sqlite3.Connection, wanted: Mapping[str, Iterable[str]]) -> bool:
    """Whether every step named in ``wanted`` (set name -> step names) is recorded as applied: one query."""
    try:
        applied = set(conn.execute(f"SELECT migration_set, name FROM {MIGRATIONS_TABLE}"))
    except sqlite3.OperationalError:  # no such table: a new database
        return False
    return all((set_name, step) in applied for set_name, steps in wanted.items() for step in steps)


def step_names(steps: Sequence[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in steps]

"""The staff accounts that sign in to the web console (``dunning users``, ``dunning serve``)."""

from __future__ import annotations

import datetime as dt

import attrs

from dunning.calendar import from_text, to_text
from dunning.store.connection import StoreConnection


@attrs.frozen
class StaffUser:
    name: str
    role: str
    password_hash: str
    created_at: dt.datetime
    created_by: str
    disabled_at: dt.datetime | None = None
    disabled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


_COLUMNS = "name, role, password_hash, created_at, created_by, disabled_at, disabled_by"


def _user(row: tuple[str, str, str, str, str, str | None, str | None]) -> StaffUser:
    return StaffUser(name=row[0], role=row[1], password_hash=row[2], created_at=from_text(row[3]),
                     created_by=row[4], disabled_at=from_text(row[5]) if row[5] else None, disabled_by=row[6])


class StaffUsers(StoreConnection):
    """The store's part that keeps staff accounts."""

    def staff_user(self, name: str) -> StaffUser | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM staff_users WHERE name = ?", [name]).fetchone()
        return _user(row) if row else None

    def staff_users(self) -> list[StaffUser]:
        return [_user(r) for r in self.conn.execute(f"SELECT {_COLUMNS} FROM staff_users ORDER BY name")]

    def add_staff_user(self, name: str, role: str, password_hash: str, now: dt.datetime, by: str) -> None:
        self.conn.execute(
            "INSERT INTO staff_users (name, role, password_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
            [name, role, password_hash, to_text(now), by])

    def set_staff_password_hash(self, name: str, password_hash: str) -> None:
        """A hash made again with today's argon2 parameters (on sign-in, when they changed)."""
        self.conn.execute("UPDATE staff_users SET password_hash = ? WHERE name = ?", [password_hash, name])

    def disable_staff_user(self, name: str, now: dt.datetime, by: str) -> bool:
        """False if the account was disabled already."""
        cursor = self.conn.execute(
            "UPDATE staff_users SET disabled_at = ?, disabled_by = ? WHERE name = ? AND disabled_at IS NULL",
            [to_text(now), by, name])
        return cursor.rowcount > 0

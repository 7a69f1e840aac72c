"""Staff accounts: who may sign in, with which role, and the argon2 hash of their password.

Adding or disabling an account is an evidence event (``user_added``,
``user_disabled``) naming who did it; the password itself is never stored
nor logged.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from dunning.store.users import StaffUser

if TYPE_CHECKING:
    from dunning.runtime import Runtime

# In rising order of what each may do: a supervisor does what a collector does on every case, and approves;
# an admin also manages the accounts.
ROLES: tuple[str, ...] = ("collector", "supervisor", "admin")
MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class AccountError(ValueError):
    """An account change refused; nothing was written."""


def rank(role: str) -> int:
    return ROLES.index(role)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AccountError(f"user name {name!r}: letters, digits, '.', '_' or '-', at most 64, starting with a "
                           "letter or digit (the name the phone roster uses, e.g. ann)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$7RHiU9xnRYTf9RIofZvPqA$VcALcvG7iJru7M6K31KLYwNBh9stmwomfxFK72se+JM"


def add_user(rt: Runtime, name: str, role: str, password: str, *, by: str, now: dt.datetime) -> StaffUser:
    check_name(name)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    check_password(password)
    if rt.store.staff_user(name) is not None:
        raise AccountError(f"user {name} exists already")
    hashed = hash_password(password)
    with rt.store.transaction():
        rt.store.add_staff_user(name, role, hashed, now, by)
        rt.store.append_events([rt.event("user_added", None, now, data={"name": name, "role": role, "by": by})])
    user = rt.store.staff_user(name)
    assert user is not None
    return user


def disable_user(rt: Runtime, name: str, *, by: str, now: dt.datetime) -> None:
    if rt.store.staff_user(name) is None:
        raise AccountError(f"no user {name}")
    with rt.store.transaction():
        if not rt.store.disable_staff_user(name, now, by):
            raise AccountError(f"user {name} is disabled already")
        rt.store.append_events([rt.event("user_disabled", None, now, data={"name": name, "by": by})])


def authenticate(rt: Runtime, name: str, password: str) -> StaffUser | None:
    """The active account ``name`` if ``password`` is its password, else None."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = PasswordHasher()
    user = rt.store.staff_user(name)
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        with rt.store.transaction():
            rt.store.set_staff_password_hash(name, hasher.hash(password))
    return user

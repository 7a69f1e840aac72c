"""Payment providers: what a plugin registers through ``register_payment_providers``.

A provider sends the debtor to its own page to pay, and later posts a
signed confirmation back (its webhook). The core never handles card data:
it asks the provider for a URL, and records a payment only from a
confirmation the provider's ``confirmation`` has checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs


if TYPE_CHECKING:
    from dunning.runtime import Runtime

HOOK = "register_payment_providers"


class BadConfirmation(ValueError):
    """A posted confirmation that is not the provider's (bad signature) or cannot be read; nothing is recorded."""


@attrs.frozen
class PaymentRequest:
    """What the debtor asked to pay: handed to ``PaymentProvider.start``."""

    case_id: int
    amount: int  # minor units
    currency: str
    reference: str  # the case's creditor reference, for the provider's statement
    return_url: str | None = None  # where the provider sends the debtor back (the page)


@attrs.frozen
class Confirmation:
    """A payment the provider says went through, read from its signed webhook."""

    payment_id: str  # the provider's own id: the same id twice is the same payment
    case_id: int
    amount: int  # minor units
    currency: str
    paid_at: dt.datetime


@runtime_checkable
class PaymentProvider(Protocol):
    """A way for a debtor to pay from their page (a card acquirer, a bank's payment link)."""

    name: str

    def start(self, request: PaymentRequest) -> str:
        """Begin a payment; the URL to send the debtor to."""
        ...

    def confirmation(self, body: bytes, headers: Mapping[str, str]) -> Confirmation:
        """Check a posted webhook (its signature first) and read it; ``BadConfirmation`` if it is not genuine."""
        ...


def payment_providers(rt: Runtime) -> dict[str, PaymentProvider]:
    """Every registered provider by name. A plugin whose hook raises, or registers a name twice, is named in a
    warning and left out; the others' providers stay."""
    from dunning.registrations import registrations

    return registrations(rt.plugins.calls, HOOK, kind=PaymentProvider,
                         complete=lambda p: isinstance(getattr(p, "name", None), str), name_of=lambda p: p.name,
                         wrong_kind="not a payment provider (name, start, confirmation)",
                         taken=lambda name: f"registered payment provider {name!r}, which another plugin already has",
                         left_out="payment provider left out")

"""Payment providers: what a plugin registers through ``register_payment_providers``.

A provider sends the debtor to its own page to pay, and later posts a
signed confirmation back (its webhook). The core never handles card data:
it asks the provider for a URL, and records a payment only from a
confirmation the provider's ``confirmation`` has checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from dunning.log import get_logger

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
    found: dict[str, PaymentProvider] = {}
    calls = rt.plugins.calls
    for plugin in calls.implementers(HOOK):
        registered: list[Any] = []
        answer = calls.call_one(HOOK, plugin, {"register": registered.append})
        problem = f"{HOOK} raised {type(answer.error).__name__}: {answer.error}" if answer.error else None
        for provider in registered if problem is None else ():
            if not isinstance(provider, PaymentProvider) or not isinstance(getattr(provider, "name", None), str):
                problem = f"registered {type(provider).__name__}, not a payment provider (name, start, confirmation)"
            elif provider.name in found:
                problem = f"registered payment provider {provider.name!r}, which another plugin already has"
        if problem is not None:
            get_logger("dunning").warning("payment provider left out", plugin=plugin, problem=problem)
            continue
        found.update({p.name: p for p in registered})
    return found

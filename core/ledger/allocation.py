"""How one payment splits over a case's open items. Pure: items, an order and an amount in, the split out.

Groups are paid in the configured order (``[ledger] allocation``): ``fees``
(charges of kind fee and compensation), ``interest`` (interest charges) and
``principal`` (the obligations). Within a group the oldest item goes first:
obligations by due date, charges by the due date of the obligation they
were charged on, then in the order they were posted. What is left after
every item is paid is the surplus (an overpayment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import attrs

# The charge kinds each group pays; principal is the obligations themselves.
GROUP_KINDS = {"fees": ("fee", "compensation"), "interest": ("interest",), "principal": ("principal",)}


@attrs.frozen
class OpenItem:
    """An obligation's open principal, or one open charge posted on an obligation."""

    kind: str  # principal | fee | compensation | interest
    obligation_id: int
    reference: str  # the obligation's reference
    due_on: dt.date
    open: int
    charge_id: int | None = None  # set for a charge

    @property
    def group(self) -> str:
        return next(g for g, kinds in GROUP_KINDS.items() if self.kind in kinds)


@attrs.frozen
class Allocated:
    item: OpenItem
    amount: int


@attrs.frozen
class Allocation:
    parts: tuple[Allocated, ...]
    surplus: int

    @property
    def applied(self) -> int:
        return sum(p.amount for p in self.parts)


def allocate(items: Iterable[OpenItem], order: Sequence[str], amount: int) -> Allocation:
    """Split ``amount`` over ``items``: groups in ``order``, oldest first within each."""
    if amount <= 0:
        raise ValueError(f"an amount to allocate must be positive, got {amount}")
    unknown = [g for g in order if g not in GROUP_KINDS]
    if unknown or len(set(order)) != len(GROUP_KINDS):
        raise ValueError(f"the order must name each of {', '.join(GROUP_KINDS)} once, got {list(order)!r}")
    rank = {group: i for i, group in enumerate(order)}
    queue = sorted((i for i in items if i.open > 0),
                   key=lambda i: (rank[i.group], i.due_on, i.obligation_id, i.charge_id or 0))
    left = amount
    parts: list[Allocated] = []
    for item in queue:
        if left == 0:
            break
        paid = min(left, item.open)
        parts.append(Allocated(item, paid))
        left -= paid
    return Allocation(tuple(parts), left)


def described(parts: Iterable[Allocated]) -> list[dict[str, object]]:
    """The allocation as the payment's evidence event records it, one entry per obligation or charge."""
    return [{"reference": p.item.reference, "kind": p.item.kind, "amount": p.amount,
             "obligation_id": p.item.obligation_id,
             **({"charge_id": p.item.charge_id} if p.item.charge_id is not None else {})} for p in parts]

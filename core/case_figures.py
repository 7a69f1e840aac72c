"""The ledger's figures ``cases show`` adds: principal, interest, fees and total, the notice day, postings and
offers. Apart from ``dunning.cli_ledger`` (the ledger's commands), whose settlement and waiver code imports the
policy: showing a case loads neither."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dunning import money
from dunning.ledger.figures import demand_figures

if TYPE_CHECKING:
    from dunning.runtime import Runtime


def case_figures(rt: Runtime, case_id: int) -> dict[str, Any]:
    """What `cases show` adds: principal, interest, fees and total, the notice day, postings and offers."""
    case = rt.store.case(case_id)
    figures = demand_figures(rt.store.charges_owed(case.id), case.balance, case.currency)
    notice = rt.store.interest_notice(case.id)
    return {
        **{key: value for figure in ("principal", "interest", "fees", "total_due")
           for key, value in ((figure, money.format_minor(figures[f"{figure}_minor"], case.currency)),
                              (f"{figure}_minor", figures[f"{figure}_minor"]))},
        "interest_notice_on": notice,
        "charges": [row | {"amount": money.format_minor(row["amount"], case.currency),
                           "paid": money.format_minor(row["paid"], case.currency),
                           "waived": money.format_minor(row["waived"], case.currency)}
                    for row in rt.store.charge_rows(case.id)],
        "settlements": [{"id": s.id, "amount": money.format_minor(s.amount, case.currency), "until": s.until,
                         "instalments": s.instalments, "status": s.status, "offered_by": s.offered_by,
                         "approved_by": s.approved_by} for s in rt.store.settlements(case.id)],
    }


def case_figures_line(data: dict[str, Any]) -> str:
    """One line for `cases show`: "principal EUR 1,200.00, interest EUR 3.51, fees EUR 40.00, total EUR 1,243.51"."""
    shown = [f"{k.removesuffix('_due')} {money.display(data[k + '_minor'], data['currency'])}"
             for k in ("principal", "interest", "fees", "total_due")]
    notice = data["interest_notice_on"]
    return "  " + ", ".join(shown) + (f" (notice of interest {notice})" if notice else "")

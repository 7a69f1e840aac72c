"""My day: each enabled channel's work list (calls with promises due today first, visits), and my notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.web.assignment import my_day as sections
from dunning.web.console import Visit, language, page, render

if TYPE_CHECKING:
    from starlette.responses import Response

# Whose notices each role reads (dunning notices --role); a collector gets none.
NOTICE_ROLES = {"supervisor": "supervisor", "admin": None}


@page("collector")
def my_day(visit: Visit) -> Response:
    from dunning import money
    from dunning.notices_cli import notice_rows

    notices = []
    if visit.user.role in NOTICE_ROLES:
        notices = [n for n in notice_rows(visit.rt, NOTICE_ROLES[visit.user.role], visit.today) if n.open]
    return render(visit.request, "day.html", {
        "sections": sections(visit.rt, visit.user, visit.today, visit.now, language(visit.request)),
        "notices": notices, "display": money.display, "today": visit.today,
    }, user=visit.user)

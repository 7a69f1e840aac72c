"""``dunning report html``: every report on one self-contained page, charts drawn as inline SVG by matplotlib.

The page needs no network: CSS and SVG are inline, there is no script. The
SVG is deterministic (a fixed hash salt for its ids, no creation date), so
the same database and day give the same file. The reports hold figures only;
no debtor's name, address or number reaches the page.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

from dunning import money
from dunning.reports.buckets import ordered
from dunning.reports.by_strategy import RECOVERY_NOTE, SPLIT_NOTE
from dunning.reports.model import Report, Table, as_text
from dunning.reports.params import Params

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #1d2733; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d5dbe3; }
h3 { font-size: 14px; margin: 14px 0 6px; } .meta { color: #5a6776; font-size: 13px; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { flex: 0 0 auto; } .chart svg { width: 460px; height: auto; } .tables { flex: 1 1 420px; min-width: 360px; }
table { border-collapse: collapse; font-size: 12px; margin-bottom: 10px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e6eaf0; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; } th { background: #f3f5f8; }
.notes { color: #5a6776; font-size: 12px; margin: 4px 0 0; padding-left: 18px; }
.strategy { margin-top: 36px; padding-top: 8px; border-top: 3px solid #2f6db5; }
"""
BLUE, ORANGE, GREEN, RED = "#2f6db5", "#e08a2c", "#3a9a5b", "#c8453b"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "dunning-report", "svg.fonttype": "none", "font.size": 9,
                                "font.family": "DejaVu Sans", "axes.spines.top": False,
                                "axes.spines.right": False})
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    _pyplot().close(figure)
    text = out.getvalue()
    return text[text.index("<svg"):]


def _no_data(title: str) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 1.2))
    axes.axis("off")
    axes.text(0.5, 0.5, f"{title}: no data for this day", ha="center", va="center", color="#5a6776")
    return _svg(figure)


def aging_chart(report: Report) -> str:
    table = report.table("buckets")
    currencies = list(dict.fromkeys(table.column("currency")))
    if not currencies:
        return _no_data("Aging")
    plt = _pyplot()
    figure, axes_list = plt.subplots(len(currencies), 1, figsize=(5.2, 1.9 * len(currencies)), squeeze=False)
    for axes, currency in zip((a[0] for a in axes_list), currencies, strict=True):
        mine = [r for r in table.dicts() if r["currency"] == currency]
        labels = [r["bucket"] for r in mine]
        values = [float(money.to_decimal(r["balance"], currency)) for r in mine]
        colours = [GREEN if label == "not yet due" else BLUE for label in labels]
        axes.bar(labels, values, color=colours)
        axes.set_ylabel(currency)
        axes.tick_params(axis="x", labelsize=8)
    figure.suptitle("Balance by days past due", fontsize=10)
    return _svg(figure)


def roll_rate_chart(report: Report, params: Params) -> str:
    table = report.table("matrix")
    rows = table.dicts()
    if not rows:
        return _no_data("Roll rates")
    counts: dict[tuple[str, str], int] = {}
    for r in rows:  # every currency together: a transition is a case's move, whatever it owes in
        counts[r["from"], r["to"]] = counts.get((r["from"], r["to"]), 0) + r["cases"]
    sources = [s for s in ordered([s for s, _ in counts], params.buckets)]
    targets = ordered([t for _, t in counts], params.buckets)
    grid = [[0.0] * len(targets) for _ in sources]
    for i, source in enumerate(sources):
        total = sum(counts.get((source, t), 0) for t in targets)
        for j, target in enumerate(targets):
            grid[i][j] = counts.get((source, target), 0) / total if total else 0.0
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 0.5 * len(sources) + 1.4))
    axes.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(targets)), targets, rotation=30, ha="right", fontsize=8)
    axes.set_yticks(range(len(sources)), sources, fontsize=8)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                axes.text(j, i, f"{value * 100:.0f}%", ha="center", va="center", fontsize=8,
                          color="white" if value > 0.55 else "#1d2733")
    axes.set_xlabel("to (end of period)")
    axes.set_ylabel("from (start of period)")
    axes.set_title(f"Roll rates, {params.period} over {params.period}", fontsize=10)
    return _svg(figure)


def recovery_chart(report: Report) -> str:
    table = report.table("curves")
    points = [c for c in table.columns if c.startswith("m") and c[1:].isdigit()]
    rows = table.dicts()
    if not rows:
        return _no_data("Recovery curves")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 2.8))
    for r in rows[-12:]:
        xs = [int(p[1:]) for p in points if r[p] is not None]
        axes.plot(xs, [r[f"m{x}"] * 100 for x in xs], marker="o", markersize=3, label=f"{r['cohort']} {r['currency']}")
    axes.set_xlabel("months since the case opened")
    axes.set_ylabel("collected / placed (%)")
    axes.set_title("Recovery curves by month opened", fontsize=10)
    axes.legend(fontsize=7, frameon=False)
    return _svg(figure)


def promises_chart(report: Report) -> str:
    rows = report.table("by_month").dicts()
    if not rows:
        return _no_data("Promises")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 2.6))
    months = [r["month"] for r in rows]
    axes.bar(months, [r["kept"] for r in rows], color=GREEN, label="kept")
    axes.bar(months, [r["broken"] for r in rows], bottom=[r["kept"] for r in rows], color=RED, label="broken")
    axes.bar(months, [r["pending"] for r in rows], bottom=[r["kept"] + r["broken"] for r in rows], color="#b8c2cc",
             label="pending")
    axes.set_ylabel("promises")
    axes.tick_params(axis="x", labelsize=8, rotation=30)
    rate_axes = axes.twinx()
    rate_axes.plot(months, [None if r["kept_rate"] is None else r["kept_rate"] * 100 for r in rows], color=ORANGE,
                   marker="o", markersize=3, label="kept rate")
    rate_axes.set_ylim(0, 100)
    rate_axes.set_ylabel("kept rate (%)")
    axes.legend(fontsize=7, frameon=False, loc="upper left")
    axes.set_title("Promises kept by month due", fontsize=10)
    return _svg(figure)


def contacts_chart(report: Report) -> str:
    rows = report.table("slot").dicts() + report.table("weekday").dicts()
    if not rows:
        return _no_data("Contacts")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    labels = [r.get("slot") or r.get("weekday") for r in rows]
    values = [(r["contact_rate"] or 0) * 100 for r in rows]
    axes.bar(labels, values, color=BLUE)
    axes.set_ylim(0, max(10.0, max(values) * 1.15))  # a rate is never negative, even when every one is 0
    axes.set_ylabel("right-party contact rate (%)")
    axes.tick_params(axis="x", labelsize=8, rotation=30)
    axes.set_title("Contact rate by time of day and weekday", fontsize=10)
    return _svg(figure)


def activity_chart(report: Report) -> str:
    rows = report.table("days").dicts()
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 2.4))
    days = [r["day"][5:] for r in rows]
    for column, colour in (("sent", BLUE), ("stage_changes", ORANGE), ("payments", GREEN)):
        axes.plot(days, [r[column] for r in rows], label=column.replace("_", " "), color=colour)
    axes.tick_params(axis="x", labelsize=7, rotation=60)
    axes.legend(fontsize=7, frameon=False)
    axes.set_title("Activity per day", fontsize=10)
    return _svg(figure)


def _table_html(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return (f"<h3>{html.escape(title)}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body or f'<tr><td colspan={len(headers)}>(none)</td></tr>'}</tbody></table>")


def _section(title: str, report: Report, chart: str, shown: Sequence[str] | None = None, prefix: str = "") -> str:
    tables = "".join(_table_html(t, h, r) for (t, h, r), table in zip(as_text(report), report.tables, strict=True)
                     if shown is None or table.name in shown)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return (f'<section id="{html.escape(prefix + report.name)}"><h2>{html.escape(title)}</h2><div class="row">'
            f'<div class="chart">{chart}</div><div class="tables">{tables}<ul class="notes">{notes}</ul></div>'
            "</div></section>")


def _sections(reports: Mapping[str, Report], params: Params, prefix: str = "") -> list[str]:
    """One section per report, chart beside tables (ids after ``prefix``, so that several sets fit a page)."""
    return [
        _section("Aging", reports["aging"], aging_chart(reports["aging"]), prefix=prefix),
        _section("Roll rates", reports["roll-rates"], roll_rate_chart(reports["roll-rates"], params), prefix=prefix),
        _section("Recovery", reports["recovery"], recovery_chart(reports["recovery"]), prefix=prefix),
        _section("Promises", reports["promises"], promises_chart(reports["promises"]), prefix=prefix),
        _section("Contacts", reports["contacts"], contacts_chart(reports["contacts"]), prefix=prefix),
        _section("Activity", reports["activity"], activity_chart(reports["activity"]),
                 shown=("sent", "collected"), prefix=prefix),
    ]


def _page(params: Params, body: str, more: str = "") -> str:
    filters = ", ".join(f"{k} {v}" for k, v in params.filters.given().items())
    title = f"Portfolio as of {params.as_of.isoformat()}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">as of {params.as_of.isoformat()}"
        f"{' - ' + html.escape(filters) if filters else ''}; amounts per currency; figures computed from the "
        f"events and the store by <code>dunning report</code>{more}</p>"
        + body + "</body></html>\n"
    )


def render(reports: Mapping[str, Report], params: Params) -> str:
    """The page: a header with the day and filters, then one section per report, chart beside tables."""
    return _page(params, "".join(_sections(reports, params)))


def render_by_strategy(parts: Sequence[tuple[str, Mapping[str, Report]]], compared: Table, params: Params) -> str:
    """The page where cases run under several strategies: what each strategy placed and collected side by side,
    then every report's section for each strategy in turn (each exactly what ``--strategy NAME`` gives)."""
    contents = "".join(f'<li><a href="#strategy-{html.escape(name)}">{html.escape(name)}</a></li>'
                       for name, _ in parts)
    (title, headers, rows), = as_text(Report(name="by_strategy", as_of=params.as_of, tables=(compared,)))
    body = (f'<section id="by_strategy"><h2>By strategy</h2>{_table_html(title, headers, rows)}'
            f'<ul class="notes"><li>{html.escape(RECOVERY_NOTE)}</li><li>{html.escape(SPLIT_NOTE)}</li></ul>'
            f'<ul class="contents">{contents}</ul></section>')
    for name, reports in parts:
        body += (f'<div class="strategy" id="strategy-{html.escape(name)}"><h1>Strategy {html.escape(name)}</h1>'
                 + "".join(_sections(reports, params, prefix=f"{name}-")) + "</div>")
    return _page(params, body, more="; split by strategy")


__all__ = ["render", "render_by_strategy"]


"""``dunning report html``: one self-contained page, charts rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.core.test_reports import DEBTS, PHONE, history  # the hand-worked history

__all__ = ["history"]
CHROMIUM = shutil.which("chromium")
AS_OF = "2026-05-31"


def page(project: Project, out: Path, *args: str) -> str:
    result = project("report", "html", "--out", str(out), "--as-of", AS_OF, *args, env=PHONE)
    assert result.stdout.strip() == f"wrote {out} (as of {AS_OF})"
    return out.read_text(encoding="utf-8")


def test_the_page_is_self_contained_deterministic_and_free_of_personal_data(history: Project, tmp_path: Path):
    text = page(history, tmp_path / "report.html")
    assert text.startswith("<!DOCTYPE html>") and f"Portfolio as of {AS_OF}" in text
    # Nothing to fetch: no script, stylesheet link, image, frame or outside url(); the charts are inline SVG
    # (their url(#...) clip paths point inside the page).
    assert not re.search(r"<script|<link|<img|<iframe|src=|url\((?!#)", text)
    assert len(re.findall(r"<svg ", text)) == 6
    # The tables beside the charts hold the hand-worked figures.
    assert "<td>EUR</td><td>internal</td><td>3</td><td>EUR 2,500.00</td><td>EUR 900.00</td><td>36.0%</td>" in text
    # No debtor's name or number: the reports are figures only.
    for debtor_id, phone, reference, *_ in DEBTS:
        assert f"Debtor {debtor_id} Ltd" not in text and reference not in text
        assert phone not in text and phone.replace(" ", "") not in text
    # The same database and day give the same file.
    assert page(history, tmp_path / "again.html") == text
    filtered = page(history, tmp_path / "gbp.html", "--currency", "GBP")
    assert "currency GBP" in filtered and "EUR 2,500.00" not in filtered


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_chromium_renders_the_charts(history: Project, tmp_path: Path):
    import matplotlib.image

    html_file = tmp_path / "report.html"
    page(history, html_file)
    flags = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=1200,1400"]
    dom = subprocess.run([*flags, "--dump-dom", html_file.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    # After rendering, the DOM holds the six charts with their drawn shapes and text.
    charts = re.findall(r"<svg .*?</svg>", dom, flags=re.S)
    assert len(charts) == 6
    assert all("<path" in chart for chart in charts)
    assert "Balance by days past due" in dom and "Roll rates, month over month" in dom
    assert "Recovery curves by month opened" in dom and "Promises kept by month due" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", html_file.as_uri()], capture_output=True, timeout=120,
                   check=True)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1400, 1200)
    # Not blank: the charts' blue bars and heat map stand out from the white page.
    blue = (pixels[:, :, 2] > 0.6) & (pixels[:, :, 0] < 0.35)
    assert blue.sum() > 2000
    assert pixels.std() > 0.05

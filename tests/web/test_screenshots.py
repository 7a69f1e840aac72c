"""Every picture the docs show is in docs/img and is taken by a browser test, and every picture in docs/img
is shown somewhere: none is drawn by hand or left behind when a test stops taking it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!\[[^\]]*\]\((?:\.\./)*img/([\w.-]+\.png)\)")
SNAP = re.compile(r'snap\(\s*\w+,\s*"([\w.-]+)"')


def _linked() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for name in LINK.findall(page.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(str(page.relative_to(ROOT)))
    return found


def _taken() -> set[str]:
    return {f"{name}.png" for test in (ROOT / "tests" / "web").glob("test_*browser*.py")
            for name in SNAP.findall(test.read_text(encoding="utf-8"))}


def test_every_linked_screenshot_exists_and_a_browser_test_takes_it():
    linked, taken = _linked(), _taken()
    new = {"console-settle-desktop.png", "console-settle-error-phone.png", "console-approvals-phone.png"}
    assert new <= set(linked)
    missing = {name: pages for name, pages in linked.items() if not (ROOT / "docs" / "img" / name).is_file()}
    assert missing == {}
    assert set(linked) - taken == set(), "shown in the docs but taken by no browser test"


def test_every_screenshot_in_docs_img_is_shown_and_taken_by_a_test():
    on_disk = {path.name for path in (ROOT / "docs" / "img").glob("*.png")}
    assert on_disk - set(_linked()) == set(), "in docs/img but shown by no page"
    assert on_disk - _taken() == set(), "in docs/img but taken by no browser test"

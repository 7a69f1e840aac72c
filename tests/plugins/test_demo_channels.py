"""The demo with the real channels: mail over SMTP into a Maildir, PDF letters, texts, calls and visits."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from dunning.cli import cli, load_plugin_commands
from dunning.plugin_manager import LOAD_ENV


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.delenv(LOAD_ENV)  # every installed plugin takes part, as after `pip install dunning`
    load_plugin_commands()
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path), "--days", "70", "--debtors", "8"])
    assert result.exit_code == 0, result.output
    return tmp_path, result.output


def test_the_demo_reaches_its_debtors_through_every_channel(demo: tuple[Path, str]) -> None:
    folder, output = demo
    trade, loans = folder / "trade-receivables", folder / "consumer-loans"
    assert not (trade / "outbox").exists()  # no stand-in channels: the plugins did the work

    # Emails: a real SMTP conversation filed them in a Maildir.
    box = mailbox.Maildir(str(trade / "mailbox"), create=False)
    messages = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]
    assert messages and all(m["X-Dunning-Key"] and m["Message-ID"] for m in messages)
    assert any("collections-archive@northwind.example" in m["X-Delivered-To"] for m in messages)
    sample = messages[0].get_body(("plain",)).get_content()
    assert re.search(r"\d[\d,]*\.\d\d", sample)  # an amount

    # Letters: PDFs that read back with the debtor's name, and the run's print batches.
    letters = sorted(p for p in (trade / "letters").glob("*/*.pdf") if p.parent.name != "batches")
    assert letters and list((trade / "letters" / "batches").glob("*.csv"))
    text = "".join(page.extract_text() for page in PdfReader(letters[0]).pages)
    assert "Northwind Supplies Ltd" in text and "Total" in text

    # Texts went to the SMS gateway, some in Chinese for borrowers who read it.
    texts = [json.loads(line) for line in (loans / "sms" / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert texts and all(t["to"].startswith("+") for t in texts)
    assert any("STOP" in t["text"] for t in texts)
    assert any(re.search(r"[\u4e00-\u9fff]", t["text"]) for t in texts)

    # Calls and visits wait in the collectors' lists, where the demo's summary points.
    assert "where to look:" in output
    calls = re.search(r"calls\s+dunning --config (\S+) --now (\S+) calls", output)
    assert calls is not None
    listed = CliRunner().invoke(cli, ["--config", calls.group(1), "--now", calls.group(2), "calls", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)
    visits = CliRunner().invoke(cli, ["--config", str(trade / "dunning.toml"), "visits", "--all", "--json"])
    assert visits.exit_code == 0, visits.output
    assert json.loads(visits.output)

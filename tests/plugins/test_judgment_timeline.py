"""A trade receivable from day 0 to a judgment, day by day through the CLI.

Day 91 the formal demand gives until day 105, and on day 106 the case is
placed with an agency; day 115 the agency's return file brings a partial
payment (and its commission); day 181 the placement ends and the case comes
back; the lawyer's letter and the move to litigation are approved, and the
case goes to litigation when the letter's 14 days have run (day 197); the
legal matter's milestones are logged up to a judgment;
the evidence bundle is exported and verified. The letters are the real
letter channel's PDFs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import ChannelsPlugin, Project, at, row, write_csv
from tests.plugins.test_agency_fixtures import read_csv, use_plugins, write_returns


DUE = dt.date(2026, 3, 1)

SETTINGS = """
[channels.letter]
sender_name = "Harbour Supplies Ltd"
sender_address = ["1 Quay Street", "Bristol BS1 4DJ", "United Kingdom"]
folder = "letters"

[channels.agency]
folder = "agency-out"

[channels.agency.agencies.northwind]
name = "Northwind Recoveries Ltd"
commission = "25"
min_balance = "500.00"
capacity = 50
placement_days = 120

[channels.legal]
firm_name = "Castle & Reed LLP"
firm_address = ["9 Temple Row", "Birmingham B2 5LG"]
lawyer = "Dana Reed"
min_balance = "1000.00"
"""


def day(dpd: int, hour: int = 9) -> str:
    return at(DUE + dt.timedelta(days=dpd), hour)


@pytest.mark.slow
def test_from_dpd_0_to_a_judgment(project: Project, register_plugin, monkeypatch: pytest.MonkeyPatch) -> None:
    use_plugins(monkeypatch, "agency", "legal", "letter")
    register_plugin(ChannelsPlugin("email", "phone", "visit"))
    project.write_config(enabled=["email", "phone", "visit", "letter", "agency", "legal"], extra=SETTINGS)
    portfolio = write_csv(project.folder / "portfolio.csv", [
        row("A", "INV-A1", "12000.00", DUE.isoformat(), address="Unit 4, Dock Road\nLiverpool L3 4AB\nUnited Kingdom"),
    ])
    project("import", str(portfolio), now=day(-1, 8))
    [case] = json.loads(project("cases", "list", "--json").stdout)
    case_id = str(case["id"])

    def approve_all(dpd: int) -> list[str]:
        steps = []
        for action in json.loads(project("approvals", "--json").stdout):
            project("approve", str(action["id"]), "--by", "Finance Director", now=day(dpd, 17))
            steps.append(action["step"])
        return steps

    approved: dict[int, list[str]] = {}
    for dpd in range(0, 198):
        project("run", "--now", day(dpd), "--json")
        steps = approve_all(dpd)
        if steps:
            approved[dpd] = steps
        if dpd == 91:
            # The formal demand went out today; the agency waits for its deadline.
            assert json.loads(project("agency", "placements", "--json").stdout) == []
            assert json.loads(project("cases", "show", case_id, "--json").stdout)["stage"] == "onsite"
        if dpd == 106:
            # Placed with the agency the day after the deadline, in that day's placement file.
            [placement] = json.loads(project("agency", "placements", "--json").stdout)
            assert placement["agency"] == "northwind" and placement["placed_on"] == "2026-06-15"
            assert json.loads(project("cases", "show", case_id, "--json").stdout)["stage"] == "agency"
            folder = project.folder / "agency-out" / "northwind"
            manifest = json.loads((folder / "placements-2026-06-15.json").read_text())
            data = (folder / "placements-2026-06-15.csv").read_bytes()
            assert manifest["sha256"] == hashlib.sha256(data).hexdigest() and manifest["rows"] == 1
            [line] = read_csv(folder / "placements-2026-06-15.csv")
            assert line["case_id"] == case_id and line["balance"] == "12000.00" and line["debtor_name"] == "Customer A"
        if dpd == 115:
            returns = write_returns(project.folder / "northwind-returns.csv", [
                {"agency": "northwind", "transaction_id": "NW-7001", "case_id": case_id, "type": "contact",
                 "date": "2026-06-19", "detail": "spoke to the finance director"},
                {"agency": "northwind", "transaction_id": "NW-7002", "case_id": case_id, "type": "payment",
                 "date": "2026-06-23", "amount": "2,000.00", "currency": "EUR"},
                {"agency": "northwind", "transaction_id": "NW-7003", "case_id": case_id, "type": "status",
                 "date": "2026-06-24", "detail": "payment plan proposed"},
            ])
            imported = json.loads(project("agency", "import", str(returns), "--json", now=day(dpd, 12)).stdout)
            assert imported["payments"] == 1 and imported["collected"] == {"EUR": "2000.00"}
            assert imported["commission"] == {"EUR": "500.00"}
        if dpd == 181:
            assert json.loads(project("cases", "show", case_id, "--json").stdout)["stage"] == "onsite"
            recall = project.folder / "agency-out" / "northwind" / "recalls-2026-08-29.csv"
            [line] = read_csv(recall)
            assert line["case_id"] == case_id and line["balance_now"] == "10000.00"
        if dpd == 196:
            # The lawyer's letter of day 182 gave until today.
            assert json.loads(project("cases", "show", case_id, "--json").stdout)["stage"] == "onsite"

    assert approved[91] == ["lock-account"]
    assert sorted(approved[181]) == ["enter-litigation", "lawyers-letter"]
    shown = json.loads(project("cases", "show", case_id, "--json").stdout)
    assert shown["stage"] == "litigation" and shown["balance"] == "10000.00"

    kinds = [(e["kind"], e["dpd"]) for e in json.loads(project("events", "--case", case_id, "--json").stdout)]
    assert ("agency:placed", 106) in kinds and ("agency:payment", 115) in kinds
    assert ("agency:recalled", 181) in kinds and ("legal:matter_opened", 197) in kinds
    # The lawyer's letter went out as a real PDF naming the firm, after approval.
    sent = json.loads(project("events", "--case", case_id, "--kind", "sent", "--json").stdout)
    [lawyers] = [e for e in sent if e["step"] == "lawyers-letter"]
    assert lawyers["dpd"] == 182
    text = "".join(page.extract_text() for page in PdfReader(lawyers["data"]["path"]).pages)
    assert "Castle & Reed LLP" in text

    # Milestones up to a judgment, with costs.
    project("legal", "log", case_id, "--milestone", "preservation_requested", "--date", "2026-09-15",
            "--cost", "300.00", "--note", "freezing order over the warehouse stock", now=day(205))
    project("legal", "log", case_id, "--milestone", "preservation_granted", "--date", "2026-09-18", now=day(205))
    project("legal", "log", case_id, "--milestone", "filed", "--date", "2026-09-21", "--court", "Bristol County Court",
            "--case-number", "K00BS123", "--cost", "455.00", now=day(205))
    project("legal", "log", case_id, "--milestone", "hearing", "--date", "2026-11-12", now=day(260))
    project("legal", "log", case_id, "--milestone", "judgment", "--date", "2026-11-20", "--amount", "10755.00",
            now=day(270))
    [matter] = json.loads(project("legal", "list", "--json", now=day(270)).stdout)
    assert matter["case_id"] == int(case_id) and matter["firm"] == "Castle & Reed LLP"
    assert matter["court"] == "Bristol County Court" and matter["case_number"] == "K00BS123"
    assert matter["last_milestone"] == "judgment" and matter["awarded"] == "10755.00" and matter["costs"] == "755.00"
    assert json.loads(project("legal", "--json", now=day(270)).stdout) == [matter]

    # The agency report counts the payment and the commission.
    [line] = json.loads(project("agency", "report", "--json", now=day(270)).stdout)
    assert line["recovered"] == "2000.00" and line["commission_owed"] == "500.00"
    assert line["recovery_rate"] == 16.67 and line["average_days_to_first_payment"] == 8.0

    # The evidence bundle: exported, verified, and tampering is found.
    out = project.folder / "bundle-A.zip"
    project("legal", "bundle", case_id, "--out", str(out), now=day(270))
    verified = json.loads(project("legal", "bundle", "--verify", str(out), "--against-log", "--json").stdout)
    every_event = json.loads(project("events", "--case", case_id, "--json").stdout)
    assert verified["ok"] and verified["events"] == len(every_event)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    letters = [n for n in names if n.startswith("letters/")]
    assert len(letters) == len([e for e in sent if e["channel"] == "letter"]) >= 5
    assert {"statement.csv", "statement.pdf", "notes.json", "payments.json"} <= set(names)
    assert manifest["matter"]["milestones"][-1]["milestone"] == "judgment"
    _tamper(out, letters[-1])
    result = project("legal", "bundle", "--verify", str(out), expect=1)
    assert letters[-1] in result.output and "sha256" in result.output
    assert "ok:" in project("verify").stdout


def _tamper(path: Path, member: str) -> None:
    """Rewrite one member of the zip with a byte changed."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    data = bytearray(contents[member])
    data[len(data) // 2] ^= 0xFF
    contents[member] = bytes(data)
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in contents.items():
            archive.writestr(name, value)

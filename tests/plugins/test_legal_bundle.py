"""The evidence bundle: what goes in, and what --verify finds when something was changed."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from dunning import Delivery, checkpoints, hookimpl
from tests.conftest import ChannelsPlugin, Project, row, write_csv
from tests.plugins.test_agency_fixtures import use_plugins


POLICY = """
name = "bundle-test"

[[steps]]
name = "warning-letter"
dpd = 5
channels = ["letter"]
template = "warning"

[[steps]]
name = "call"
dpd = 6
channels = ["phone"]
template = "call"
"""

SETTINGS = """
[channels.letter]
folder = "out/letters"

[channels.legal]
firm_name = "Castle & Reed LLP"
"""


class PdfLetters:
    """A letter channel that writes a real one-page PDF and records it as the letter channel does.

    The path it records is relative to its folder (``[channels.letter] folder``).
    """

    plugin_name = "pdf-letters"

    def __init__(self) -> None:
        self.name, self.needs = "letter", ()

    @hookimpl
    def register_channels(self, register: Callable[[Any], None]) -> None:
        register(self)

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, invariant=1)
        page.drawString(72, 720, f"{action.template}: case {case.id}, {ctx.debtor.name}")
        page.save()
        relative = f"{case.id}/{action.step}.pdf"
        target = ctx.config.base_dir / ctx.settings["folder"] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(buffer.getvalue())
        return Delivery.sent(relative, path=relative, sha256=hashlib.sha256(buffer.getvalue()).hexdigest())


@pytest.fixture
def bundle_project(project: Project, register_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    use_plugins(monkeypatch, "legal")
    register_plugin(PdfLetters())
    register_plugin(ChannelsPlugin("phone"))
    (project.folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    project.write_config(policy="policy.toml", enabled=["letter", "phone", "legal"], extra=SETTINGS)
    path = write_csv(project.folder / "cases.csv", [row("A", "INV-A1", "1200.00", "2026-03-01"),
                                                     row("A", "INV-A2", "300.00", "2026-03-02")])
    project("import", str(path), now="2026-02-20T08:00:00Z")
    for day in ("2026-03-06", "2026-03-07"):
        project("run", "--now", f"{day}T09:00:00Z")
    project("pay", "1", "200.00", "--reference", "BANK-1", now="2026-03-08T10:00:00Z")
    project("promise", "1", "500.00", "--due", "2026-03-09T12:00:00Z", now="2026-03-08T10:05:00Z")
    yield project


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_the_bundle_holds_events_letters_payments_and_the_statement(bundle_project: Project) -> None:
    out = bundle_project.folder / "bundles" / "case-1.zip"
    made = json.loads(bundle_project("legal", "bundle", "1", "--out", str(out), "--json",
                                     now="2026-03-08T11:00:00Z").stdout)
    assert made["letters"] == 1 and made["missing"] == []
    members = _members(out)
    manifest = json.loads(members["manifest.json"])
    events = json.loads(bundle_project("events", "--case", "1", "--json").stdout)
    assert [e["seq"] for e in manifest["events"]] == [e["seq"] for e in events]
    assert [e["hash"] for e in manifest["events"]] == [e["hash"] for e in events]
    assert manifest["chain"]["log_head"]["seq"] == events[-1]["seq"]
    assert manifest["created_at"] == "2026-03-08T11:00:00Z"
    # Every file is listed with its hash; the letter is the PDF that was sent.
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]
    [letter] = [e for e in manifest["files"] if e["what"] == "letter"]
    sent = next(e for e in events if e["kind"] == "sent" and e["channel"] == "letter")
    assert letter["event_seq"] == sent["seq"] and letter["sha256"] == sent["data"]["sha256"]
    assert "warning: case 1" in PdfReader(io.BytesIO(members[letter["path"]])).pages[0].extract_text()
    payments = json.loads(members["payments.json"])
    assert payments["payments"] == [{"id": 1, "at": "2026-03-08T10:00:00Z", "amount": "200.00", "reference": "BANK-1"}]
    assert [p["amount"] for p in payments["promises"]] == ["500.00"]
    statement = list(csv.DictReader(io.StringIO(members["statement.csv"].decode())))
    assert [(s["type"], s["reference"], s["balance"]) for s in statement] == [
        ("invoice", "INV-A1", "1200.00"), ("invoice", "INV-A2", "1500.00"), ("payment", "BANK-1", "1300.00")]
    assert "Balance due: EUR 1,300.00" in PdfReader(io.BytesIO(members["statement.pdf"])).pages[0].extract_text()
    assert "ok: case-1.zip: case 1" in bundle_project("legal", "bundle", "--verify", str(out)).stdout


def test_verify_names_every_change(bundle_project: Project, tmp_path: Path) -> None:
    out = tmp_path / "case-1.zip"
    bundle_project("legal", "bundle", "1", "--out", str(out), now="2026-03-08T11:00:00Z")
    original = _members(out)
    manifest = json.loads(original["manifest.json"])

    # An event edited in the manifest (a payment made larger).
    edited = json.loads(original["manifest.json"])
    payment = next(e for e in edited["events"] if e["kind"] == "payment")
    payment["data"]["amount"] = 20000000
    _rewrite(out, {**original, "manifest.json": json.dumps(edited).encode()})
    result = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--json", expect=1).stdout)
    assert result["problems"] == [f"event {payment['seq']}: its hash does not match its content "
                                  "(changed after it was written)"]

    # An event left out, and the count changed to match: the zip alone cannot tell (the
    # neighbours of a gap are not linked), the log can.
    dropped = json.loads(original["manifest.json"])
    index = next(i for i, e in enumerate(dropped["events"]) if e["kind"] == "payment")
    gone = dropped["events"].pop(index)
    _rewrite(out, {**original, "manifest.json": json.dumps(dropped).encode()})
    problems = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--json", expect=1).stdout)[
        "problems"
    ]
    assert problems == [f"the manifest says the case has {len(manifest['events'])} events but holds "
                        f"{len(manifest['events']) - 1}"]
    dropped["chain"]["events"] -= 1
    _rewrite(out, {**original, "manifest.json": json.dumps(dropped).encode()})
    assert json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--json").stdout)["problems"] == []
    problems = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--against-log", "--json",
                                         expect=1).stdout)["problems"]
    assert f"event {gone['seq']} of case 1 is in the log but not in the bundle" in problems

    # A file changed, a file added, a file removed.
    statement = next(e["path"] for e in manifest["files"] if e["path"] == "statement.csv")
    changed = {**original, statement: original[statement].replace(b"1300.00", b"13.00")}
    changed["extra.txt"] = b"not part of it"
    del changed["notes.json"]
    _rewrite(out, changed)
    problems = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--json", expect=1).stdout)[
        "problems"
    ]
    assert any(p.startswith("statement.csv: sha256 is") for p in problems)
    assert "extra.txt: in the zip but not in the manifest" in problems
    assert "notes.json: listed in the manifest but missing from the zip" in problems

    # Not a zip at all.
    out.write_bytes(b"hello")
    assert "not a readable zip file" in bundle_project("legal", "bundle", "--verify", str(out), expect=1).output


def test_event_links_are_checked_where_events_are_neighbours(bundle_project: Project, tmp_path: Path) -> None:
    out = tmp_path / "case-1.zip"
    bundle_project("legal", "bundle", "1", "--out", str(out), now="2026-03-08T11:00:00Z")
    original = _members(out)
    manifest = json.loads(original["manifest.json"])
    pairs = [
        (a, b) for a, b in zip(manifest["events"], manifest["events"][1:], strict=False) if b["seq"] == a["seq"] + 1
    ]
    assert pairs, "a single case's events follow each other in this log"
    first, second = pairs[0]
    # Swap two neighbours: each still hashes right, but the order and the link break.
    events = list(manifest["events"])
    i = events.index(first)
    events[i], events[i + 1] = second, first
    _rewrite(out, {**original, "manifest.json": json.dumps({**manifest, "events": events}).encode()})
    problems = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--json", expect=1).stdout)[
        "problems"
    ]
    assert f"event {first['seq']}: out of order after event {second['seq']}" in problems


def test_a_letter_changed_or_lost_since_it_was_sent_stops_the_bundle(bundle_project: Project) -> None:
    letter = bundle_project.folder / "out" / "letters" / "1" / "warning-letter.pdf"
    good = letter.read_bytes()
    letter.write_bytes(good + b"%")
    result = bundle_project("legal", "bundle", "1", "--out", str(bundle_project.folder / "b.zip"), expect=1)
    assert "the file has changed since it was sent" in result.output and "warning-letter" in result.output
    letter.unlink()
    result = bundle_project("legal", "bundle", "1", "--out", str(bundle_project.folder / "b.zip"), expect=1)
    assert "letters not found" in result.output and "--allow-missing" in result.output
    assert not (bundle_project.folder / "b.zip").exists()
    made = json.loads(bundle_project("legal", "bundle", "1", "--out", str(bundle_project.folder / "b.zip"),
                                     "--allow-missing", "--json").stdout)
    assert made["letters"] == 0 and len(made["missing"]) == 1
    manifest = json.loads(_members(bundle_project.folder / "b.zip")["manifest.json"])
    assert manifest["missing"] == made["missing"]


def test_bundle_usage_errors(bundle_project: Project) -> None:
    assert "give CASE and --out" in bundle_project("legal", "bundle", "1", expect=2).output
    out = bundle_project.folder / "x.zip"
    bundle_project("legal", "bundle", "1", "--out", str(out))
    assert "--verify takes only the bundle file" in bundle_project("legal", "bundle", "1", "--verify", str(out),
                                                                    expect=2).output


def test_the_bundle_carries_a_signed_checkpoint_an_auditor_checks_with_the_public_key(bundle_project: Project,
                                                                                      tmp_path: Path) -> None:
    public = bundle_project("evidence", "keygen").stdout.rsplit("public key: ", 1)[1].strip()
    out = tmp_path / "case-1.zip"
    bundle_project("legal", "bundle", "1", "--out", str(out), now="2026-03-08T11:00:00Z")
    original = _members(out)
    chain = json.loads(original["manifest.json"])["chain"]
    assert chain["checkpoint"]["seq"] == chain["log_head"]["seq"]
    assert chain["checkpoint"]["hash"] == chain["log_head"]["hash"]
    assert (
        "every hash matches" in bundle_project("legal", "bundle", "--verify", str(out), "--public-key", public).stdout
    )

    # A head moved forward in the manifest no longer matches what was signed.
    forged = json.loads(original["manifest.json"])
    forged["chain"]["checkpoint"]["seq"] += 1
    _rewrite(out, {**original, "manifest.json": json.dumps(forged).encode()})
    problems = json.loads(bundle_project("legal", "bundle", "--verify", str(out), "--public-key", public, "--json",
                                         expect=1).stdout)["problems"]
    assert problems == [f"the checkpoint of event {chain['checkpoint']['seq'] + 1}: its signature does not match "
                        "what it signs"]

    # Another key's checkpoint, or none, does not pass when the auditor names the key.
    other = tmp_path / "other.key"
    other_public = checkpoints.generate_key(other)
    _rewrite(out, original)
    assert "not signed by the evidence key" in bundle_project(
        "legal", "bundle", "--verify", str(out), "--public-key", other_public, expect=1).output
    unsigned = json.loads(original["manifest.json"])
    unsigned["chain"]["checkpoint"] = None
    _rewrite(out, {**original, "manifest.json": json.dumps(unsigned).encode()})
    assert "carries no signed checkpoint" in bundle_project(
        "legal", "bundle", "--verify", str(out), "--public-key", public, expect=1).output

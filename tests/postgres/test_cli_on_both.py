"""The command line end to end on SQLite and on PostgreSQL: ``db = "postgresql://..."`` in dunning.toml (or
``--db``) runs the same day's work, and prints the same, as a database file.

The journey is the demo's: a sample portfolio imported, several days of ``dunning run`` with the outbox channel
(email) beside the installed letter, phone, visit, agency and legal plugins, a payment, a dispute, a case
placed with an agency and one sent to litigation, the approvals decided,
the reports, ``verify --full``. Each step's output is kept, less what the clock of the machine writes into it,
and the two databases must have printed the very same.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

import dunning.plugins.agency as agency_plugin
import dunning.plugins.legal as legal_plugin
import dunning.plugins.phone as phone_plugin
import dunning.plugins.visit as visit_plugin
from dunning.cli import cli
from dunning.demo import START, OutboxChannel, OutboxPlugin, _portfolio
from dunning.store.dialect import to_postgres
from tests.conftest import Project


DAYS = 12
RUN_HOURS = (9, 15, 20)
ENABLED = ["agency", "email", "legal", "letter", "phone", "visit"]


@pytest.fixture
def demo_plugins(monkeypatch: pytest.MonkeyPatch, register_plugin: Any, tmp_path: Path) -> None:
    """The installed agency, legal, letter, phone and visit plugins, and the demo's outbox channel for email."""
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "agency,legal,letter,phone,visit")
    agency_plugin.register_commands(cli=cli)
    legal_plugin.register_commands(cli=cli)
    phone_plugin.register_commands(cli=cli)  # what loading the entry points does; idempotent
    visit_plugin.register_commands(cli=cli)
    register_plugin(OutboxPlugin(tuple(OutboxChannel(name, tmp_path / "outbox") for name in ("email",))))


CHANNEL_SETTINGS = '''
[channels.letter]
sender_name = "Northwind Supplies Ltd"
sender_address = ["1 Quay Street", "Bristol BS1 4DJ", "United Kingdom"]
signatory_name = "Dana Whitfield"
folder = "letters"

[channels.phone]
collectors = ["ana", "ben"]
company = "Northwind Credit"

[channels.visit]
company = "Northwind Supplies"

[channels.agency]
folder = "agency-files"

[channels.agency.agencies.eastgate]
name = "Eastgate Collections"
commission = "25"
min_balance = "100.00"
placement_days = 90

[channels.legal]
firm_name = "Castle & Reed LLP"
firm_address = ["9 Temple Row", "Birmingham B2 5LG"]
lawyer = "Priya Raman"
'''


def at(day: dt.date, hour: int) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).isoformat()


# What the machine's clock (not --now) writes into a command's output, and the hashes that cover it (each chain
# is checked by `verify --full` on its own database).
_WALL_CLOCK = re.compile(r'"(recorded_at|generated_at|run_id|wall_clock|hash|prev_hash)": "[^"]*"')


def steady(text: str) -> str:
    return _WALL_CLOCK.sub(r'"\1": "-"', text)


def journey(project: Project, folder: Path) -> dict[str, Any]:
    """The demo's days as an operator runs them from the command line; each step's output, as printed."""
    rows, _ = _portfolio("trade-receivables", 8, random.Random(14))
    portfolio = folder / "portfolio.json"
    portfolio.write_text(json.dumps(rows), encoding="utf-8")
    seen: dict[str, Any] = {}
    project.write_config(enabled=ENABLED, extra=CHANNEL_SETTINGS)
    seen["import"] = project("import", str(portfolio), "--json", now=at(START, 8)).stdout
    cases = json.loads(project("cases", "list", "--json", now=at(START, 8)).stdout)
    first = cases[0]["id"]
    for offset in range(DAYS):
        day = START + dt.timedelta(days=offset)
        for hour in RUN_HOURS:
            seen[f"run {day} {hour}"] = project("run", now=at(day, hour)).stdout
        if offset == 3:
            seen["pay"] = project("pay", str(first), "100.00", "--reference", "BANK-1", now=at(day, 11)).stdout
        if offset == 4:
            reference = json.loads(project("cases", "show", str(cases[1]["id"]), "--json").stdout)
            item = reference["obligations"][0]["reference"]
            seen["dispute"] = project("dispute", f"{cases[1]['id']}/{item}", "--reason", "goods returned",
                                      "--by", "dana", now=at(day, 12)).stdout
        if offset == 6:  # by hand: twelve days reach neither stage by the policy
            seen["to agency"] = project("escalate", str(cases[2]["id"]), "--to", "agency", "--reason",
                                        "no answer in a month", now=at(day, 12)).stdout
            seen["to litigation"] = project("escalate", str(cases[3]["id"]), "--to", "litigation", "--force",
                                            "--by", "dana", "--reason", "denies the debt", now=at(day, 12)).stdout
        for pending in json.loads(project("approvals", "--json", now=at(day, 21)).stdout):
            seen[f"approve {pending['id']}"] = project("approve", str(pending["id"]), "--by", "sam",
                                                       now=at(day, 21)).stdout
    last = START + dt.timedelta(days=DAYS - 1)
    seen["cases"] = project("cases", "list", "--json", now=at(last, 22)).stdout
    seen["case"] = project("cases", "show", str(first), "--json", now=at(last, 22)).stdout
    seen["events"] = steady(project("events", "--json").stdout)
    for report in ("activity", "aging", "contacts", "promises", "recovery"):
        seen[f"report {report}"] = steady(project("report", report, "--json", "--as-of", last.isoformat()).stdout)
    seen["calls"] = project("calls", "--json", now=at(last, 10)).stdout
    seen["visits"] = project("visits", "--all", "--json", now=at(last, 10)).stdout
    seen["placements"] = project("agency", "placements", "--json", now=at(last, 22)).stdout
    seen["agency report"] = project("agency", "report", "--json", now=at(last, 22)).stdout
    seen["legal"] = project("legal", "list", "--json", now=at(last, 22)).stdout
    seen["notices"] = project("notices", "--json", now=at(last, 22)).stdout
    seen["verify"] = project("verify", "--full").stdout
    # Files the channels wrote (letters) are named by where they are: the same below each project's folder.
    return {step: text.replace(str(folder), "<folder>") for step, text in seen.items()}


def test_the_demo_journey_prints_the_same_on_sqlite_and_postgresql(tmp_path: Path, dunning_postgres_url: str,
                                                                   demo_plugins: None):
    (tmp_path / "file").mkdir()
    (tmp_path / "server").mkdir()
    on_file = journey(Project(tmp_path / "file"), tmp_path / "file")
    on_server = journey(Project(tmp_path / "server", dunning_postgres_url), tmp_path / "server")
    assert on_file.keys() == on_server.keys()
    for step in on_file:
        assert on_server[step] == on_file[step], step
    # The days did something worth comparing: messages sent on every outreach channel, a payment, a dispute.
    events = json.loads(on_server["events"])
    kinds = {e["kind"] for e in events}
    assert {"sent", "payment", "obligation_disputed", "agency:placed"} <= kinds, kinds
    assert "plugin_error" not in kinds, [e["data"] for e in events if e["kind"] == "plugin_error"]
    sent = {e["channel"] for e in events if e["kind"] == "sent"}
    assert {"email", "letter"} <= sent, sent
    assert on_server["verify"].startswith(f"ok: {len(events)} events, chain intact")


def test_a_wrong_database_url_is_one_line_and_exit_1(project: Project):
    result = project("--db", "postgresql://me:secret@db:54x2/collections", "cases", "list", expect=1)
    assert result.output == ("Error: --db: database URL postgresql://me:***@db:54x2/collections: Port could not be "
                             "cast to integer value as '54x2'\n")
    # The project's own database line (its file's, or its PostgreSQL database's) gives way to a wrong URL.
    project.config.write_text(re.sub(r'^db = ".*"$', 'db = "postgresql://me@db/collections?sslmod=x"',
                                     project.config.read_text(), count=1, flags=re.MULTILINE))
    result = project("cases", "list", expect=1)
    assert result.output.endswith("db: database URL postgresql://me@db/collections?sslmod=x: unknown parameter "
                                  "'sslmod'\n")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_a_server_that_is_down_is_one_line_and_exit_1(project: Project, tmp_path: Path):
    # A socket folder where no server listens: the connection is refused at once.
    url = f"postgresql://dunning@/collections?host={tmp_path}&connect_timeout=2"
    result = project("--db", url, "cases", "list", expect=1)
    assert result.output.startswith(f"Error: {url}: cannot connect (")
    assert result.output.count("\n") == 1


def test_commands_that_need_a_file_say_so_on_postgresql(project: Project):
    if not project.on_postgres:
        assert project("archive", "--before", "2020-01-01", "--dry-run").exit_code == 0
        return
    result = project("archive", "--before", "2020-01-01", expect=1)
    assert "dunning archive works on a SQLite database file" in result.output
    result = project("simulate", "--days", "1", expect=1)
    assert "dunning simulate works on a SQLite database file" in result.output


def test_the_rewrite_says_null_safe_equality_with_a_column_and_an_insert_after_with():
    assert to_postgres("SELECT 1 FROM t WHERE t.a IS p.b AND t.c IS NOT q.d AND t.e IS NOT NULL") == (
        "SELECT 1 FROM t WHERE t.a IS NOT DISTINCT FROM p.b AND t.c IS DISTINCT FROM q.d AND t.e IS NOT NULL")
    assert to_postgres("WITH t(n) AS (VALUES (?)) INSERT OR IGNORE INTO a (x) SELECT n FROM t") == (
        "WITH t(n) AS (VALUES (%s)) INSERT INTO a (x) SELECT n FROM t ON CONFLICT DO NOTHING")
    assert to_postgres("SELECT sum(json_extract(data, '$.amount')), json_extract(e.data, '$.rule') FROM e") == (
        "SELECT sum(((data::jsonb ->> 'amount')::bigint)), (e.data::jsonb ->> 'rule') FROM e")


def test_the_console_serves_the_floor_from_either_database(project: Project, monkeypatch: pytest.MonkeyPatch):
    from starlette.testclient import TestClient

    from tests.web.conftest import app_for, build_floor
    from tests.web.helpers import sign_in

    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "phone")
    phone_plugin.register_commands(cli=cli)
    build_floor(project)
    client = TestClient(app_for(project))
    assert sign_in(client, "ann").status_code == 303  # to the call list
    calls = client.get("/")
    assert calls.status_code == 200
    # ann works the even case ids: Quay Bakers (case 2) and Palace Cafe (case 4) are on her list.
    assert "Quay Bakers" in calls.text and "Palace Cafe" in calls.text
    assert "Mall Florists" not in calls.text
    assert client.get("/cases/2").status_code == 200


def test_a_plugins_db_handle_reads_and_writes_alike(dunning_database: str | Path):
    from dunning.store import Store

    store = Store(dunning_database)
    try:
        db = store.db
        assert {"events", "cases"} <= set(db.table_names())
        db.execute("CREATE TABLE notes_of_mine (id INTEGER PRIMARY KEY, note TEXT)")
        with db.atomic():
            db.execute("INSERT INTO notes_of_mine (note) VALUES (?)", ["kept"])
        with pytest.raises(RuntimeError), db.atomic():
            db.execute("INSERT INTO notes_of_mine (note) VALUES (?)", ["undone"])
            raise RuntimeError("the block fails: its rows go")
        assert list(db.query("SELECT id, note FROM notes_of_mine")) == [{"id": 1, "note": "kept"}]
        assert getattr(db, "dialect", "sqlite") == ("postgresql" if str(dunning_database).startswith("postgresql")
                                                    else "sqlite")
    finally:
        store.close()

"""Broken files of every kind an operator hands dunning: a clear one-line refusal, never a traceback, the store as it
was.

Each test starts from a good file and lets hypothesis break it: bytes
inserted or cut, fields swapped for nasty values (NUL, terminal escapes,
full-width digits, huge numbers, week dates, formulas), lines repeated,
other encodings. Every input is either accepted or refused with exit code 1
and a message naming the file and the line, item or key; a refused input
leaves the database's dump exactly as it was. CI runs 300 examples of each
kind; a developer's run, fewer.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.cli import cli
from tests.conftest import Project, dump, row, write_csv
from tests.core.raw_database import copied_database, dropped_database
from tests.plugins.test_agency_fixtures import (agency_project, day_at, import_cases, run_days,  # noqa: F401
                                                write_returns)


EXAMPLES = 300 if os.environ.get("CI") else 40
# On PostgreSQL each example pays for a copy of the database (CREATE DATABASE ... TEMPLATE, about 0.3 s): fewer
# examples there, the same kinds of breakage; the parsers they reach are the same on both.
POSTGRES_EXAMPLES = 30 if os.environ.get("CI") else 10
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

NASTY = [b"", b"\x00", b"\x1b[2J", b"\xff\xfe", b"\xe9", "８９００.００".encode(), "١٢٣".encode(), b"9" * 40,
         b"-5", b"1e5", b"NaN", b"0", b"=HYPERLINK(\"http://x\")", b'"', b'""', b"\r\n", b",,,", b"2026-W10-1",
         b"2026-02-30", b"posixrules", b"Europe/Londn", b"XX", b"UK", b"US-ZZ", b"not-an-email", b"a@b",
         b"+44 20 7946 00011", b"[" * 300, b"{", b"}", b"true", b"25:00", b"\t", "\u202e".encode(),
         b"x" * 140_000, b"[channels]", b"\n[compliance]\nwindows.phon = [\"08:00\", \"20:00\"]\n"]


@st.composite
def broken(draw: st.DrawFn, good: bytes) -> bytes:
    """``good`` with one to three things wrong with it."""
    data = good
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["insert", "cut", "field", "line", "encoding", "bytes"]))
        at = draw(st.integers(0, len(data)))
        if how == "insert":
            data = data[:at] + draw(st.sampled_from(NASTY)) + data[at:]
        elif how == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 40)):]
        elif how == "field":
            # Replace what stands between two separators with something nasty.
            pieces = re.split(rb"([,=\n:])", data)
            if len(pieces) > 2:
                index = draw(st.integers(0, len(pieces) - 1))
                pieces[index] = draw(st.sampled_from(NASTY) | st.binary(max_size=12))
                data = b"".join(pieces)
        elif how == "line":
            lines = data.split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines[index])
            data = b"\n".join(lines)
        elif how == "encoding":
            codec = draw(st.sampled_from(["cp1252", "utf-16", "gb18030", "latin-1"]))
            data = data.decode("utf-8", errors="replace").encode(codec, errors="replace")
        else:
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    return data


def judge(result: Result, named: str, db: Path | str, before: list[str]) -> None:
    """Accepted, or refused in one clear message naming ``named`` and where; nothing changed when refused."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback: {result.exception!r}") from result.exception
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    if result.exit_code == 1:
        message = result.output
        assert message.startswith("Error: "), message
        assert "Traceback" not in message
        assert named in message, message
        assert re.search(r"line \d+|item \d+|'[^']*'|column \d+|end of document", message), message
        assert dump(db) == before


def fuzz(project: Project, good: bytes, target: Path, command: Callable[[Path, Path | str], list[str]],
         env: dict[str, str] | None = None) -> None:
    """Feed broken versions of ``good`` (written to ``target``) to ``command(target, db copy)``."""
    runner = CliRunner()
    if project.on_postgres:
        baseline: Path | str = str(project.target)
        before = dump(baseline)

        @settings(FUZZ, max_examples=POSTGRES_EXAMPLES)
        @given(broken(good))
        def check_on_postgres(data: bytes) -> None:
            target.write_bytes(data)
            db = copied_database(str(baseline))
            try:
                judge(runner.invoke(cli, command(target, db), env=env), target.name, db, before)
            finally:
                dropped_database(db)

        check_on_postgres()
        return
    baseline = project.folder / "baseline.db"
    shutil.copy(project.db, baseline)
    before = dump(baseline)

    @FUZZ
    @given(broken(good))
    def check(data: bytes) -> None:
        target.write_bytes(data)
        db = project.folder / "work.db"
        shutil.copy(baseline, db)
        result = runner.invoke(cli, command(target, db), env=env)
        judge(result, target.name, db, before)

    check()


def started(project: Project) -> None:
    project("import", str(write_csv(project.folder / "first.csv", [row("C1")])), now="2026-02-20T08:00:00Z")


def test_fuzzed_csv_imports(project: Project):
    started(project)
    good = write_csv(project.folder / "good.csv", [row("C2", "INV-2"), row("C3", "INV-3", address="1 High St\nLeeds")])
    fuzz(project, good.read_bytes(), project.folder / "in.csv",
         lambda path, db: ["--config", str(project.config), "--db", str(db), "--now", "2026-02-21T08:00:00Z",
                           "import", str(path)])


def test_fuzzed_json_imports(project: Project):
    started(project)
    good = (b'[{"debtor_id": "C2", "name": "Acme", "kind": "company", "reference": "INV-2", "amount": "100.00",'
            b' "currency": "EUR", "due_on": "2026-03-01", "country": "GB", "mobile": "+44 7700 900123",'
            b' "contacts": [{"kind": "email", "value": "ap@acme.example", "role": "guarantor"}]}]')
    fuzz(project, good, project.folder / "in.json",
         lambda path, db: ["--config", str(project.config), "--db", str(db), "--now", "2026-02-21T08:00:00Z",
                           "import", str(path)])


def test_fuzzed_configs(project: Project):
    started(project)
    good = (b'policy = "trade-receivables"\ntimezone = "Europe/London"\n\n[channels]\nenabled = []\n\n'
            b'[delivery]\nmax_attempts = 5\n\n[notify]\nsupervisor = "sam@acme.example"\n\n'
            b'[compliance]\nprofile = "uk"\nwindows.phone = ["08:00", "20:00"]\n\n[compliance.jurisdictions]\n'
            b'US = "us-regf"\n\n[store]\nsynchronous = "full"\n')
    target = project.folder / "fuzzed.toml"
    fuzz(project, good, target, lambda path, db: ["--config", str(path), "--db", str(db), "cases", "list"])


def test_fuzzed_policies(project: Project):
    started(project)
    good = (b'name = "mine"\n\n[stages.onsite]\nentry_dpd = 31\nmin_balance = "100.00"\n\n[[steps]]\n'
            b'name = "nudge"\ndpd = [1, 13]\nevery = 2\nchannels = ["email"]\ntemplate = "overdue-notice"\n'
            b'at = ["09:30"]\n\n[[steps]]\nname = "tell-boss"\ndpd = 20\nnotify = "supervisor"\n')
    target = project.folder / "policy.toml"
    project.write_config(policy="policy.toml")
    fuzz(project, good, target, lambda path, db: ["--config", str(project.config), "--db", str(db),
                                                   "--now", "2026-03-02T09:00:00Z", "run"])


def test_fuzzed_agency_return_files(agency_project: Project):  # noqa: F811
    ids = import_cases(agency_project, row("B", "INV-B1", "800.00", "2026-03-01"))
    run_days(agency_project, 0, 10)
    good = write_returns(agency_project.folder / "good.csv", [
        {"agency": "northwind", "transaction_id": "NW-1", "case_id": str(ids["B"]), "type": "payment",
         "date": "2026-03-12", "amount": "100.00"},
        {"agency": "northwind", "transaction_id": "NW-2", "case_id": str(ids["B"]), "type": "contact",
         "date": "2026-03-12"}])
    fuzz(agency_project, good.read_bytes(), agency_project.folder / "northwind-returns.csv",
         lambda path, db: ["--config", str(agency_project.config), "--db", str(db), "--now", day_at(12, 12),
                           "agency", "import", str(path)],
         env={"DUNNING_LOAD_PLUGINS": "agency"})

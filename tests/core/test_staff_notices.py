"""Notices to staff: [notify] addresses, the email a notice becomes, `dunning notices` and `notices done`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dunning.config import ConfigError, parse_config
from dunning.plugins.email.loopback import LoopbackSMTP
from dunning.staff import notice_message, notice_why, staff_address
from tests.conftest import Project, row, write_csv


SENDER = "Acme Credit Control <credit@acme.example>"
DPD28 = "2026-03-29T09:00:00+00:00"  # trade-receivables: notify-supervisor
DPD31 = "2026-04-01T09:00:00+00:00"  # notify-manager
LATER = "2026-04-01T15:00:00+00:00"


# --- pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, parsed", [
    ("sam@example.com", ("", "sam@example.com")),
    ("Sam Supervisor <sam@example.com>", ("Sam Supervisor", "sam@example.com")),
    ("<sam@example.com>", ("", "sam@example.com")),
    ("Sam", None),
    ("sam@localhost", None),
    ("sam @example.com", None),
    ("Sam <sam@example.com> and Bo", None),
    ("sam@example.com\nBcc: all@example.com", None),
])
def test_a_staff_address_is_an_email_address_with_or_without_a_name(text: str, parsed: tuple[str, str] | None):
    assert staff_address(text) == parsed


def test_notify_roles_must_be_email_addresses():
    with pytest.raises(ConfigError, match=r"^t.toml: 'notify.manager' must be an email address, such as "
                                          r"\"Ann Lee <ann@example.com>\" or \"ann@example.com\", got 'Morgan'$"):
        parse_config({"notify": {"supervisor": "sam@example.com", "manager": "Morgan"}}, path=None, source="t.toml")
    config = parse_config({"notify": {"supervisor": "Sam <sam@example.com>"}}, path=None, source="t.toml")
    assert config.notify == {"supervisor": "Sam <sam@example.com>"}


def test_a_notice_says_whose_case_how_much_is_overdue_and_why():
    subject, text = notice_message(notice_id=42, role="general_manager", case_id=7, debtor_name="Acme Trading Ltd",
                                   stage="onsite", dpd=61, balance=150000, overdue=120000, currency="GBP",
                                   why=notice_why("notify-general-manager", "", 61))
    assert subject == "Case 7 (Acme Trading Ltd): GBP 1,200.00 overdue, 61 days past due"
    assert text.splitlines()[:7] == [
        "To the general manager:", "", "Case 7, Acme Trading Ltd, needs your attention.", "",
        "Overdue:  GBP 1,200.00", "Balance:  GBP 1,500.00", "Stage:    onsite, 61 days past due"]
    assert "Why:      policy step notify-general-manager at 61 days past due" in text
    assert "dunning notices --role general_manager --open" in text
    assert "When it is dealt with: dunning notices done 42 --by <your name>" in text


# --- the whole path, from the command line --------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server:
        yield server


def _project(project: Project, smtp: LoopbackSMTP | None, monkeypatch: pytest.MonkeyPatch) -> Project:
    if smtp is not None:
        monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
        project.write_config(enabled=["email"], extra=smtp.settings_toml(SENDER))
    # One invoice overdue, one falling due later: the notice tells them apart.
    rows = [row("C001", "INV-1", "1200.00", name="Trading Co", email="ap@trading.example"),
            row("C001", "INV-2", "300.00", due_on="2026-04-30", name="Trading Co", email="ap@trading.example")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
    return project


def _notices(project: Project, *args: str, now: str = LATER) -> list[dict[str, Any]]:
    return json.loads(project("notices", *args, "--json", now=now).stdout)


def test_a_notice_reaches_the_supervisor_as_an_email_and_waits_on_the_worklist(
        project: Project, smtp: LoopbackSMTP, monkeypatch: pytest.MonkeyPatch):
    _project(project, smtp, monkeypatch)
    project("run", now=DPD28)
    [message] = [m for m in smtp.messages if m.rcpt_tos == ("sam@example.com",)]
    assert message.mail_from == "credit@acme.example"
    mail = message.parsed()
    assert mail["To"] == "Sam Supervisor <sam@example.com>"
    assert mail["From"] == SENDER
    assert mail["Subject"] == "Case 1 (Trading Co): EUR 1,200.00 overdue, 28 days past due"
    assert mail["List-Unsubscribe"] is None  # internal mail
    body = mail.get_content()
    assert "Overdue:  EUR 1,200.00" in body and "Balance:  EUR 1,500.00" in body
    assert "Why:      policy step notify-supervisor at 28 days past due" in body
    [action_id] = [e["action_id"] for e in json.loads(project("events", "--kind", "notice", "--json").stdout)]
    assert f"dunning notices done {action_id} --by <your name>" in body

    [event] = json.loads(project("events", "--kind", "notice", "--json").stdout)
    assert event["data"]["role"] == "supervisor" and event["data"]["via"] == "email"
    assert event["data"]["to"] == "Sam Supervisor <sam@example.com>"
    assert event["data"]["message_id"] == mail["Message-ID"]
    assert (event["data"]["overdue"], event["data"]["balance"]) == (120000, 150000)

    [notice] = _notices(project)
    assert notice == {
        "id": notice["id"], "role": "supervisor", "case_id": 1, "debtor_name": "Trading Co", "sent_on": "2026-03-29",
        "balance": "1500.00", "balance_minor": 150000, "overdue": "1200.00", "overdue_minor": 120000,
        "currency": "EUR", "why": "policy step notify-supervisor at 28 days past due",
        "to": "Sam Supervisor <sam@example.com>", "emailed": True, "open": True, "handled_by": None,
        "handled_at": None}

    project("run", now=DPD31)  # the manager's notice
    assert [m.rcpt_tos for m in smtp.messages if m.rcpt_tos[0].endswith("example.com")] == [
        ("sam@example.com",), ("morgan@example.com",)]
    assert [n["role"] for n in _notices(project)] == ["supervisor", "manager"]
    assert [n["role"] for n in _notices(project, "--role", "manager")] == ["manager"]

    out = project("notices", "done", str(notice["id"]), "--by", "Sam", "--note", "called the customer",
                  now=LATER).stdout
    assert out == f"notice {notice['id']} (supervisor, case 1) marked handled by Sam\n"
    [handled] = json.loads(project("events", "--kind", "notice_handled", "--json").stdout)
    assert (handled["action_id"], handled["data"]["by"], handled["data"]["note"]) == (
        notice["id"], "Sam", "called the customer")
    assert [n["role"] for n in _notices(project, "--open")] == ["manager"]
    [done] = _notices(project, "--role", "supervisor")
    assert (done["open"], done["handled_by"], done["handled_at"]) == (False, "Sam", "2026-04-01T15:00:00Z")
    table = project("notices", now=LATER).stdout.splitlines()
    assert table[0].split() == ["id", "role", "case", "debtor", "balance", "overdue", "sent", "emailed", "why",
                                "handled"]
    assert "EUR 1,500.00" in table[1] and "EUR 1,200.00" in table[1] and table[1].endswith("done by Sam")
    assert table[2].endswith("open")


def test_without_the_email_channel_the_notice_is_recorded_for_the_worklist(project: Project,
                                                                            monkeypatch: pytest.MonkeyPatch):
    _project(project, None, monkeypatch)
    project("run", now=DPD28)
    [event] = json.loads(project("events", "--kind", "notice", "--json").stdout)
    assert event["data"]["emailed"] is False
    assert event["data"]["not_sent"] == "no enabled channel carries notices to staff (enable email)"
    [notice] = _notices(project)
    assert (notice["emailed"], notice["open"], notice["overdue"]) == (False, True, "1200.00")


def _snapshot(project: Project) -> list[Any]:
    return project.sql("SELECT count(*), max(seq) FROM events")


@pytest.mark.parametrize(
    "args, message",
    [
        (["notices", "--role", "boss"], "Error: unknown role 'boss'; roles are supervisor, manager, general_manager"),
        (["notices", "done", "99", "--by", "Sam"], "Error: no notice with id 99"),
        (["notices", "done", "abc", "--by", "Sam"], "Error: a notice id is a number, got 'abc'"),
        (
            ["notices", "done", "ESCALATION", "--by", "Sam"],
            "Error: action ESCALATION is not a notice (its kind is escalate)",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                   args: list[str], message: str):
    _project(project, None, monkeypatch)
    project("run", now=DPD31)
    [(escalation,)] = project.sql("SELECT id FROM actions WHERE kind = 'escalate'")
    args = [str(escalation) if a == "ESCALATION" else a for a in args]
    message = message.replace("ESCALATION", str(escalation))
    before = _snapshot(project)
    result = project(*args, now=LATER, expect=1)
    assert result.output.strip().splitlines() == [message]
    assert _snapshot(project) == before


def test_a_notice_is_handled_once(project: Project, monkeypatch: pytest.MonkeyPatch):
    _project(project, None, monkeypatch)
    project("run", now=DPD28)
    [notice] = _notices(project)
    project("notices", "done", str(notice["id"]), "--by", "Sam", now=LATER)
    result = project("notices", "done", str(notice["id"]), "--by", "Bo", now=LATER, expect=1)
    assert result.output.strip() == (f"Error: notice {notice['id']} was already handled by Sam at "
                                     "2026-04-01T15:00:00Z")


def test_the_notices_commands_explain_themselves(project: Project):
    for args in (["notices"], ["notices", "done"]):
        out = project(*args, "--help").stdout
        assert "--help" in out and len(out.splitlines()) > 5

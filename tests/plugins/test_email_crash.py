"""SIGKILL at random points of `dunning run` sending email to a real SMTP server: nothing lost, nothing sent twice
unless the channel is told that a re-send is acceptable, and then only the one message that was in flight."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dunning.plugins.email.loopback import LoopbackSMTP
from tests.conftest import Project, row, write_csv


DEBTORS = 24
KILLS = 4
DUNNING = Path(sys.executable).with_name("dunning")
RUN_AT = "2026-03-02T09:00:00Z"  # trade-receivables, 1 day past due: one overdue-notice email per case


class Killer:
    """Kills the running `dunning run` at a chosen message: inside the server's DATA handling (the
    message is taken, its 250 never reaches the sender: the action is in flight) or just after it."""

    def __init__(self, server: LoopbackSMTP):
        self.server = server
        self.pid: int | None = None
        self.at_message: int | None = None
        self.in_flight_keys: list[str] = []
        original = server.handler.handle_DATA

        async def handle_data(srv: Any, session: Any, envelope: Any) -> str:
            reply = await original(srv, session, envelope)
            if self.pid is not None and self.at_message is not None and server.handler.received >= self.at_message:
                self.in_flight_keys.append(server.messages[-1].parsed()["X-Dunning-Key"])
                os.kill(self.pid, signal.SIGKILL)
                self.pid = None
            return reply

        server.handler.handle_DATA = handle_data  # type: ignore[method-assign]


def start_run(project: Project) -> subprocess.Popen[str]:
    env = {**os.environ, "DUNNING_LOAD_PLUGINS": "email"}
    return subprocess.Popen([str(DUNNING), "--config", str(project.config), "--now", RUN_AT, "run", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def crash_then_finish(project: Project, server: LoopbackSMTP, seed: int) -> tuple[Killer, int]:
    """Up to KILLS runs killed at random messages (half inside DATA, half between messages), then one run to the end."""
    rng = random.Random(seed)
    killer = Killer(server)
    kills = 0
    while kills < KILLS:
        before = server.handler.received
        target = before + rng.randint(1, 4)
        proc = start_run(project)
        if rng.random() < 0.5:
            killer.pid, killer.at_message = proc.pid, target
        else:
            deadline = time.monotonic() + 60
            while server.handler.received < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.0005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        killer.pid = None
        if proc.returncode == 0:
            break  # the run finished before the chosen message: nothing left to kill
        kills += 1
    done = start_run(project)
    _out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    return killer, kills


@pytest.fixture
def server() -> Any:
    with LoopbackSMTP() as smtp:
        yield smtp


def email_project(project: Project, server: LoopbackSMTP, in_doubt: str | None) -> None:
    project.write_config(enabled=["email"], extra=server.settings_toml(**({"in_doubt": in_doubt} if in_doubt else {})))
    rows = [row(f"C{i:03d}", f"INV-{i}", "100.00", email=f"ap{i}@trading.example") for i in range(DEBTORS)]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")


def email_actions(project: Project) -> dict[str, str]:
    return dict(project.sql("SELECT key, status FROM actions WHERE channel = 'email'"))


@pytest.mark.parametrize("seed", [1, 2])
def test_with_hold_nothing_is_sent_twice_nothing_is_lost_and_the_in_flight_ones_wait(project, server, seed,
                                                                                    monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    email_project(project, server, None)  # email's own default: hold
    killer, kills = crash_then_finish(project, server, seed)
    assert kills >= 1
    received = collections.Counter(m.parsed()["X-Dunning-Key"] for m in server.messages)
    statuses = email_actions(project)
    assert len(statuses) == DEBTORS
    assert max(received.values()) == 1, "an email went out twice"
    in_doubt = {key for key, status in statuses.items() if status == "in_doubt"}
    assert set(statuses.values()) <= {"sent", "in_doubt"}
    # Nothing lost: every email either reached the server and was recorded, or waits for a person.
    assert {k for k, s in statuses.items() if s == "sent"} <= set(received)
    assert set(received) | in_doubt == set(statuses)
    # Every message killed in flight is among those listed, and no more than one per kill.
    assert set(killer.in_flight_keys) <= in_doubt and len(in_doubt) <= kills
    listed = json.loads(project("in-doubt", "--json").stdout)
    assert {a["key"] for a in listed} == in_doubt
    assert all(e["data"]["reason"].startswith("left in flight") for e in
               json.loads(project("events", "--kind", "in_doubt", "--json").stdout))

    # The operator checks the mail log: what reached the server is cancelled, the rest released.
    for action in listed:
        if action["key"] in received:
            project("in-doubt", "cancel", str(action["id"]), "--by", "ops", "--reason", "in the mail log")
        else:
            project("in-doubt", "release", str(action["id"]), "--by", "ops")
    project("run", now="2026-03-02T10:00:00Z")
    final = collections.Counter(m.parsed()["X-Dunning-Key"] for m in server.messages)
    assert set(final) == set(statuses) and max(final.values()) == 1
    assert project("verify").stdout.startswith("ok:")


def test_with_resend_each_kill_costs_at_most_the_one_email_in_flight(project, server, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    email_project(project, server, "resend")
    killer, kills = crash_then_finish(project, server, seed=3)
    assert kills >= 1
    received = collections.Counter(m.parsed()["X-Dunning-Key"] for m in server.messages)
    statuses = email_actions(project)
    assert set(statuses.values()) == {"sent"} and set(received) == set(statuses)  # nothing lost
    twice = {key for key, n in received.items() if n > 1}
    # At most one copy more per kill (a message killed in flight twice in a row goes out three times).
    assert sum(n - 1 for n in received.values()) <= kills
    assert set(killer.in_flight_keys) <= twice  # those killed inside DATA were the ones sent again
    assert json.loads(project("in-doubt", "--json").stdout) == []


def test_in_doubt_settings_and_decisions_are_checked(project, server, monkeypatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "email")
    email_project(project, server, "hold")
    project.write_config(enabled=["email"], extra=server.settings_toml(in_doubt="maybe"))
    out = project("cases", "list", expect=1).output
    assert "'channels.email.in_doubt' must be \"resend\" or \"hold\", got 'maybe'" in out
    email_project(project, server, "hold")
    project("run", now=RUN_AT)
    sent = email_actions(project)
    assert set(sent.values()) == {"sent"}
    first = json.loads(project("events", "--kind", "sent", "--json").stdout)[0]["action_id"]
    assert f"action {first} is sent, not in doubt" in project("in-doubt", "release", str(first), "--by", "ops",
                                                              expect=1).output
    assert "no action with id 999" in project("in-doubt", "cancel", "999", "--by", "ops", "--reason", "x",
                                              expect=1).output

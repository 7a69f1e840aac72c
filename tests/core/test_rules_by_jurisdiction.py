"""One config, five debtors, each held to their own country's rules at the edges; channels bound by medium.

US person (Reg F), US company (consumer rules do not bind it), GB (UK,
Breathing Space), CN (3 connected calls a day) and DE (the fallback), in
real runs on a real SQLite store. Business clock in Shanghai so every
debtor's Monday 2 March 2026 is the business's Monday too.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, cast

import pytest
import structlog

from dunning import Delivery, dispatch, hookimpl, operations
from dunning.config import parse_config
from dunning.models import ActionKind, Case
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin

UTC = dt.UTC
ZONES = {"US": "America/New_York", "GB": "Europe/London", "CN": "Asia/Shanghai", "DE": "Europe/Berlin"}
NUMBERS = {"US": "+1 212 555 0100", "GB": "+44 7700 900123", "CN": "+86 138 0013 8000", "DE": "+49 30 901820"}

POLICY = """
name = "one-call"
[[steps]]
name = "call"
dpd = 1
channels = ["phone"]
template = "reminder-call"
at = ["07:59"]
"""

CONFIG = """
policy = "policy.toml"
db = "dunning.db"
timezone = "Asia/Shanghai"

[channels]
enabled = ["phone", "sms", "whatsapp"]

[compliance]
profile = "default"

[compliance.jurisdictions]
US = "us-regf"
CN = "cn"
GB = "uk"
"""


class WhatsApp:
    """An integrator's channel: declares medium "text" and nothing else about the rules."""

    name = "whatsapp"
    medium = "text"
    needs = ("mobile",)

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, action: Any, case: Any, ctx: Any) -> Delivery:
        self.sent.append(ctx.key)
        return Delivery.sent(f"wa:{ctx.key}")


class Pigeon(WhatsApp):
    """A channel that declares no medium."""

    name = "pigeon"
    medium = None  # type: ignore[assignment]


class IntegratorPlugin:
    plugin_name = "integrator"

    def __init__(self, *channels: WhatsApp) -> None:
        self.channels = channels

    @hookimpl
    def register_channels(self, register: Any) -> None:
        for channel in self.channels:
            register(channel)


@pytest.fixture
def world(tmp_path: Path, dunning_database: Path | str) -> Any:
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    config = parse_config(tomllib.loads(CONFIG), path=tmp_path / "dunning.toml", source="dunning.toml")
    plugin, whatsapp = ChannelsPlugin("phone", "sms"), WhatsApp()
    rt = Runtime(config, db_path=cast(Path, dunning_database), extra_plugins=[plugin, IntegratorPlugin(whatsapp)])
    yield rt, plugin, whatsapp
    rt.close()


def debtors(rt: Runtime, case_factory: Any) -> dict[str, Case]:
    made = {}
    for label, country, kind in [("us-person", "US", "person"), ("us-company", "US", "company"),
                                 ("gb", "GB", "person"), ("cn", "CN", "person"), ("de", "DE", "person")]:
        made[label] = case_factory(rt, debtor_id=label, kind=kind, country=country, timezone=ZONES[country],
                                   mobile=NUMBERS[country], now=dt.datetime(2026, 2, 1, tzinfo=UTC),
                                   region="US-NY" if label == "us-person" else None)
    return made


def local(country: str, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zoneinfo.ZoneInfo(ZONES[country]))


def extra(rt: Runtime, case: Case, channel: str, tag: str, at: dt.datetime) -> str:
    key = f"{case.id}:extra:{channel}:{tag}"
    with rt.store.transaction():
        rt.store.add_action(key=key, case_id=case.id, kind=ActionKind.OUTREACH, step="call", channel=channel,
                            template="reminder-call", planned_for=at.date(), not_before=at, now=at)
    return key


def attempts(rt: Runtime, case: Case, channel: str, *moments: dt.datetime, connected: bool | None = None) -> None:
    with rt.store.transaction():
        for moment in moments:
            rt.store.record_attempt(debtor_id=case.debtor_id, case_id=case.id, channel=channel, source=channel,
                                    at=moment, connected=connected, contact=None)


def outcome(rt: Runtime, key: str) -> tuple[str, Any]:
    """(status, the last verdict event's data) of one action."""
    [action] = [a for a in rt.store.actions() if a.key == key]
    verdicts = [e for e in rt.store.events() if e.kind in ("deferred", "blocked") and e.data.get("key") == key]
    return action.status.value, (verdicts[-1].data if verdicts else None)


def test_each_debtor_is_held_to_their_own_window_at_the_edge(world, case_factory) -> None:
    rt, plugin, _ = world
    cases = debtors(rt, case_factory)
    # Each debtor's 07:59:59 and 08:00:00 on Monday 2 March, in the order the clock meets them.
    for label, country in [("cn", "CN"), ("de", "DE"), ("gb", "GB"), ("us-person", "US")]:
        before = dispatch.run(rt, local(country, 2026, 3, 2, 7, 59, 59))
        waiting = [c for c in cases.values() if (c.debtor_id == label or (label == "us-person" and
                                                                             c.debtor_id == "us-company"))]
        assert before.sent == 0 and before.deferred == len(waiting), label
        at_eight = dispatch.run(rt, local(country, 2026, 3, 2, 8, 0, 0))
        assert at_eight.sent == len(waiting) and at_eight.deferred == 0, label
    deferred = {e.case_id: e.data for e in rt.store.events(kind="deferred")}
    by_debtor = {label: deferred[case.id] for label, case in cases.items()}
    # Every deferral names the rule, the profile that set it and the jurisdiction.
    assert {label: (d["rule"], d["profile"], d["jurisdiction"]) for label, d in by_debtor.items()} == {
        "us-person": ("window:phone", "us-regf", "US-NY"),  # New York is not mapped: the US's profile
        "us-company": ("window:phone", "default", "US"),
        "gb": ("window:phone", "uk", "GB"),
        "cn": ("window:phone", "cn", "CN"),
        "de": ("window:phone", "default", "DE"),
    }
    assert by_debtor["us-company"]["profile_by"] == "us-regf binds consumer debts only; companies: default"
    assert by_debtor["us-person"]["profile_by"] == "compliance.jurisdictions.US"
    assert by_debtor["de"]["profile_by"] == "compliance.profile"
    assert by_debtor["cn"]["until"] == "2026-03-02T00:00:00Z"  # 08:00 in Shanghai
    assert len(plugin.channels["phone"].sent) == 5


def test_seven_calls_in_seven_days_bind_the_us_person_only(world, case_factory) -> None:
    rt, _, _ = world
    cases = debtors(rt, case_factory)
    for label in ("us-person", "us-company"):
        # Seven calls from Monday to Thursday, two a day at most.
        attempts(rt, cases[label], "phone", *[local("US", 2026, 3, day, hour) for day in (2, 3, 4, 5)
                                              for hour in (10, 14)][:7])
    person = extra(rt, cases["us-person"], "phone", "8th", local("US", 2026, 3, 6, 10))
    company = extra(rt, cases["us-company"], "phone", "8th", local("US", 2026, 3, 6, 10))
    dispatch.deliver_ready(rt, local("US", 2026, 3, 6, 10, 5), dispatch.RunSummary())
    status, data = outcome(rt, person)
    assert status == "blocked" and (data["rule"], data["profile"], data["jurisdiction"]) == (
        "regf_7_in_7",
        "us-regf",
        "US-NY",
    )
    assert outcome(rt, company) == ("sent", None)


def test_cn_allows_three_connected_calls_a_day_where_de_counts_every_attempt(world, case_factory) -> None:
    rt, _, _ = world
    cases = debtors(rt, case_factory)
    attempts(rt, cases["cn"], "phone", *[local("CN", 2026, 3, 3, h) for h in (9, 10, 11)], connected=True)
    fourth = extra(rt, cases["cn"], "phone", "4th", local("CN", 2026, 3, 3, 12))
    dispatch.deliver_ready(rt, local("CN", 2026, 3, 3, 12, 5), dispatch.RunSummary())
    status, data = outcome(rt, fourth)
    assert status == "blocked" and (data["rule"], data["profile"], data["jurisdiction"]) == (
        "cn_connected_calls",
        "cn",
        "CN",
    )
    # Three unanswered rings: CN counts conversations, so a fourth call goes; DE's house rule counts attempts.
    attempts(rt, cases["cn"], "phone", *[local("CN", 2026, 3, 4, h) for h in (9, 10, 11)], connected=False)
    attempts(rt, cases["de"], "phone", *[local("DE", 2026, 3, 4, h) for h in (9, 10, 11)], connected=False)
    cn = extra(rt, cases["cn"], "phone", "ring", local("CN", 2026, 3, 4, 12))
    de = extra(rt, cases["de"], "phone", "ring", local("DE", 2026, 3, 4, 12))
    dispatch.deliver_ready(rt, local("CN", 2026, 3, 4, 12, 5), dispatch.RunSummary())
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 4, 12, 5), dispatch.RunSummary())
    assert outcome(rt, cn) == ("sent", None)
    status, data = outcome(rt, de)
    assert status == "blocked" and (data["rule"], data["profile"], data["jurisdiction"]) == (
        "daily_attempts:call",
        "default",
        "DE",
    )


def test_breathing_space_ends_by_itself_for_the_gb_debtor_only(world, case_factory) -> None:
    rt, _plugin, _ = world
    cases = debtors(rt, case_factory)
    now = local("GB", 2026, 3, 1, 12)
    operations.hold(rt, cases["gb"].id, "breathing_space", now=now)
    operations.hold(rt, cases["us-person"].id, "breathing_space", now=now)
    [gb] = rt.store.holds(cases["gb"].id)
    [us] = rt.store.holds(cases["us-person"].id)
    assert gb.until == rt.today(now) + dt.timedelta(days=60) and us.until is None
    dispatch.run(rt, local("GB", 2026, 3, 2, 9))
    blocked = {e.case_id: e.data for e in rt.store.events(kind="blocked")}
    assert (blocked[cases["gb"].id]["rule"], blocked[cases["gb"].id]["profile"]) == ("hold:breathing_space", "uk")


def test_a_text_channel_of_an_integrator_is_held_to_the_text_window_and_caps(world, case_factory) -> None:
    rt, _plugin, whatsapp = world
    cases = debtors(rt, case_factory)
    de = cases["de"]
    late = extra(rt, de, "whatsapp", "late", local("DE", 2026, 3, 3, 21, 0, 0))
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 3, 21, 0, 0), dispatch.RunSummary())
    status, data = outcome(rt, late)
    assert status == "pending" and data["rule"] == "window:whatsapp"
    assert data["until"] == local("DE", 2026, 3, 4, 8).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 4, 7, 59, 59), dispatch.RunSummary())
    assert whatsapp.sent == []
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 4, 8, 0, 0), dispatch.RunSummary())
    assert whatsapp.sent == [late]
    # Two SMS the same day: with the WhatsApp message, three texts; the house rule allows no fourth.
    attempts(rt, de, "sms", local("DE", 2026, 3, 4, 9), local("DE", 2026, 3, 4, 10))
    fourth = extra(rt, de, "whatsapp", "fourth", local("DE", 2026, 3, 4, 11))
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 4, 11, 5), dispatch.RunSummary())
    status, data = outcome(rt, fourth)
    assert status == "blocked" and data["rule"] == "daily_attempts:text"
    # An opt-out of texts stops it too, with no word about WhatsApp anywhere in the config.
    operations.opt_out(rt, "de", "text", now=local("DE", 2026, 3, 5, 9))
    opted = extra(rt, de, "whatsapp", "opted", local("DE", 2026, 3, 5, 10))
    dispatch.deliver_ready(rt, local("DE", 2026, 3, 5, 10, 5), dispatch.RunSummary())
    status, data = outcome(rt, opted)
    assert status == "blocked" and data["rule"] == "opt_out:text"


def test_a_channel_with_no_medium_gets_the_strictest_window_and_a_warning(tmp_path: Path, case_factory) -> None:
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    text = CONFIG.replace('"whatsapp"]', '"whatsapp", "pigeon"]').replace(
        'profile = "default"\n',
        'profile = "default"\nwindows.email = ["06:00", "23:00"]\nwindows.text = ["09:00", "20:00"]\n',
    )
    config = parse_config(tomllib.loads(text), path=tmp_path / "dunning.toml", source="dunning.toml")
    pigeon = Pigeon()
    with structlog.testing.capture_logs() as logs:
        rt = Runtime(config, extra_plugins=[ChannelsPlugin("phone", "sms"), IntegratorPlugin(WhatsApp(), pigeon)])
    try:
        warnings = [e for e in logs if e["log_level"] == "warning" and e.get("channel") == "pigeon"]
        assert len(warnings) == 1 and "declares no medium" in warnings[0]["event"]
        assert not [e for e in logs if e.get("channel") == "whatsapp"]
        case = case_factory(rt, debtor_id="de", kind="person", country="DE", timezone=ZONES["DE"],
                            mobile=NUMBERS["DE"], now=dt.datetime(2026, 2, 1, tzinfo=UTC))
        # 08:30: inside the call window, outside the strictest (texts from 09:00).
        key = extra(rt, case, "pigeon", "early", local("DE", 2026, 3, 3, 8, 30))
        dispatch.deliver_ready(rt, local("DE", 2026, 3, 3, 8, 30), dispatch.RunSummary())
        status, data = outcome(rt, key)
        assert status == "pending" and data["rule"] == "window:pigeon" and "09:00-20:00" in data["reason"]
    finally:
        rt.close()

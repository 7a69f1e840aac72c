"""The fixtures dunning gives plugin authors (``dunning.testing``) work as documented."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from dunning import Delivery, dispatch, hookimpl
from dunning.cli import cli
from dunning.config import ConfigError, load_config
from dunning.policy import PolicyError
from dunning.verdicts import Decision
from dunning.runtime import Runtime
from tests.conftest import ChannelsPlugin


@pytest.fixture
def dunning_runtime(dunning_database: str | Path, dunning_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """Every runtime here opens its store on SQLite, then (the test's second run) on PostgreSQL. The database is
    asked for first, so it outlives the runtimes: they are closed before it is dropped."""
    return functools.partial(dunning_runtime, database=dunning_database)


ONE_STEP = """
name = "one-step"

[[steps]]
name = "remind"
dpd = 1
channels = ["email"]
template = "overdue-notice"
"""


def test_fake_clock_drives_day_by_day_runs(dunning_runtime, case_factory, fake_clock):
    plugin = ChannelsPlugin("email", "phone")
    rt = dunning_runtime(plugins=[plugin], enabled=["email", "phone"])
    case = case_factory(rt, amount="80.00", due_on=dt.date(2026, 3, 1), currency="GBP")
    assert case.balance == 8000 and case.currency == "GBP"
    sent_per_day = []
    for _ in range(5):  # 2 ... 6 March: DPD 1 to 5
        sent_per_day.append(dispatch.run(rt, fake_clock()).sent)
        fake_clock.advance(days=1)
    assert sent_per_day == [2, 0, 2, 0, 2]
    assert fake_clock.today == dt.date(2026, 3, 7)
    fake_clock.set("2026-04-01T10:00:00+00:00")
    assert fake_clock() == dt.datetime(2026, 4, 1, 10, tzinfo=dt.UTC)


def test_the_old_names_are_the_new_fixtures(fake_clock, dunning_clock, case_factory, dunning_case, dunning_runtime):
    assert fake_clock is dunning_clock
    rt = dunning_runtime()
    assert case_factory(rt).id != dunning_case(rt).id  # one counter: two different debtors


def test_dunning_config_writes_the_file_the_cli_reads_and_creates_its_database(dunning_config, tmp_path,
                                                                                dunning_register_plugin):
    config = dunning_config(policy=ONE_STEP, enabled=["email"], channel_settings={"email": {"host": "mail.test"}},
                            max_attempts=2, claim_timeout=dt.timedelta(0), notify={"supervisor": "sam@example.com"})
    assert config.path == (tmp_path / "dunning.toml").resolve()
    assert config.db.exists()  # as `dunning init` leaves it: commands refuse a database that does not exist
    text = config.path.read_text(encoding="utf-8")
    assert 'enabled = ["email"]' in text and "max_attempts = 2" in text and 'host = "mail.test"' in text
    assert "claim_timeout" not in text  # no positive number of seconds: set on the object only
    assert config.max_attempts == 2 and config.claim_timeout == dt.timedelta(0)
    assert load_config(config.path) == attrs.evolve(config, claim_timeout=dt.timedelta(minutes=10))
    dunning_register_plugin(ChannelsPlugin("email"))  # the CLI loads it as if it were installed
    result = CliRunner().invoke(cli, ["--config", str(config.path), "cases", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_dunning_config_refuses_what_dunning_refuses(dunning_config):
    with pytest.raises(ConfigError, match=r"'delivery.max_attempts' must be positive, got 0"):
        dunning_config(toml="\n[delivery]\nmax_attempts = 0\n")
    with pytest.raises(ConfigError, match=r"dunning.toml: unknown key 'store.colour'"):
        dunning_config(toml='\n[store]\ncolour = "blue"\n')


def test_dunning_run_runs_at_the_clock_s_time_and_only_once(dunning_runtime, dunning_case, dunning_clock, dunning_run):
    plugin = ChannelsPlugin("email")
    rt = dunning_runtime(plugins=[plugin], enabled=["email"], policy=ONE_STEP)
    case = dunning_case(rt, due_on=dt.date(2026, 3, 1))
    assert dunning_run(rt).sent == 1  # 2 March, DPD 1
    assert dunning_run(rt).sent == 0  # the same moment again: nothing new
    [event] = rt.store.events(case_id=case.id, kind="sent")
    assert event.at == dunning_clock()
    dunning_clock.advance(days=1)
    assert dunning_run(rt, now=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)).sent == 0
    assert [key for key, _, _ in plugin.channels["email"].sent] == [f"{case.id}:remind:email:2026-03-02"]


class Texts:
    """A channel whose templates must exist: it says which files it needs."""

    name = "texts"
    medium = "text"
    needs = ("mobile",)
    template_suffixes = ("txt",)

    def send(self, action, case, ctx):
        number = ctx.contacts_of("mobile")[0].value
        return Delivery.sent(reference=ctx.key, to=number, text=ctx.render(action.template, "txt", sign_off="Bye"))


class TextsPlugin:
    plugin_name = "texts"

    @hookimpl
    def register_channels(self, register):
        register(Texts())


def test_dunning_run_refuses_a_policy_whose_template_is_missing(dunning_runtime, dunning_run):
    rt = dunning_runtime(plugins=[TextsPlugin()], enabled=["texts"], policy=ONE_STEP.replace('"email"', '"texts"'))
    with pytest.raises(PolicyError, match=r"channel 'texts' has no template 'overdue-notice.txt'"):
        dunning_run(rt)


def test_dunning_contexts_hands_send_and_check_action_the_objects_a_run_would(dunning_runtime, dunning_case,
                                                                              dunning_contexts, tmp_path):
    folder = tmp_path / "templates" / "texts"
    folder.mkdir(parents=True)
    (folder / "overdue-notice.txt").write_text("{{ debtor.name }} owes {{ overdue }}. {{ sign_off }}")
    rt = dunning_runtime(plugins=[TextsPlugin()], enabled=["texts"], templates=tmp_path / "templates",
                         policy=ONE_STEP.replace('"email"', '"texts"'))
    case = dunning_case(rt, amount="80.00", currency="GBP", mobile="+44 7700 900123")
    made = dunning_contexts(rt, case, channel="texts")
    assert made.action.key == f"{case.id}:test-step:texts:2026-03-02" and made.action.dpd == 1
    assert made.delivery.settings == {} and made.delivery.dpd == 1
    assert made.delivery.store.case(case.id) == rt.store.case(case.id)  # the run's store, as its read-only view
    with pytest.raises(AttributeError, match="read-only"):
        made.delivery.store.update_case  # noqa: B018
    delivery = Texts().send(made.action, made.case, made.delivery)
    assert delivery.data == {"to": "+447700900123", "text": "Acme Trading Ltd owes GBP 80.00. Bye"}

    assert made.rule.now == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert made.rule.media == {"texts": "text"}
    assert made.rule.store.debtor(case.debtor_id).name == "Acme Trading Ltd"
    verdicts = list(rt.hook.check_action(action=made.action, case=made.case, now=made.rule.now, ctx=made.rule))
    assert [v.rule for v in verdicts if v and v.decision is Decision.ALLOW] == ["contact_rules"]  # 09:00 on a Monday

    with pytest.raises(LookupError, match=r"channel 'email' is not enabled in this runtime"):
        dunning_contexts(rt, case, channel="email").delivery  # noqa: B018  the access is what raises
    rule_only = dunning_contexts(rt, case, channel="email")
    assert rule_only.rule.config is rt.config and rule_only.action.channel == "email"


def test_the_delivery_context_records_the_channels_evidence_in_the_chain(dunning_runtime, dunning_case,
                                                                        dunning_contexts):
    from dunning import evidence

    rt = dunning_runtime(plugins=[TextsPlugin()], enabled=["texts"], policy=ONE_STEP.replace('"email"', '"texts"'))
    case = dunning_case(rt)
    made = dunning_contexts(rt, case, channel="texts")
    made.delivery.record_event("delivered", {"provider_id": "m-1"}, status="read")
    [event] = rt.store.events(kind="texts:delivered")
    assert (event.case_id, event.channel, event.step, event.data) == (
        case.id, "texts", "test-step", {"provider_id": "m-1", "status": "read"})
    with pytest.raises(ValueError, match="event kind 'email:sent'"):
        made.delivery.record_event("email:sent")  # another channel's namespace
    assert evidence.verify_chain(rt.store.event_rows_for_verify()).ok


class Keeper:
    """A channel that keeps the action and context a run hands it."""

    name = "texts"
    medium = "text"
    needs = ("mobile",)

    def __init__(self):
        self.seen = []

    def send(self, action, case, ctx):
        self.seen.append((action, ctx))
        return Delivery.sent(reference=ctx.key)


def test_dunning_contexts_builds_what_a_run_hands_the_channel(dunning_runtime, dunning_case, dunning_contexts,
                                                               dunning_run, dunning_clock):
    keeper = Keeper()

    class Plugin:
        plugin_name = "keeper"

        @hookimpl
        def register_channels(self, register):
            register(keeper)

    policy = ONE_STEP.replace('"email"', '"texts"') + 'audience = "debtor"\n'
    rt = dunning_runtime(plugins=[Plugin()], enabled=["texts"], policy=policy,
                         channel_settings={"texts": {"sender": "Acme"}})
    case = dunning_case(rt, amount="80.00", currency="GBP", locale="en_GB")
    made = dunning_contexts(rt, case, channel="texts", step="remind")
    assert dunning_run(rt).sent == 1
    [(action, ctx)] = keeper.seen
    assert (made.action.key, made.action.kind, made.action.template, made.action.dpd, made.action.options) == \
        (action.key, action.kind, action.template, action.dpd, action.options)
    mine = made.delivery
    for name in ("now", "key", "debtor", "contacts", "obligations", "dpd", "settings", "audience", "opted_out"):
        assert getattr(mine, name) == getattr(ctx, name), name
    # The run has planned the case since (its cursor moved); everything else a template sees is the same.
    assert mine.template_context["case"].id == ctx.template_context["case"].id
    assert {k: v for k, v in mine.template_context.items() if k != "case"} == \
        {k: v for k, v in ctx.template_context.items() if k != "case"}

"""The pieces one command works with: config, plugins, policy and store, wired together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dunning.log import get_logger

from dunning import calendar, privacy, templates
from dunning.config import Config
from dunning.hook_types import Hooks
from dunning.models import Case, Event
from dunning.plugin_manager import Plugins, load_plugins
from dunning.mirrors import Mirrors
from dunning.store import Store, StoreError, missing_database
from dunning.store.database import DatabaseName, PostgresTarget, opened_as

if TYPE_CHECKING:
    import jinja2

    # Imported where used: a reading command (`cases show`) needs neither a delivery nor a rule's context,
    # nor the policy (`dunning.policy`, its schema and records) unless it asks for it.
    from dunning import checkpoints
    from dunning.channels import Channel, Delivery, RuleContext
    from dunning.policy import Policy
    from dunning.strategy_policies import CasePolicies

log = get_logger("dunning")


class RecordingChannel:
    """Stands in for a real channel in a simulation: records, sends nothing."""

    def __init__(self, name: str, needs: tuple[str, ...], medium: str | None = None,
                 mentions_deadline: Callable[[str | None], bool] = lambda _template: False):
        self.name, self.needs, self.medium = name, needs, medium
        self.mentions_deadline = mentions_deadline

    def send(self, action: Any, case: Case, ctx: Any) -> Delivery:
        # A message whose template speaks of the deadline would state it: the
        # rehearsal then keeps it, as a real run would.
        given = ctx.template_context.get("deadline")
        stated = {"deadline": given["on"].isoformat(), "deadline_stage": given.get("stage")} \
            if isinstance(given, Mapping) and self.mentions_deadline(action.template) else {}
        from dunning.channels import Delivery

        return Delivery.sent(f"simulated:{action.key}", simulated=True, **stated)


class Runtime:
    """Opened once per command; closes the store on exit."""

    def __init__(self, config: Config, *, db_path: DatabaseName | None = None, extra_plugins: Sequence[object] = (),
                 policy: Policy | None = None, simulated: bool = False, create_db: bool = True):
        # Debtors' data goes into every file the engine writes: owner-only, whatever the umask.
        privacy.owner_only()
        self.config = config
        # A rehearsal: channels record instead of sending, and plugins' side
        # effects (record_event mirrors, stage_entered actions) do not run.
        self.simulated = simulated
        self.plugins: Plugins = load_plugins(config, extra_plugins)
        self._policy = policy
        self._case_policies: CasePolicies | None = None
        self._policy_warnings: list[str] | None = None
        self._check_policies()
        path = db_path or config.db
        if not create_db and not isinstance(path, PostgresTarget) and not Path(path).exists():
            # A mistyped `db` must not quietly start a new, empty database (a server's says so when connecting).
            raise StoreError(missing_database(Path(path)))
        self.store = Store(opened_as(path), self.plugins.migrations, synchronous=config.synchronous)
        if isinstance(path, PostgresTarget):
            # Files kept beside a database file (signed checkpoints) go beside dunning.toml, named after the database.
            self.store.path = config.base_dir / path.database
        for plugin, problem in self.store.failed_migrations.items():
            # Only what needs this plugin's tables stops: its hooks and channels are left out.
            self.plugins.leave_out(plugin, problem)
        self.mirrors = Mirrors(self)
        self.store.on_events = self.mirrors.announce
        self._envs: dict[str, jinja2.Environment] = {}

    def _check_policies(self) -> None:
        """Load the policies now, so that a broken one stops the command before it starts, unless the same files
        loaded without error against the same channels before (``dunning.checked_cache``): then each loads when
        first asked for, and a command that only reads (``cases show``) loads none."""
        from dunning import checked_cache

        names = [self.config.policy, *(s.policy for s in self.config.sections.strategies)]
        stamp = checked_cache.policies_stamp(self.config, names, self.plugins.known_channels()) \
            if self._policy is None else None
        if stamp is not None and checked_cache.policies_checked(self.config, stamp):
            return
        self.policy_warnings  # noqa: B018 - loads the config's policy and every strategy's, and checks their channels
        if stamp is not None:
            checked_cache.remember_policies(self.config, stamp)

    @property
    def policy(self) -> Policy:
        """The config's policy (``dunning.toml``'s ``policy``), loaded on first use."""
        if self._policy is None:
            self._policy = _configured_policy(self.config)
        return self._policy

    @property
    def case_policies(self) -> CasePolicies:
        """Each case's policy: its strategy's (dunning.strategies), else the config's."""
        if self._case_policies is None:
            from dunning.strategy_policies import CasePolicies

            self._case_policies = CasePolicies(self.config, self.policy)
        return self._case_policies

    @property
    def policy_warnings(self) -> list[str]:
        """Steps whose channel is not enabled, in the config's policy and every strategy's (a step naming a
        channel no plugin provides raises ``PolicyError``)."""
        if self._policy_warnings is None:
            from dunning.policy import check_channels

            known, enabled = self.plugins.known_channels(), self.plugins.enabled
            warnings = check_channels(self.policy, known, enabled)
            for other in self.case_policies.others():
                warnings += check_channels(other, known, enabled)
            self._policy_warnings = warnings
        return self._policy_warnings

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.mirrors.flush()  # where each mirror got to; lost, it re-sends (at least once), never skips
        finally:
            self.store.close()

    @property
    def hook(self) -> Hooks:
        """The plugin manager's hooks, typed to the hookspecs (``dunning.hook_types``)."""
        return self.plugins.hook

    # --- time -----------------------------------------------------------------

    def today(self, now: dt.datetime) -> dt.date:
        """The business's date at ``now``: days past due count in the configured zone."""
        return calendar.local_date(now, self.config.zone)

    def dpd(self, case: Case, now: dt.datetime) -> int | None:
        from dunning.days_past_due import dpd_on

        return dpd_on(case, self.today(now))

    def policy_for(self, case: Case) -> Policy:
        """The policy ``case`` runs under: its strategy's (dunning.strategies), else the config's."""
        return self.case_policies.policy_for(case)

    def event(self, kind: str, case: Case | None, now: dt.datetime, **fields: Any) -> Event:
        """An event stamped with the case's stage and days past due at ``now``."""
        if case is not None:
            fields.setdefault("stage", case.stage.value)
            fields.setdefault("dpd", self.dpd(case, now))
        return Event(kind=kind, at=now, case_id=case.id if case else None, **fields)

    def rule_context(self, now: dt.datetime) -> RuleContext:
        """The read-only view rules (``check_action``, ``escalation_check``) receive."""
        from dunning.channels import RuleContext

        return RuleContext(now=now, config=self.config, store=self.store, media=self.plugins.media)

    # --- templates --------------------------------------------------------------

    def render(self, channel: Channel, template: str, suffix: str, context: Mapping[str, Any]) -> str:
        return templates.render(self._environment(channel), template, suffix, context)

    def _environment(self, channel: Channel) -> Any:
        env = self._envs.get(channel.name)
        if env is None:
            module = getattr(channel, "templates_module", None) or type(channel).__module__
            env = templates.environment(module, self.config.templates, channel.name)
            self._envs[channel.name] = env
        return env

    def _mentions_deadline(self, channel: Channel, template: str | None) -> bool:
        """Whether one of ``template``'s files (text, subject, HTML, SMS) speaks of the deadline."""
        if not template:
            return False
        env = self._environment(channel)
        import jinja2

        for suffix in ("txt", "subject.txt", "html", "sms.txt"):
            try:
                source, _, _ = env.loader.get_source(env, f"{template}.{suffix}")
            except jinja2.TemplateNotFound:  # no such file for this channel
                continue
            if "deadline" in source:
                return True
        return False

    # --- evidence mirror --------------------------------------------------------

    def channel(self, name: str) -> Channel | None:
        """The enabled channel called ``name`` (a recorder when simulating), or None."""
        channel = self.plugins.channel(name)
        if channel is not None and self.simulated:
            real = channel
            return RecordingChannel(
                channel.name,
                tuple(getattr(channel, "needs", ())),
                getattr(channel, "medium", None),
                lambda template: self._mentions_deadline(real, template),
            )
        return channel

    def in_doubt(self, channel_name: str | None) -> str:
        """What to do with this channel's actions a crash left in flight: "resend" or "hold".

        The config's ``[channels.<name>] in_doubt`` wins; else the channel's own
        ``in_doubt`` (a provider that recognises a re-send by its key says
        "resend"); else "resend".
        """
        if channel_name is None:
            return "resend"
        if channel_name in self.config.in_doubt:
            return self.config.in_doubt[channel_name]
        choice = getattr(self.plugins.channels.get(channel_name), "in_doubt", "resend")
        return choice if choice in ("resend", "hold") else "resend"

    def checkpoint(self, now: dt.datetime, *, always: bool = False) -> checkpoints.Checkpoint | None:
        """Sign the evidence chain's head and keep the checkpoint in the store, the file beside it and the mirrors.

        None when there is no key and the config names none (unsigned
        evidence: the caller says so), or, unless ``always``, when the
        latest checkpoint already covers the head.
        """
        from dunning import checkpoints  # signing: `dunning run` and `evidence checkpoint`, not a reading command

        if self.simulated:
            return None
        path = self.config.evidence_key
        if not self.config.evidence_key_named and not path.exists():
            return None
        key = checkpoints.load_key(path)
        seq, head = self.store.chain_head()
        latest = self.store.latest_checkpoint()
        if not always and latest is not None and (latest.seq, latest.hash) == (seq, head):
            return None
        signed = checkpoints.sign(key, seq, head, calendar.to_text(calendar.utc_now()))
        self.store.add_checkpoint(signed)
        checkpoints.append_to_file(checkpoints.file_beside(self.store.path), signed)
        # Mirrors get the checkpoint as an event of its own kind; it is not part of the chain it signs.
        self.mirrors.announce_checkpoint(Event(kind="checkpoint", at=now, data=signed.as_dict(), seq=seq, hash=head))
        return signed


def missing_templates(policy: Policy, plugins: Plugins, config: Config) -> list[str]:
    """Each step's template an enabled channel (or its fallback) would fail to find at delivery.

    Only channels that say which files a template needs (``template_suffixes``)
    are checked; the administrator's template folder counts as well as the
    channel's own.
    """
    import jinja2

    from dunning.ledger.policy_checks import notice_problems

    problems: list[str] = []
    envs: dict[str, jinja2.Environment] = {}
    for step in policy.steps:
        names = [n for n in (step.template, step.firm_template) if n]
        for channel_name in dict.fromkeys([*step.channels, *([step.fallback] if step.fallback else [])]):
            channel = plugins.channel(channel_name)
            suffixes = getattr(channel, "template_suffixes", None)
            if channel is None or not suffixes:
                continue
            env = envs.get(channel_name)
            if env is None:
                module = getattr(channel, "templates_module", None) or type(channel).__module__
                env = envs[channel_name] = templates.environment(module, config.templates, channel_name)
            role = "its fallback " if channel_name == step.fallback and channel_name not in step.channels else ""
            for name in names:
                for suffix in suffixes:
                    try:
                        env.loader.get_source(env, f"{name}.{suffix}")  # type: ignore[union-attr]
                    except jinja2.TemplateNotFound:
                        problems.append(f"step '{step.name}': {role}channel '{channel_name}' has no template "
                                        f"'{name}.{suffix}' (add it to your templates folder under "
                                        f"{channel_name}/, or choose a template it has)")
    problems.extend(notice_problems(policy, plugins.media))
    return problems


def _configured_policy(config: Config) -> Policy:
    """The policy ``dunning.toml`` names; a name that is no preset and no file is the config's error."""
    from dunning.policy import PolicyError, load_policy

    try:
        return load_policy(config.policy, config.base_dir)
    except PolicyError as exc:
        if config.path is None or "neither a preset" not in str(exc):
            raise
        raise PolicyError(f"{config.path}: 'policy': {exc}") from None

"""What ``dunning.toml`` may hold: one attrs class per table, structured and checked by ``dunning.schema``.

A new section is one class here and one field on ``ConfigFile``: it is checked
with the rest and read as ``config.sections.<name>``. ``parse_config`` (in
``dunning.config``) turns the checked file into a ``Config``.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import attrs

from dunning.models import IN_DOUBT_CHOICES
from dunning.schema import Invalid, must
from dunning.staff import staff_address

POSITIVE = must("a whole number", lambda n: n > 0, fails="must be positive, got {value}")
ADDRESS = must('an email address, such as "Ann Lee <ann@example.com>" or "ann@example.com"',
               lambda who: staff_address(who) is not None)


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@attrs.frozen
class ChannelsTable:
    """``[channels]``: which channels run, and one table per channel for its plugin."""

    enabled: tuple[str, ...] = ()
    # ``[channels.<name>]``: the plugin checks its own keys once plugins load.
    tables: dict[str, dict[str, Any]] = attrs.field(factory=dict, metadata={"rest": True})

    def __attrs_post_init__(self) -> None:
        if len(set(self.enabled)) != len(self.enabled):
            raise Invalid("{key} lists a channel twice", "enabled")
        for name, table in self.tables.items():
            # The core's own setting for every channel; the channel's plugin never sees it.
            choice = table.get("in_doubt", IN_DOUBT_CHOICES[0])
            if choice not in IN_DOUBT_CHOICES:
                raise Invalid(f'{{key}} must be "resend" or "hold", got {choice!r}', (name, "in_doubt"))


@attrs.frozen
class DeliveryTable:
    max_attempts: int = attrs.field(default=5, validator=POSITIVE)
    retry_after_minutes: int = attrs.field(default=30, validator=POSITIVE)
    claim_timeout_seconds: int = attrs.field(default=600, validator=POSITIVE)


@attrs.frozen
class NotifyTable:
    """``[notify]``: who receives each role's notices."""

    supervisor: str | None = attrs.field(default=None, validator=ADDRESS)
    manager: str | None = attrs.field(default=None, validator=ADDRESS)
    general_manager: str | None = attrs.field(default=None, validator=ADDRESS)


@attrs.frozen
class PluginsTable:
    """``[plugins]``: plugins left out, and ``[plugins.<name>]`` tables each plugin's ``check_settings`` reads."""

    disabled: tuple[str, ...] = ()
    tables: dict[str, dict[str, Any]] = attrs.field(factory=dict, metadata={"rest": True})


@attrs.frozen
class StoreTable:
    # "full": every commit is on disk before it counts; "normal": faster, a power cut may lose the last ones.
    synchronous: str = attrs.field(default="full",
                                   validator=must('"full" or "normal"', lambda m: m in ("full", "normal")))


@attrs.frozen
class ServerTable:
    """``[server]``: where ``dunning serve`` listens, and what its session cookies need (dunning.web)."""

    host: str = "127.0.0.1"
    port: int = attrs.field(default=8080, validator=must("a port number from 1 to 65535",
                                                         lambda p: 1 <= p <= 65535))
    # Signs the session cookies; relative to the config's folder, written owner-only on first start.
    secret_file: str = "server.secret"
    # Behind a reverse proxy that speaks TLS: cookies only over HTTPS, and the proxy's X-Forwarded-* believed.
    https: bool = False
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)


@attrs.frozen
class LedgerTable:
    """``[ledger]``: the order payments pay, and the interest, fees and waivers of dunning.ledger.

    The values' meaning (an order that names each group once, a known rule, a country code) is
    checked by dunning.ledger.settings and dunning.ledger.interest_settings.
    """

    allocation: list[str] | None = attrs.field(default=None, metadata={
        "expects": 'a list such as ["fees", "interest", "principal"]'})
    interest: str | None = None
    jurisdictions: dict[str, str] | None = attrs.field(default=None, metadata={"expects": 'a table of CODE = "rule"'})
    waive_approval_above: str | int | None = attrs.field(default=None, metadata={
        "expects": 'an amount such as "100.00"'})


@attrs.frozen
class EvidenceTable:
    # The private key that signs the chain's checkpoints; None: dunning-evidence.key beside the config.
    key_file: str | None = None


def _portal_url(url: str) -> bool:
    # The link goes into letters and emails: a typo here would send every debtor to a dead page.
    return bool(re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url))


@attrs.frozen
class PortalTable:
    """``[portal]``: the debtors' page, and the links to it that demands carry (dunning.portal.links)."""

    # Where the page is served, e.g. "https://pay.acme.example/portal"; None: no links in demands.
    base_url: str | None = attrs.field(default=None, validator=must(
        'an http:// or https:// address such as "https://pay.acme.example/portal"', _portal_url))
    # How long a link stays good after it was made (a demand's link, `dunning portal link`).
    link_days: int = attrs.field(default=30, validator=POSITIVE)
    # The key that signs the links; None: dunning-portal.key beside the database, made on first use.
    secret_file: str | None = None
    # What a debtor may ask for on the page: more time, or a plan of instalments, up to this many days out
    # and this many instalments. Beyond the promise limit (the profile's promise_max_days) a supervisor decides.
    request_max_days: int = attrs.field(default=90, validator=POSITIVE)
    plan_max_instalments: int = attrs.field(default=6, validator=must(
        "a whole number from 2 to 24", lambda n: 2 <= n <= 24))


_STRATEGY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@attrs.frozen
class StrategyTable:
    """``[[strategies]]``: one policy run on a share of the cases (dunning.strategies).

    Whether ``policy`` names a preset or an existing file is checked when the
    policies load (dunning.strategy_policies), beside the config's own ``policy``.
    """

    name: str = attrs.field(validator=must("a name of letters, digits, '.', '-' or '_', such as \"champion\"",
                                           lambda n: bool(_STRATEGY_NAME.match(n))))
    policy: str = attrs.field(validator=must('a preset\'s name or a policy file, such as "trade-receivables"',
                                             lambda p: bool(p.strip())))
    share: int = attrs.field(validator=must("a whole number of per cent from 1 to 100", lambda n: 1 <= n <= 100))


@attrs.frozen
class ConfigFile:
    """The whole of ``dunning.toml`` as written (paths still relative to its folder)."""

    policy: str = "trade-receivables"
    db: str = "dunning.db"
    timezone: str = attrs.field(default="UTC", validator=must("a known time zone", _known_zone))
    templates: str | None = None
    channels: ChannelsTable = ChannelsTable()
    delivery: DeliveryTable = DeliveryTable()
    notify: NotifyTable = NotifyTable()
    plugins: PluginsTable = PluginsTable()
    # Read by dunning.compliance (its profiles and jurisdictions); checked there.
    compliance: dict[str, Any] = attrs.field(factory=dict)
    evidence: EvidenceTable = EvidenceTable()
    store: StoreTable = StoreTable()
    ledger: LedgerTable = LedgerTable()
    server: ServerTable = ServerTable()
    portal: PortalTable = PortalTable()
    # Champion and challenger (dunning.strategies): none, and every case runs under ``policy``.
    strategies: tuple[StrategyTable, ...] = ()
    # Mixed into each case's place among the strategies: a new salt for a new trial draws new cases
    # as challengers. A plain top-level key: a [strategy] table beside [[strategies]] is one letter away.
    strategy_salt: str = ""

    def __attrs_post_init__(self) -> None:
        names = [s.name for s in self.strategies]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise Invalid(f"{{key}} names strategy {name!r} twice", ("strategies", index, "name"))
        total = sum(s.share for s in self.strategies)
        if self.strategies and total != 100:
            raise Invalid(f"{{key}} shares must add up to 100, got {total}", "strategies")

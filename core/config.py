"""Load and validate ``dunning.toml``. Unknown keys are errors that name the key.

What each table may hold is declared in ``dunning.config_schema``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from dunning import privacy, text_checks
from dunning.compliance.jurisdictions import Chosen, parse_jurisdictions, profile_for
from dunning.compliance.media import STANDARD_MEDIA
from dunning.compliance.profiles import DEFAULT as DEFAULT_PROFILE
from dunning.compliance.profiles import ComplianceError, Profile, parse_compliance
# Defined where `dunning --help` can read them without this module's imports; still importable from here.
from dunning.config_path import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from dunning.config_path import resolve_config_path as resolve_config_path
from dunning.config_schema import ConfigFile
from dunning.ledger.interest_settings import InterestSettings, InterestSettingsError, parse_interest_settings
from dunning.ledger.settings import LedgerSettings, LedgerSettingsError, parse_ledger
from dunning.models import Debtor
from dunning.staff import NOTIFY_ROLES as NOTIFY_ROLES  # read from here by dunning.notices_cli

if TYPE_CHECKING:
    from dunning.store.database import DatabaseName

# Where the evidence key is looked for when ``[evidence] key_file`` is not set: beside the config.
DEFAULT_EVIDENCE_KEY = "dunning-evidence.key"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and key."""


@attrs.frozen
class Config:
    path: Path | None
    policy: str = "trade-receivables"
    # A SQLite file, or a PostgreSQL database (``db = "postgresql://..."``, dunning.store.database).
    db: DatabaseName = Path("dunning.db")
    timezone: str = "UTC"
    templates: Path | None = None
    enabled_channels: tuple[str, ...] = ()
    channel_settings: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    max_attempts: int = 5
    retry_after: dt.timedelta = dt.timedelta(minutes=30)
    claim_timeout: dt.timedelta = dt.timedelta(minutes=10)
    # Who receives each role's notices: an email address, "Name <address>" or plain.
    notify: Mapping[str, str] = attrs.field(factory=dict)
    disabled_plugins: tuple[str, ...] = ()
    # ``[plugins.<name>]`` tables: each plugin's own settings, checked by its ``check_settings`` hook.
    plugin_settings: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    # The contact rules in force (``[compliance]``): windows, caps, disclosure, promises.
    # The fallback: a debtor whose jurisdiction is mapped gets that profile instead.
    compliance: Profile = DEFAULT_PROFILE
    # The private key that signs the evidence chain's checkpoints (``[evidence] key_file``);
    # ``evidence_key_named`` says whether the config named it (then it must exist).
    evidence_key: Path = Path(DEFAULT_EVIDENCE_KEY)
    evidence_key_named: bool = False
    # ``[store] synchronous``: "full" (every commit on disk before it counts) or "normal".
    synchronous: str = "full"
    # A password or token written in the file itself (not named through *_env).
    holds_secret: bool = False
    # ``[channels.<name>] in_doubt``: what a run does with that channel's actions a crash left in flight.
    in_doubt: Mapping[str, str] = attrs.field(factory=dict)
    # ``[compliance.jurisdictions]``: ISO 3166 country or subdivision -> profile.
    jurisdictions: Mapping[str, Profile] = attrs.field(factory=dict)
    # Every table as checked (dunning.config_schema.ConfigFile). A section without a field of its own
    # above is read from here: a new ``[ledger]`` is one class and one field there, read as ``sections.ledger``.
    sections: ConfigFile = attrs.field(factory=ConfigFile)
    # ``[ledger]``: the order payments pay fees, interest and principal (dunning.ledger.settings).
    ledger: LedgerSettings = attrs.field(factory=LedgerSettings)
    # ``[ledger]``: which interest rule charges whom, and when a waiver needs approval.
    interest: InterestSettings = attrs.field(factory=InterestSettings)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def settings_for(self, channel: str) -> Mapping[str, Any]:
        return self.channel_settings.get(channel, {})

    def profile_for(self, debtor: Debtor | None) -> Chosen:
        """The contact rules that bind ``debtor``, with the jurisdiction they came from."""
        return profile_for(self.compliance, self.jurisdictions, debtor)


def parse_config(data: Mapping[str, Any], *, path: Path | None, source: str) -> Config:
    """Validate a parsed TOML document into a ``Config``; a ``ConfigError`` names the file and the key."""
    from dunning.schema import SchemaError, structure

    try:
        file = structure(data, ConfigFile, unknown="unknown key {key}{hint} (allowed here: {allowed})")
    except SchemaError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    base = path.parent if path else Path.cwd()
    # Imported here: a config kept as checked (dunning.checked_cache) is read back without the store's package.
    from dunning.store.database import database_named
    from dunning.store.errors import StoreError

    try:
        db = database_named(file.db, base)
    except StoreError as exc:
        raise ConfigError(f"{source}: db: {exc}") from None
    channels = file.channels
    # A window or cap may name a channel the core knows, one that is enabled or one with settings.
    channel_names = {*STANDARD_MEDIA, *channels.enabled, *channels.tables}
    try:
        compliance = parse_compliance(file.compliance, source, channel_names)
        jurisdictions = parse_jurisdictions(file.compliance.get("jurisdictions", {}), source, compliance)
    except ComplianceError as exc:
        raise ConfigError(str(exc)) from None
    ledger_table = {key: value for key, value in attrs.asdict(file.ledger).items() if value is not None}
    try:
        ledger = parse_ledger(ledger_table, source)
        interest = parse_interest_settings(ledger_table, source)
    except (LedgerSettingsError, InterestSettingsError) as exc:
        raise ConfigError(str(exc)) from None
    return Config(
        path=path,
        policy=file.policy,
        db=db,
        timezone=file.timezone,
        templates=base / file.templates if file.templates is not None else None,
        enabled_channels=channels.enabled,
        # ``in_doubt`` is the core's own setting for every channel; the channel's plugin never sees it.
        channel_settings={name: {k: v for k, v in table.items() if k != "in_doubt"}
                          for name, table in channels.tables.items()},
        in_doubt={name: table["in_doubt"] for name, table in channels.tables.items() if "in_doubt" in table},
        max_attempts=file.delivery.max_attempts,
        retry_after=dt.timedelta(minutes=file.delivery.retry_after_minutes),
        claim_timeout=dt.timedelta(seconds=file.delivery.claim_timeout_seconds),
        notify={role: who for role, who in attrs.asdict(file.notify).items() if who is not None},
        disabled_plugins=file.plugins.disabled,
        # Whether each named plugin exists is known once plugins load.
        plugin_settings=file.plugins.tables,
        synchronous=file.store.synchronous,
        evidence_key=base / Path(file.evidence.key_file).expanduser() if file.evidence.key_file is not None
        else base / DEFAULT_EVIDENCE_KEY,
        evidence_key_named=file.evidence.key_file is not None,
        holds_secret=privacy.holds_secret(data),
        compliance=compliance,
        jurisdictions=jurisdictions,
        sections=file,
        ledger=ledger,
        interest=interest,
    )


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read ``path``; a missing default file gives the defaults, a missing named one is an error."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such config file")
        return Config(path=None, db=Path.cwd() / "dunning.db", evidence_key=Path.cwd() / DEFAULT_EVIDENCE_KEY)
    from dunning import checked_cache

    # The same file as a full check last accepted it (and nothing that check depends on changed): kept as checked.
    checked = checked_cache.checked_config(path)
    if checked is not None:
        return checked
    import tomllib  # a file to check: a config kept as checked (above) needs no parser

    stamp = checked_cache.file_stamp(path)
    try:
        text = text_checks.read_utf8(path)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {text_checks.toml_error(exc, text)}") from None
    config = parse_config(data, path=path.resolve(), source=str(path))
    checked_cache.remember_config(path, config, stamp)
    return config

"""Load and validate ``dunning.toml``. Unknown keys are errors that name the key."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from dunning import privacy, text_checks
from dunning.compliance.jurisdictions import Chosen, parse_jurisdictions, profile_for
from dunning.compliance.media import STANDARD_MEDIA
from dunning.compliance.profiles import DEFAULT as DEFAULT_PROFILE
from dunning.compliance.profiles import ComplianceError, Profile, parse_compliance
from dunning.ledger.settings import ALLOCATION_KEYS, LedgerSettings, LedgerSettingsError, parse_ledger
from dunning.ledger.interest_settings import (INTEREST_KEYS, InterestSettings, InterestSettingsError,
                                              parse_interest_settings)
from dunning.models import IN_DOUBT_CHOICES, Debtor
from dunning.staff import NOTIFY_ROLES, staff_address

DEFAULT_CONFIG_NAME = "dunning.toml"


# Where the evidence key is looked for when ``[evidence] key_file`` is not set: beside the config.
DEFAULT_EVIDENCE_KEY = "dunning-evidence.key"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and key."""


@attrs.frozen
class Config:
    path: Path | None
    policy: str = "trade-receivables"
    db: Path = Path("dunning.db")
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


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, source: str) -> None:
    for key in table:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise ConfigError(
                f"{source}: unknown key '{name}' (allowed here: {', '.join(sorted(allowed))})"
            )


def _expect(value: Any, kind: type | tuple[type, ...], key: str, source: str) -> Any:
    # bool is an int in Python; a number setting given true/false is a mistake.
    if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(f"{source}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{source}: '{key}' must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {str: "a string", int: "a whole number", bool: "true or false", list: "a list", dict: "a table"}.get(
            k, k.__name__
        )
        for k in kinds
    )


def parse_config(data: Mapping[str, Any], *, path: Path | None, source: str) -> Config:
    """Validate a parsed TOML document into a ``Config``."""
    _check_keys(data, {"policy", "db", "timezone", "templates", "channels", "delivery", "notify", "plugins",
                       "compliance", "evidence", "store", "ledger"}, "", source)
    base = path.parent if path else Path.cwd()
    values: dict[str, Any] = {"path": path, "holds_secret": privacy.holds_secret(data)}

    if "policy" in data:
        values["policy"] = _expect(data["policy"], str, "policy", source)
    if "db" in data:
        values["db"] = base / _expect(data["db"], str, "db", source)
    else:
        values["db"] = base / "dunning.db"
    if "timezone" in data:
        tz = _expect(data["timezone"], str, "timezone", source)
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{source}: 'timezone' is not a known time zone: {tz!r}") from None
        values["timezone"] = tz
    if "templates" in data:
        values["templates"] = base / _expect(data["templates"], str, "templates", source)

    channels = _expect(data.get("channels", {}), dict, "channels", source)
    enabled = _expect(channels.get("enabled", []), list, "channels.enabled", source)
    for i, name in enumerate(enabled):
        _expect(name, str, f"channels.enabled[{i}]", source)
    if len(set(enabled)) != len(enabled):
        raise ConfigError(f"{source}: 'channels.enabled' lists a channel twice")
    values["enabled_channels"] = tuple(enabled)
    settings: dict[str, Mapping[str, Any]] = {}
    in_doubt: dict[str, str] = {}
    for key, value in channels.items():
        if key == "enabled":
            continue
        table = dict(_expect(value, dict, f"channels.{key}", source))
        # The core's own setting for every channel; the channel's plugin never sees it.
        if "in_doubt" in table:
            choice = table.pop("in_doubt")
            if choice not in IN_DOUBT_CHOICES:
                raise ConfigError(f"{source}: 'channels.{key}.in_doubt' must be \"resend\" or \"hold\", got {choice!r}")
            in_doubt[key] = choice
        settings[key] = table
    values["channel_settings"] = settings
    values["in_doubt"] = in_doubt

    delivery = _expect(data.get("delivery", {}), dict, "delivery", source)
    _check_keys(delivery, {"max_attempts", "retry_after_minutes", "claim_timeout_seconds"}, "delivery", source)
    if "max_attempts" in delivery:
        values["max_attempts"] = _positive_int(delivery["max_attempts"], "delivery.max_attempts", source)
    if "retry_after_minutes" in delivery:
        values["retry_after"] = dt.timedelta(
            minutes=_positive_int(delivery["retry_after_minutes"], "delivery.retry_after_minutes", source)
        )
    if "claim_timeout_seconds" in delivery:
        values["claim_timeout"] = dt.timedelta(
            seconds=_positive_int(delivery["claim_timeout_seconds"], "delivery.claim_timeout_seconds", source)
        )

    notify = _expect(data.get("notify", {}), dict, "notify", source)
    _check_keys(notify, set(NOTIFY_ROLES), "notify", source)
    for role, who in notify.items():
        _expect(who, str, f"notify.{role}", source)
        if staff_address(who) is None:
            raise ConfigError(f"{source}: 'notify.{role}' must be an email address, such as "
                              f"\"Ann Lee <ann@example.com>\" or \"ann@example.com\", got {who!r}")
    values["notify"] = dict(notify)

    plugins = _expect(data.get("plugins", {}), dict, "plugins", source)
    disabled = _expect(plugins.get("disabled", []), list, "plugins.disabled", source)
    values["disabled_plugins"] = tuple(_expect(n, str, "plugins.disabled", source) for n in disabled)
    # Any other key is a plugin's own table; whether that plugin exists is known once plugins load.
    values["plugin_settings"] = {name: dict(_expect(table, dict, f"plugins.{name}", source))
                                 for name, table in plugins.items() if name != "disabled"}

    store = _expect(data.get("store", {}), dict, "store", source)
    _check_keys(store, {"synchronous"}, "store", source)
    if "synchronous" in store:
        mode = _expect(store["synchronous"], str, "store.synchronous", source)
        if mode not in ("full", "normal"):
            raise ConfigError(f"{source}: 'store.synchronous' must be \"full\" or \"normal\", got {mode!r}")
        values["synchronous"] = mode

    evidence = _expect(data.get("evidence", {}), dict, "evidence", source)
    _check_keys(evidence, {"key_file"}, "evidence", source)
    if "key_file" in evidence:
        values["evidence_key"] = (
            base / Path(_expect(evidence["key_file"], str, "evidence.key_file", source)).expanduser()
        )
        values["evidence_key_named"] = True
    else:
        values["evidence_key"] = base / DEFAULT_EVIDENCE_KEY

    compliance = _expect(data.get("compliance", {}), dict, "compliance", source)
    # A window or cap may name a channel the core knows, one that is enabled or one with settings.
    channel_names = {*STANDARD_MEDIA, *enabled, *settings}
    try:
        values["compliance"] = parse_compliance(compliance, source, channel_names)
        values["jurisdictions"] = parse_jurisdictions(compliance.get("jurisdictions", {}), source, values["compliance"])
    except ComplianceError as exc:
        raise ConfigError(str(exc)) from None
    ledger = _expect(data.get("ledger", {}), dict, "ledger", source)
    _check_keys(ledger, set(INTEREST_KEYS) | set(ALLOCATION_KEYS), "ledger", source)
    try:
        values["ledger"] = parse_ledger(ledger, source)
    except LedgerSettingsError as exc:
        raise ConfigError(str(exc)) from None
    try:
        values["interest"] = parse_interest_settings(ledger, source)
    except InterestSettingsError as exc:
        raise ConfigError(str(exc)) from None
    return Config(**values)


def _positive_int(value: Any, key: str, source: str) -> int:
    _expect(value, int, key, source)
    if value <= 0:
        raise ConfigError(f"{source}: '{key}' must be positive, got {value}")
    return int(value)


def resolve_config_path(explicit: str | None) -> Path:
    """``--config``, else ``$DUNNING_CONFIG``, else ``./dunning.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("DUNNING_CONFIG")
    if env:
        return Path(env)
    return Path(DEFAULT_CONFIG_NAME)


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read ``path``; a missing default file gives the defaults, a missing named one is an error."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such config file")
        return Config(path=None, db=Path.cwd() / "dunning.db", evidence_key=Path.cwd() / DEFAULT_EVIDENCE_KEY)
    try:
        text = text_checks.read_utf8(path)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {text_checks.toml_error(exc, text)}") from None
    return parse_config(data, path=path.resolve(), source=str(path))

"""Load and validate a policy's TOML (a preset or an administrator's file) into frozen records.

Every error names the file, the step and the key.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from dunning import lifecycle, money, text_checks
from dunning.compliance.risk import Risk
from dunning.models import SIGNAL_KINDS, Stage
from dunning.policy.model import (AUDIENCES, DISCLOSURES, INTERNAL_ACTIONS, MAX_DPD, MIN_DPD, NOTICE_DAYS, PRESETS,
                                  Conditions, Policy, PolicyError, StageRule, Step)
from dunning.staff import NOTIFY_ROLES

_STEP_KEYS = {
    "name", "dpd", "every", "channels", "template", "notify", "action", "requires_approval",
    "required", "at", "audience", "disclosure", "fallback", "description",
    "min_balance", "max_balance", "stage", "min_broken_promises", "signals", "risk", "firm_template",
    "notice_of_interest", "fee",
}
_STAGE_KEYS = {"entry_dpd", "requires_approval", "recall_dpd", "min_balance", "max_balance", "min_broken_promises",
               "signals", "risk", "on_signals", "on_broken_promises", "max_discount_percent"}


def load_policy_text(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {text_checks.toml_error(exc, text)}") from None
    return parse_policy(data, source)


def load_policy(name_or_path: str, base_dir: Path | None = None) -> Policy:
    """A preset by name, or a policy file by path (relative to ``base_dir``)."""
    if name_or_path in PRESETS:
        return load_policy_text(preset_text(name_or_path), f"preset {name_or_path}")
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise PolicyError(
            f"{name_or_path!r} is neither a preset ({', '.join(PRESETS)}) nor an existing policy file"
        )
    return load_policy_text(read_policy_file(path), str(path))


def read_policy_file(path: Path) -> str:
    try:
        return text_checks.read_utf8(path)
    except ValueError as exc:
        raise PolicyError(f"{path}: {exc}") from None


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise PolicyError(f"no preset named {name!r}; presets: {', '.join(PRESETS)}")
    return resources.files("dunning").joinpath(f"presets/{name}.toml").read_text(encoding="utf-8")


# What a policy's debts are, for the wording of its messages.
DEBT_KINDS = ("invoice", "loan")


def parse_policy(data: Mapping[str, Any], source: str) -> Policy:
    for key in data:
        if key not in {"name", "description", "debt_kind", "notice_days", "stages", "steps"}:
            raise PolicyError(
                f"{source}: unknown key '{key}' (allowed: name, description, debt_kind, notice_days, stages, steps)"
            )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{source}: 'name' is required and must be a string")
    debt_kind = data.get("debt_kind", "invoice")
    if debt_kind not in DEBT_KINDS:
        raise PolicyError(f"{source}: 'debt_kind' must be one of {', '.join(DEBT_KINDS)}, got {debt_kind!r}")
    stages = _parse_stages(data.get("stages", {}), source)
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise PolicyError(f"{source}: 'steps' must be an array of tables ([[steps]])")
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_steps):
        step = _parse_step(raw, index, source)
        if step.name in seen:
            raise PolicyError(f"{source}: step '{step.name}' is defined twice")
        seen.add(step.name)
        steps.append(step)
    notice_days = _int(data.get("notice_days", NOTICE_DAYS), f"{source}: 'notice_days'", low=1, high=365)
    return compile_policy(Policy(name=name, description=str(data.get("description", "")), stages=stages,
                                 steps=tuple(steps), source=source, debt_kind=debt_kind, notice_days=notice_days))


def compile_policy(policy: Policy) -> Policy:
    """Index the steps by day so evaluation is a binary search, not a scan."""
    at: dict[int, list[Step]] = {}
    for step in policy.steps:
        for d in step.dpds:
            at.setdefault(d, []).append(step)
    points = set(at)
    for rule in policy.stages.values():
        if rule.entry_dpd is not None:
            points.add(rule.entry_dpd)
        if rule.recall_dpd is not None:
            points.add(rule.recall_dpd)
    return attrs.evolve(policy, points=tuple(sorted(points)), steps_at={d: tuple(s) for d, s in at.items()})


def _where(step: str | None, source: str) -> str:
    return f"{source}: step '{step}'" if step else source


def _conditions(raw: Mapping[str, Any], where: str) -> Conditions:
    values: dict[str, Any] = {}
    for key in ("min_balance", "max_balance"):
        if key in raw:
            amount = raw[key]
            if not isinstance(amount, (str, int)) or isinstance(amount, bool):
                raise PolicyError(f"{where}: '{key}' must be an amount such as \"500.00\"")
            try:
                minor = money.parse(amount, "USD")
            except money.MoneyError as exc:
                raise PolicyError(f"{where}: '{key}': {exc}") from None
            if minor < 0:
                raise PolicyError(f"{where}: '{key}' must not be negative, got {amount!r}")
            values[key] = str(amount)
    if "stage" in raw:
        names = raw["stage"] if isinstance(raw["stage"], list) else [raw["stage"]]
        values["stages"] = tuple(_stage(n, f"{where}: 'stage'") for n in names)
    if "min_broken_promises" in raw:
        values["min_broken_promises"] = _int(raw["min_broken_promises"], f"{where}: 'min_broken_promises'", low=0)
    if "signals" in raw:
        values["signals"] = _names(raw["signals"], SIGNAL_KINDS, f"{where}: 'signals'")
    if "risk" in raw:
        values["risk"] = _names(raw["risk"], tuple(r.value for r in Risk), f"{where}: 'risk'")
    return Conditions(**values)


def _names(value: Any, allowed: Sequence[str], where: str) -> tuple[str, ...]:
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name not in allowed:
            raise PolicyError(f"{where} has {name!r}; use {', '.join(allowed)}")
    return tuple(names)


def _stage(name: Any, where: str) -> Stage:
    try:
        return Stage(name)
    except ValueError:
        raise PolicyError(f"{where}: unknown stage {name!r} (stages: {', '.join(Stage)})") from None


def _int(value: Any, where: str, *, low: int = MIN_DPD, high: int = MAX_DPD) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(f"{where} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise PolicyError(f"{where} must be between {low} and {high}, got {value}")
    return value


def _bool(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: '{key}' must be true or false")
    return value


def _parse_stages(raw: Any, source: str) -> dict[Stage, StageRule]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: 'stages' must be a table ([stages.onsite] ...)")
    rules: dict[Stage, StageRule] = {}
    for name, table in raw.items():
        stage = _stage(name, f"{source}: stages")
        where = f"{source}: stages.{name}"
        if not isinstance(table, dict):
            raise PolicyError(f"{where} must be a table")
        for key in table:
            if key not in _STAGE_KEYS:
                raise PolicyError(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(_STAGE_KEYS))})")
        if stage is Stage.INTERNAL and table.get("entry_dpd") is not None:
            raise PolicyError(f"{where}: 'entry_dpd' makes no sense for internal, where every case starts")
        entry = _int(table["entry_dpd"], f"{where}: 'entry_dpd'") if "entry_dpd" in table else None
        recall = _int(table["recall_dpd"], f"{where}: 'recall_dpd'") if "recall_dpd" in table else None
        if recall is not None and stage is not Stage.AGENCY:
            raise PolicyError(f"{where}: 'recall_dpd' applies only to the agency stage")
        if recall is not None and entry is not None and recall <= entry:
            raise PolicyError(f"{where}: 'recall_dpd' ({recall}) must come after 'entry_dpd' ({entry})")
        rules[stage] = StageRule(
            stage=stage,
            entry_dpd=entry,
            when=_conditions(table, where),
            requires_approval=_bool(table, "requires_approval", where),
            recall_dpd=recall,
            on_signals=_names(table["on_signals"], SIGNAL_KINDS, f"{where}: 'on_signals'")
            if "on_signals" in table
            else (),
            on_broken_promises=(
                _int(table["on_broken_promises"], f"{where}: 'on_broken_promises'", low=1)
                if "on_broken_promises" in table
                else None
            ),
            max_discount_percent=_percent(table, "max_discount_percent", where),
        )
    entries = [(r.entry_dpd, r.stage) for r in rules.values() if r.entry_dpd is not None]
    ordered = sorted(entries, key=lambda e: lifecycle.rank(e[1]))
    for (d1, s1), (d2, s2) in itertools.pairwise(ordered):
        if d2 < d1:
            raise PolicyError(f"{source}: stages.{s2}.entry_dpd ({d2}) comes before stages.{s1}.entry_dpd ({d1})")
    return rules


def _parse_step(raw: Any, index: int, source: str) -> Step:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: steps[{index}] must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{source}: steps[{index}] needs a 'name'")
    where = _where(name, source)
    if ":" in name:
        raise PolicyError(f"{where}: a step name may not contain ':'")
    for key in raw:
        if key not in _STEP_KEYS:
            raise PolicyError(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(_STEP_KEYS))})")
    dpds = _dpds(raw, where)
    channels = raw.get("channels", [])
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise PolicyError(f"{where}: 'channels' must be a list of channel names")
    notify, action = raw.get("notify"), raw.get("action")
    given = [k for k, v in (("channels", channels), ("notify", notify), ("action", action)) if v]
    if len(given) != 1:
        raise PolicyError(
            f"{where}: give exactly one of 'channels', 'notify' or 'action' (got {', '.join(given) or 'none'})"
        )
    if notify is not None and notify not in NOTIFY_ROLES:
        raise PolicyError(f"{where}: 'notify' must be one of {', '.join(NOTIFY_ROLES)}, got {notify!r}")
    if action is not None and action not in INTERNAL_ACTIONS:
        raise PolicyError(f"{where}: 'action' must be one of {', '.join(INTERNAL_ACTIONS)}, got {action!r}")
    template = raw.get("template")
    if channels and not isinstance(template, str):
        raise PolicyError(f"{where}: a step with channels needs a 'template'")
    audience = raw.get("audience", "debtor")
    if audience not in AUDIENCES:
        raise PolicyError(f"{where}: 'audience' must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    disclosure = raw.get("disclosure", "none")
    if disclosure not in DISCLOSURES:
        raise PolicyError(f"{where}: 'disclosure' must be one of {', '.join(DISCLOSURES)}, got {disclosure!r}")
    fallback = raw.get("fallback")
    if fallback is not None and not isinstance(fallback, str):
        raise PolicyError(f"{where}: 'fallback' must be a channel name")
    firm_template = raw.get("firm_template")
    if firm_template is not None and (not isinstance(firm_template, str) or not channels):
        raise PolicyError(f"{where}: 'firm_template' must be a template name, on a step with channels")
    return Step(
        name=name,
        dpds=dpds,
        channels=tuple(channels),
        template=template,
        notify=notify,
        action=action,
        when=_conditions(raw, where),
        requires_approval=_bool(raw, "requires_approval", where),
        required=_bool(raw, "required", where),
        at=_times(raw["at"], where) if "at" in raw else (),
        audience=audience,
        disclosure=disclosure,
        fallback=fallback,
        firm_template=firm_template,
        description=str(raw.get("description", "")),
        notice_of_interest=_notice_of_interest(raw, channels, where),
        fee=_fee(raw, where),
    )


def _notice_of_interest(raw: Mapping[str, Any], channels: Sequence[str], where: str) -> bool:
    notice = _bool(raw, "notice_of_interest", where)
    if notice and not channels:
        raise PolicyError(f"{where}: 'notice_of_interest' marks a letter or email step; this step sends no message")
    return notice


def _fee(raw: Mapping[str, Any], where: str) -> str | None:
    if "fee" not in raw:
        return None
    amount = raw["fee"]
    if not isinstance(amount, str):
        raise PolicyError(f"{where}: 'fee' must be an amount such as \"5.00\", got {amount!r}")
    try:
        minor = money.parse(amount, "USD")
    except money.MoneyError as exc:
        raise PolicyError(f"{where}: 'fee': {exc}") from None
    if minor <= 0:
        raise PolicyError(f"{where}: 'fee' must be positive, got {amount!r}")
    return amount


def _percent(raw: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise PolicyError(f"{where}: '{key}' must be a number from 0 to 100, got {value!r}")
    return Decimal(str(value))


def _dpds(raw: Mapping[str, Any], where: str) -> tuple[int, ...]:
    if "dpd" not in raw:
        raise PolicyError(f"{where}: 'dpd' is required (a day such as 7, or a range such as [14, 27])")
    value = raw["dpd"]
    every = raw.get("every")
    if isinstance(value, list):
        if len(value) != 2:
            raise PolicyError(f"{where}: 'dpd' as a range needs two days, [first, last]")
        first, last = (_int(v, f"{where}: 'dpd'") for v in value)
        if last < first:
            raise PolicyError(f"{where}: 'dpd' range [{first}, {last}] ends before it starts")
        step = _int(every, f"{where}: 'every'", low=1) if every is not None else 1
        return tuple(range(first, last + 1, step))
    if every is not None:
        raise PolicyError(f"{where}: 'every' needs 'dpd' to be a range [first, last]")
    return (_int(value, f"{where}: 'dpd'"),)


def _times(values: Any, where: str) -> tuple[dt.time, ...]:
    if not isinstance(values, list) or not values:
        raise PolicyError(f"{where}: 'at' must be a list of local times such as [\"09:30\", \"15:00\"]"
                          + (" (leave it out for no set time)" if values == [] else ""))
    times: list[dt.time] = []
    for value in values:
        try:
            times.append(dt.time.fromisoformat(value))
        except (TypeError, ValueError):
            raise PolicyError(f"{where}: 'at' has {value!r}, not a time such as \"09:30\"") from None
    if len(set(times)) != len(times):
        raise PolicyError(f"{where}: 'at' lists a time twice")
    return tuple(sorted(times))


def check_channels(policy: Policy, known: Iterable[str], enabled: Iterable[str]) -> list[str]:
    """Raise for a channel nobody provides; return warnings for ones not enabled."""
    known_set, enabled_set = set(known), set(enabled)
    warnings: list[str] = []
    for step in policy.steps:
        for channel in list(step.channels) + ([step.fallback] if step.fallback else []):
            if channel not in known_set:
                raise PolicyError(
                    f"{policy.source}: step '{step.name}': unknown channel '{channel}' "
                    f"(known: {', '.join(sorted(known_set))})"
                )
            if channel not in enabled_set:
                warnings.append(
                    f"step '{step.name}': channel '{channel}' is not enabled; its actions will be skipped with an event"
                )
    return warnings


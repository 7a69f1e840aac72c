"""Load and validate a policy's TOML (a preset or an administrator's file) into frozen records.

What a file may hold is declared in ``dunning.policy.schema``; every error names the file, the step and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from dunning import text_checks
from dunning.models import Stage
from dunning.policy.model import PRESETS, Conditions, Policy, PolicyError, StageRule, Step
from dunning.policy.schema import DEBT_KINDS, ConditionKeys, PolicyFile, StageTable, StepTable, listed, where

__all__ = ["DEBT_KINDS", "check_channels", "compile_policy", "is_policy_file", "load_policy", "load_policy_text",
           "parse_policy", "preset_text", "read_policy_file"]


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
    if not is_policy_file(path):
        raise PolicyError(
            f"{name_or_path!r} is neither a preset ({', '.join(PRESETS)}) nor an existing policy file"
        )
    return load_policy_text(read_policy_file(path), str(path))


def is_policy_file(path: Path) -> bool:
    """Whether ``path`` exists (a folder is refused when read, by name); a name the system cannot even look up
    (too long) names nothing."""
    try:
        return path.exists()
    except OSError:  # ENAMETOOLONG and the like: Path.exists raises them rather than answer False
        return False


def read_policy_file(path: Path) -> str:
    try:
        return text_checks.read_utf8(path)
    except ValueError as exc:
        raise PolicyError(f"{path}: {exc}") from None


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise PolicyError(f"no preset named {name!r}; presets: {', '.join(PRESETS)}")
    return resources.files("dunning").joinpath(f"presets/{name}.toml").read_text(encoding="utf-8")


def parse_policy(data: Mapping[str, Any], source: str) -> Policy:
    """Check a parsed policy (see ``dunning.policy.schema``) and build its records; errors name the step and key."""
    from dunning.schema import SchemaError, structure

    try:
        file = structure(data, PolicyFile)
    except SchemaError as exc:
        prefix, rest = where(exc.path, data)
        message = f"{prefix}: {exc.render(rest)}" if prefix else exc.render()
        raise PolicyError(f"{source}: {message}") from None
    stages = {Stage(name): _stage_rule(Stage(name), table) for name, table in file.stages.items()}
    return compile_policy(Policy(name=file.name, description=file.description, stages=stages,
                                 steps=tuple(_step(raw) for raw in file.steps), source=source,
                                 debt_kind=file.debt_kind, notice_days=file.notice_days))


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


def _conditions(table: ConditionKeys, stages: tuple[Stage, ...] = ()) -> Conditions:
    return Conditions(
        min_balance=None if table.min_balance is None else str(table.min_balance),
        max_balance=None if table.max_balance is None else str(table.max_balance),
        stages=stages,
        min_broken_promises=table.min_broken_promises,
        signals=listed(table.signals),
        risk=listed(table.risk),
    )


def _stage_rule(stage: Stage, table: StageTable) -> StageRule:
    return StageRule(stage=stage, entry_dpd=table.entry_dpd, when=_conditions(table),
                     requires_approval=table.requires_approval, recall_dpd=table.recall_dpd,
                     on_signals=listed(table.on_signals), on_broken_promises=table.on_broken_promises,
                     max_discount_percent=(Decimal(str(table.max_discount_percent))
                                           if table.max_discount_percent is not None else None))


def _step(table: StepTable) -> Step:
    return Step(
        name=table.name,
        dpds=table.dpds(),
        channels=listed(table.channels),
        template=table.template,
        notify=table.notify,
        action=table.action,
        when=_conditions(table, tuple(Stage(s) for s in listed(table.stage))),
        requires_approval=table.requires_approval,
        required=table.required,
        at=table.times(),
        audience=table.audience,
        disclosure=table.disclosure,
        fallback=table.fallback,
        firm_template=table.firm_template,
        description=table.description,
        notice_of_interest=table.notice_of_interest,
        fee=table.fee,
    )


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


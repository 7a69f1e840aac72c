"""Which stage changes and resolutions are allowed. Pure functions."""

from __future__ import annotations

from dunning.models import Case, Stage, Status

STAGE_ORDER: tuple[Stage, ...] = (Stage.INTERNAL, Stage.ONSITE, Stage.AGENCY, Stage.LITIGATION)
RESOLUTIONS: tuple[Status, ...] = (Status.PAID, Status.SETTLED, Status.WRITTEN_OFF)


class LifecycleError(ValueError):
    """A stage change or resolution the lifecycle does not allow."""


def rank(stage: Stage) -> int:
    return STAGE_ORDER.index(stage)


def check_escalation(case: Case, to_stage: Stage) -> None:
    """Raise unless ``case`` may move forward to ``to_stage``."""
    if not case.is_open:
        raise LifecycleError(f"case {case.id} is {case.status}, not open")
    if rank(to_stage) <= rank(case.stage):
        raise LifecycleError(
            f"case {case.id} is already at {case.stage}; {to_stage} is not a later stage"
        )


def recall_target(case: Case) -> Stage:
    """The stage a case returns to when it is recalled from the agency."""
    if not case.is_open:
        raise LifecycleError(f"case {case.id} is {case.status}, not open")
    if case.stage is not Stage.AGENCY:
        raise LifecycleError(f"case {case.id} is at {case.stage}, not placed with an agency")
    if case.previous_stage is not None and rank(case.previous_stage) < rank(Stage.AGENCY):
        return case.previous_stage
    return Stage.ONSITE


def check_resolution(case: Case, resolution: Status) -> None:
    if resolution not in RESOLUTIONS:
        raise LifecycleError(f"{resolution} is not a resolution; use one of {', '.join(RESOLUTIONS)}")
    if not case.is_open:
        raise LifecycleError(f"case {case.id} is already {case.status}")
    if resolution is Status.PAID and case.balance > 0:
        raise LifecycleError(f"case {case.id} still has a balance; record the payment instead")

"""`dunning.dispatch` is a package of small modules; the names other code imports from it stay where they were."""

from __future__ import annotations

import dunning.dispatch as dispatch
from dunning.dispatch import claims, housekeeping, outbox, outreach, planning, runner, stages, summary

# Every name other modules, tests and benches use from `dunning.dispatch`, and where it lives now.
HOMES = {
    "run": runner, "RunSummary": summary, "ProgressCallback": summary,
    "lift_expired_holds": housekeeping, "settle_promises": housekeeping,
    "plan": planning, "PLAN_BATCH": planning,
    "claimer_id": claims, "reclaim_abandoned": claims,
    "deliver_ready": outbox, "finish_channels": outbox, "CLAIM_BATCH": outbox,
    "DEFERRALS_PER_ATTEMPT": outreach,
    "trigger_escalation": stages, "change_stage": stages, "RECHECK_AFTER": stages, "ENDED_UNSENT": stages,
}


def test_the_public_names_stay_and_are_the_modules_own():
    assert set(dispatch.__all__) == set(HOMES)
    for name, module in HOMES.items():
        assert getattr(dispatch, name) is getattr(module, name), name


def test_the_settings_keep_their_values():
    assert (dispatch.PLAN_BATCH, dispatch.CLAIM_BATCH, dispatch.DEFERRALS_PER_ATTEMPT) == (10_000, 1000, 4)
    assert dispatch.RECHECK_AFTER.days == 1
    assert {s.value for s in dispatch.ENDED_UNSENT} == {"skipped", "blocked", "failed", "rejected"}


def test_run_is_the_function_not_its_module():
    # The entry point lives in `runner`, so `dispatch.run` is never shadowed by a submodule of that name.
    assert callable(dispatch.run) and dispatch.run.__module__ == "dunning.dispatch.runner"

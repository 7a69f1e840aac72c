"""Policy files refused through their schema: the step (by name, else by place) and the key's path."""

from __future__ import annotations

import pytest

from dunning.models import Stage
from dunning.policy import PolicyError, load_policy_text

POLICY = 'name = "p"\n[[steps]]\nname = "s"\ndpd = 1\nchannels = ["email"]\ntemplate = "t"\n'


def refusal(text: str) -> str:
    with pytest.raises(PolicyError) as refused:
        load_policy_text(text, "p.toml")
    message = str(refused.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("text", "message"), [
    (POLICY.replace("dpd = 1", 'dpd = "x"'),
     "p.toml: step 's': 'dpd' must be a day such as 7, or a range such as [14, 27], got 'x'"),
    (POLICY + 'at = ["09:00", 9]\n', "p.toml: step 's': 'at[1]' must be a string, got 9"),
    (POLICY + 'required = "yes"\n', "p.toml: step 's': 'required' must be true or false, got 'yes'"),
    (POLICY.replace("dpd = 1", "dpd = [1, 5000]"), "p.toml: step 's': 'dpd' must be between -365 and 3650, got 5000"),
    (POLICY + "[[steps]]\ndpd = 2\nnotify = 'manager'\n", "p.toml: steps[1]: 'name' is required"),
    (POLICY + "[[steps]]\nname = 3\n", "p.toml: steps[1]: 'name' must be a step name, got 3"),
    (POLICY + POLICY.removeprefix('name = "p"\n'), "p.toml: step 's' is defined twice"),
    ('name = "p"\nsteps = 3\n', "p.toml: 'steps' must be an array of tables ([[steps]]), got 3"),
    ('name = "p"\n[stages]\nagency = 3\n', "p.toml: 'stages.agency' must be a table, got 3"),
    ('name = "p"\n[stages.agency]\nentry_dpd = "30"\n',
     "p.toml: stages.agency: 'entry_dpd' must be a whole number, got '30'"),
    ('name = "p"\n[stages.onsite]\nrecall_dpd = 30\n',
     "p.toml: stages.onsite: 'recall_dpd' applies only to the agency stage"),
    ('name = "p"\n[stages.agency]\nentry_dpd = 30\nrecall_dpd = 20\n',
     "p.toml: stages.agency: 'recall_dpd' (20) must come after 'entry_dpd' (30)"),
    ("description = 'no name'\n", "p.toml: 'name' is required and must be a string"),
])
def test_a_wrong_value_names_the_step_and_the_key(text: str, message: str):
    assert refusal(text) == message


def test_a_misspelt_key_is_named_with_the_one_meant():
    assert refusal(POLICY + "requird = true\n").startswith(
        "p.toml: step 's': unknown key 'requird'; did you mean 'required'? (allowed: action, at, ")
    assert refusal('name = "p"\n[stages.agency]\nentry_dpd = 30\nrecal_dpd = 90\n').startswith(
        "p.toml: stages.agency: unknown key 'recal_dpd'; did you mean 'recall_dpd'? (allowed: ")
    assert refusal('name = "p"\nnotice_day = 10\n').startswith(
        "p.toml: unknown key 'notice_day'; did you mean 'notice_days'? (allowed: debt_kind, description, name, ")


def test_a_good_policy_still_becomes_its_records():
    policy = load_policy_text(POLICY.replace("dpd = 1", "dpd = [3, 9]\nevery = 3") + 'at = ["15:00", "09:30"]\n'
                              'stage = "onsite"\nsignals = "relocation"\nmin_balance = 100\n'
                              '[stages.agency]\nentry_dpd = 60\nrecall_dpd = 180\non_signals = ["fraud"]\n', "p.toml")
    step = policy.steps[0]
    assert step.dpds == (3, 6, 9) and [t.isoformat() for t in step.at] == ["09:30:00", "15:00:00"]
    assert step.when.stages == (Stage.ONSITE,) and step.when.signals == ("relocation",)
    assert step.when.min_balance == "100" and step.channels == ("email",)
    agency = policy.stages[Stage.AGENCY]
    assert (agency.entry_dpd, agency.recall_dpd, agency.on_signals) == (60, 180, ("fraud",))
    assert policy.points == (3, 6, 9, 60, 180)

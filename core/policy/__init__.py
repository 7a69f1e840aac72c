"""The collection policy: its records, how a TOML file becomes one, and what it makes due.

``model`` holds the frozen records, ``from_toml`` loads and validates a
preset or an administrator's file, ``evaluation`` decides what is due for a
case on a day (pure: no database, no clock). The names below are the
public ones; import them from here.
"""

from dunning.policy.evaluation import dpd_on, evaluate
from dunning.policy.from_toml import (DEBT_KINDS, check_channels, compile_policy, is_policy_file, load_policy,
                                      load_policy_text, parse_policy, preset_text, read_policy_file)
from dunning.policy.model import (AUDIENCES, DISCLOSURES, INTERNAL_ACTIONS, MAX_DPD, MIN_DPD, NOTICE_DAYS, PRESETS,
                                  Conditions, Plan, Planned, Policy, PolicyError, StageRule, Step)

__all__ = [
    "AUDIENCES", "DEBT_KINDS", "DISCLOSURES", "INTERNAL_ACTIONS", "MAX_DPD", "MIN_DPD", "NOTICE_DAYS", "PRESETS",
    "Conditions", "Plan", "Planned", "Policy", "PolicyError", "StageRule", "Step", "check_channels",
    "compile_policy", "dpd_on", "evaluate", "is_policy_file", "load_policy", "load_policy_text", "parse_policy",
    "preset_text", "read_policy_file",
]

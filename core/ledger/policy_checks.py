"""What `policy check` and `dunning run` say about a policy's ledger keys. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from dunning.compliance.media import medium_of
from dunning.policy import Policy

# A notice of interest is written: a letter or an email the debtor can keep.
WRITTEN_MEDIA = ("letter", "email")


def notice_problems(policy: Policy, media: Mapping[str, str | None]) -> list[str]:
    """Each ``notice_of_interest`` step that would go out by a channel that is not a letter or an email."""
    problems = []
    for step in policy.steps:
        if not step.notice_of_interest:
            continue
        spoken = [c for c in step.channels if medium_of(c, media) not in WRITTEN_MEDIA]
        if spoken:
            problems.append(f"step '{step.name}': 'notice_of_interest' needs a letter or email step; "
                            f"{', '.join(spoken)} is not a letter or an email")
    return problems

"""Which policy a case runs under: its strategy's while ``[[strategies]]`` are set, else the config's.

A case assigned a strategy keeps the policy it was assigned with (stored on
the case), even if the shares change or its strategy leaves the list. A case
not assigned yet runs under the strategy its id and the salt give it, which
is what the next run will record. With no ``[[strategies]]`` every case runs
under the config's ``policy``: removing them ends the trial.
"""

from __future__ import annotations

from collections.abc import Iterator

from dunning.config import Config
from dunning.models import Case
from dunning.policy import Policy, PolicyError, load_policy
from dunning.strategies import Strategy, assign


def configured_strategies(config: Config) -> tuple[Strategy, ...]:
    return tuple(Strategy(name=s.name, policy=s.policy, share=s.share) for s in config.sections.strategies)


class CasePolicies:
    """The policies of one runtime, each loaded once: the config's, and every strategy's (checked at start)."""

    def __init__(self, config: Config, default: Policy):
        self.config = config
        self.default_name = config.policy
        self.strategies = configured_strategies(config)
        self.salt = config.sections.strategy_salt
        self._loaded: dict[str, Policy] = {config.policy: default}
        for index, strategy in enumerate(self.strategies):
            self.named(strategy.policy, key=f"strategies[{index}].policy")

    def named(self, name: str, *, key: str | None = None) -> Policy:
        """The policy ``name`` (a preset or a file beside the config); ``key`` says where the config names it."""
        found = self._loaded.get(name)
        if found is None:
            try:
                found = load_policy(name, self.config.base_dir)
            except PolicyError as exc:
                where = f"{self.config.path or 'dunning.toml'}: '{key}': " if key else ""
                raise PolicyError(f"{where}{exc}") from None
            self._loaded[name] = found
        return found

    def name_for(self, case: Case) -> str:
        return self.name_of(case.id, case.strategy, case.policy)

    def name_of(self, case_id: int | None, strategy: str | None, policy: str | None) -> str:
        """``name_for`` from a case's id, strategy and policy as the store keeps them."""
        if not self.strategies:
            return self.default_name
        if policy is not None:
            return policy
        if strategy is None and case_id is not None:
            return assign(case_id, self.strategies, self.salt).policy
        return self.default_name

    def policy_for(self, case: Case) -> Policy:
        return self.named(self.name_for(case))

    def others(self) -> Iterator[Policy]:
        """The strategies' policies other than the config's, each once."""
        seen = {self.default_name}
        for strategy in self.strategies:
            if strategy.policy not in seen:
                seen.add(strategy.policy)
                yield self.named(strategy.policy)

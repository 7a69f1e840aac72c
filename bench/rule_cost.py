"""What the contact rules (``check_action``) cost per delivered action, beside the whole delivery.

    python bench/rule_cost.py [--cases 20000] [--actions 20000]

Generates the portfolio of ``bench/dispatch.py``, plans it at the same moment with the same null email
and phone channels, delivers a first batch to warm up, then delivers ``--actions`` more. Each plugin's
``check_action`` is timed where pluggy calls it (thread CPU time), and so is the delivery's whole
question to the rules (``check_hooks``: the plugins plus pluggy's per-plugin calls). Figures are CPU
µs per delivered action; run it from a checkout of another commit to compare (bench/README.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The bench beside this one: its portfolio, channels and moments.
import dispatch as dispatch_bench

from dunning import dispatch
from dunning.dispatch import delivery

WARM_UP = 400


def timed(spent: dict[str, int], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0) + time.thread_time_ns() - start

    return call


def measure(cases: int, actions: int) -> dict[str, Any]:
    spent: dict[str, int] = {}
    asking = next(c for c in vars(delivery).values() if isinstance(c, type) and "check_hooks" in vars(c))
    asking.check_hooks = timed(spent, "check_hooks", asking.check_hooks)  # type: ignore[attr-defined]
    dispatch_bench.SYNCHRONOUS = "normal"
    db = Path(tempfile.mkdtemp(prefix="dunning-rule-cost-")) / "bench.db"
    dispatch_bench.generate(db, cases)
    with dispatch_bench.runtime(db, ("email", "phone")) as rt:
        for impl in rt.plugins.calls.pm.hook.check_action.get_hookimpls():
            impl.function = timed(spent, impl.plugin_name, impl.function)
        dispatch.plan(rt, dispatch_bench.PLAN_AT, dispatch.RunSummary())
        dispatch_bench.deliver_some(rt, WARM_UP)
        spent.clear()
        _seconds, delivered, cpu = dispatch_bench.deliver_some(rt, actions)
    sent = max(delivered.sent, 1)
    figures: dict[str, Any] = {"sent": delivered.sent, "blocked": delivered.blocked, "deferred": delivered.deferred,
                               "delivery_cpu_us": round(cpu / sent * 1e6, 1)}
    figures.update({f"{name}_us": round(ns / 1e3 / sent, 1) for name, ns in sorted(spent.items())})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000, help="open cases to generate (default 20,000)")
    parser.add_argument("--actions", type=int, default=20_000, help="actions to deliver after the warm-up")
    args = parser.parse_args(argv)
    for name, value in measure(args.cases, args.actions).items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

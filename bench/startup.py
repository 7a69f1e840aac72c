"""Start-up cost of the commands people and cron run most, beside the bare libraries they need.

Runs each command as a new process several times (best of N, wall clock
and CPU time, user + system: on a shared machine the steadier) in a folder
made by `dunning init` with one imported case, and prints each figure
beside the yardstick measured in the same run: a Python that only
imports click, pluggy and attrs. The target for `dunning --help` and
`dunning cases show 1` is within 2x of the yardstick. It also lists which
heavy libraries each command imported (PDF, templates, HTTP, SMTP, logging,
the database), read from `python -X importtime`.

Every run uses cached bytecode, as an installed dunning does: the
environment's PYTHONDONTWRITEBYTECODE is dropped and each command runs once
before it is timed, so its modules' .pyc files exist (pip compiles the
yardstick's libraries when it installs them; an editable install's own
sources are compiled on their first import). That first run also leaves the
checked dunning.toml in a cache folder of the run's own (dunning.checked_cache),
as any command does; one more row times `cases show 1` with a cache that
cannot be written, as the first start after the config or a policy is edited.

    .venv/bin/python bench/startup.py            # 7 rounds
    .venv/bin/python bench/startup.py --rounds 15 --json
    .venv/bin/python bench/startup.py --beside /tmp/before/.venv/bin/dunning

``--beside`` times another install of dunning (an older commit in a venv of
its own) in turns with this one: each round runs the yardstick, then every
command with this install and with the other, so a load that comes and goes
on a shared machine weighs on both alike. Each install keeps its checked
config in a cache folder of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# structlog imports rich when rich is installed; sqlite_utils is expected once a command opens the database;
# cattrs checks dunning.toml and the policies when they are not kept as checked.
HEAVY = ("reportlab", "pypdf", "jinja2", "aiosmtpd", "urllib.request", "http.client", "smtplib", "phonenumbers",
         "holidays", "pycountry", "cryptography", "babel", "structlog", "rich", "sqlite_utils", "cattrs")
DUNNING = Path(sys.executable).with_name("dunning")
YARDSTICK = [sys.executable, "-c", "import click, pluggy, attrs"]


def one_run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The wall clock and the CPU time (user + system) of one run, in seconds."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed")
    return seconds, usage.ru_utime + usage.ru_stime


def best_of(argv: list[str], rounds: int, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The best wall clock and the best CPU time (user + system) of ``rounds`` runs, in seconds. On a shared
    machine the CPU time is the steadier figure: the wall clock also counts the time spent waiting for a core."""
    runs = [one_run(argv, cwd, env) for _ in range(rounds)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def in_turns(installs: dict[str, Path], commands: list[tuple[list[str], str, dict[str, dict[str, str]]]],
             rounds: int, cwd: Path, env: dict[str, str]) -> tuple[float, dict[tuple[str, str], float]]:
    """The yardstick's best CPU time, and each install's best CPU time for each command, the runs taken in turns:
    every round runs the yardstick once, then each command with each install."""
    yardstick = float("inf")
    best: dict[tuple[str, str], float] = {}
    for _ in range(rounds):
        yardstick = min(yardstick, one_run(YARDSTICK, cwd, env)[1])
        for command, label, envs in commands:
            for name, dunning in installs.items():
                key = (name, "dunning " + " ".join(command) + label)
                best[key] = min(best.get(key, float("inf")), one_run([str(dunning), *command], cwd, envs[name])[1])
    return yardstick, best


def heavy_imports(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    code = f"import sys; sys.argv = ['dunning', *{args!r}]; from dunning.cli import cli; cli()"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True)
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return [name for name in HEAVY if name in modules]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs per command; the best counts (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--beside", type=Path, metavar="DUNNING",
                        help="another install's dunning script, timed in turns with this one (CPU times)")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k not in ("DUNNING_CONFIG", "PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory(prefix="dunning-startup-") as folder:
        cwd = Path(folder)
        env["DUNNING_CACHE_DIR"] = str(cwd / "checked")
        # A file where the cache folder would be: nothing is kept, every start checks the config and the policy.
        (cwd / "no-cache").write_text("", encoding="utf-8")
        unchecked = env | {"DUNNING_CACHE_DIR": str(cwd / "no-cache" / "checked")}
        subprocess.run([str(DUNNING), "init"], cwd=cwd, env=env, capture_output=True, check=True)
        (cwd / "in.csv").write_text("debtor_id,name,reference,amount,currency,due_on\n"
                                    "C1,Acme Ltd,INV-1,100.00,EUR,2026-03-01\n", encoding="utf-8")
        subprocess.run([str(DUNNING), "import", "in.csv"], cwd=cwd, env=env, capture_output=True, check=True)
        commands = (["--help"], ["cases", "show", "1"], ["cases", "list"], ["plugins"])
        for command in commands:  # writes the .pyc files a first run compiles
            best_of([str(DUNNING), *command], 1, cwd, env)
        if args.beside is not None:
            return _beside(args.beside, [list(c) for c in commands], args.rounds, cwd, env, unchecked)
        yardstick, yardstick_cpu = best_of(YARDSTICK, args.rounds, cwd, env)
        rows = []
        for command, label, command_env in (*((c, "", env) for c in commands),
                                            (["cases", "show", "1"], " (unchecked)", unchecked)):
            seconds, cpu = best_of([str(DUNNING), *command], args.rounds, cwd, command_env)
            rows.append({"command": "dunning " + " ".join(command) + label, "seconds": round(seconds, 3),
                         "ratio": round(seconds / yardstick, 1), "cpu_seconds": round(cpu, 3),
                         "cpu_ratio": round(cpu / yardstick_cpu, 1),
                         "heavy_imports": heavy_imports(command, cwd, command_env)})
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"yardstick_seconds": round(yardstick, 3), "yardstick_cpu_seconds": round(yardstick_cpu, 3),
                          "rows": rows, "load_average": load}, indent=2))
        return 0
    print(f"yardstick (python -c 'import click, pluggy, attrs'): {yardstick:.3f} s, CPU {yardstick_cpu:.3f} s, "
          f"best of {args.rounds}")
    for row in rows:
        print(f"{row['command']:<34} {row['seconds']:6.3f} s  {row['ratio']:5.1f}x yardstick (target <= 2x)  "
              f"CPU {row['cpu_seconds']:5.3f} s {row['cpu_ratio']:5.1f}x  "
              f"heavy: {', '.join(row['heavy_imports']) or 'none'}")
    print(f"load average (1 min): {load:.2f}")
    return 0


def _beside(other: Path, commands: list[list[str]], rounds: int, cwd: Path, env: dict[str, str],
            unchecked: dict[str, str]) -> int:
    """``--beside``: this install and ``other`` in turns, each with a cache folder of its own."""
    other_env = env | {"DUNNING_CACHE_DIR": str(cwd / "checked-beside")}
    for command in commands:
        best_of([str(other), *command], 1, cwd, other_env)
    envs = {"this": env, "beside": other_env}
    timed = [(c, "", envs) for c in commands]
    timed.append((["cases", "show", "1"], " (unchecked)", {"this": unchecked, "beside": unchecked}))
    yardstick, best = in_turns({"this": DUNNING, "beside": other}, timed, rounds, cwd, env)
    print(f"yardstick (python -c 'import click, pluggy, attrs'): CPU {yardstick:.3f} s, best of {rounds}, "
          "taken in turns")
    print(f"{'command (CPU s, ratio to the yardstick)':<40} {'beside: ' + str(other):<30} this: {DUNNING}")
    for command, label, _ in timed:
        name = "dunning " + " ".join(command) + label
        before, after = best[("beside", name)], best[("this", name)]
        print(f"{name:<40} {before:.3f} s ({before / yardstick:.1f}x){'':<16} {after:.3f} s ({after / yardstick:.1f}x)")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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


def best_of(argv: list[str], rounds: int, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The best wall clock and the best CPU time (user + system) of ``rounds`` runs, in seconds. On a shared
    machine the CPU time is the steadier figure: the wall clock also counts the time spent waiting for a core."""
    times, cpus = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - start)
        if status != 0:
            raise SystemExit(f"{' '.join(argv)} failed")
        cpus.append(usage.ru_utime + usage.ru_stime)
    return min(times), min(cpus)


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


if __name__ == "__main__":
    raise SystemExit(main())

"""Every file dunning writes is owner-only, whatever the umask of the shell that starts it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dunning import privacy

DUNNING = Path(sys.executable).with_name("dunning")


def dunning(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``dunning`` in a process of its own, started from a shell whose umask lets everyone read."""
    done = subprocess.run([str(DUNNING), *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(0o022), env=installed_plugins())
    assert done.returncode == 0, (args, done.stderr)
    return done


def installed_plugins() -> dict[str, str]:
    """The environment as a user has it: the installed channel plugins load (the suite turns them off)."""
    return {k: v for k, v in os.environ.items() if k not in ("DUNNING_LOAD_PLUGINS", "DUNNING_CONFIG")}


def modes_under(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}


@pytest.mark.slow
def test_the_demo_and_the_files_operators_export_are_owner_only(tmp_path: Path):
    demo = tmp_path / "demo"
    dunning("demo", "--dir", str(demo), "--debtors", "8", "--days", "200", cwd=tmp_path)
    config = demo / "trade-receivables" / "dunning.toml"
    at = ["--config", str(config), "--now", "2026-07-23T10:00"]
    cases = json.loads(dunning(*at, "cases", "list", "--json", cwd=tmp_path).stdout)
    litigation = next(c["id"] for c in cases if c["stage"] == "litigation")
    exports = demo / "exports"
    dunning(*at, "legal", "bundle", str(litigation), "--out", str(exports / "bundle.zip"), cwd=tmp_path)
    dunning("--config", str(config), "--now", "2026-03-16T10:00", "calls", "export", "--out",
            str(exports / "calls.csv"), cwd=tmp_path)
    modes = modes_under(demo)
    kinds = {name.rsplit(".", 1)[-1] for name in modes if "." in name}
    # What must be there for the test to mean anything: the database and its WAL, letters,
    # print batches and their manifests, agency files, mail, texts, checkpoints, the key, exports.
    assert {"db", "pdf", "csv", "json", "jsonl", "checkpoints", "key", "toml", "zip"} <= kinds, kinds
    assert any("agency-files" in name for name in modes) and any("batches" in name for name in modes)
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (demo / name).is_dir() else 0o600)}
    assert not loose


def test_the_database_its_wal_and_shm_are_owner_only_while_open(tmp_path: Path):
    # A program embedding the engine, started with a permissive umask, holding the store open.
    script = (
        "import os, stat, sys\n"
        "from pathlib import Path\n"
        "from dunning.config import Config\n"
        "from dunning.runtime import Runtime\n"
        "os.umask(0o022)\n"
        "db = Path(sys.argv[1])\n"
        "with Runtime(Config(path=None, db=db)) as rt:\n"
        "    rt.store.conn.execute('BEGIN IMMEDIATE'); rt.store.conn.execute(\"UPDATE cases SET id = id\")\n"
        "    rt.store.conn.execute('COMMIT')\n"
        "    for name in (db, Path(f'{db}-wal'), Path(f'{db}-shm')):\n"
        "        print(name.name, oct(stat.S_IMODE(name.stat().st_mode)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "d.db")], capture_output=True, text=True,
                         env=installed_plugins())
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["d.db", "0o600", "d.db-wal", "0o600", "d.db-shm", "0o600"]


def test_init_writes_an_owner_only_config_and_key(tmp_path: Path):
    dunning("init", cwd=tmp_path)
    assert modes_under(tmp_path)["dunning.toml"] == 0o600
    assert modes_under(tmp_path)["dunning-evidence.key"] == 0o600


def test_a_config_holding_a_password_that_others_can_read_is_warned_about(tmp_path: Path):
    config = tmp_path / "dunning.toml"
    config.write_text('[channels]\nenabled = []\n[channels.sms]\nurl = "https://x"\ntoken = "t0k"\n')
    config.chmod(0o644)
    out = subprocess.run([str(DUNNING), "--config", str(config), "cases", "list"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert "holds a password or token and others can read it" in out.stderr
    assert "t0k" not in out.stderr
    config.chmod(0o600)
    quiet = subprocess.run([str(DUNNING), "--config", str(config), "cases", "list"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert "others can read it" not in quiet.stderr


def test_secrets_are_told_apart_from_the_names_of_variables_holding_them():
    assert privacy.holds_secret({"channels": {"email": {"password": "x"}}})
    assert privacy.holds_secret({"channels": {"sms": {"api_token": "x"}}})
    assert not privacy.holds_secret({"channels": {"email": {"password_env": "SMTP_PASSWORD"}}})
    assert not privacy.holds_secret({"channels": {"email": {"password": ""}}})

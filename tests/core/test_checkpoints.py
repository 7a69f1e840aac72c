"""Signed checkpoints catch what the hash chain alone cannot: a log cut short, or rewritten with every hash
recomputed."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from dunning import checkpoints, event_codec, evidence, hookimpl
from dunning.plugin_manager import registered
from tests.conftest import Project, row, write_csv
from tests.core.raw_database import drop_trigger, raw_connection



def keyed(project: Project) -> str:
    """Give the project an evidence key, as `dunning init` does; return its public key."""
    out = project("evidence", "keygen").stdout
    return out.rsplit("public key: ", 1)[1].strip()


def populate(project: Project) -> None:
    project("import", str(write_csv(project.folder / "in.csv", [row("C1"), row("C2", "INV-2")])),
            now="2026-02-20T08:00:00Z")
    project("run", now="2026-03-10T09:00:00Z")
    project("pay", "1", "100.00", now="2026-03-11T08:00:00Z")
    project("run", now="2026-03-12T09:00:00Z")


def beside(project: Project) -> Path:
    """The signed checkpoints kept beside the database: dunning.db.checkpoints, or beside dunning.toml and
    named after a PostgreSQL database."""
    if project.on_postgres:
        from dunning.store.database import parse_postgres_url

        return project.folder / f"{parse_postgres_url(str(project.target)).database}.checkpoints"
    return project.folder / "dunning.db.checkpoints"


def dropped_guards(where: Project | Path) -> Any:
    """What someone holding the database can do: drop the append-only triggers. ``where`` is a project (on
    either database) or a SQLite file (as tests/core/test_verify_modes.py still gives it)."""
    if isinstance(where, Path):
        file = sqlite3.connect(where)
        file.execute("DROP TRIGGER events_no_update")
        file.execute("DROP TRIGGER events_no_delete")
        return file
    conn = raw_connection(where)
    drop_trigger(where, conn, "events_no_update")
    drop_trigger(where, conn, "events_no_delete")
    return conn


def rechain(conn: Any) -> None:
    """Recompute every link after an edit, so the chain on its own verifies again."""
    prev = evidence.GENESIS
    rows = conn.execute("SELECT seq, at, recorded_at, case_id, kind, stage, dpd, channel, step, action_id, data "
                        "FROM events ORDER BY seq").fetchall()
    names = ("seq", "at", "recorded_at", "case_id", "kind", "stage", "dpd", "channel", "step", "action_id", "data")
    for values in rows:
        fields = dict(zip(names, values, strict=False))
        fields["data"] = json.loads(event_codec.decode_data(fields["data"], fields["case_id"], fields["step"],
                                                            fields["channel"]))
        digest = evidence.chain_hash(prev, fields)
        # As the store writes them: the hash as 32 bytes, prev_hash left empty (derived from the event before).
        conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?",
                     [b"", event_codec.encode_hash(digest), fields["seq"]])
        prev = digest
    conn.commit()


def test_init_and_keygen_write_an_owner_only_key_and_a_run_signs_the_head(project: Project):
    public = keyed(project)
    key_file = project.folder / "dunning-evidence.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert project("evidence", "public-key").stdout.strip() == public
    assert "already there" in project("evidence", "keygen", expect=1).output
    populate(project)
    beside_file = beside(project)
    assert stat.S_IMODE(beside_file.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in beside_file.read_text().splitlines()]
    last_seq = json.loads(project("events", "--json").stdout)[-1]["seq"]
    assert lines[-1]["seq"] == last_seq and lines[-1]["public_key"] == public
    out = project("verify", "--full").stdout
    assert out.startswith(f"ok: {last_seq} events, chain intact;") and "signed checkpoints agree" in out
    # By default only the checkpointed event and those after it are recomputed.
    out = project("verify").stdout
    assert out.startswith(f"ok: 1 event from the checkpoint of event {last_seq} (signed ") and "--full" in out
    run = json.loads(project("run", "--json", now="2026-03-20T09:00:00Z").stdout)
    assert run["checkpoint"]["seq"] == json.loads(project("events", "--json").stdout)[-1]["seq"]


def test_dunning_init_makes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from dunning.cli import cli

    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["init"], catch_exceptions=False).output
    assert "dunning-evidence.key (owner-only)" in out
    assert stat.S_IMODE((tmp_path / "dunning-evidence.key").stat().st_mode) == 0o600


def test_removing_the_newest_events_is_caught(project: Project):
    keyed(project)
    populate(project)
    last = json.loads(project("events", "--json").stdout)[-1]["seq"]
    conn = dropped_guards(project)
    conn.execute("DELETE FROM events WHERE seq > ?", [last - 3])
    conn.commit()
    out = project("verify", expect=1).output
    assert f"checkpoint of event {last} signed" in out and f"the log ends at event {last - 3}" in out


def test_an_edit_with_every_later_hash_recomputed_is_caught(project: Project):
    keyed(project)
    populate(project)
    conn = dropped_guards(project)
    payment = conn.execute("SELECT seq FROM events WHERE kind = 'payment'").fetchone()[0]
    conn.execute("UPDATE events SET data = replace(data, '10000', '1') WHERE seq = ?", [payment])
    rechain(conn)
    out = project("verify", expect=1).output
    assert "another hash than the one signed: the log was rewritten" in out


def test_a_file_kept_elsewhere_catches_what_the_database_and_the_file_beside_it_no_longer_show(project: Project):
    keyed(project)
    populate(project)
    kept = project.folder / "offsite.checkpoints"
    kept.write_bytes(beside(project).read_bytes())
    # Whoever rewrites the log also wipes the checkpoints they can reach.
    conn = dropped_guards(project)
    conn.execute("DELETE FROM events WHERE seq > 2")
    conn.execute("DELETE FROM checkpoints")
    conn.commit()
    beside(project).unlink()
    assert "no signed checkpoint to check it against" in project("verify").stdout
    out = project("verify", "--against", str(kept), expect=1).output
    assert "offsite.checkpoints" in out and "the log ends at event 2" in out


def test_a_checkpoint_signed_with_another_key_is_refused(project: Project, tmp_path: Path):
    keyed(project)
    populate(project)
    seq, head = project.sql("SELECT seq, hash FROM events ORDER BY seq DESC")[0]
    forger = tmp_path / "forger.key"
    checkpoints.generate_key(forger)
    forged = checkpoints.sign(checkpoints.load_key(forger), seq, event_codec.decode_hash(head), "2026-03-13T00:00:00Z")
    checkpoints.append_to_file(beside(project), forged)
    assert "it is not signed by the evidence key" in project("verify", expect=1).output


def test_an_auditor_verifies_with_the_public_key_alone(project: Project):
    public = keyed(project)
    populate(project)
    kept = project.folder / "auditor.checkpoints"
    kept.write_bytes(beside(project).read_bytes())
    (project.folder / "dunning-evidence.key").unlink()
    assert "checkpoints agree" in project("verify", "--public-key", public, "--against", str(kept)).stdout
    tampered = json.loads(kept.read_text().splitlines()[-1]) | {"seq": 1}
    kept.write_text(json.dumps(tampered) + "\n")
    assert "its signature does not match what it signs" in project(
        "verify", "--public-key", public, "--against", str(kept), expect=1).output


def test_a_bad_checkpoints_file_names_its_line(project: Project):
    populate(project)
    bad = project.folder / "bad.checkpoints"
    bad.write_text('{"seq": 1}\nnot json\n')
    out = project("verify", "--against", str(bad), expect=1).output
    assert f"{bad}: line 1: not a checkpoint" in out and "Traceback" not in out


def test_without_a_key_runs_say_the_evidence_is_unsigned(project: Project):
    project("import", str(write_csv(project.folder / "in.csv", [row("C1")])), now="2026-02-20T08:00:00Z")
    result = project("run", "--json", now="2026-03-10T09:00:00Z")
    assert json.loads(result.stdout)["checkpoint"] is None
    assert "evidence is not signed: no evidence key" in result.stderr
    assert "no evidence key" in project("evidence", "checkpoint", expect=1).output


def test_a_key_file_the_config_names_must_exist(project: Project):
    project.write_config(extra='[evidence]\nkey_file = "keys/missing.key"\n')
    project("import", str(write_csv(project.folder / "in.csv", [row("C1")])), now="2026-02-20T08:00:00Z")
    assert "missing.key: no evidence key" in project("run", now="2026-03-10T09:00:00Z", expect=1).output
    assert json.loads(project("events", "--json").stdout)[-1]["kind"] == "obligation_added"  # nothing was planned


class Mirror:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl
    def record_event(self, event: Any) -> None:
        self.seen.append(event)


def test_mirrors_receive_each_checkpoint(project: Project):
    keyed(project)
    mirror = Mirror()
    registered.append(mirror)
    try:
        populate(project)
    finally:
        registered.remove(mirror)
    signed = [e for e in mirror.seen if e.kind == "checkpoint"]
    assert signed and signed[-1].data["seq"] == signed[-1].seq
    assert checkpoints.signature_problem(checkpoints.from_dict(signed[-1].data, "mirror"), None) is None
    assert isinstance(signed[-1].at, dt.datetime)

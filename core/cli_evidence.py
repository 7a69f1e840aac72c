"""``dunning events``, ``dunning verify`` and ``dunning evidence``: the evidence log, its chain and its signed
checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dunning import calendar, checkpoints
from dunning.cli_records import event_json
from dunning.cli_support import State, fail, json_option, pass_state
from dunning.config import Config
from dunning.evidence import GENESIS, ChainReport
from dunning.output import print_json_array, print_rows

if TYPE_CHECKING:
    from dunning.store import Store


@click.command()
@click.option("--case", "case_id", type=int, help="Only this case's events.")
@click.option("--kind", help="Only events of this kind (sent, blocked, stage_changed, payment, ...).")
@click.option("--limit", type=int, help="At most this many.")
@json_option
@pass_state
def events(state: State, case_id: int | None, kind: str | None, limit: int | None, as_json: bool) -> None:
    """Show the evidence log, oldest first."""
    rt = state.runtime()
    if case_id is not None:
        rt.store.case(case_id)
    # A page at a time (by seq, on an index), printed as it is read: `dunning events | head` answers at once.
    found = (e for page in rt.store.event_pages(case_id=case_id, kind=kind, limit=limit) for e in page)
    if as_json:
        print_json_array(event_json(e) for e in found)
        return
    print_rows(
        (
            [
                e.seq,
                calendar.to_text(e.at),
                e.case_id,
                e.kind,
                e.stage,
                e.dpd,
                e.channel or "",
                e.step or "",
                _brief(e.data),
            ]
            for e in found
        ),
        ["seq", "at", "case", "kind", "stage", "dpd", "channel", "step", "detail"],
    )


def _brief(data: dict[str, Any]) -> str:
    # One line per event: line breaks inside values (addresses, notes) would break the table.
    # The rule behind a block or a deferral first, then the profile and jurisdiction it
    # came from: they must survive the cut at 80 characters.
    first = ("rule", "profile", "jurisdiction")
    ordered = sorted(data.items(), key=lambda item: first.index(item[0]) if item[0] in first else len(first))
    parts = [f"{k}={' / '.join(str(v).splitlines()) if isinstance(v, str) else v}"
             for k, v in ordered if k not in ("key",) and v not in (None, "", [], {})]
    text = ", ".join(parts)
    return text if len(text) <= 80 else text[:77] + "..."


@click.command()
@click.option("--full", is_flag=True,
              help="Recompute every event's hash from the first one, not only those from the latest signed "
                   "checkpoint on (weekly, say: the default cannot see an old event edited in place).")
@click.option("--against", "against", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
              help="A checkpoints file kept elsewhere (JSON lines); may be given more than once.")
@click.option("--archive", "archives", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="An archive file written by `dunning archive`: its events are checked against the chain's stubs; "
                   "may be given more than once.")
@click.option("--public-key", "public_key", metavar="BASE64",
              help="The evidence key's public key (from `dunning evidence public-key`), when the private key is "
                   "not at hand; by default it is read from the key file.")
@pass_state
def verify(state: State, full: bool, against: tuple[Path, ...], archives: tuple[Path, ...],
           public_key: str | None) -> None:
    """Check the evidence log's hash chain and every signed checkpoint it can see.

    Checkpoints come from the database, from the file beside it
    (<db>.checkpoints) and from each --against file. A log shorter than a
    checkpoint, another hash at a checkpointed event, or a checkpoint not
    signed by the evidence key fails, naming the event. By default the
    hashes are recomputed from the latest signed checkpoint on (the
    checkpointed event included); --full recomputes the whole log.
    """
    rt = state.runtime()
    trusted = public_key or _evidence_public_key(rt.config)
    beside = checkpoints.file_beside(rt.store.path)
    found = [("database", cp) for cp in rt.store.checkpoints()]
    for path in ([beside] if beside.exists() else []) + list(against):
        found += [(str(path), cp) for cp in checkpoints.read_file(path)]
    last_seq = rt.store.last_seq()
    problems = checkpoints.disagreements(found, last_seq, rt.store.event_hash, trusted)
    # From a checkpoint only when its signature was checked against the evidence key: one signed with
    # any other key proves nothing about the events before it.
    start = checkpoints.starting_point([cp for _, cp in found]) if trusted and not full and not problems else None
    after = start.seq - 1 if start is not None else 0
    report = _walk(rt.store, after, _prev_hash(rt.store, start))
    if not report.ok:
        fail(f"evidence chain broken at event {report.broken_at}: {report.problem} "
             f"({report.checked} events before it are intact)")
    archived_note = _check_archives(rt.store, archives)
    if problems:
        fail(f"evidence does not match a signed checkpoint: {problems[0]}"
             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    if not found:
        click.echo(f"ok: {report.checked} events, chain intact{archived_note}; no signed checkpoint to check it "
                   "against (see `dunning evidence keygen`)")
        return
    # The same checkpoint is usually found in the database and in the file: count it once.
    distinct = {(cp.seq, cp.hash, cp.signature) for _, cp in found}
    latest = max((cp for _, cp in found), key=lambda cp: (cp.seq, cp.signed_at))
    key_note = "" if trusted else "; no evidence key at hand, so each was checked against the key it names"
    if start is None:
        click.echo(f"ok: {report.checked} events, chain intact{archived_note}; {len(distinct)} signed checkpoints "
                   f"agree (latest: event {latest.seq}, signed {latest.signed_at}){key_note}")
        return
    events = f"{report.checked} event{'' if report.checked == 1 else 's'}"
    click.echo(f"ok: {events} from the checkpoint of event {start.seq} (signed {start.signed_at}) "
               f"on, chain intact{archived_note}; {len(distinct)} signed checkpoints agree; the {start.seq - 1} "
               "events before it were not recomputed (`dunning verify --full` does)")


def _walk(store: Store, after: int, start_hash: str) -> ChainReport:
    """The fast chain walk from event ``after`` on; the exact one over the whole log when a text column holds
    a BLOB (which the engine never writes, and the fast walk's query refuses)."""
    import sqlite3

    from dunning.chain_walk import walk
    from dunning.evidence import verify_chain

    try:
        return walk(store.event_links(after), start_seq=after, start_hash=start_hash)
    except sqlite3.OperationalError as exc:
        if "BLOB" not in str(exc):
            raise
        return verify_chain(store.event_rows_for_verify())


def _prev_hash(store: Store, start: checkpoints.Checkpoint | None) -> str:
    """The link the walk starts from: the stored one before the checkpointed event (its own hash is recomputed)."""
    if start is None or start.seq <= 1:
        return GENESIS
    return store.event_hash(start.seq - 1) or GENESIS


def _check_archives(store: Any, archives: tuple[Path, ...]) -> str:
    """Stubs every archiving run accounts for, and each archive file against them; what to add to the ok line."""
    if store.dialect != "sqlite" and not archives:
        return ""  # `dunning archive` works on a SQLite file: a PostgreSQL database holds no stubs to account for
    stubs = store.stubs()
    if not stubs and not archives:
        return ""
    from dunning import archive
    from dunning.store.archive import archived_event_rows

    problems = archive.stub_problems(stubs, store.archived_case_ids())
    checked = 0
    for path in archives:
        count, found = archive.archive_problems(archived_event_rows(path), stubs)
        checked += count
        problems += [f"{path}: {problem}" for problem in found]
    if problems:
        fail(f"archived evidence does not match the chain: {problems[0]}"
             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    if not archives:
        return f" ({len(stubs)} events of the log archived: check them with --archive FILE)"
    return f" ({len(stubs)} events of the log archived; {checked} archived events match their stubs)"


def _evidence_public_key(config: Config) -> str | None:
    if not config.evidence_key.exists():
        return None
    return checkpoints.public_key_text(checkpoints.load_key(config.evidence_key))


@click.group(name="evidence")
def evidence_() -> None:
    """The evidence key and signed checkpoints of the evidence log.

    At the end of every run the head of the hash chain is signed with an
    Ed25519 key kept outside the database ([evidence] key_file, by default
    dunning-evidence.key beside dunning.toml) and kept in the database, in
    <db>.checkpoints and at the record_event mirrors; `dunning verify` then
    catches a log cut short or rewritten.
    """


@evidence_.command(name="keygen")
@click.option("--force", is_flag=True, help="Replace an existing key.")
@pass_state
def evidence_keygen(state: State, force: bool) -> None:
    """Make the evidence key (owner-only file) and print its public key."""
    public = checkpoints.generate_key(state.config.evidence_key, force=force)
    click.echo(f"wrote {state.config.evidence_key} (owner-only); public key: {public}")


@evidence_.command(name="checkpoint")
@pass_state
def evidence_checkpoint(state: State) -> None:
    """Sign the evidence chain's head now (runs do it at their end)."""
    rt = state.runtime()
    signed = rt.checkpoint(state.now(), always=True)
    if signed is None:
        fail(f"{rt.config.evidence_key}: no evidence key (make one with `dunning evidence keygen`)")
    click.echo(f"signed event {signed.seq} ({signed.hash[:16]}…) at {signed.signed_at}")


@evidence_.command(name="public-key")
@pass_state
def evidence_public_key(state: State) -> None:
    """Print the evidence key's public key, for auditors: `dunning verify --public-key KEY`."""
    public = _evidence_public_key(state.config)
    if public is None:
        fail(f"{state.config.evidence_key}: no evidence key (make one with `dunning evidence keygen`)")
    click.echo(public)

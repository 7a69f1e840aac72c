"""The evidence bundle a lawyer needs for a case, as one zip file, and its verification.

What is in it:

- ``manifest.json``: the case, every event of the case with its place in
  the hash chain (``seq``, ``prev_hash``, ``hash``), the log's head when
  the bundle was made, and every other file with its SHA-256 and size;
- ``letters/``: each letter sent, as the PDF the letter channel wrote;
  its SHA-256 must equal the one recorded in its ``sent`` event, so the
  letter is tied to the event and the event to the chain;
- ``notes.json``: call and visit notes (``phone:call_logged``/``visit:logged``) and the
  agency's reports of contacts and status (``agency_contact``/``agency_status``);
- ``payments.json``: payments and promises to pay;
- ``statement.csv`` and ``statement.pdf``: the statement of account.

Verification needs only the zip: every file's hash, every letter against
its event, every event's hash against its content and ``prev_hash``, and
the links between events that are next to each other in the log. Events
of other cases sit between this case's events in the log; the bundle
leaves them out (they concern other debtors), so across such a gap only
each event's own hash is checked. ``dunning verify`` checks the whole
log; ``--against-log`` compares the bundle's events with the log they
came from, which finds an event left out or rewritten with its hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from dunning import PluginContext, calendar, chain_hash, checkpoints, event_fields, money
from dunning.config import Config
from dunning.models import Event
from dunning.operations import OperationError
from dunning.owed import owed_on
from dunning.plugins.legal import records, statement

FORMAT = "dunning-evidence-bundle/1"
NOTE_KINDS = ("phone:call_logged", "visit:logged", "agency:contact", "agency:status",
              # as recorded before plugins' kinds were namespaced
              "call_logged", "visit_logged", "agency_contact", "agency_status")
# Settings of [channels.letter] that may name the folder letters are written to.
LETTER_FOLDER_KEYS = ("folder", "output_folder", "outbox", "out_dir", "directory", "dir")


@attrs.frozen
class Built:
    path: Path
    events: int
    letters: int
    files: int
    missing: tuple[str, ...] = ()


def event_record(event: Event) -> dict[str, Any]:
    """An event as the bundle carries it: the hashed fields, and its links."""
    return event_fields(event) | {"prev_hash": event.prev_hash, "hash": event.hash}


def resolve_letter(path_text: str, config: Config) -> Path | None:
    """Where a letter recorded as ``path_text`` is now: absolute as recorded, else under the letter folder or the
    config's folder."""
    recorded = Path(path_text)
    if recorded.is_absolute():
        return recorded if recorded.is_file() else None
    letter = config.settings_for("letter")
    bases = [config.base_dir / str(letter[key]) for key in LETTER_FOLDER_KEYS if isinstance(letter.get(key), str)]
    for base in [*bases, config.base_dir]:
        candidate = base / recorded
        if candidate.is_file():
            return candidate
    return None


def _is_letter(event: Event) -> bool:
    path = event.data.get("path")
    return (
        event.kind == "sent" and isinstance(path, str) and (event.channel == "letter" or path.lower().endswith(".pdf"))
    )


def build(rt: PluginContext, case_id: int, out: Path, now: dt.datetime, *, allow_missing: bool = False) -> Built:
    """Write the bundle for ``case_id`` to ``out`` (written beside it and renamed into place)."""
    case = rt.store.case(case_id)
    debtor = rt.store.debtor(case.debtor_id)
    assert debtor is not None
    events = rt.store.events(case_id=case.id)
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    missing: list[str] = []
    problems: list[str] = []

    def add(name: str, data: bytes, what: str, **extra: Any) -> None:
        files[name] = data
        entries.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "what": what,
                        **extra})

    for event in events:
        if not _is_letter(event):
            continue
        where = resolve_letter(str(event.data["path"]), rt.config)
        label = f"event {event.seq} ({event.step or event.data.get('template') or 'letter'}, {event.data['path']})"
        if where is None:
            missing.append(label)
            continue
        data = where.read_bytes()
        recorded = event.data.get("sha256")
        actual = hashlib.sha256(data).hexdigest()
        if recorded and recorded != actual:
            problems.append(f"{label}: the file has changed since it was sent (sha256 {actual}, recorded {recorded})")
            continue
        add(f"letters/{event.seq:08d}-{where.name}", data, "letter", event_seq=event.seq)
    if problems:
        raise OperationError("cannot bundle case {}: {}".format(case.id, "; ".join(problems)))
    if missing and not allow_missing:
        raise OperationError(f"cannot bundle case {case.id}: letters not found: {'; '.join(missing)} "
                             "(--allow-missing makes the bundle anyway and lists them in the manifest)")

    notes = [event_record(e) for e in events if e.kind in NOTE_KINDS]
    add("notes.json", _json_bytes(notes), "notes")
    payments = {
        "payments": [{"id": p.id, "at": calendar.to_text(p.at), "amount": money.format_minor(p.amount, case.currency),
                      "reference": p.reference} for p in rt.store.payments(case.id)],
        "promises": [{"id": p.id, "amount": money.format_minor(p.amount, case.currency),
                      "due_at": calendar.to_text(p.due_at), "status": p.status.value,
                      "made_at": calendar.to_text(p.created_at) if p.created_at else None}
                     for p in rt.store.promises(case.id)],
        "currency": case.currency,
    }
    add("payments.json", _json_bytes(payments), "payments and promises")
    obligations = rt.store.obligations(case.id)
    lines = statement.statement_lines(obligations, rt.store.payments(case.id), rt.config.zone)
    add("statement.csv", statement.to_csv(lines, case.currency), "statement of account")
    owed = owed_on(obligations, rt.today(now), case.currency)
    add("statement.pdf", statement.to_pdf(lines, case, debtor, rt.today(now), owed), "statement of account")

    matter = records.matter_of(rt.db, case.id)
    # The bundle carries a signed checkpoint of the log's head, so an auditor
    # holding only the public key can tell the head it was made at is genuine.
    rt.checkpoint(now)
    checkpoint = rt.store.latest_checkpoint()
    last = rt.store.last_seq()
    head = rt.store.events(after_seq=last - 1, limit=1) if last else []
    manifest = {
        "format": FORMAT,
        "created_at": calendar.to_text(now),
        "recorded_at": calendar.to_text(calendar.utc_now()),
        "case": {"id": case.id, "debtor_id": case.debtor_id, "debtor_name": debtor.name, "stage": case.stage.value,
                 "status": case.status.value, "currency": case.currency,
                 "balance": money.format_minor(case.balance, case.currency),
                 "oldest_due_on": case.anchor_due_on.isoformat() if case.anchor_due_on else None},
        "matter": None if matter is None else {
            "id": matter.id, "firm": matter.firm, "lawyer": matter.lawyer, "court": matter.court,
            "case_number": matter.case_number, "status": matter.status, "opened_on": matter.opened_on.isoformat(),
            "awarded": None if matter.awarded is None else money.format_minor(matter.awarded, matter.currency),
            "milestones": [{"milestone": m.milestone, "on": m.on.isoformat(),
                            "amount": None if m.amount is None else money.format_minor(m.amount, matter.currency),
                            "cost": None if m.cost is None else money.format_minor(m.cost, matter.currency),
                            "note": m.note} for m in records.milestones(rt.db, matter.id)]},
        "chain": {"events": len(events), "first_seq": events[0].seq if events else None,
                  "last_seq": events[-1].seq if events else None,
                  "log_head": {"seq": head[0].seq, "hash": head[0].hash} if head else None,
                  "checkpoint": checkpoint.as_dict() if checkpoint else None},
        "events": [event_record(e) for e in events],
        "files": entries,
        "missing": missing,
    }
    _write_zip(out, {"manifest.json": _json_bytes(manifest), **files}, now)
    return Built(out, len(events), sum(1 for e in entries if e["what"] == "letter"), len(entries), tuple(missing))


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _write_zip(out: Path, members: Mapping[str, bytes], now: dt.datetime) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, out)


# --- verification --------------------------------------------------------------------


def verify(path: Path, public_key: str | None = None) -> tuple[Mapping[str, Any] | None, list[str]]:
    """Check a bundle; returns its manifest (if readable) and every problem found, named.

    ``public_key`` (the evidence key's, from ``dunning evidence public-key``)
    makes the bundle's checkpoint count only if that key signed it.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return None, [f"{path.name}: not a readable zip file ({exc})"]
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            return None, ["manifest.json is missing"]
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except ValueError as exc:
            return None, [f"manifest.json is not valid JSON ({exc})"]
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            return None, [f"manifest.json is not a {FORMAT} manifest"]
        problems = _check_files(archive, names, manifest)
    events = manifest.get("events") or []
    counted = (manifest.get("chain") or {}).get("events")
    if counted != len(events):
        problems.append(f"the manifest says the case has {counted} events but holds {len(events)}")
    problems += check_events(events, (manifest.get("case") or {}).get("id"))
    problems += check_checkpoint(manifest.get("chain") or {}, public_key)
    return manifest, problems


def check_checkpoint(chain: Mapping[str, Any], public_key: str | None) -> list[str]:
    """The bundle's signed checkpoint: a good signature, and the log head it names where it covers it."""
    raw = chain.get("checkpoint")
    if raw is None:
        return ["the bundle carries no signed checkpoint"] if public_key else []
    try:
        checkpoint = checkpoints.from_dict(raw, "the checkpoint")
    except checkpoints.CheckpointError as exc:
        return [str(exc)]
    problem = checkpoints.signature_problem(checkpoint, public_key)
    if problem is not None:
        return [f"the checkpoint of event {checkpoint.seq}: {problem}"]
    head = chain.get("log_head") or {}
    if checkpoint.seq == head.get("seq") and checkpoint.hash != head.get("hash"):
        return [f"the log head {head.get('seq')} is not the one the checkpoint signed"]
    return []


def check_against_log(manifest: Mapping[str, Any], store: Any) -> list[str]:
    """Compare the bundle's events with the evidence log they came from (this database).

    Finds what the zip alone cannot: an event of the case left out of the
    bundle, or one rewritten together with its hash.
    """
    case_id = (manifest.get("case") or {}).get("id")
    head = (manifest.get("chain") or {}).get("log_head") or {}
    if not isinstance(case_id, int):
        return ["the manifest names no case"]
    try:
        store.case(case_id)
    except LookupError:
        return [f"case {case_id} is not in this database"]
    upto = head.get("seq") or 0
    logged = {e.seq: e for e in store.events(case_id=case_id) if (e.seq or 0) <= upto}
    bundled = {e.get("seq"): e for e in manifest.get("events") or []}
    problems = [f"event {seq} of case {case_id} is in the log but not in the bundle"
                for seq in sorted(set(logged) - set(bundled))]
    problems += [
        f"event {seq} is in the bundle but not in the log" for seq in sorted(set(bundled) - set(logged), key=str)
    ]
    problems += [f"event {seq}: its hash differs from the log's" for seq in sorted(set(bundled) & set(logged))
                 if bundled[seq].get("hash") != logged[seq].hash]
    if upto:
        found = store.events(after_seq=upto - 1, limit=1)
        if not found or found[0].seq != upto or found[0].hash != head.get("hash"):
            problems.append(f"the log's event {upto} is not the head the bundle was made at")
    return problems


def _check_files(archive: zipfile.ZipFile, names: set[str], manifest: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    listed = {entry.get("path") for entry in manifest.get("files", [])}
    for extra in sorted(names - listed - {"manifest.json"}):
        problems.append(f"{extra}: in the zip but not in the manifest")
    events = {e.get("seq"): e for e in manifest.get("events") or [] if isinstance(e, dict)}
    for entry in manifest.get("files", []):
        name = entry.get("path")
        if name not in names:
            problems.append(f"{name}: listed in the manifest but missing from the zip")
            continue
        data = archive.read(name)
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry.get("sha256"):
            problems.append(f"{name}: sha256 is {actual}, the manifest says {entry.get('sha256')}")
        if entry.get("what") == "letter":
            event = events.get(entry.get("event_seq"))
            recorded = (event or {}).get("data", {}).get("sha256")
            if event is None:
                problems.append(f"{name}: its sent event {entry.get('event_seq')} is not in the bundle")
            elif recorded and recorded != actual:
                problems.append(f"{name}: sha256 is {actual}, its sent event {event.get('seq')} recorded {recorded}")
    return problems


def check_events(events: Sequence[Mapping[str, Any]], case_id: Any) -> list[str]:
    """Each event's hash against its content and prev_hash; links where events are next to each other."""
    problems: list[str] = []
    previous: Mapping[str, Any] | None = None
    for event in events:
        seq = event.get("seq")
        if event.get("case_id") != case_id:
            problems.append(f"event {seq}: belongs to case {event.get('case_id')}, not {case_id}")
        if chain_hash(str(event.get("prev_hash")), event) != event.get("hash"):
            problems.append(f"event {seq}: its hash does not match its content (changed after it was written)")
        if previous is not None:
            before = previous.get("seq")
            if not isinstance(seq, int) or not isinstance(before, int) or seq <= before:
                problems.append(f"event {seq}: out of order after event {before}")
            elif seq == before + 1 and event.get("prev_hash") != previous.get("hash"):
                problems.append(f"event {seq}: does not link to event {before} before it")
        previous = event
    return problems

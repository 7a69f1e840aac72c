"""An import's events spelled out as rows (dunning.store.import_events) are those the event log's own path writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning import evidence
from dunning.calendar import to_text
from dunning.evidence import verify_chain
from dunning.importer import import_file
from dunning.models import Event
from dunning.store import Store
from dunning.store.import_events import case_opened_data, chained_rows, obligation_added_data
from tests.core.raw_database import more_databases  # noqa: F401  (a fixture)

# Text an encoder must escape or keep as it is: quotes, backslashes, control characters, non-ASCII, surrogates
# a JSON file can carry, percent signs (the body templates are %-formatted).
awkward = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('"\\%\n\t\x00\u2028é€𝄞'), max_size=12)


@settings(max_examples=300, deadline=None)
@given(debtor_id=awkward, currency=awkward, reference=awkward, amount=st.integers(-10**20, 10**20), due_on=awkward)
def test_the_data_is_the_canonical_text_of_the_dict(debtor_id: str, currency: str, reference: str, amount: int,
                                                    due_on: str):
    assert case_opened_data(debtor_id, currency) == evidence.canonical_text(
        {"debtor_id": debtor_id, "currency": currency})
    assert obligation_added_data(reference, amount, currency, due_on) == evidence.canonical_text(
        {"reference": reference, "amount": amount, "currency": currency, "due_on": due_on})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**12), awkward, awkward, st.integers(1, 10**9), st.booleans()),
                min_size=1, max_size=8), st.integers(0, 10**6))
def test_the_chain_is_the_one_link_hash_gives(items: list[tuple[int, str, str, int, bool]], start: int):
    at, recorded = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, 9, 0, 7, tzinfo=dt.UTC)
    at_text, recorded_text = to_text(at), to_text(recorded)
    events = [Event(kind="case_opened", at=at, case_id=case_id, stage="internal",
                    data={"debtor_id": text, "currency": "EUR"}) if opened else
              Event(kind="obligation_added", at=at, case_id=case_id,
                    data={"reference": text, "amount": amount, "currency": other, "due_on": "2026-02-15"})
              for case_id, text, other, amount, opened in items]
    plain = [(e.case_id, e.kind, e.stage, evidence.canonical_text(e.data)) for e in events]
    linked: list[tuple[object, ...]] = []
    start_hash = evidence.GENESIS if start == 0 else "ab" * 32
    seq, prev, stored = chained_rows(start, start_hash, plain, at_text, recorded_text, linked=linked)
    expected = start_hash
    for n, (event, row, link) in enumerate(zip(events, stored, linked, strict=True), start=start + 1):
        fields = evidence.event_fields(Event(kind=event.kind, at=at, case_id=event.case_id, stage=event.stage,
                                             data=event.data, recorded_at=recorded), n)
        assert link[-2] == expected
        expected = evidence.chain_hash(expected, fields)
        assert link[-1] == expected and row[-1] == bytes.fromhex(expected)
        assert row[0] == link[0] == n and row[3] == event.case_id and row[4] == event.kind
    assert (seq, prev) == (start + len(events), expected)


def _write(path: Path, rows: int) -> None:
    path.write_text("debtor_id,name,reference,amount,currency,due_on\n" + "".join(
        f'D{n // 2},"Na""me {n // 2}",INV-{n}%,{n + 1}.05,{"EUR" if n % 3 else "GBP"},2026-02-1{n % 9}\n'
        for n in range(rows)), encoding="utf-8")


def test_an_import_in_its_own_transaction_and_in_a_callers_write_the_same_events(
        more_databases: Callable[[str], Path | str], tmp_path: Path):  # noqa: F811
    own_database, held_database = more_databases("own"), more_databases("held")
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    path = tmp_path / "in.csv"
    _write(path, 40)
    own = Store(own_database)
    import_file(own, path, now=now, today=now.date())
    announced: list[Event] = []
    held = Store(held_database)
    held.on_events = announced.extend
    with held.transaction():  # the caller's transaction: the events go to the listener with the others
        held.import_obligations(_items(path), now, now.date())
    for store in (own, held):
        assert verify_chain(store.event_rows_for_verify()).ok
    columns = "seq, at, case_id, kind, stage, dpd, channel, step, action_id, data"
    rows = [store.conn.execute(f"SELECT {columns} FROM events ORDER BY seq").fetchall() for store in (own, held)]
    cases = {(n // 2, n % 3 == 0) for n in range(40)}  # a debtor's case per currency
    assert rows[0] == rows[1] and len(rows[0]) == 40 + len(cases)
    assert [(e.seq, e.kind, e.case_id, e.data, e.hash) for e in announced] == [
        (e.seq, e.kind, e.case_id, e.data, e.hash) for e in held.events()]
    assert announced[0].data == {"debtor_id": "D0", "currency": "GBP"}
    own.close()
    held.close()


def _items(path: Path) -> list:  # type: ignore[type-arg]
    from dunning.importer import read_rows, validate

    items, errors = validate(read_rows(path)[0], None)
    assert not errors
    return items


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_case_references_are_python_stdnums(case_id: int) -> None:
    """The import's creditor references (one per case it opens) are those ``creditor_reference`` makes."""
    from dunning import creditor_reference
    from dunning.store.obligation_import import case_reference

    assert case_reference(case_id) == creditor_reference.for_case(case_id)
    assert creditor_reference.is_valid(case_reference(case_id))

"""An import's two passes on two cores: the rows checked in a child process while this one writes them.

``importer.import_file`` checks a whole file before writing any of it. On
a machine with a core to spare, a large file is checked in a child process
(forked: it starts at once, with the file's reader already open) that
hands each checked row over a pipe as soon as it is checked; this process
writes them into the store's transaction as they come. When the child has
read the last row, it sends what it found: any problem, and the
transaction is rolled back before anything is committed, so the store is
unchanged and the messages are those of the one-process import, word for
word. The child reads the store through a connection of its own, which
sees the store as it was before the import began (WAL: the writer's
uncommitted rows are invisible to it), as the one-process check does.

The pipe holds a few batches at most: memory stays the same whatever the
file's size.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import marshal
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dunning.store import ImportResult, Store
from dunning.store.import_staging import ImportStaging
from dunning.store.obligation_import import ObligationRow

# Checked rows are sent this many at a time: one pipe message (and one marshal) per batch.
_BATCH = 500
_ROWS, _DONE, _FAILED = b"R", b"D", b"X"


def usable(store: Store) -> bool:
    """Whether a second process can help: more than one core, and a database file a child can open."""
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods() \
        and store._database_file() is not None


class _PipeStaging(ImportStaging):
    """The scratch file for references only: checked rows go down the pipe instead of into a table."""

    def __init__(self, sender: Any) -> None:
        super().__init__()
        self._sender = sender
        self._batch: list[Any] = []

    def add(self, line: int, payload: bytes) -> None:
        self.add_row(line, marshal.loads(payload))

    def add_row(self, line: int, row: Any) -> None:
        # The rows themselves, marshalled once a batch (not once each and again as a batch).
        self._batch.append(row)
        self.count += 1
        if len(self._batch) >= _BATCH:
            self.send()

    def send(self) -> None:
        if self._batch:
            self._sender.send_bytes(_ROWS + marshal.dumps(self._batch))
            self._batch = []


def _check_in_child(database: str, synchronous: str, reader: Any, path: Path, sender: Any) -> None:
    """The checking pass (``importer._check_pass``), its rows sent as checked and its findings at the end."""
    from dunning import importer

    try:
        store = Store._another_connection(database, synchronous)
        staging = _PipeStaging(sender)
        try:
            findings = importer._check_pass(store, path, reader, staging)
            staging.send()
            sender.send_bytes(_DONE + pickle.dumps((findings, staging.count)))
        finally:
            staging.close()
        store.close()
    except BaseException as exc:  # handed to the parent, which raises it: the import fails as it would alone
        try:
            sent = pickle.dumps(exc)
        except Exception:  # an exception that cannot be pickled: its type and message
            sent = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        # OSError: the parent stopped listening (its write failed), and reports its own error.
        with contextlib.suppress(OSError):
            sender.send_bytes(_FAILED + sent)
    finally:
        sender.close()


def import_in_two_processes(store: Store, path: Path, reader: Any, *, now: dt.datetime, today: dt.date,
                            warnings: list[str] | None) -> tuple[ImportResult, int]:
    """``import_file`` for a file whose ``reader`` is open: checked in a child, written here as it is checked."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    database = store._database_file()
    assert database is not None
    child = context.Process(target=_check_in_child, args=(database, store.synchronous, reader, path, sender),
                            daemon=True)
    child.start()
    sender.close()
    counted: list[int] = []
    try:
        result = store.import_rows(_received(receiver, path, reader.unit, warnings, counted), now, today)
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():  # the write failed while the child was still checking
            child.terminate()
            child.join()
    return result, counted[0]


def _received(receiver: Any, path: Path, unit: str, warnings: list[str] | None,
              counted: list[int]) -> Iterator[ObligationRow]:
    """The checked rows as the child sends them; raises (and the writer rolls back) if the check failed."""
    from dunning import importer

    while True:
        try:
            message = receiver.recv_bytes()
        except EOFError:  # the child ended without a word (killed): nothing is written
            raise importer.ImportError_(str(path), [importer.RowError(
                1, "file", "the check stopped before the end of the file (its process ended)")], unit=unit) from None
        kind, body = message[:1], message[1:]
        if kind == _ROWS:
            yield from marshal.loads(body)
        elif kind == _DONE:
            findings, count = pickle.loads(body)
            importer._report(path, unit, findings, warnings)  # raises ImportError_ on any problem
            counted.append(count)
            return
        else:
            raise pickle.loads(body)

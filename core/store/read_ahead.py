"""Reading a listing's next pages on a second connection while the caller writes out the page in hand.

Python turns a page's rows into text with the GIL held; SQLite reads the next page with it released. On a
second thread with its own connection the two overlap, and a listing of a million cases takes about as long
as the longer of the two instead of their sum. Memory stays bounded: at most ``depth`` pages wait.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

Page = TypeVar("Page")

# How many pages may wait, read and not yet taken: enough that the reader never idles for long.
DEPTH = 2


class _Done:
    """What the reader puts last: the end of the pages, or the exception that stopped it."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


class ReadAhead(Generic[Page]):
    """``read(store)``'s pages, read on a thread of their own through ``open_store()``'s connection."""

    def __init__(self, open_store: Callable[[], Any], read: Callable[[Any], Iterator[Page]], depth: int = DEPTH):
        self._open_store, self._read = open_store, read
        self._pages: queue.Queue[Page | _Done] = queue.Queue(maxsize=max(depth, 1))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dunning-read-ahead", daemon=True)

    def __iter__(self) -> Iterator[Page]:
        self._thread.start()
        try:
            while True:
                item = self._pages.get()
                if isinstance(item, _Done):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:  # also when the caller stops early (a limit, a closed pipe)
            self._stopping.set()
            while self._thread.is_alive():  # unblock a reader waiting for room
                try:
                    self._pages.get(timeout=0.05)
                except queue.Empty:
                    continue
            self._thread.join()

    def _put(self, item: Page | _Done) -> bool:
        """Hand ``item`` over; False once the caller has stopped taking pages."""
        while not self._stopping.is_set():
            try:
                self._pages.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            store = self._open_store()
        except BaseException as exc:  # the caller raises it
            self._put(_Done(exc))
            return
        try:
            for page in self._read(store):
                if not self._put(page):
                    return
            self._put(_Done())
        except BaseException as exc:
            self._put(_Done(exc))
        finally:
            store.close()

"""``Store``: one database file, every part of the store in one object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from dunning.store.actions import Actions
from dunning.store.announced_deadlines import AnnouncedDeadlines
from dunning.store.archive import ArchivedStubs, CaseArchive
from dunning.store.bank import Bank
from dunning.store.cases import Cases
from dunning.store.charges import Charges
from dunning.store.claims import Claims
from dunning.store.connection import Migration, StoreConnection
from dunning.store.contact_attempts import ContactAttempts
from dunning.store.contacts import Contacts
from dunning.store.credits import Credits
from dunning.store.debtor_edits import DebtorEdits
from dunning.store.delivery_facts import DeliveryReads
from dunning.store.events import EventLog
from dunning.store.holds import Holds
from dunning.store.ledger import Ledger
from dunning.store.listings import Listings
from dunning.store.mirror_cursors import MirrorCursors
from dunning.store.notices import Notices
from dunning.store.obligation_edits import ObligationEdits
from dunning.store.obligation_import import ObligationImport
from dunning.store.payments import Payments
from dunning.store.pg_locks import WorkerLocks
from dunning.store.plan_writer import PlanWriter
from dunning.store.promises import Promises
from dunning.store.rates import Rates
from dunning.store.settlements import Settlements
from dunning.store.report_case_facts import ReportCaseFacts
from dunning.store.reports import ReportRows
from dunning.store.signals import Signals
from dunning.store.strategies import CaseStrategies
from dunning.store.sync import BooksSync
from dunning.store.users import StaffUsers


# Each part builds on the ones it names as bases (a part before its bases, as
# Python's method order needs); all of them share one connection and its
# transactions (StoreConnection).
class Store(
    ObligationImport,
    ObligationEdits,
    BooksSync,
    DebtorEdits,
    Ledger,
    Payments,
    Listings,
    CaseStrategies,
    Cases,
    Charges,
    Rates,
    Settlements,
    Claims,
    DeliveryReads,
    Actions,
    PlanWriter,
    CaseArchive,
    ArchivedStubs,
    EventLog,
    MirrorCursors,
    Notices,
    AnnouncedDeadlines,
    Contacts,
    ContactAttempts,
    Signals,
    Promises,
    Holds,
    Bank,
    Credits,
    ReportCaseFacts,
    ReportRows,
    StaffUsers,
    WorkerLocks,
    StoreConnection,
):
    """One SQLite database file, with the core's schema and the plugins' tables."""

    def __init__(self, path: str | Path, plugin_migrations: Mapping[str, Sequence[Migration]] | None = None,
                 *, synchronous: str = "full"):
        self._open(path, synchronous)
        self.migrate(plugin_migrations or {})

"""The only place that speaks SQL.

SQLite through sqlite-utils: WAL, a busy timeout, and every write inside a
``BEGIN IMMEDIATE`` transaction, so two dispatchers never interleave. Rows
become models here (``_case``, ``_action``, ...) and nowhere else. Evidence
events appended inside a transaction are handed to the listener (the
``record_event`` hook) only after it commits.

Import from ``dunning.store`` itself; the modules behind it, one subject each:

- ``facade``: ``Store``, made of the parts below on one connection;
- ``connection``: the file, its pragmas, the schema, transactions and savepoints
  (and ``write_transaction`` for a plugin's own tables);
- ``rows``: rows to models and back; ``bulk``: many rows per statement;
- ``stamped_events`` and ``events``: the evidence log and its hash chain,
  verification rows, checkpoints; ``mirror_cursors``: how far each mirror got;
- ``cases``: cases, debtors, obligations, the cases due; ``obligation_import``;
- ``actions``: the outbox; ``claims``: claiming, finishing, claims left behind;
  ``notices``: notices to staff; ``announced_deadlines``;
- ``contacts`` (and opt-outs), ``contact_attempts``, ``signals``;
- ``payments``, ``promises``, ``holds``;
- ``plan_writer``: planning's results, written on a writer thread;
- ``errors``: ``NotFound``, ``Conflict``, ``StoreError``.
"""

from __future__ import annotations

from dunning.models import ActionKind
from dunning.store.connection import SYNCHRONOUS_MODES, Migration, write_transaction
from dunning.store.errors import Conflict, NotFound, StoreError, missing_database
from dunning.store.facade import Store
from dunning.store.obligation_import import ImportedObligation, ImportResult
from dunning.store.plan_writer import DUE_ROW_FIELDS, CasePlanWrite, PlanBatch, PlanRows, SavedPlans, due_row_case
from dunning.store.rows import action_row_tail

__all__ = [
    "DUE_ROW_FIELDS",
    "SYNCHRONOUS_MODES",
    "ActionKind",
    "CasePlanWrite",
    "Conflict",
    "ImportResult",
    "ImportedObligation",
    "Migration",
    "NotFound",
    "PlanBatch",
    "PlanRows",
    "SavedPlans",
    "Store",
    "StoreError",
    "action_row_tail",
    "due_row_case",
    "missing_database",
    "write_transaction",
]

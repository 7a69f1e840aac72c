"""The core's schema, one named migration per step. Never edit a step that has shipped; add one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning import creditor_reference
from dunning.migration_set import MigrationSet

if TYPE_CHECKING:
    import sqlite_utils

# Applied through sqlite_utils.Migrations, imported only when a step is pending (dunning.migration_set).
migrations = MigrationSet("dunning")


@migrations()
def m001_debtors_and_contacts(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE debtors (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            country TEXT,
            timezone TEXT,
            locale TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            role TEXT NOT NULL,
            name TEXT,
            bad INTEGER NOT NULL DEFAULT 0,
            UNIQUE (debtor_id, kind, value, role)
        )
        """
    )


@migrations()
def m002_cases_and_obligations(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            currency TEXT NOT NULL,
            stage TEXT NOT NULL,
            status TEXT NOT NULL,
            balance INTEGER NOT NULL,
            anchor_due_on TEXT,
            opened_on TEXT NOT NULL,
            planned_through TEXT,
            next_action_on TEXT,
            broken_promises INTEGER NOT NULL DEFAULT 0,
            account_locked INTEGER NOT NULL DEFAULT 0,
            previous_stage TEXT,
            stage_entered_on TEXT,
            resolved_on TEXT
        )
        """
    )
    # The runner's question "which cases have something due by today?" is a
    # range scan on this index, so a run with nothing due costs nothing.
    db.execute("CREATE INDEX cases_due ON cases (next_action_on, id)")
    db.execute("CREATE UNIQUE INDEX cases_open_per_currency ON cases (debtor_id, currency) WHERE status = 'open'")
    db.execute("CREATE INDEX cases_stage ON cases (stage, status)")
    db.execute(
        """
        CREATE TABLE obligations (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            debtor_id TEXT NOT NULL,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            issued_on TEXT,
            due_on TEXT NOT NULL,
            paid INTEGER NOT NULL DEFAULT 0,
            UNIQUE (debtor_id, reference)
        )
        """
    )
    db.execute("CREATE INDEX obligations_case ON obligations (case_id, due_on)")


@migrations()
def m003_outbox(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            kind TEXT NOT NULL,
            step TEXT NOT NULL,
            channel TEXT,
            template TEXT,
            target TEXT,
            dpd INTEGER,
            planned_for TEXT NOT NULL,
            not_before TEXT NOT NULL,
            status TEXT NOT NULL,
            required INTEGER NOT NULL DEFAULT 0,
            requires_approval INTEGER NOT NULL DEFAULT 0,
            approved_by TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            reference TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            claimed_by TEXT,
            claimed_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX actions_ready ON actions (status, not_before)")
    db.execute("CREATE INDEX actions_case ON actions (case_id, status)")


@migrations()
def m004_evidence(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            case_id INTEGER,
            kind TEXT NOT NULL,
            stage TEXT,
            dpd INTEGER,
            channel TEXT,
            step TEXT,
            action_id INTEGER,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_case ON events (case_id, seq)")
    db.execute("CREATE INDEX events_kind ON events (kind, seq)")
    # Append-only: the database itself refuses edits and deletions, so
    # tampering needs a deliberate act that ``dunning verify`` then finds.
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )


@migrations()
def m005_promises_payments_holds(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE promises (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            amount INTEGER NOT NULL,
            due_at TEXT NOT NULL,
            status TEXT NOT NULL,
            paid_since INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            settled_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX promises_open ON promises (status, due_at)")
    db.execute("CREATE INDEX promises_case ON promises (case_id)")
    db.execute(
        """
        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            amount INTEGER NOT NULL,
            at TEXT NOT NULL,
            reference TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX payments_reference ON payments (case_id, reference) WHERE reference IS NOT NULL")
    db.execute(
        """
        CREATE TABLE holds (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            reason TEXT NOT NULL,
            since TEXT NOT NULL,
            until TEXT,
            note TEXT,
            released_at TEXT,
            released_by TEXT
        )
        """
    )
    db.execute("CREATE INDEX holds_case ON holds (case_id, released_at)")
    db.execute("CREATE INDEX holds_expiry ON holds (released_at, until)")


@migrations()
def m006_opt_outs_and_signals(db: sqlite_utils.Database) -> None:
    # A debtor's request not to be contacted through a channel: all of it
    # (contact NULL) or one address or number. Withdrawn, never deleted.
    db.execute(
        """
        CREATE TABLE opt_outs (
            id INTEGER PRIMARY KEY,
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            channel TEXT NOT NULL,
            contact TEXT,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            note TEXT,
            withdrawn_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX opt_outs_debtor ON opt_outs (debtor_id, withdrawn_at)")
    # Abnormal signals about a case (moved, business closed, bankruptcy, ...):
    # facts the policy and the rules react to.
    db.execute(
        """
        CREATE TABLE signals (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            note TEXT
        )
        """
    )
    db.execute("CREATE INDEX signals_case ON signals (case_id, kind)")
    db.execute("ALTER TABLE contacts ADD COLUMN bad_reason TEXT")


@migrations()
def m007_contact_attempts_and_risk(db: sqlite_utils.Database) -> None:
    # Every contact attempt any plugin made or reported, as the frequency
    # caps count them. Written in the same transaction as the cap check.
    db.execute(
        """
        CREATE TABLE contact_attempts (
            id INTEGER PRIMARY KEY,
            key TEXT UNIQUE,
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            case_id INTEGER REFERENCES cases(id),
            channel TEXT NOT NULL,
            contact TEXT,
            role TEXT NOT NULL DEFAULT 'debtor',
            at TEXT NOT NULL,
            connected INTEGER,
            outcome TEXT,
            source TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX contact_attempts_debtor ON contact_attempts (debtor_id, at)")
    # What the risk class and the limitation period need, kept on the case so
    # planning can judge them without reading other tables.
    for column in ("last_contact_on", "last_payment_on", "last_acknowledged_on"):
        db.execute(f"ALTER TABLE cases ADD COLUMN {column} TEXT")
    db.execute("ALTER TABLE cases ADD COLUMN signals TEXT NOT NULL DEFAULT ''")
    db.execute(
        "UPDATE cases SET last_payment_on = (SELECT substr(max(at), 1, 10) FROM payments p WHERE p.case_id = cases.id)"
    )


@migrations()
def m008_promise_plans(db: sqlite_utils.Database) -> None:
    # A promise beyond the allowed horizon needs a supervisor's name; a plan
    # of instalments is several promises sharing a plan id.
    db.execute("ALTER TABLE promises ADD COLUMN approved_by TEXT")
    db.execute("ALTER TABLE promises ADD COLUMN plan_id INTEGER")


@migrations()
def m009_creditor_reference(db: sqlite_utils.Database) -> None:
    # The ISO 11649 reference a debtor quotes when paying, in place of the
    # internal action key; existing cases get theirs from their id, as new
    # cases do when the store opens them.
    db.execute("ALTER TABLE cases ADD COLUMN creditor_reference TEXT")
    ids = [row[0] for row in db.execute("SELECT id FROM cases")]
    db.conn.executemany("UPDATE cases SET creditor_reference = ? WHERE id = ?",
                        [(creditor_reference.for_case(case_id), case_id) for case_id in ids])
    db.execute("CREATE UNIQUE INDEX cases_creditor_reference ON cases (creditor_reference)")


@migrations()
def m010_announced_deadlines(db: sqlite_utils.Database) -> None:
    # The latest deadline a letter or email gave each case ("pay by 14 June"):
    # the case's next stage change waits until the day after it, and later
    # messages repeat it while it runs. One row per case, read by its key.
    db.execute(
        """
        CREATE TABLE announced_deadlines (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id),
            deadline TEXT NOT NULL,
            stage TEXT,
            key TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """
    )


@migrations()
def m011_debtor_region(db: sqlite_utils.Database) -> None:
    # The debtor's ISO 3166-2 subdivision (US-NY): [compliance.jurisdictions] may bind a state's rules.
    db.execute("ALTER TABLE debtors ADD COLUMN region TEXT")


@migrations()
def m013_checkpoints(db: sqlite_utils.Database) -> None:
    # Signed heads of the evidence chain (dunning.checkpoints); a copy of each
    # also goes to a file beside the database and to the record_event mirrors.
    db.execute(
        "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, "
        "signed_at TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL)"
    )


@migrations()
def m014_action_send_started(db: sqlite_utils.Database) -> None:
    # Set when delivery hands an action to its channel, cleared when the outcome is
    # recorded: after a crash it tells an action that may have gone out from one that
    # was only claimed (in_doubt = "hold" sets aside the first kind alone).
    db.execute("ALTER TABLE actions ADD COLUMN send_started_at TEXT")


@migrations()
def m015_mirror_cursors(db: sqlite_utils.Database) -> None:
    # For each record_event mirror (by plugin name), the last event seq it took without
    # raising: what it missed is handed to it again, in order, on the next run.
    db.execute("CREATE TABLE mirror_cursors (plugin TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at TEXT NOT NULL)")


@migrations()
def m016_charges(db: sqlite_utils.Database) -> None:
    # Interest, fees and fixed compensation on arrears: a ledger of their own, one row
    # per posting against one obligation, never mixed into the obligation's principal.
    # `key` makes a posting idempotent (a rerun of the same accrual posts nothing);
    # payments reduce `paid`, `dunning waive` raises `waived`.
    db.execute(
        """
        CREATE TABLE charges (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            obligation_id INTEGER NOT NULL REFERENCES obligations(id),
            kind TEXT NOT NULL CHECK (kind IN ('interest', 'fee', 'compensation')),
            amount INTEGER NOT NULL,
            paid INTEGER NOT NULL DEFAULT 0,
            waived INTEGER NOT NULL DEFAULT 0,
            rule TEXT NOT NULL,
            accrued_from TEXT,
            accrued_to TEXT,
            key TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX charges_case ON charges (case_id, obligation_id)")


@migrations()
def m017_ledger_corrections(db: sqlite_utils.Database) -> None:
    # An obligation the books closed (a daily sync found it paid elsewhere or credited) is kept,
    # with its evidence, but owes nothing here any more; a disputed one is held out of demands
    # while the debtor's other items are still collected.
    db.execute("ALTER TABLE obligations ADD COLUMN closed_reason TEXT")
    db.execute("ALTER TABLE obligations ADD COLUMN closed_on TEXT")
    db.execute("ALTER TABLE obligations ADD COLUMN disputed_on TEXT")
    db.execute("ALTER TABLE obligations ADD COLUMN dispute_reason TEXT")
    # A contact that left the books (or that an operator removed) stays, inactive, so the
    # evidence that names it still reads; `source` tells the books' contacts (which a sync
    # may retire) from those an operator added by hand (which it leaves alone).
    db.execute("ALTER TABLE contacts ADD COLUMN active INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT 'import'")


@migrations()
def m018_bank_ledger(db: sqlite_utils.Database) -> None:
    # Where each payment went: one row per obligation or charge it paid and per
    # promise it covered, so a reversal undoes exactly that.
    db.execute(
        """
        CREATE TABLE payment_allocations (
            id INTEGER PRIMARY KEY,
            payment_id INTEGER NOT NULL REFERENCES payments(id),
            obligation_id INTEGER REFERENCES obligations(id),
            charge_id INTEGER REFERENCES charges(id),
            promise_id INTEGER REFERENCES promises(id),
            amount INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id)")
    # A payment is recorded in full; the part beyond what was owed is a credit
    # on the debtor. A reversed payment stays, marked, with why and by whom.
    db.execute("ALTER TABLE payments ADD COLUMN surplus INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE payments ADD COLUMN reversed_at TEXT")
    db.execute("ALTER TABLE payments ADD COLUMN reversal_reason TEXT")
    # The debtor's credit per currency: overpayments in, credits applied to a
    # later item and refunds out. The balance is the sum of `amount`.
    db.execute(
        """
        CREATE TABLE credits (
            id INTEGER PRIMARY KEY,
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            currency TEXT NOT NULL,
            amount INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('overpayment', 'applied', 'refund', 'reversal')),
            payment_id INTEGER REFERENCES payments(id),
            case_id INTEGER REFERENCES cases(id),
            reason TEXT,
            by TEXT,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX credits_debtor ON credits (debtor_id, currency)")
    # Accounts a debtor is known to pay from (IBAN, compact upper case): a bank
    # credit from one of them is that debtor's when nothing else names a case.
    db.execute(
        """
        CREATE TABLE debtor_accounts (
            debtor_id TEXT NOT NULL REFERENCES debtors(id),
            iban TEXT NOT NULL,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (debtor_id, iban)
        )
        """
    )
    db.execute("CREATE INDEX debtor_accounts_iban ON debtor_accounts (iban)")
    # Every credit line of an imported bank statement, once: applied to a case,
    # or waiting in suspense for a person to assign it. `bank_reference` is the
    # bank's own id of the entry, so a statement imported twice applies nothing twice.
    db.execute(
        """
        CREATE TABLE bank_credits (
            id INTEGER PRIMARY KEY,
            bank_reference TEXT NOT NULL UNIQUE,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            paid_on TEXT NOT NULL,
            payer TEXT,
            payer_iban TEXT,
            remittance TEXT,
            source TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('applied', 'suspense', 'assigned', 'reversed')),
            matched_by TEXT,
            reason TEXT,
            case_id INTEGER REFERENCES cases(id),
            payment_id INTEGER REFERENCES payments(id),
            imported_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX bank_credits_status ON bank_credits (status)")


@migrations()
def m019_interest_and_settlements(db: sqlite_utils.Database) -> None:
    # Reference rates are data with validity dates, never constants in code:
    # `dunning rates set` adds a row when a central bank decides. Each row is
    # the rate in force from `valid_from` until the next row of the same name.
    db.execute(
        """
        CREATE TABLE reference_rates (
            name TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            rate TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL,
            PRIMARY KEY (name, valid_from)
        )
        """
    )
    published = {
        # Bank of England Bank Rate, by the day each Monetary Policy Committee decision took effect.
        "boe-base": [
            ("2021-12-16", "0.25"), ("2022-02-03", "0.50"), ("2022-03-17", "0.75"), ("2022-05-05", "1.00"),
            ("2022-06-16", "1.25"), ("2022-08-04", "1.75"), ("2022-09-22", "2.25"), ("2022-11-03", "3.00"),
            ("2022-12-15", "3.50"), ("2023-02-02", "4.00"), ("2023-03-23", "4.25"), ("2023-05-11", "4.50"),
            ("2023-06-22", "5.00"), ("2023-08-03", "5.25"), ("2024-08-01", "5.00"), ("2024-11-07", "4.75"),
            ("2025-02-06", "4.50"), ("2025-05-08", "4.25"), ("2025-08-07", "4.00"), ("2025-12-18", "3.75"),
        ],
        # ECB main refinancing operations (fixed rate), by the day each change took effect.
        "ecb-mro": [
            ("2016-03-16", "0.00"), ("2022-07-27", "0.50"), ("2022-09-14", "1.25"), ("2022-11-02", "2.00"),
            ("2022-12-21", "2.50"), ("2023-02-08", "3.00"), ("2023-03-22", "3.50"), ("2023-05-10", "3.75"),
            ("2023-06-21", "4.00"), ("2023-08-02", "4.25"), ("2023-09-20", "4.50"), ("2024-06-12", "4.25"),
            ("2024-09-18", "3.65"), ("2024-10-23", "3.40"), ("2024-12-18", "3.15"), ("2025-02-05", "2.90"),
            ("2025-03-12", "2.65"), ("2025-04-23", "2.40"), ("2025-06-11", "2.15"),
        ],
        # Deutsche Bundesbank: Basiszinssatz nach § 247 BGB, changed only on 1 January and 1 July.
        "de-basiszins": [
            ("2016-07-01", "-0.88"), ("2023-01-01", "1.62"), ("2023-07-01", "3.12"), ("2024-01-01", "3.62"),
            ("2024-07-01", "3.37"), ("2025-01-01", "2.27"), ("2025-07-01", "1.27"), ("2026-01-01", "1.27"),
        ],
    }
    db.conn.executemany(
        "INSERT INTO reference_rates (name, valid_from, rate, set_by, set_at) VALUES (?, ?, ?, 'published', ?)",
        [(name, day, rate, day) for name, rows in published.items() for day, rate in rows],
    )
    # A yearly or daily rate agreed for the obligation (a loan's penalty interest), as imported:
    # "12%" (a year) or "0.05%/day".
    db.execute("ALTER TABLE obligations ADD COLUMN interest_rate TEXT")
    # The day the written notice that interest will be charged went out, per case (the first one counts).
    db.execute(
        """
        CREATE TABLE interest_notices (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id),
            sent_on TEXT NOT NULL,
            action_id INTEGER,
            step TEXT NOT NULL
        )
        """
    )
    # How far interest has been worked out on each obligation, and the exact (unrounded) sum so far:
    # what a run posts is the rounded total less what was posted before, so daily postings
    # add up to the penny to the total the rule gives for the whole period.
    db.execute(
        """
        CREATE TABLE interest_accruals (
            obligation_id INTEGER PRIMARY KEY REFERENCES obligations(id),
            accrued_to TEXT NOT NULL,
            exact TEXT NOT NULL
        )
        """
    )
    # Settlement offers: the amount that settles the case if paid by `until`
    # (in `instalments` equal parts), and what became of the offer.
    db.execute(
        """
        CREATE TABLE settlements (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            amount INTEGER NOT NULL,
            owed INTEGER NOT NULL,
            offered_on TEXT NOT NULL,
            until TEXT NOT NULL,
            instalments INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN ('open', 'settled', 'lapsed')),
            offered_by TEXT NOT NULL,
            approved_by TEXT,
            paid_before INTEGER NOT NULL,
            hold_id INTEGER,
            created_at TEXT NOT NULL,
            closed_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX settlements_open ON settlements (status, case_id)")


@migrations()
def m020_report_indexes(db: sqlite_utils.Database) -> None:
    # The portfolio reports (dunning.reports) read events of a few kinds over a range of
    # days, and payments case by case in order of time: both walk these instead of sorting.
    db.execute("CREATE INDEX IF NOT EXISTS events_kind_at ON events (kind, at)")
    db.execute("CREATE INDEX IF NOT EXISTS payments_case_at ON payments (case_id, at)")


@migrations()
def m023_archive(db: sqlite_utils.Database) -> None:
    # `dunning archive` moves resolved cases and their events to an archive file. In the
    # chain each moved event leaves a stub: kind 'archived', its seq, hash and prev_hash
    # as they were, its data gone. Events stay append-only but for that one change.
    db.execute("DROP TRIGGER events_no_update")
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "WHEN NOT (OLD.kind != 'archived' AND NEW.kind = 'archived' AND NEW.seq = OLD.seq "
        "AND NEW.hash IS OLD.hash AND NEW.prev_hash IS OLD.prev_hash AND NEW.case_id IS OLD.case_id) "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    # Where each archived case went, so `cases show` can say so.
    db.execute(
        "CREATE TABLE archived_cases (case_id INTEGER PRIMARY KEY, archive TEXT NOT NULL, archived_at TEXT NOT NULL, "
        "run_seq INTEGER NOT NULL)"
    )


@migrations()
def m024_drop_events_kind_index(db: sqlite_utils.Database) -> None:
    # events_kind_at (kind, at), which the reports need, serves every query on the kind alone
    # as well: the one-column index only cost disk (about 20 bytes an event).
    db.execute("DROP INDEX IF EXISTS events_kind")


@migrations()
def m021_debtor_zone(db: sqlite_utils.Database) -> None:
    # Where the debtor's clock is (dunning.compliance.zones.stored_zone), worked out once at import instead
    # of from a phone number at every delivery: zone names separated by spaces, '' for the business's zone,
    # NULL when not worked out. What it is worked out from (the debtor's zone and country, their contacts)
    # clears it when it changes, whichever command or plugin changes it: the next reader works it out again.
    db.execute("ALTER TABLE debtors ADD COLUMN zone TEXT")
    db.execute("CREATE TRIGGER debtors_zone_follows AFTER UPDATE OF timezone, country ON debtors "
               "WHEN OLD.timezone IS NOT NEW.timezone OR OLD.country IS NOT NEW.country "
               "BEGIN UPDATE debtors SET zone = NULL WHERE id = NEW.id; END")
    phone = "IN ('mobile', 'work', 'home')"
    db.execute(f"CREATE TRIGGER contacts_added_zone AFTER INSERT ON contacts WHEN NEW.kind {phone} "
               "BEGIN UPDATE debtors SET zone = NULL WHERE id = NEW.debtor_id AND zone IS NOT NULL; END")
    db.execute(f"CREATE TRIGGER contacts_changed_zone AFTER UPDATE ON contacts WHEN NEW.kind {phone} "
               f"OR OLD.kind {phone} BEGIN UPDATE debtors SET zone = NULL WHERE id IN (OLD.debtor_id, "
               "NEW.debtor_id) AND zone IS NOT NULL; END")
    db.execute(f"CREATE TRIGGER contacts_removed_zone AFTER DELETE ON contacts WHEN OLD.kind {phone} "
               "BEGIN UPDATE debtors SET zone = NULL WHERE id = OLD.debtor_id AND zone IS NOT NULL; END")
    # The debtors already stored: worked out here, a thousand at a time (phone numbers parsed once each).
    from dunning.compliance.zones import zone_of
    from dunning.models import Contact, Debtor

    last = ""
    while True:
        ids = [r[0] for r in db.execute("SELECT id FROM debtors WHERE id > ? ORDER BY id LIMIT 1000", [last])]
        if not ids:
            return
        marks = ", ".join("?" * len(ids))
        contacts: dict[str, list[Contact]] = {i: [] for i in ids}
        for r in db.execute(f"SELECT debtor_id, kind, value FROM contacts WHERE debtor_id IN ({marks}) "
                            f"AND active = 1 AND bad = 0 AND role = 'debtor' AND kind {phone} ORDER BY id", ids):
            contacts[r[0]].append(Contact(debtor_id=r[0], kind=r[1], value=r[2]))
        zones = [(zone_of(Debtor(id=r[0], name="", country=r[1], timezone=r[2]), contacts[r[0]]), r[0])
                 for r in db.execute(f"SELECT id, country, timezone FROM debtors WHERE id IN ({marks})", ids)]
        db.conn.executemany("UPDATE debtors SET zone = ? WHERE id = ?", zones)
        last = ids[-1]


@migrations()
def m022_pending_index(db: sqlite_utils.Database) -> None:
    # Disk (issue 16). The claim walks the pending actions in order of not_before: that index need
    # hold pending actions alone, and an action leaves it once claimed (most of the table is sent:
    # about 40 bytes an action saved). The other questions by status (in flight, awaiting approval,
    # in doubt, notices) ask for the status alone, as a parameter, which a partial index cannot
    # answer: one short entry an action. tests/core/test_action_indexes.py checks each plan.
    db.execute("DROP INDEX IF EXISTS actions_ready")
    db.execute("CREATE INDEX actions_ready ON actions (status, not_before) WHERE status = 'pending'")
    db.execute("CREATE INDEX actions_status ON actions (status)")


@migrations()
def m025_case_strategies(db: sqlite_utils.Database) -> None:
    # Champion and challenger (dunning.strategies): the strategy a case was assigned once, and the
    # policy it runs under (NULL: the config's `policy`; a case without a strategy runs under it).
    db.execute("ALTER TABLE cases ADD COLUMN strategy TEXT")
    db.execute("ALTER TABLE cases ADD COLUMN policy TEXT")
    # `cases list --strategy` and the reports' split find a strategy's cases; a database without
    # strategies keeps an empty index.
    db.execute("CREATE INDEX cases_strategy ON cases (strategy) WHERE strategy IS NOT NULL")
    # Each run assigns the open cases that have none yet: after the first, a handful, found without a scan.
    db.execute("CREATE INDEX cases_unassigned ON cases (id) WHERE strategy IS NULL AND status = 'open'")


@migrations()
def m026_report_rollups(db: sqlite_utils.Database) -> None:
    # The contacts and activity reports count contact attempts and events in groups; at a
    # million cases that count is most of their time. These tables keep the counts of the rows
    # already rolled up (every row up to `report_rollup_marks.upto`, by id or seq), filled by
    # `dunning run`'s housekeeping (dunning.store.report_rollups); a report adds the rows after
    # the mark from the tables themselves, so it is exact whenever it runs. Keys hold '' for
    # "none" (a primary key does not match NULLs).
    db.execute("CREATE TABLE report_rollup_marks (name TEXT PRIMARY KEY, upto INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE report_attempt_rollup (channel TEXT NOT NULL, kind TEXT NOT NULL, zone TEXT NOT NULL, "
        "quarter TEXT NOT NULL, attempts INTEGER NOT NULL, reached INTEGER NOT NULL, "
        "PRIMARY KEY (quarter, channel, kind, zone)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE report_event_rollup (kind TEXT NOT NULL, channel TEXT NOT NULL, quarter TEXT NOT NULL, "
        "rule TEXT NOT NULL, currency TEXT NOT NULL, events INTEGER NOT NULL, amount INTEGER NOT NULL, "
        "PRIMARY KEY (quarter, kind, channel, rule, currency)) WITHOUT ROWID"
    )
    # A row already counted that changes (a call's outcome filled in later, an attempt that never
    # left, `dunning archive` moving a case's rows out) moves its count with it, so the tables
    # stay what a count from the rows would give. An insert under the mark (an id freed by a
    # delete and given again) is counted as it comes. The group of a row: the same expressions
    # as dunning.store.report_rollups.
    def attempt_key(r: str) -> str:
        return (f"{r}.channel, coalesce((SELECT c.kind FROM contacts c WHERE c.debtor_id = {r}.debtor_id "
                f"AND c.value = {r}.contact LIMIT 1), ''), "
                f"coalesce((SELECT d.timezone FROM debtors d WHERE d.id = {r}.debtor_id), ''), "
                f"substr({r}.at, 1, 14) || printf('%02d', CAST(substr({r}.at, 15, 2) AS INTEGER) / 15 * 15)")

    def reached(r: str) -> str:
        return f"coalesce({r}.connected = 1 AND {r}.role = 'debtor', 0)"

    mark = "(SELECT upto FROM report_rollup_marks WHERE name = 'attempts')"
    add = ("INSERT INTO report_attempt_rollup (channel, kind, zone, quarter, attempts, reached) "
           "VALUES ({key}, 1, {reached}) ON CONFLICT (quarter, channel, kind, zone) DO UPDATE SET "
           "attempts = attempts + 1, reached = reached + excluded.reached;")
    take = ("UPDATE report_attempt_rollup SET attempts = attempts - 1, reached = reached - {reached} "
            "WHERE (channel, kind, zone, quarter) = ({key});")
    db.execute(f"CREATE TRIGGER report_attempt_rollup_insert AFTER INSERT ON contact_attempts "
               f"WHEN NEW.id <= {mark} BEGIN {add.format(key=attempt_key('NEW'), reached=reached('NEW'))} END")
    db.execute(f"CREATE TRIGGER report_attempt_rollup_update AFTER UPDATE ON contact_attempts "
               f"WHEN OLD.id <= {mark} BEGIN {take.format(key=attempt_key('OLD'), reached=reached('OLD'))} "
               f"{add.format(key=attempt_key('NEW'), reached=reached('NEW'))} END")
    db.execute(f"CREATE TRIGGER report_attempt_rollup_delete AFTER DELETE ON contact_attempts "
               f"WHEN OLD.id <= {mark} BEGIN {take.format(key=attempt_key('OLD'), reached=reached('OLD'))} END")
    # Events change only when archived (kind 'archived', data gone): the old group loses the event.
    db.execute(
        "CREATE TRIGGER report_event_rollup_update AFTER UPDATE ON events "
        "WHEN OLD.seq <= (SELECT upto FROM report_rollup_marks WHERE name = 'events') BEGIN "
        "UPDATE report_event_rollup SET events = events - 1, "
        "amount = amount - coalesce(json_extract(OLD.data, '$.amount'), 0) "
        "WHERE (kind, channel, quarter, rule, currency) = (OLD.kind, coalesce(OLD.channel, ''), "
        "substr(OLD.at, 1, 14) || printf('%02d', CAST(substr(OLD.at, 15, 2) AS INTEGER) / 15 * 15), "
        "coalesce(json_extract(OLD.data, '$.rule'), ''), coalesce(json_extract(OLD.data, '$.currency'), '')); END"
    )


@migrations()
def m027_report_case_facts(db: sqlite_utils.Database) -> None:
    # `recovery` read every stage change and placement from the events (json_extract over a
    # million events of a 15-million-event table) and looked up two contacts per payment among
    # its case's events: most of its time at a million cases. These tables keep both, exact at
    # every moment, by triggers (no roll-up, no mark); dunning.store.report_case_facts reads them.
    #
    # `report_case_moves`: the stage changes and agency placements as their events say, the key a
    # range per kind, by case and moment (whole seconds since 1970: the events' text is to the
    # second). `stages` numbers the stages entered and left (`report_stage_names`: every name a
    # change has given, '' for none) as entered << 8 | left, so the report reads whole numbers.
    if getattr(db, "dialect", "sqlite") == "postgresql":
        # The tables alone, empty, and no triggers yet: on PostgreSQL the recovery report reads the
        # events (dunning.store.report_case_facts), so nothing reads these until their PL/pgSQL forms exist.
        db.execute("CREATE TABLE report_stage_names (code SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        db.execute("CREATE TABLE report_case_moves (kind TEXT NOT NULL, case_id BIGINT NOT NULL, at BIGINT NOT NULL, "
                   "seq BIGINT NOT NULL, to_stage TEXT, from_stage TEXT, stages INTEGER, agency TEXT, balance BIGINT, "
                   "PRIMARY KEY (kind, case_id, at, seq))")
        db.execute("CREATE TABLE report_credit_kinds (code SERIAL PRIMARY KEY, signature TEXT NOT NULL UNIQUE)")
        db.execute("CREATE TABLE report_payment_contacts (payment_id BIGINT PRIMARY KEY, contact_at TEXT, "
                   "contact_kind TEXT, contact_channel TEXT, call_at TEXT, collector TEXT, credit INTEGER)")
        db.execute("CREATE INDEX report_payment_contacts_uncoded ON report_payment_contacts (payment_id) "
                   "WHERE credit IS NULL")
        return
    moves = "('stage_changed', 'agency:placed', 'agency:placement_ended')"
    db.execute("CREATE TABLE report_stage_names (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    db.execute(
        "CREATE TABLE report_case_moves (kind TEXT NOT NULL, case_id INTEGER NOT NULL, at INTEGER NOT NULL, "
        "seq INTEGER NOT NULL, to_stage, from_stage, stages INTEGER, agency, balance, "
        "PRIMARY KEY (kind, case_id, at, seq)) WITHOUT ROWID"
    )

    def code(name: str) -> str:
        return f"(SELECT code FROM report_stage_names WHERE name = coalesce({name}, ''))"

    def move_of(r: str) -> str:
        to, left = f"json_extract({r}.data, '$.to')", f"json_extract({r}.data, '$.from')"
        return (f"SELECT {r}.kind, {r}.case_id, CAST(strftime('%s', {r}.at) AS INTEGER), {r}.seq, {to}, {left}, "
                f"CASE WHEN {r}.kind = 'stage_changed' THEN ({code(to)} << 8) | {code(left)} END, "
                f"json_extract({r}.data, '$.agency'), json_extract({r}.data, '$.balance')")

    def names_of(r: str) -> str:
        return ("INSERT OR IGNORE INTO report_stage_names (name) "
                f"SELECT coalesce(json_extract({r}.data, '$.to'), '') WHERE {r}.kind = 'stage_changed' UNION ALL "
                f"SELECT coalesce(json_extract({r}.data, '$.from'), '') WHERE {r}.kind = 'stage_changed';")

    db.execute("INSERT OR IGNORE INTO report_stage_names (name) SELECT DISTINCT coalesce(json_extract(data, '$.to'), "
               "'') FROM events WHERE kind = 'stage_changed' UNION SELECT DISTINCT coalesce(json_extract(data, "
               "'$.from'), '') FROM events WHERE kind = 'stage_changed'")
    db.execute(f"INSERT INTO report_case_moves {move_of('events')} FROM events "
               f"WHERE kind IN {moves} AND case_id IS NOT NULL")
    forget_move = ("DELETE FROM report_case_moves WHERE kind = OLD.kind AND case_id = OLD.case_id "
                   "AND at = CAST(strftime('%s', OLD.at) AS INTEGER) AND seq = OLD.seq;")
    db.execute(f"CREATE TRIGGER report_case_moves_insert AFTER INSERT ON events "
               f"WHEN NEW.kind IN {moves} AND NEW.case_id IS NOT NULL BEGIN {names_of('NEW')} "
               f"INSERT OR REPLACE INTO report_case_moves {move_of('NEW')}; END")
    # Events change only when `dunning archive` leaves a stub (kind 'archived'); any change is followed.
    db.execute(f"CREATE TRIGGER report_case_moves_update AFTER UPDATE ON events "
               f"WHEN OLD.kind IN {moves} OR NEW.kind IN {moves} BEGIN {forget_move} {names_of('NEW')} "
               f"INSERT INTO report_case_moves {move_of('NEW')} WHERE NEW.kind IN {moves} "
               f"AND NEW.case_id IS NOT NULL; END")
    db.execute(f"CREATE TRIGGER report_case_moves_delete AFTER DELETE ON events "
               f"WHEN OLD.kind IN {moves} BEGIN {forget_move} END")

    # `report_payment_contacts`: each payment's last contact (message sent, call or visit logged)
    # and last logged call in the 30 days up to it, as dunning.store.reports.PAYMENT_CONTACTS_SQL
    # finds them; `credit` numbers what the report credits by (`report_credit_kinds`: whether a
    # contact was found, its kind and channel, the call's collector, as a JSON array), so the
    # report reads it with the payment as a whole number.
    db.execute("CREATE TABLE report_credit_kinds (code INTEGER PRIMARY KEY, signature TEXT NOT NULL UNIQUE)")
    db.execute(
        "CREATE TABLE report_payment_contacts (payment_id INTEGER PRIMARY KEY, contact_at TEXT, "
        "contact_kind TEXT, contact_channel TEXT, call_at TEXT, collector, credit INTEGER)"
    )
    db.execute("CREATE INDEX report_payment_contacts_uncoded ON report_payment_contacts (payment_id) "
               "WHERE credit IS NULL")
    contact_kinds, calls = "('phone:call_logged', 'sent', 'visit:logged')", "('phone:call_logged')"

    def last(kinds: str) -> str:
        # The same lookup as PAYMENT_CONTACTS_SQL: among the case's own events (index events_case).
        return ("(SELECT e.seq FROM events e WHERE e.case_id = p.case_id "
                f"AND +e.kind IN {kinds} AND +e.at <= p.at "
                "AND +e.at >= strftime('%Y-%m-%dT%H:%M:%SZ', p.at, '-30 days') ORDER BY e.at DESC, e.seq DESC LIMIT 1)")

    signature = "json_array(coalesce(contact_at, '') != '', contact_kind, contact_channel, collector)"
    coded = [f"INSERT OR IGNORE INTO report_credit_kinds (signature) SELECT {signature} "
             "FROM report_payment_contacts WHERE credit IS NULL",
             "UPDATE report_payment_contacts SET credit = (SELECT code FROM report_credit_kinds k "
             f"WHERE k.signature = {signature}) WHERE credit IS NULL"]

    def found(where: str) -> str:
        return ("INSERT OR REPLACE INTO report_payment_contacts (payment_id, contact_at, contact_kind, "
                "contact_channel, call_at, collector) "
                "SELECT p.id, c.at, c.kind, c.channel, k.at, json_extract(k.data, '$.collector') FROM payments p "
                f"LEFT JOIN events c ON c.seq = {last(contact_kinds)} "
                f"LEFT JOIN events k ON k.seq = {last(calls)} WHERE {where}; " + "; ".join(coded) + ";")

    for statement in (found("true").split("; ")[0], *coded):
        db.execute(statement)
    db.execute(f"CREATE TRIGGER report_payment_contacts_insert AFTER INSERT ON payments BEGIN "
               f"{found('p.id = NEW.id')} END")
    db.execute(f"CREATE TRIGGER report_payment_contacts_update AFTER UPDATE OF case_id, at ON payments BEGIN "
               f"{found('p.id = NEW.id')} END")
    db.execute("CREATE TRIGGER report_payment_contacts_delete AFTER DELETE ON payments BEGIN "
               "DELETE FROM report_payment_contacts WHERE payment_id = OLD.id; END")
    after = ("p.case_id = NEW.case_id AND p.at >= NEW.at "
             "AND p.at <= strftime('%Y-%m-%dT%H:%M:%SZ', NEW.at, '+30 days')")
    # A contact written about an earlier moment (an agency's returned calls, a backdated entry) can be the last
    # before the case's payments of the 30 days after it: they are looked up again (usually there are none:
    # one probe of payments_case_at per contact). A contact archived or removed: the case's payments, again.
    db.execute(f"CREATE TRIGGER report_payment_contacts_contact AFTER INSERT ON events "
               f"WHEN NEW.kind IN {contact_kinds} AND NEW.case_id IS NOT NULL BEGIN "
               f"{found(after)} END")
    db.execute(f"CREATE TRIGGER report_payment_contacts_contact_update AFTER UPDATE ON events "
               f"WHEN OLD.kind IN {contact_kinds} OR NEW.kind IN {contact_kinds} BEGIN "
               f"{found('p.case_id IN (OLD.case_id, NEW.case_id)')} END")
    db.execute(f"CREATE TRIGGER report_payment_contacts_contact_delete AFTER DELETE ON events "
               f"WHEN OLD.kind IN {contact_kinds} BEGIN {found('p.case_id = OLD.case_id')} END")


@migrations()
def m031_staff_users(db: sqlite_utils.Database) -> None:
    # The people who sign in to `dunning serve`: a name, a role and an argon2 hash (never the password).
    # Disabled, not deleted: the evidence names them as who did what.
    db.execute(
        "CREATE TABLE staff_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, "
        "created_at TEXT NOT NULL, created_by TEXT NOT NULL, disabled_at TEXT, disabled_by TEXT)"
    )


@migrations()
def m034_case_index_without_status(db: sqlite_utils.Database) -> None:
    # Delivery (issue 16). `actions_case (case_id, status)` moved every action twice as it was
    # delivered (pending -> sending -> sent). A case's actions are few, so the questions about one
    # case (its open actions, those awaiting approval) read them by case alone; planning's question
    # "which pending occurrence does this one replace" keeps an index of the pending ones by case,
    # which a claimed action leaves once and a sent one never enters. tests/core/test_action_indexes.py
    # checks each plan.
    db.execute("DROP INDEX IF EXISTS actions_case")
    db.execute("CREATE INDEX actions_case ON actions (case_id)")
    db.execute("CREATE INDEX actions_case_pending ON actions (case_id) WHERE status = 'pending'")


@migrations()
def m035_compact_outbox(db: sqlite_utils.Database) -> None:
    # Disk (issue 16, second round). An attempt that an action made refers to it by its id
    # (`action_id`) instead of repeating its key (about 38 bytes) with a unique index of its own
    # (about 40 more): the key stays for the attempts no action made (a portal call-back, an
    # agency's returned calls). Each of the two is unique where it is set. A sent action's
    # `reference` is '' where the provider gave back the action's own key (another 38 bytes), and
    # a finished action keeps no `claimed_at`; a `template` named as the action's step is ''
    # (dunning.store.rows reads '' back as the key and as the step).
    if getattr(db, "dialect", "sqlite") == "postgresql":
        # The column is added, and the key's UNIQUE becomes the index SQLite has (below).
        db.execute("ALTER TABLE contact_attempts ADD COLUMN action_id BIGINT")
        db.execute("ALTER TABLE contact_attempts DROP CONSTRAINT IF EXISTS contact_attempts_key_key")
        db.execute("UPDATE contact_attempts SET action_id = a.id, key = NULL FROM actions a "
                   "WHERE a.key = contact_attempts.key")
    else:
        # SQLite cannot drop a column's UNIQUE: the table is written again, its indexes and
        # triggers (the reports' roll-up, m026) made again as they were.
        kept = [sql for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'contact_attempts' AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name")]
        db.execute(
            """
            CREATE TABLE contact_attempts_compact (
                id INTEGER PRIMARY KEY,
                key TEXT,
                debtor_id TEXT NOT NULL REFERENCES debtors(id),
                case_id INTEGER REFERENCES cases(id),
                channel TEXT NOT NULL,
                contact TEXT,
                role TEXT NOT NULL DEFAULT 'debtor',
                at TEXT NOT NULL,
                connected INTEGER,
                outcome TEXT,
                source TEXT NOT NULL,
                action_id INTEGER
            )
            """
        )
        db.execute(
            "INSERT INTO contact_attempts_compact (id, key, debtor_id, case_id, channel, contact, role, at, connected, "
            "outcome, source, action_id) SELECT c.id, CASE WHEN a.id IS NULL THEN c.key END, c.debtor_id, c.case_id, "
            "c.channel, c.contact, c.role, c.at, c.connected, c.outcome, c.source, a.id "
            "FROM contact_attempts c LEFT JOIN actions a ON a.key = c.key ORDER BY c.id"
        )
        db.execute("DROP TABLE contact_attempts")
        db.execute("ALTER TABLE contact_attempts_compact RENAME TO contact_attempts")
        for sql in kept:
            db.execute(sql)
    db.execute("CREATE UNIQUE INDEX contact_attempts_action ON contact_attempts (action_id) "
               "WHERE action_id IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX contact_attempts_key ON contact_attempts (key) WHERE key IS NOT NULL")
    db.execute("UPDATE actions SET reference = '' WHERE reference = key")
    db.execute("UPDATE actions SET claimed_at = NULL WHERE claimed_by IS NULL")
    db.execute("UPDATE actions SET template = '' WHERE template = step")


@migrations()
def m038_claim_order_postgres(db: sqlite_utils.Database) -> None:
    # Workers on PostgreSQL (issue 14). The claim reads the pending actions ready by now in order of
    # (not_before, id), 200 at a time. SQLite's `actions_ready (status, not_before)` ends with the rowid,
    # which is `id`: it gives that order and the claim stops after 200 entries. A PostgreSQL index ends
    # with no id, so there the claim sorted every ready action (a day's 300,000 share one not_before)
    # for each batch it took: a cost that grew with the outbox. With `id` in the index it reads 200.
    if getattr(db, "dialect", "sqlite") == "postgresql":
        db.execute("DROP INDEX IF EXISTS actions_ready")
        db.execute("CREATE INDEX actions_ready ON actions (status, not_before, id) WHERE status = 'pending'")

"""Each question the engine asks of the outbox by status has an index, and the claim's holds pending actions alone."""

from __future__ import annotations

from pathlib import Path

from dunning.store import Store


def _plan(store: Store, sql: str, params: list[object]) -> str:
    return " ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_each_question_by_status_has_its_index(tmp_path: Path):
    store = Store(tmp_path / "d.db")
    now = "2026-03-10T09:00:00Z"
    plans = {
        # The claim: the pending ones in order of not_before, from the partial index of pending actions.
        "SELECT id FROM actions WHERE status = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?":
            ([now, 100], "USING COVERING INDEX actions_ready (status=? AND not_before<?)"),
        "SELECT count(*) FROM actions WHERE status = 'pending' AND not_before <= ?":
            ([now], "USING COVERING INDEX actions_ready (status=? AND not_before<?)"),
        # In flight after a crash, awaiting approval, in doubt: the status alone.
        "SELECT id FROM actions WHERE status = 'sending'": ([], "USING COVERING INDEX actions_status (status=?)"),
        "SELECT id FROM actions WHERE 1 AND status IN (?) ORDER BY id":
            (["awaiting_approval"], "USING COVERING INDEX actions_status (status=?)"),
        "SELECT id FROM actions WHERE status IN (?) AND id > ? ORDER BY id LIMIT ?":
            (["in_doubt", 0, 10], "USING COVERING INDEX actions_status (status=? AND rowid>?)"),
    }
    for sql, (params, expected) in plans.items():
        plan = _plan(store, sql, params)
        assert expected in plan and "TEMP B-TREE" not in plan, (sql, plan)
    # A sent action (most of the table) is not in the claim's index.
    sql = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'actions_ready'").fetchone()[0]
    assert sql.endswith("WHERE status = 'pending'")


def test_a_case_s_actions_by_case_alone_and_its_pending_ones_apart(tmp_path: Path):
    """A status change moves an action in no index by case, except leaving the pending ones' (m034)."""
    from dunning.store.plan_writer import _OLDER_OCCURRENCES

    store = Store(tmp_path / "d.db")
    plans = {
        # Planning: the pending occurrence a new one replaces, among the pending actions of the case.
        _OLDER_OCCURRENCES: ([5], "SEARCH o USING INDEX actions_case_pending (case_id=? AND rowid<?)"),
        # A case's open actions, its required ones, those awaiting approval: by case.
        "SELECT id FROM actions WHERE case_id = ? AND status IN ('awaiting_approval', 'pending', 'in_doubt')":
            ([1], "USING INDEX actions_case (case_id=?)"),
        "SELECT id FROM actions WHERE case_id = ? AND required = 1 ORDER BY id": ([1], "USING INDEX actions_case"),
        "SELECT count(*) FROM actions a WHERE a.case_id = ? AND a.status = 'awaiting_approval'":
            ([1], "USING INDEX actions_case (case_id=?)"),
    }
    for sql, (params, expected) in plans.items():
        plan = _plan(store, sql, params)
        assert expected in plan, (sql, plan)
    indexes = {name: sql for name, sql in store.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'actions'")}
    assert indexes["actions_case"].endswith("(case_id)")
    assert indexes["actions_case_pending"].endswith("WHERE status = 'pending'")

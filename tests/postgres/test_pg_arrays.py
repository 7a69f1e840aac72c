"""``IN (?, ?, ...)`` said to PostgreSQL as one array: the same rows, one statement whatever the list's length."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pytest

from dunning.store.database import parse_postgres_url
from dunning.store.pg_arrays import array_literal, bind_arrays, collapse_in_lists
from dunning.store.postgres import PostgresConnection


def test_each_list_of_parameters_is_one_array_and_the_others_keep_their_place() -> None:
    sql, groups = collapse_in_lists("SELECT a FROM t WHERE b = ? AND c IN (?, ?,?) AND d NOT IN (?) AND e = ?")
    assert sql == "SELECT a FROM t WHERE b = ? AND c = ANY(?) AND d <> ALL(?) AND e = ?"
    assert groups == ((1, 3), (4, 1))
    assert bind_arrays([0, 1, 2, 3, "x", 9], groups) == [0, "{1,2,3}", '{"x"}', 9]


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE c IN (SELECT c FROM u)",  # a subquery
    "SELECT a FROM t WHERE c IN (?, 'x')",  # not parameters alone
    "SELECT a FROM t WHERE c IN (?1, ?2)",  # numbered: a parameter may stand twice
    "SELECT a FROM t WHERE c IN (?, ?) AND d = :name",  # named
    "SELECT 'c IN (?, ?)' FROM t",  # quoted text
])
def test_what_is_not_a_list_of_parameters_stays_as_written(sql: str) -> None:
    assert collapse_in_lists(sql) == (sql, ())


def test_an_array_literal_quotes_text_and_refuses_what_it_cannot_hold() -> None:
    assert array_literal([1, None, -2]) == "{1,NULL,-2}"
    assert array_literal(['a"b', "c\\d", "e,f", "{}", "NULL"]) == r'{"a\"b","c\\d","e,f","{}","NULL"}'
    assert array_literal([True]) is None  # a bool is no number PostgreSQL reads back from its text
    assert array_literal([dt.date(2026, 3, 1)]) is None
    assert bind_arrays([dt.date(2026, 3, 1)], [(0, 1)]) is None


@pytest.fixture
def conn(dunning_postgres_url: str) -> Iterator[PostgresConnection]:
    conn = PostgresConnection(parse_postgres_url(dunning_postgres_url))
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, due TEXT)")
    names = ["plain", 'a "quoted" one', "back\\slash", "comma, brace {}", "NULL", None]
    conn.executemany("INSERT INTO t (id, name, due) VALUES (?, ?, ?)",
                     [(i, name, f"2026-03-0{i}") for i, name in enumerate(names, 1)])
    yield conn
    conn.close()


def test_on_postgresql_a_list_of_any_length_finds_the_rows_it_names(conn: PostgresConnection) -> None:
    def ids(sql: str, parameters: Sequence[object]) -> list[int]:
        return [row[0] for row in conn.execute(sql, parameters).fetchall()]

    by_id = "SELECT id FROM t WHERE id IN ({}) ORDER BY id"
    for wanted in ([1], [2, 4], [1, 3, 5, 6, 99]):
        assert ids(by_id.format(", ".join("?" * len(wanted))), wanted) == [i for i in wanted if i <= 6]
    # One statement for every length: the connection said them all the same way.
    assert len({conn._statement(by_id.format(", ".join("?" * n))).text for n in (1, 2, 5)}) == 1

    names = ['a "quoted" one', "back\\slash", "comma, brace {}", "NULL"]
    assert ids("SELECT id FROM t WHERE name IN (?, ?, ?, ?) ORDER BY id", names) == [2, 3, 4, 5]
    # NOT IN as PostgreSQL means it: a NULL in the list leaves no row; a NULL name is in no list.
    assert ids("SELECT id FROM t WHERE id NOT IN (?, ?) ORDER BY id", [1, 2]) == [3, 4, 5, 6]
    assert ids("SELECT id FROM t WHERE id NOT IN (?, ?) ORDER BY id", [1, None]) == []
    assert ids("SELECT id FROM t WHERE name IN (?, ?) ORDER BY id", [None, "plain"]) == [1]
    # Text compared with a number column, as a list of parameters takes it; a float is bound as written.
    assert ids("SELECT id FROM t WHERE id IN (?, ?) AND name IS NOT ? ORDER BY id", ["2", "3", "x"]) == [2, 3]
    assert ids("SELECT id FROM t WHERE id IN (?, ?) ORDER BY id", [1.0, 4]) == [1, 4]
    # executemany: each row's list its own array.
    conn.executemany("UPDATE t SET due = 'done' WHERE id IN (?, ?)", [(1, 2), (3, 4)])
    assert ids("SELECT id FROM t WHERE due = ? ORDER BY id", ["done"]) == [1, 2, 3, 4]

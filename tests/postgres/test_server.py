"""The throwaway PostgreSQL cluster the PostgreSQL store's tests run on (dunning.testing_postgres)."""

from __future__ import annotations

import psycopg

from dunning.testing_postgres import PostgresServer


def test_each_test_gets_an_empty_database_of_its_own(dunning_postgres: PostgresServer,
                                                     dunning_postgres_url: str) -> None:
    with psycopg.connect(dunning_postgres_url) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone() == (0,)
        conn.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
        (version,) = conn.execute("SHOW server_version_num").fetchone() or (0,)
    assert int(version) >= 150000
    # A second database copied from the first (CREATE DATABASE ... TEMPLATE) holds its rows.
    source = psycopg.conninfo.conninfo_to_dict(dunning_postgres_url)["dbname"]
    copy = dunning_postgres.create_database(template=source)
    try:
        with psycopg.connect(dunning_postgres.url(copy)) as conn:
            assert conn.execute("SELECT id FROM t").fetchall() == [(1,)]
    finally:
        dunning_postgres.drop_database(copy)

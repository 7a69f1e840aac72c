"""Tables for people: whatever is stored, the terminal only shows it."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys

from dunning.output import print_json, print_json_array, print_rows, print_table


def test_tables_show_control_characters_escaped(capsys):
    print_table([["Acme\x1b[2J Ltd", "1 High St\nLondon"]], ["name", "address"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Acme\\x1b[2J Ltd" in out and "1 High St\\nLondon" in out


def test_a_listing_of_one_page_prints_as_a_table_of_all_rows_would(capsys):
    rows = [[i, "x" * (i % 7), None] for i in range(50)]
    print_rows(iter(rows), ["id", "name", "note"])
    streamed = capsys.readouterr().out
    print_table(rows, ["id", "name", "note"])
    assert streamed == capsys.readouterr().out
    assert streamed.splitlines()[0] == "id  name    note"


def test_past_the_first_page_a_wide_cell_pushes_its_line_and_nothing_is_cut(capsys):
    rows = [[1, "ab", "z"], [2, "cd", "z"], [3, "a much longer name", "z"]]
    print_rows(rows, ["id", "name", "x"], page=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["id  name  x", "1   ab    z", "2   cd    z", "3   a much longer name  z"]


def test_an_empty_listing_says_so(capsys):
    print_rows(iter([]), ["id"], empty="(no calls)")
    assert capsys.readouterr().out == "(no calls)\n"


def test_a_json_array_of_one_page_is_indented_as_before(capsys):
    items = [{"id": i, "name": "Zoë", "on": dt.date(2026, 3, i + 1)} for i in range(3)]
    print_json_array(iter(items))
    streamed = capsys.readouterr().out
    print_json(items)
    assert streamed == capsys.readouterr().out


def test_a_longer_json_array_is_one_element_a_line_and_valid_json(capsys):
    items = ({"id": i, "name": "张三", "on": dt.date(2026, 3, 1)} for i in range(25))
    print_json_array(items, page=10)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 27
    assert lines[1] == '{"id": 0, "name": "张三", "on": "2026-03-01"},'
    assert [item["id"] for item in json.loads(out)] == list(range(25))


def test_a_closed_pipe_ends_a_listing_quietly(tmp_path):
    # `dunning events | head -1`: the reader goes away; the listing stops, with no traceback.
    script = ("import sys; from dunning.output import print_rows\n"
              "print_rows(([i, 'row'] for i in range(10**6)), ['id', 'what'])\n"
              "print('not reached', file=sys.stderr)\n")
    done = subprocess.run(f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} | head -1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout == "id   what\n"  # widths from the first 1,000 rows
    assert done.stderr == ""

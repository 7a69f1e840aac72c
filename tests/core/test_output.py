"""Tables for people: whatever is stored, the terminal only shows it."""

from __future__ import annotations

from dunning.output import print_table


def test_tables_show_control_characters_escaped(capsys):
    print_table([["Acme\x1b[2J Ltd", "1 High St\nLondon"]], ["name", "address"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Acme\\x1b[2J Ltd" in out and "1 High St\\nLondon" in out

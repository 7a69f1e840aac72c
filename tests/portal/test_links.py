"""Links to the debtors' page: signed, expiring, one per case; `dunning portal link`; [portal] in dunning.toml."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from dunning.config import ConfigError, parse_config
from dunning.portal import links
from tests.conftest import Project, dump
from tests.portal.conftest import BASE_URL, NOW


SECRET = bytes(range(32))
MOMENT = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)


# --- the token, pure -----------------------------------------------------------------------


def test_a_token_opens_its_case_until_it_expires():
    token = links.make_token(SECRET, 7, MOMENT + dt.timedelta(days=1))
    assert token.startswith("7.")
    assert links.token_case(SECRET, token, MOMENT) == 7
    assert links.token_case(SECRET, token, MOMENT + dt.timedelta(hours=23, minutes=59)) == 7
    assert links.token_case(SECRET, token, MOMENT + dt.timedelta(days=1)) is None


@pytest.mark.parametrize("tamper", [
    lambda t: "8" + t[1:],  # another case
    lambda t: t.replace(".1773", ".1873", 1),  # a later expiry
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: t + "x",
    lambda t: "",
    lambda t: "7..abc",
    lambda t: "../../etc/passwd",
])
def test_a_tampered_token_opens_nothing(tamper):
    token = links.make_token(SECRET, 7, MOMENT + dt.timedelta(days=1))
    assert links.token_case(SECRET, tamper(token), MOMENT) is None


def test_a_token_signed_with_another_key_opens_nothing():
    token = links.make_token(bytes(32), 7, MOMENT + dt.timedelta(days=1))
    assert links.token_case(SECRET, token, MOMENT) is None


# --- [portal] in dunning.toml --------------------------------------------------------------


def test_the_portal_table_is_checked_like_the_rest():
    config = parse_config({"portal": {"base_url": BASE_URL, "link_days": 7}}, path=None, source="t.toml")
    assert (config.sections.portal.base_url, config.sections.portal.link_days) == (BASE_URL, 7)
    assert parse_config({}, path=None, source="t.toml").sections.portal.base_url is None
    with pytest.raises(ConfigError, match=r"^t.toml: 'portal.base_url' must be an http:// or https:// address"):
        parse_config({"portal": {"base_url": "pay.acme.example"}}, path=None, source="t.toml")
    with pytest.raises(ConfigError, match=r"^t.toml: 'portal.link_days' must be positive, got 0"):
        parse_config({"portal": {"base_url": BASE_URL, "link_days": 0}}, path=None, source="t.toml")
    with pytest.raises(ConfigError, match=r"^t.toml: unknown key 'portal.base'"):
        parse_config({"portal": {"base": BASE_URL}}, path=None, source="t.toml")


# --- the command, and the key ----------------------------------------------------------------


def test_portal_link_prints_a_link_whose_token_opens_the_case(portal_project: Project, open_runtime):
    out = portal_project("portal", "link", "1", now=NOW).stdout.strip()
    assert out.startswith(BASE_URL + "/1.")
    key = portal_project.folder / links.DEFAULT_SECRET_NAME
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600  # made on first use, owner-only
    rt = open_runtime(portal_project)
    now = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)
    assert links.case_for_token(rt, links.token_of(out), now) == 1
    assert links.case_for_token(rt, links.token_of(out), now + dt.timedelta(days=14)) is None  # link_days = 14
    # The same key signs the next link: the first one still works.
    again = portal_project("portal", "link", "1", now=NOW).stdout.strip()
    assert links.case_for_token(rt, links.token_of(again), now) == 1
    assert links.case_for_token(rt, links.token_of(out), now) == 1


def test_a_token_for_a_case_that_is_not_there_is_like_a_wrong_one(portal_project: Project, open_runtime):
    rt = open_runtime(portal_project)
    now = dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)
    secret = links.load_secret(links.secret_path(rt.config))
    assert links.case_for_token(rt, links.make_token(secret, 99, now + dt.timedelta(days=1)), now) is None
    assert links.case_for_token(rt, links.make_token(secret, 1, now + dt.timedelta(days=1)), now) == 1


def test_portal_link_without_a_base_url_or_for_no_case_is_one_line(project: Project):
    from tests.portal.conftest import import_two_items

    import_two_items(project)
    before = dump(project)
    out = project("portal", "link", "1", now=NOW, expect=1).output
    assert out == f"Error: {project.config}: set [portal] base_url (where the page is served) to make links\n"
    project.write_config(extra=f'[portal]\nbase_url = "{BASE_URL}"\n')
    assert project("portal", "link", "9", now=NOW, expect=1).output == "Error: no case with id 9\n"
    assert dump(project) == before


def test_a_key_others_can_read_is_refused(portal_project: Project):
    portal_project("portal", "link", "1", now=NOW)
    key = portal_project.folder / links.DEFAULT_SECRET_NAME
    key.chmod(0o644)
    out = portal_project("portal", "link", "1", now=NOW, expect=1).output
    assert out == f"Error: {key}: the portal key is readable by others; chmod 600 it\n"

"""Area derivation, settings checks and work-list ordering for the visit channel: pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from dunning.models import Case
from dunning.operations import OperationError
from dunning.plugins.visit.areas import UNKNOWN_AREA, address_lines, area_of, city, postal_district
from dunning.plugins.visit.outcomes import check_options, signals_for
from dunning.plugins.visit.queue import VisitItem, group_by_area, priority_order
from dunning.plugins.visit.settings import check_settings, collector_for
from dunning.plugins.visit.store import VisitTask


@pytest.mark.parametrize("address, lines", [
    ("10 Downing Street\nLondon\nSW1A 2AA", ["10 Downing Street", "London", "SW1A 2AA"]),
    ("10 Downing Street, London SW1A 2AA", ["10 Downing Street", "London SW1A 2AA"]),
    ("  Hauptstr. 12,5\r\n\n 10117 Berlin ", ["Hauptstr. 12,5", "10117 Berlin"]),
    ("", []),
])
def test_address_lines_split_on_newlines_and_comma_space(address, lines):
    assert address_lines(address) == lines


@pytest.mark.parametrize("address, district", [
    ("10 Downing Street\nLondon\nSW1A 2AA", "SW1A"),
    ("Flat 2B, 5 Deansgate, Manchester M1 1AE", "M1"),
    ("1 Canada Square, London, E14 5AB, United Kingdom", "E14"),
    ("221b baker street, london nw1 6xe", "NW1"),
    ("Unit 7, 3 Ocean Way, Cardiff CF10 4JQ", "CF10"),
])
def test_uk_postcodes_give_the_outward_code(address, district):
    assert postal_district(address, "GB") == district
    assert postal_district(address) == district  # no country: the UK format is recognised on its own
    assert area_of(address) == district


def test_cn_six_digit_codes_give_their_first_four_digits():
    address = "北京市朝阳区建国路88号 100022"
    assert postal_district(address, "CN") == "CN-1000"
    assert postal_district(address) == "1000"  # country unknown: no prefix
    assert area_of("广东省广州市天河区体育西路 191 号, 510620", country="CN") == "CN-5106"


@pytest.mark.parametrize("address, country, district", [
    ("Unter den Linden 5, 10117 Berlin", "DE", "DE-101"),
    ("Musterstraße 12\n80331 München\nDeutschland", "DE", "DE-803"),
    ("8 rue de Rivoli, 75004 Paris", "FR", "FR-750"),
    ("8 rue de Rivoli, 75004 Paris", None, "750"),
])
def test_five_digit_codes_give_their_first_three_digits_with_the_country(address, country, district):
    assert area_of(address, country=country) == district


def test_the_same_digits_in_two_countries_are_two_areas():
    assert area_of("Westliche 1, 75172 Pforzheim", country="DE") != area_of("1 rue X, 75001 Paris", country="FR")


def test_a_known_country_only_accepts_its_own_format():
    # A German street number that happens to have five digits is not a UK postcode, and
    # a UK debtor's address with a 6-digit reference number is not a Chinese code.
    assert postal_district("Order 123456, 1 High St, Leeds LS1 4AP", "GB") == "LS1"
    assert postal_district("Room 100022, 1 High St, Leeds", "GB") is None


def test_an_address_without_a_code_falls_back_to_its_city_then_unknown():
    assert area_of("12 High Street, Springfield") == "Springfield"
    assert area_of("12 High Street") == UNKNOWN_AREA
    assert area_of("") == UNKNOWN_AREA


@pytest.mark.parametrize("address, country, town", [
    ("10 Downing Street\nLondon\nSW1A 2AA", "GB", "London"),
    ("10 Downing Street, LONDON SW1A 2AA, United Kingdom", "GB", "London"),
    ("Unter den Linden 5, 10117 Berlin", "DE", "Berlin"),
    ("Musterstraße 12\n80331 München\nDeutschland", "DE", "München"),
    ("8 rue de Rivoli, 75004 Paris", "FR", "Paris"),
    ("北京市朝阳区建国路88号 100022", "CN", "北京市"),
    ("广东省广州市天河区体育西路191号", "CN", "广州市"),
    ("12 High Street, Springfield", None, "Springfield"),
])
def test_city_mode_groups_by_the_city(address, country, town):
    assert city(address, country) == town
    assert area_of(address, "city", country) == town


def test_city_mode_without_a_city_is_the_unknown_area():
    assert area_of("PO Box 12", "city") == UNKNOWN_AREA
    with pytest.raises(ValueError, match="area_by"):
        area_of("London", "county")


@pytest.mark.parametrize("settings, problem", [
    ({"area_by": "district"}, "'area_by' must be one of"),
    ({"collectors": ["ann"]}, "'collectors' must be a table"),
    ({"collectors": {"SW1A": ""}}, "'collectors.SW1A' must be a non-empty string"),
    ({"due_in_days": -1}, "'due_in_days'"),
    ({"due_in_days": True}, "'due_in_days'"),
    ({"company": 7}, "'company' must be a string"),
    ({"colectors": {}}, "unknown key 'colectors'"),
])
def test_bad_settings_name_the_key(settings, problem):
    with pytest.raises(ValueError, match=problem):
        check_settings(settings)


def test_good_settings_pass_and_collectors_match_areas_regardless_of_case():
    settings = {"area_by": "city", "collectors": {"sw1a": "ann", "Berlin": "bo"}, "due_in_days": 2, "company": "Acme"}
    check_settings(settings)
    check_settings({})
    assert collector_for(settings, "SW1A") == "ann"
    assert collector_for(settings, "Berlin") == "bo"
    assert collector_for(settings, "Paris") is None


@pytest.mark.parametrize("outcome, options, problem", [
    ("promise", {}, "needs --promise AMOUNT and --due"),
    ("promise", {"promise_amount": "10"}, "needs --promise AMOUNT and --due"),
    ("met", {"promise_amount": "10"}, "go with --outcome promise"),
    ("paid", {"amount": "10", "approved_by": "Sam"}, "go with --outcome promise"),
    ("paid", {}, "needs --amount"),
    ("moved", {"amount": "10"}, "--amount goes with --outcome paid or promise"),
    ("visited", {}, "unknown outcome 'visited'"),
])
def test_log_option_combinations_are_checked_before_anything_is_read(outcome, options, problem):
    with pytest.raises(OperationError, match=problem):
        check_options(outcome, **options)


def test_signals_for_what_the_collector_found():
    assert signals_for("moved", closed=False) == ["relocation"]
    assert signals_for("moved", closed=True) == ["relocation", "business_closed"]
    assert signals_for("not_found", closed=True) == ["business_closed"]
    assert [signals_for(o, closed=False) for o in ("met", "not_found", "refused", "promise", "paid")] == [[]] * 5


def _item(task_id: int, area: str, priority: float, due: int = 1, case_id: int | None = None) -> VisitItem:
    case = Case(id=case_id or task_id, debtor_id=f"D{task_id}", currency="EUR", balance=100)
    task = VisitTask(id=task_id, key=f"k{task_id}", case_id=case.id, debtor_id=case.debtor_id, action_id=None,
                     address="x", area=area, due_on=dt.date(2026, 4, due), template="first-visit",
                     step="first-visit", status="open", outcome=None, note=None, visited_at=None, collector=None,
                     created_at="2026-04-01T09:00:00+00:00")
    return VisitItem(task=task, case=case, debtor_name="x", dpd=31, priority=priority, facts=())


def test_work_list_groups_areas_alphabetically_unknown_last_and_orders_by_priority():
    items = [_item(1, UNKNOWN_AREA, 50), _item(2, "SW1A", 10), _item(3, "SW1A", 40), _item(4, "DE-101", 5),
             _item(5, "SW1A", 40, case_id=2)]
    groups = group_by_area(items, {"SW1A": "ann"})
    assert [g.area for g in groups] == ["DE-101", "SW1A", UNKNOWN_AREA]
    assert groups[1].collector == "ann" and groups[0].collector is None
    # Equal priorities: the lower case id first, then the task.
    assert [i.task.id for i in groups[1].items] == [5, 3, 2]
    assert [i.task.id for i in priority_order(items)] == [1, 5, 3, 2, 4]

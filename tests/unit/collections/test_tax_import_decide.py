"""A chunk of a filing decided: outcomes, the Batch of writes, problem rows, township hints (no database)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from collections_app.models.tax_imports import RowOutcome
from collections_app.tax_import import decide, matching
from collections_app.tax_import.decide import PROBLEM_COLUMNS, Batch, ChunkDecider, TownshipHints, problem_row
from enrollment.choices import EnrollmentStatus

TODAY = date(2025, 1, 20)
V1, V2, T1, T2 = 11, 12, 1, 2
VILLAGES = {V1: {"id": V1, "name": "甲一村", "parent_id": T1}, V2: {"id": V2, "name": "乙一村", "parent_id": T2}}
PAID_ON = date(2024, 10, 5)


def row(n, id_number="ID1", *, amount="400.00", voucher=None, year=2025, tier=None, online=True, errors=None, **kw):
    values = {
        "row_number": n, "id_number": id_number, "amount": Decimal(amount), "tier": tier, "paid_on": PAID_ON,
        "treasury_on": None, "voucher": f"V{n}" if voucher is None else voucher, "channel": "微信", "online": online,
        "year": year, "raw_id": id_number, "raw_amount": amount, "raw_date": "2024-10-05", "errors": errors,
        "name": "张三", "place": "", "township": "",
    }
    values.update(kw)
    values["error"] = "；".join(errors or ())
    return SimpleNamespace(**values)


@dataclass
class Category:
    code: str


@dataclass
class Owed:
    standard: Decimal
    subsidy: Decimal
    self_pay: Decimal
    category: Category | None = None


class Book:
    """What ``matching.FilingBook.owed`` gives: 400 for tier 1, no policy for 2026."""

    def __init__(self):
        self.asked = []

    def owed(self, pid, year, tier, student=False, birth=None, paid_on=None):
        self.asked.append((pid, year, tier))
        if year == 2026:
            return None, None, matching.MSG_NO_POLICY.format(year=year)
        detail = Owed(Decimal("400.00"), Decimal("0.00"), Decimal("400.00"))
        return detail.self_pay, detail, ""


def decider(*, tax_import=SimpleNamespace(pk=7), book=None):
    hints = TownshipHints({"甲镇": T1, "乙镇": T2}, {"甲一村": T1, "乙一村": T2})
    return ChunkDecider(book=book or Book(), villages=VILLAGES, hints=hints, tax_import=tax_import, today=TODAY)


def person(pid=1, village=V1, local=True):
    return (pid, False, date(1980, 5, 17), village, local)


def enrollment(eid=100, status=EnrollmentStatus.PENDING, tier=1, voucher="", due=None):
    return (eid, status, tier, voucher, due, Decimal("400.00"), Decimal("0.00"), "")


# --- problem rows and township hints ---
def test_a_problem_row_follows_the_columns_and_cuts_the_message():
    r = row(3, "", raw_id=41132519800517123, voucher="X" * 70, place="甲一村" * 40)
    values = problem_row(7, r, RowOutcome.INVALID, "错" * 600, township_id=T1)
    assert len(values) == len(PROBLEM_COLUMNS)
    got = dict(zip(PROBLEM_COLUMNS, values))
    assert got["tax_import_id"] == 7 and got["row_number"] == 3 and got["outcome"] == "invalid"
    assert len(got["message"]) == 500 and got["message"].endswith("…")
    assert got["id_number"] == "41132519800517123"  # the raw cell, as shown, when no ID number was read
    assert len(got["voucher"]) == 60 and len(got["place"]) == 100 and got["township_id"] == T1
    assert (got["person_id"], got["enrollment_id"], got["refund_candidate"]) == (None, None, False)


@pytest.mark.parametrize(
    ("township", "place", "expected"),
    [("甲镇", "", T1), ("", "乙一村", T2), ("", "某某县乙一村", T2), ("丙镇", "甲一村", T1), ("丙镇", "丙一村", None), ("", "", None)],
)
def test_township_hints(township, place, expected):
    hints = TownshipHints({"甲镇": T1, "乙镇": T2}, {"甲一村": T1, "乙一村": T2})
    assert hints(row(1, township=township, place=place)) == expected
    assert hints(row(2, township=township, place=place)) == expected  # remembered alike


def test_township_hints_remember_a_bounded_number(monkeypatch):
    monkeypatch.setattr(decide, "HINTS_MAX", 2)
    hints = TownshipHints({}, {"甲一村": T1})
    for i in range(5):
        assert hints(row(i, place=f"{i}甲一村")) == T1
    assert len(hints._known) == 2


# --- deciding a chunk ---
def test_a_payment_as_owed_confirms_the_enrollment_with_its_values():
    d = decider()
    batch = d.decide([row(1)], {"ID1": person()}, {(1, 2025): enrollment()})
    assert batch.confirmed == [
        (100, 1, V1, 2025, 1, EnrollmentStatus.CONFIRMED, Decimal("400.00"), Decimal("0.00"), Decimal("400.00"), "",
         PAID_ON, PAID_ON, "V1")
    ]
    assert batch.problems == [] and d.counts[RowOutcome.CONFIRMED] == 1 and d.created == 0
    assert d.seen == {(1, 2025): (1, "V1")}


def test_a_payment_without_an_enrollment_creates_one_confirmed_on_the_treasury_date():
    d = decider()
    batch = d.decide([row(1, paid_on=None, treasury_on=date(2024, 11, 1))], {"ID1": person()}, {})
    (confirmed,) = batch.confirmed
    assert confirmed[0] is None and confirmed[10:12] == (date(2024, 11, 1), date(2024, 11, 1))
    assert d.created == 1


def test_a_row_without_dates_is_confirmed_today():
    batch = decider().decide([row(1, paid_on=None)], {"ID1": person()}, {})
    assert batch.confirmed[0][10:12] == (TODAY, TODAY)


def test_money_taken_at_the_village_is_checked_against_what_was_owed_then():
    book = Book()
    d = decider(book=book)
    taken = enrollment(status=EnrollmentStatus.PAID, due=Decimal("40.00"))
    batch = d.decide([row(1, amount="40.00", online=False)], {"ID1": person()}, {(1, 2025): taken})
    assert book.asked == [] and d.counts[RowOutcome.CONFIRMED] == 1
    assert batch.confirmed[0][6:10] == (Decimal("400.00"), Decimal("0.00"), Decimal("40.00"), "")


def test_problem_rows_of_a_chunk():
    d = decider()
    persons = {"ID1": person(), "OUT": person(2, local=False)}
    chunk = [
        row(1, "", errors=["身份证号码有误"], township="乙镇"),
        row(2, "NOBODY", place="甲一村"),
        row(3, "OUT"),
        row(4, amount="300.00"),
        row(5, year=2026),
    ]
    batch = d.decide(chunk, persons, {})
    problems = [dict(zip(PROBLEM_COLUMNS, p)) for p in batch.problems]
    assert [p["outcome"] for p in problems] == ["invalid", "unknown_person", "unknown_person", "amount_mismatch", "invalid"]
    assert [p["township_id"] for p in problems] == [T2, T1, None, T1, T1]
    assert problems[0]["message"] == "身份证号码有误"
    assert problems[1]["message"] == matching.MSG_UNKNOWN and problems[2]["message"] == matching.MSG_OTHER_COUNTY
    assert problems[3]["owed"] == Decimal("400.00") and problems[3]["person_id"] == 1
    assert problems[4]["message"] == matching.MSG_NO_POLICY.format(year=2026) and problems[4]["owed"] is None
    assert batch.confirmed == [] and d.seen == {}
    assert sum(d.counts.values()) == 5


def test_a_payment_listed_twice_is_confirmed_once():
    d = decider()
    batch = d.decide([row(1, voucher="A"), row(2, voucher="A")], {"ID1": person()}, {(1, 2025): enrollment()})
    assert len(batch.confirmed) == 1 and batch.problems == []
    assert d.counts[RowOutcome.ALREADY_CONFIRMED] == 1


def test_a_second_payment_in_a_later_chunk_is_a_refund_candidate_linked_to_the_enrollment_created():
    d = decider()
    first = d.decide([row(1, voucher="A")], {"ID1": person()}, {})
    second = d.decide([row(9, voucher="B")], {"ID1": person()}, {})  # read before the first batch is written
    assert first.confirmed[0][0] is None
    (problem,) = [dict(zip(PROBLEM_COLUMNS, p)) for p in second.problems]
    assert problem["outcome"] == "duplicate" and problem["refund_candidate"] and problem["enrollment_id"] is None
    assert second.links == [(0, (1, 2025))]
    assert d.refund_candidates == 1 and d.created == 1


def test_without_a_tax_import_nothing_but_the_confirmations_is_kept():
    d = decider(tax_import=None)
    batch = d.decide([row(1, voucher="A"), row(2, voucher="B"), row(3, "NOBODY")], {"ID1": person()}, {})
    assert len(batch.confirmed) == 1 and batch.problems == [] and batch.links == []
    assert d.counts[RowOutcome.DUPLICATE] == 1 and d.counts[RowOutcome.UNKNOWN_PERSON] == 1 and d.refund_candidates == 1


def test_persons_of_the_county_roster_hold_their_enrollment():
    d = decider()
    confirmed = enrollment(status=EnrollmentStatus.CONFIRMED, voucher="OLD")
    persons = {"ID1": (*person(), enrollment()), "ID2": (*person(2, V2), confirmed), "ID3": (*person(3), None)}
    batch = d.decide([row(1, "ID1"), row(2, "ID2", voucher="OLD"), row(3, "ID3")], persons, None)
    assert [c[0] for c in batch.confirmed] == [100, None]
    assert d.counts[RowOutcome.ALREADY_CONFIRMED] == 1 and d.created == 1


def test_an_empty_batch_is_false():
    assert not Batch()
    batch = Batch()
    batch.problems.append([])
    assert batch
